"""Where govnet finds its inventory, store, playbooks and templates, from any directory.

Precedence, highest first: a command-line option, an environment variable, the config file,
the built-in default. The config file is the first of

    $GOVNET_CONFIG                      (must exist; /dev/null means "no config file")
    $XDG_CONFIG_HOME/govnet/govnet.yaml (default ~/.config/govnet/govnet.yaml)
    /etc/govnet/govnet.yaml

that exists; only that one is read (files are not merged). Its keys::

    inventory: /etc/govnet/inventory        # file or directory   (env GOVNET_INVENTORY)
    db: sqlite:////var/lib/govnet/govnet.sqlite                   (env GOVNET_DB)
    lang: zh                                 # zh | en             (env GOVNET_LANG)
    timezone: Asia/Shanghai                  # reports' periods     (env GOVNET_TZ)
    playbooks: /etc/govnet/playbooks         # audit/AV/alert files (env GOVNET_PLAYBOOKS)
    templates: /etc/govnet/playbooks/templates                     (env GOVNET_TEMPLATES)
    remote_write:                            # govnetd's samples to VictoriaMetrics & co.
      url: http://vm.example:8428/api/v1/write
      max_buffer: 2G                         # on disk while it is down (oldest dropped, logged)
    broker: redis://redis.example:6379/0     # distributed audits/backups  (env GOVNET_BROKER)
    broker_password: env:GOVNET_REDIS_PASSWORD  # the broker's password, by reference

Relative paths are relative to the config file's folder. Unknown keys and bad values are
errors naming ``file:line`` (exit 2), like the inventory's. Without any of these the shipped
playbooks (inside the installed package, :func:`shipped_playbooks`) are used, so cron and
systemd need no ``cd``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from govnet import limits as input_limits
from govnet.durations import parse_duration
from govnet.errors import Diagnostic, GovnetError, InputError
from govnet.i18n import N_, _
from govnet.secrets import SecretRef
from govnet.validation import Strict, diagnostics_from
from govnet.yamlsrc import load_yaml_file, suggest

ENV_CONFIG = "GOVNET_CONFIG"
SYSTEM_CONFIG = Path("/etc/govnet/govnet.yaml")
CONFIG_NAME = "govnet.yaml"

# environment variable → config key
ENV_KEYS = {
    "GOVNET_INVENTORY": "inventory",
    "GOVNET_DB": "db",
    "GOVNET_LANG": "lang",
    "GOVNET_TZ": "timezone",
    "GOVNET_PLAYBOOKS": "playbooks",
    "GOVNET_TEMPLATES": "templates",
    "GOVNET_BROKER": "broker",
}
PATH_KEYS = ("inventory", "playbooks", "templates")


class ConfigError(InputError):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(diagnostics, N_("config file"))


def _limits(value: Any) -> Any:
    """``limits: {rows: 500000, csv_bytes: 128M}``: the names and sizes of GOVNET_LIMITS."""
    if not isinstance(value, dict):
        return value
    known = [f.name for f in dataclasses.fields(input_limits.Limits)]
    out: dict[str, int] = {}
    for key, raw in value.items():
        if key not in known:
            raise ValueError(_("unknown limit {key!r}", key=key) + suggest(key, known))
        try:
            out[key] = input_limits.parse_size(str(raw))
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
    return out


class RemoteWriteSpec(Strict):
    """``remote_write:``: govnetd also sends its samples to a Prometheus remote-write receiver
    (VictoriaMetrics, Prometheus with --web.enable-remote-write-receiver, vmagent, …) through
    a disk buffer (govnet/monitor/remote_write.py)."""

    url: str
    buffer: str | None = None  # folder; default: remote-write/ beside the store
    max_buffer: str = "1G"  # kept on disk while the receiver is down
    flush_every: str = "5s"
    timeout: str = "10s"
    max_backoff: str = "60s"
    max_samples_per_send: int = 10000
    username: str | None = None
    password: SecretRef | None = None
    bearer_token: SecretRef | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(
                _("must be an http:// or https:// URL, e.g. http://vm:8428/api/v1/write")
            )
        return v

    @field_validator("max_buffer")
    @classmethod
    def _size(cls, v: str) -> str:
        input_limits.parse_size(v)
        return v

    @field_validator("flush_every", "timeout", "max_backoff")
    @classmethod
    def _duration(cls, v: str) -> str:
        if parse_duration(v) <= 0:
            raise ValueError(_("must be longer than 0s"))
        return v

    @field_validator("max_samples_per_send")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v < 1:
            raise ValueError(_("must be at least 1"))
        return v

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        reserved = {"__name__", "device", "zone", "site", "role", "component", "instance"}
        for key in v:
            if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", key) or key in reserved:
                raise ValueError(_("label {key!r}: not a label name govnet may set", key=key))
        return v

    @property
    def max_buffer_bytes(self) -> int:
        return input_limits.parse_size(self.max_buffer)

    @property
    def flush_seconds(self) -> float:
        return parse_duration(self.flush_every)

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout)

    @property
    def max_backoff_seconds(self) -> float:
        return parse_duration(self.max_backoff)


class ConfigSpec(Strict):
    """The config file's keys (all optional)."""

    model_config = ConfigDict(strict=True)

    inventory: str | None = None
    db: str | None = None
    lang: Literal["zh", "en"] | None = None
    timezone: str | None = None
    playbooks: str | None = None
    templates: str | None = None
    limits: Annotated[dict[str, int] | None, BeforeValidator(_limits)] = None
    remote_write: RemoteWriteSpec | None = None
    broker: str | None = None  # Celery's broker for `govnet worker` and --distributed
    broker_password: SecretRef | None = None  # kept out of the URL, resolved when connecting

    @field_validator("broker")
    @classmethod
    def _broker(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^rediss?://[^\s/]*(/\d+)?$", v):
            raise ValueError(
                _("must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0")
            )
        if v is not None and re.match(r"^rediss?://[^/@]*:[^/@]+@", v):
            raise ValueError(_("no password in the URL: give it as broker_password: env:NAME"))
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(_("unknown time zone {tz!r} (e.g. Asia/Shanghai)", tz=v)) from None
        return v

    @field_validator("inventory", "db", "playbooks", "templates")
    @classmethod
    def _nonempty(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError(_("must not be empty"))
        return v


def shipped_playbooks() -> Path:
    """The playbooks, templates, alert rules and AV source maps installed with govnet.

    In a wheel they are package data (``govnet/data/playbooks``); in a checkout that path is
    a symlink to the top-level ``playbooks/``, the one editable copy.
    """
    return Path(str(resources.files("govnet") / "data" / "playbooks"))


@dataclass(frozen=True)
class Settings:
    """The resolved settings: what a command uses when it is not told otherwise."""

    inventory: Path | None = None
    db: str | None = None
    lang: Literal["zh", "en"] | None = None
    timezone: str | None = None
    playbooks: Path | None = None
    templates: Path | None = None
    limits: tuple[tuple[str, int], ...] = ()  # the config file's input limits
    remote_write: RemoteWriteSpec | None = None  # govnetd's samples to a time-series database
    broker: str | None = None  # redis://host:port/db for distributed audits and backups
    broker_password: SecretRef | None = None
    config: Path | None = None  # the file read, if any

    @property
    def playbooks_dir(self) -> Path:
        return self.playbooks or shipped_playbooks()

    @property
    def templates_dir(self) -> Path:
        return self.templates or self.playbooks_dir / "templates"

    def playbook(self, name: str) -> Path:
        """A file of the playbooks folder: ``mlps2-baseline.yaml``, ``alerts.yaml``, …"""
        return self.playbooks_dir / name

    def override(self, **values: Any) -> Settings:
        """Command-line options on top (None = not given)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def find_config(environ: Mapping[str, str]) -> Path | None:
    """The config file to read, or None. ``$GOVNET_CONFIG`` must exist when set."""
    given = environ.get(ENV_CONFIG)
    if given == os.devnull:  # "no config file", without reading the device
        return None
    if given:
        path = Path(given).expanduser()
        if not path.exists():
            raise GovnetError(
                _(
                    "{var}={given}: no such file (unset it, or point it at a govnet.yaml; "
                    "'govnet init DIR' writes one)",
                    var=ENV_CONFIG,
                    given=given,
                )
            )
        return path
    xdg = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME") or "~") / ".config")
    for path in (Path(xdg).expanduser() / "govnet" / CONFIG_NAME, SYSTEM_CONFIG):
        if path.is_file():
            return path
    return None


def load_config(path: Path) -> ConfigSpec:
    """Read and validate one config file; :class:`ConfigError` (exit 2) with file:line."""
    doc, diags = load_yaml_file(path)
    if doc is None or diags:
        raise ConfigError(diags)
    if doc.data is None or doc.data == {}:
        return ConfigSpec()
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.diag((), _("the top level must be a mapping of settings"))])
    try:
        return ConfigSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(diagnostics_from(exc, doc, model=ConfigSpec)) from None


def _path(value: str, base: Path | None) -> Path:
    path = Path(value).expanduser()
    return base / path if base is not None and not path.is_absolute() else path


def _sqlite_relative(url: str, base: Path | None) -> str:
    """``sqlite:///x.sqlite`` in a config file: x.sqlite next to the file, not in the cwd."""
    prefix = "sqlite:///"
    rest = url[len(prefix) :]
    if base is None or not url.startswith(prefix) or rest.startswith(("/", "~", ":memory:")):
        return url
    return prefix + str((base / rest).resolve())


def resolve(
    environ: Mapping[str, str], config: ConfigSpec | None = None, config_path: Path | None = None
) -> Settings:
    """Environment over config file over built-in defaults (options come on top later)."""
    values: dict[str, Any] = {}
    base = config_path.parent if config_path is not None else None
    if config is not None:
        if config.remote_write is not None:  # a model (its secrets stay references)
            rw = config.remote_write
            if rw.buffer is not None:
                rw = rw.model_copy(update={"buffer": str(_path(rw.buffer, base))})
            values["remote_write"] = rw
        if config.broker_password is not None:
            values["broker_password"] = config.broker_password
        exclude = {"remote_write", "broker_password"}
        for key, value in config.model_dump(exclude_none=True, exclude=exclude).items():
            if key in PATH_KEYS:
                value = _path(value, base)
            elif key == "db":
                value = _sqlite_relative(value, base)
            elif key == "limits":
                value = tuple(sorted(value.items()))
            values[key] = value
    for var, key in ENV_KEYS.items():
        value = environ.get(var)
        if not value:
            continue
        if key == "lang":
            values[key] = "zh" if value.lower().startswith("zh") else "en"
        elif key in PATH_KEYS:
            values[key] = Path(value).expanduser()
        else:
            values[key] = value
    return Settings(config=config_path, **values)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Find and read the config file, then apply the environment."""
    env = os.environ if environ is None else environ
    path = find_config(env)
    config = load_config(path) if path is not None else None
    return resolve(env, config, path)


_active: Settings | None = None


def activate(settings: Settings | None) -> None:
    """The CLI sets the settings of this run (options applied); None forgets them."""
    global _active
    _active = settings
    input_limits.configure(dict(settings.limits) if settings is not None else {})


def active() -> Settings:
    """This run's settings: as the CLI set them, else read now from the environment."""
    return _active if _active is not None else load_settings()


def time_zone(name: str | None, what: str = "timezone") -> tzinfo:
    """The zone ``name``, else the settings' ``timezone`` (GOVNET_TZ or the config file), else
    this machine's; an unknown name is a :class:`GovnetError` naming ``what`` (``--tz``)."""
    if not name:
        name = active().timezone
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise GovnetError(
                _("{what} {name!r}: unknown time zone (e.g. Asia/Shanghai)", what=what, name=name)
            ) from None
    local = datetime.now().astimezone().tzinfo
    assert local is not None
    return local
