"""Jinja2 templates → intended configuration, one device at a time.

Templates live in ``<templates>/<platform>/<task>.j2`` (default ``playbooks/templates``) and
are written in the device's own configuration layout. Their variables (see README,
"Provisioning"):

``device``  the inventory device (name, platform, role, zone, site, unit, address, vars, …)
``zone``    its zone (``name``, ``label``, ``pools.prefixes``, ``pools.vlans``)
``isolated`` the zones this zone must be isolated from, by name, each with its pools
``site``    its site; ``unit`` the unit the task is about (onboarding) or the device's own
``vars``    the device's merged ``vars`` (device → groups → defaults)
``snmp``    the SNMPv3 user the device should have: ``vars.snmp_v3`` (``user``, ``group``,
            ``auth_protocol``, ``auth_key``, ``priv_protocol``, ``priv_key``; keys are secret
            references) or the device's own SNMP profile when it is v3
``args``    the task's arguments; task-specific values (``alloc`` for onboarding) beside them

Secrets are resolved only when a template prints them, and every resolved value is masked in
all output from then on (``govnet.secrets.REDACTOR``). An undefined variable is an error that
names the template, its line and the device.
"""

from __future__ import annotations

import ipaddress
import os
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jinja2
from pydantic import ValidationError

from govnet.i18n import _
from govnet.inventory.loader import decode_text
from govnet.inventory.model import Device, Inventory, Unit
from govnet.limits import LimitError, limits, read_regular
from govnet.provision.remediation import Intended, TemplateError, parse_intended
from govnet.secrets import SecretRef
from govnet.validation import Strict, first_problem


def templates_dir(path: Path | None = None) -> Path:
    """``--templates``, else ``$GOVNET_TEMPLATES``, else the config file's ``templates``, else
    ``templates/`` of the playbooks folder (the shipped one by default)."""
    from govnet.settings import active

    return path if path is not None else active().templates_dir


class LazySecret:
    """A secret reference that resolves (and is registered for masking) when printed."""

    def __init__(self, ref: SecretRef, what: str) -> None:
        self._ref = ref
        self._what = what

    def __str__(self) -> str:
        return self._ref.resolve(self._what)

    def __repr__(self) -> str:
        return "LazySecret(***)"


class SnmpV3Vars(Strict):
    """``vars.snmp_v3``: the SNMPv3 user the baseline configures (keys by reference)."""

    user: str
    group: str = "govnet"
    auth_protocol: Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"] = "sha"
    auth_key: SecretRef
    priv_protocol: Literal["des", "3des", "aes", "aes128", "aes192", "aes256"] = "aes128"
    priv_key: SecretRef


@dataclass(frozen=True)
class SnmpV3:
    user: str
    group: str
    auth_protocol: str
    auth_key: LazySecret
    priv_protocol: str
    priv_key: LazySecret


def _anchor(ref: SecretRef, base: Path) -> SecretRef:
    """``file:relative`` in vars is relative to the inventory, like every other reference."""
    if ref.scheme == "file":
        target = Path(os.path.expanduser(ref.ref[len("file:") :]))
        if not target.is_absolute():
            return SecretRef(f"file:{(base / target).resolve()}")
    return ref


def snmp_v3_for(device: Device, inventory_dir: Path) -> SnmpV3 | None:
    raw = device.vars.get("snmp_v3")
    what = f"{device.name} SNMPv3"
    if raw is not None:
        try:
            spec = SnmpV3Vars.model_validate(raw)
        except ValidationError as exc:
            where, message = first_problem(exc, SnmpV3Vars)
            raise TemplateError(
                _(
                    "{name}: vars.snmp_v3.{where}: {message} (keys are secret references: "
                    "env:NAME, file:PATH, cmd:COMMAND, keyring:SERVICE/USER or prompt)",
                    name=device.name,
                    where=where,
                    message=message,
                )
            ) from None
        return SnmpV3(
            spec.user,
            spec.group,
            spec.auth_protocol,
            LazySecret(_anchor(spec.auth_key, inventory_dir), f"{what} auth key"),
            spec.priv_protocol,
            LazySecret(_anchor(spec.priv_key, inventory_dir), f"{what} priv key"),
        )
    profile = device.snmp
    if profile is not None and profile.version == "3" and profile.auth_key and profile.priv_key:
        return SnmpV3(
            profile.user or "",
            str(device.vars.get("snmp_group", "govnet")),
            profile.auth_protocol or "sha",
            LazySecret(profile.auth_key, f"{what} auth key"),
            profile.priv_protocol or "aes128",
            LazySecret(profile.priv_key, f"{what} priv key"),
        )
    return None


class _BoundedLoader(jinja2.BaseLoader):
    """Templates from one folder through govnet's bounded reader: regular files only (a FIFO
    or device named ``*.j2`` never blocks), at most ``config_bytes``, UTF-8 or GBK."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self.root.joinpath(*jinja2.loaders.split_template_path(template))
        if not path.exists():
            raise jinja2.TemplateNotFound(template)
        try:
            raw = read_regular(path, limits().config_bytes, "config_bytes", "template")
            text = decode_text(raw)
        except LimitError as exc:
            raise TemplateError(str(exc.diagnostic)) from None
        except UnicodeDecodeError:
            raise TemplateError(
                _("{path}: neither UTF-8 nor GBK text; save it as text", path=path)
            ) from None
        mtime = path.stat().st_mtime
        return text, str(path), lambda: path.exists() and path.stat().st_mtime == mtime


class _Missing(jinja2.StrictUndefined):
    """Undefined values fail loudly, naming what was asked for."""


@dataclass
class TemplateSet:
    """The templates of one folder, one jinja2 environment."""

    root: Path
    env: jinja2.Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = jinja2.Environment(
            loader=_BoundedLoader(self.root),
            undefined=_Missing,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
        )
        self.env.filters["network"] = _network
        self.env.filters["regex_escape"] = re.escape

    def name(self, platform: str, task: str) -> str:
        return f"{platform}/{task}.j2"

    def has(self, platform: str, task: str) -> bool:
        return (self.root / self.name(platform, task)).is_file()

    def platforms(self, task: str) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / f"{task}.j2").is_file())

    def render(self, platform: str, task: str, context: Mapping[str, Any], device: str) -> str:
        name = self.name(platform, task)
        where = self.root / name
        try:
            return self.env.get_template(name).render(**context)
        except jinja2.TemplateNotFound:
            raise TemplateError(
                _("{device}: no template {where}", device=device, where=where)
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                _(
                    "{where}:{lineno}: template syntax error: {message}",
                    where=where,
                    lineno=exc.lineno,
                    message=exc.message,
                )
            ) from None
        except TemplateError as exc:  # raised by a filter (``network``)
            raise TemplateError(
                _("{where}: {exc} (rendering for {device})", where=where, exc=exc, device=device)
            ) from None
        except jinja2.UndefinedError as exc:
            line = _template_line(exc, name)
            raise TemplateError(
                _(
                    "{where}{at}: {message} (rendering for {device}); set it in the inventory's "
                    "vars (device, group or defaults) or as a task argument",
                    where=where,
                    at=f":{line}" if line else "",
                    message=exc.message,
                    device=device,
                )
            ) from None

    def intended(
        self, platform: str, task: str, context: Mapping[str, Any], device: str
    ) -> Intended:
        text = self.render(platform, task, context, device)
        return parse_intended(text, platform, str(self.root / self.name(platform, task)))


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """``{{ vars.mgmt_net | network }}``: a prefix (host bits allowed) with ``network_address``,
    ``netmask``, ``hostmask`` (the wildcard), ``prefixlen``."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # raises the UndefinedError naming the variable
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError as exc:
        raise TemplateError(
            _("{value!r} is not an IP prefix ({exc})", value=value, exc=exc)
        ) from None


def _template_line(exc: BaseException, name: str) -> int | None:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(name):
            return frame.lineno
    return None


def base_context(inventory: Inventory, device: Device, unit: Unit | None = None) -> dict[str, Any]:
    """The variables every template sees (tasks add theirs)."""
    zone = inventory.zones[device.zone]
    inventory_dir = Path(inventory.sources[0]).parent if inventory.sources else Path(".")
    snmp = snmp_v3_for(device, inventory_dir)
    return {
        "device": device,
        "zone": zone,
        "isolated": [
            inventory.zones[z] for z in sorted(zone.isolated_from) if z in inventory.zones
        ],
        "site": inventory.sites.get(device.site),
        "unit": unit if unit is not None else inventory.units.get(device.unit or ""),
        "vars": device.vars,
        "snmp": snmp
        if snmp is not None
        else _Missing(
            name="snmp",
            hint=f"no SNMPv3 user for {device.name}: set vars.snmp_v3 (user, group, auth_key, "
            "priv_key) or give the device a v3 snmp_profile",
        ),
    }
