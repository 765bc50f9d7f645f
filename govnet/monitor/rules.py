"""Alert rules (``playbooks/alerts.yaml``), validated as strictly as playbooks.

::

    defaults:
      flap: {window: 10m, changes: 5}      # 5 open/clear changes within 10 min = flapping
    notifiers:
      - {kind: log}
      - {kind: syslog, address: /dev/log, facility: local0}     # or host:514 (UDP)
      - {kind: webhook, url: "http://127.0.0.1:9000/hook", timeout: 5s}
      - {kind: command, argv: [/usr/local/bin/page-duty, "{severity}", "{device}"]}
    rules:
      - id: inlet-temperature-high          # threshold rule
        control: room.temperature           # optional: a control from the catalogue
        title: {en: Inlet temperature high, zh: 机房进风温度过高}
        severity: high                      # critical | high | medium | low
        applies_to: {role: [env]}           # role, zone, platform, tags, devices (globs)
        metric: temperature_c               # see govnet/monitor/metrics.py
        instance: "*"                       # glob on the sensor/interface/line name
        above: 27                           # or below:
        clear: 26                           # hysteresis: clears at or below 26
        for: 5m                             # the condition must hold this long
      - id: ups-on-battery                  # state rule
        state: ups_on_battery
        severity: critical                  # no "for": at once
      - id: water-leak
        state: leak
        latch: true                         # stays firing after it dries, until acked

State rules: ``device_down``, ``link_down`` (interfaces in inventory links or
``vars.watch_interfaces``; admin up, oper not up), ``ups_on_battery``, ``ups_battery_low``
(battery low or depleted), ``leak``, ``sensor_failed``, ``device_rebooted`` (with
``clear_after``), ``fan_failed``, ``psu_failed``, ``hw_fault`` (per component, from the
``health`` set). Every problem is located as ``file:line:column: rules[3].above: …`` and all are
reported at once (exit 2).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    model_validator,
)

from govnet import i18n
from govnet.core.controls import controls
from govnet.core.vocabulary import Severity, Text
from govnet.durations import Duration
from govnet.errors import Diagnostic, PlaybookError
from govnet.inventory.model import Device, Name, Role
from govnet.monitor.metrics import METRICS
from govnet.secrets import SecretRef
from govnet.validation import Listed, StrictStripped, TextSpec, validate_at
from govnet.yamlsrc import Path_, load_yaml_file
from govnet.yamlsrc import suggest as _suggest

RULES_FILE = "alerts.yaml"  # in the playbooks folder (govnet/settings.py)


def default_rules() -> Path:
    """``alerts.yaml`` of the configured playbooks folder (else the shipped one)."""
    from govnet.settings import active

    return active().playbook(RULES_FILE)


StateName = Literal[
    "device_down",
    "link_down",
    "ups_on_battery",
    "ups_battery_low",
    "leak",
    "sensor_failed",
    "device_rebooted",
    "fan_failed",
    "psu_failed",
    "hw_fault",
]


class AppliesTo(StrictStripped):
    role: Annotated[list[Role], Listed] = Field(default_factory=list)
    zone: Annotated[list[Name], Listed] = Field(default_factory=list)
    platform: Annotated[list[str], Listed] = Field(default_factory=list)
    tags: Annotated[list[Name], Listed] = Field(default_factory=list)
    devices: Annotated[list[str], Listed] = Field(default_factory=list)

    def matches(self, device: Device) -> bool:
        if self.role and device.role not in self.role:
            return False
        if self.zone and device.zone not in self.zone:
            return False
        if self.platform and device.platform not in self.platform:
            return False
        if self.tags and not device.tags.intersection(self.tags):
            return False
        return not self.devices or any(fnmatch.fnmatchcase(device.name, g) for g in self.devices)


class RuleSpec(StrictStripped):
    id: Name
    title: TextSpec
    severity: Literal["critical", "high", "medium", "low"]
    control: str | None = None
    description: TextSpec | None = None
    applies_to: AppliesTo = AppliesTo()
    metric: str | None = None
    instance: str = "*"
    above: float | None = None
    below: float | None = None
    clear: float | None = None
    state: StateName | None = None
    for_: Duration = Field(default=0.0, alias="for")
    clear_after: Duration | None = None
    latch: bool = False
    notify: bool = True

    @model_validator(mode="after")
    def _shape(self) -> RuleSpec:
        if (self.metric is None) == (self.state is None):
            raise ValueError(
                i18n._("a rule needs either 'metric' (threshold) or 'state', not both")
            )
        if self.metric is not None:
            if self.metric not in METRICS:
                raise ValueError(
                    i18n._("unknown metric {metric!r}", metric=self.metric)
                    + _suggest(self.metric, METRICS)
                )
            if (self.above is None) == (self.below is None):
                raise ValueError(
                    i18n._("a threshold rule needs exactly one of 'above' and 'below'")
                )
            if self.clear is not None:
                if self.above is not None and self.clear > self.above:
                    raise ValueError(
                        i18n._(
                            "clear ({clear:g}) must not be above 'above' ({above:g}): it is the "
                            "level the value falls back to",
                            clear=self.clear,
                            above=self.above,
                        )
                    )
                if self.below is not None and self.clear < self.below:
                    raise ValueError(
                        i18n._(
                            "clear ({clear:g}) must not be below 'below' ({below:g}): it is the "
                            "level the value rises back to",
                            clear=self.clear,
                            below=self.below,
                        )
                    )
        elif self.above is not None or self.below is not None or self.clear is not None:
            raise ValueError(
                i18n._("'above', 'below' and 'clear' belong to threshold rules (metric)")
            )
        if self.state == "device_rebooted" and self.clear_after is None:
            raise ValueError(
                i18n._("state device_rebooted needs 'clear_after' (how long it shows)")
            )
        return self


class FlapSpec(StrictStripped):
    window: Duration = 600.0
    changes: int = Field(default=5, ge=2)


class DefaultsSpec(StrictStripped):
    flap: FlapSpec = FlapSpec()


CHANNEL_KINDS = ("dingtalk", "wecom", "email")  # delivered through the outbox


class NotifierSpec(StrictStripped):
    """One notifier. log/syslog/webhook/command run at once; dingtalk/wecom/email are channels
    to people: queued in the store's outbox, grouped, rate-limited and retried until sent."""

    kind: Literal["log", "syslog", "webhook", "command", "dingtalk", "wecom", "email"]
    name: str | None = None  # the channel's name (govnet notify test NAME); default: kind
    min_severity: Literal["critical", "high", "medium", "low"] = "low"
    address: str | None = None  # syslog: /dev/log or host:port
    facility: str = "local0"
    url: str | None = None  # webhook; dingtalk/wecom: the robot endpoint without its token
    argv: list[str] | None = None  # command
    timeout: Duration = 10.0
    headers: dict[str, str] = Field(default_factory=dict)
    # dingtalk / wecom: the access token / key (a reference: env:NAME or file:PATH)
    token: SecretRef | None = None
    secret: SecretRef | None = None  # dingtalk 加签 (SEC…)
    keyword: str = ""  # dingtalk 自定义关键词: added to every message that lacks it
    # email
    smtp: str | None = None  # host:port
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: SecretRef | None = None
    sender: str | None = None
    to: list[str] = Field(default_factory=list)
    cafile: str = ""
    # delivery (channels)
    lang: Literal["zh", "en"] = "zh"
    timezone: str = ""  # IANA name; default: the system's
    rate_per_minute: int = Field(default=20, ge=1, le=600)  # DingTalk/WeCom allow 20
    group_window: Duration = Field(default=10.0, ge=0, le=600)
    retry_initial: Duration = Field(default=30.0, gt=0, le=3600)
    retry_max: Duration = Field(default=600.0, gt=0, le=86400)
    repeat_critical: Duration | None = Field(default=None, ge=60)  # unacknowledged, every …

    @property
    def channel(self) -> str:
        return self.name or self.kind

    @model_validator(mode="after")
    def _needs(self) -> NotifierSpec:
        if self.kind == "webhook" and not self.url:
            raise ValueError(i18n._("a webhook notifier needs 'url'"))
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(
                i18n._("url {url!r} must start with http:// or https://", url=self.url)
            )
        if self.kind == "command" and not self.argv:
            raise ValueError(
                i18n._("a command notifier needs 'argv' (a list: program and arguments)")
            )
        if self.kind in ("dingtalk", "wecom") and self.token is None:
            what = "access_token" if self.kind == "dingtalk" else "key"
            raise ValueError(
                i18n._(
                    "a {kind} notifier needs 'token': the robot's {what} by reference (env:NAME "
                    "or file:PATH), never in the file",
                    kind=self.kind,
                    what=what,
                )
            )
        if self.kind == "email":
            missing = [k for k in ("smtp", "sender") if not getattr(self, k)]
            if not self.to:
                missing.append("to")
            if missing:
                raise ValueError(
                    i18n._("an email notifier needs {missing}", missing=", ".join(missing))
                )
            host, _, port = (self.smtp or "").rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(
                    i18n._(
                        "smtp {smtp!r}: expected host:port, e.g. mail.gov.cn:587", smtp=self.smtp
                    )
                )
            if self.username and self.password is None:
                raise ValueError(i18n._("an email login needs 'password' by reference (env:NAME)"))
        if self.timezone:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    i18n._("unknown time zone {timezone!r}", timezone=self.timezone)
                ) from None
        if self.kind not in CHANNEL_KINDS:
            extra = [k for k in ("token", "secret", "smtp", "repeat_critical") if getattr(self, k)]
            if extra:
                raise ValueError(
                    i18n._("{extra}: only for dingtalk, wecom and email", extra=", ".join(extra))
                )
        return self


class RulesFileSpec(StrictStripped):
    defaults: DefaultsSpec = DefaultsSpec()
    notifiers: list[NotifierSpec] = Field(default_factory=lambda: [NotifierSpec(kind="log")])
    rules: list[Any] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_channels(self) -> RulesFileSpec:
        names = [n.channel for n in self.notifiers if n.kind in CHANNEL_KINDS]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(
                i18n._(
                    "channel name(s) {twice} used twice: give each a 'name'", twice=", ".join(twice)
                )
            )
        return self


@dataclass(frozen=True)
class AlertRule:
    id: str
    title: Text
    severity: Severity
    applies_to: AppliesTo
    metric: str | None = None
    instance: str = "*"
    above: float | None = None
    below: float | None = None
    clear: float | None = None
    state: str | None = None
    for_: float = 0.0
    clear_after: float | None = None
    latch: bool = False
    notify: bool = True
    control: str = ""
    source: str = ""

    def applies(self, device: Device) -> bool:
        return self.applies_to.matches(device)

    def instance_matches(self, instance: str) -> bool:
        return self.instance == "*" or fnmatch.fnmatchcase(instance, self.instance)

    def condition(self, value: float) -> bool | None:
        """True: violated; False: clear (past the hysteresis level); None: in between."""
        if self.above is not None:
            if value > self.above:
                return True
            return (
                False if value <= (self.clear if self.clear is not None else self.above) else None
            )
        assert self.below is not None
        if value < self.below:
            return True
        return False if value >= (self.clear if self.clear is not None else self.below) else None


@dataclass
class AlertRules:
    rules: list[AlertRule]
    notifiers: list[NotifierSpec] = field(default_factory=lambda: [NotifierSpec(kind="log")])
    flap: FlapSpec = field(default_factory=FlapSpec)
    path: str = ""

    def by_id(self) -> dict[str, AlertRule]:
        return {r.id: r for r in self.rules}


def load_rules(path: Path) -> AlertRules:
    """Load and validate an alert rules file; :class:`PlaybookError` with every problem."""
    diagnostics: list[Diagnostic] = []
    if not path.exists():
        raise PlaybookError([Diagnostic(str(path), 0, 0, "", i18n._("no such file (alert rules)"))])
    doc, diags = load_yaml_file(path, kind="playbook")
    diagnostics.extend(diags)
    if doc is None:
        raise PlaybookError(diagnostics)
    if not isinstance(doc.data, dict):
        raise PlaybookError([doc.diag((), i18n._("the top level must be a mapping with 'rules'"))])
    spec = validate_at(RulesFileSpec, doc.data, doc, (), diagnostics, skip=_nested_rule)
    rules: list[AlertRule] = []
    seen: dict[str, int] = {}
    raw_rules = doc.data.get("rules")
    for i, raw in enumerate(raw_rules if isinstance(raw_rules, list) else []):
        where: Path_ = ("rules", i)
        if not isinstance(raw, dict):
            diagnostics.append(doc.diag(where, i18n._("a rule must be a mapping")))
            continue
        rule = validate_at(RuleSpec, raw, doc, where, diagnostics)
        control = raw.get("control")
        if isinstance(control, str) and control not in controls():
            message = i18n._("unknown control {control!r}", control=control) + _suggest(
                control, controls()
            )
            diagnostics.append(doc.diag((*where, "control"), message))
            rule = None
        rule_id = raw.get("id")
        if isinstance(rule_id, str):
            if rule_id in seen:
                message = i18n._(
                    "duplicate rule id {rule_id!r} (first at line {line})",
                    rule_id=rule_id,
                    line=seen[rule_id],
                )
                diagnostics.append(doc.diag((*where, "id"), message))
                rule = None
            else:
                seen[rule_id] = doc.where((*where, "id"))[0]
        if rule is not None:
            rules.append(_resolve(rule, f"{doc.file}:{doc.where(where)[0]}"))
    if any(d.severity == "error" for d in diagnostics) or spec is None:
        raise PlaybookError(diagnostics)
    return AlertRules(rules, list(spec.notifiers), spec.defaults.flap, str(path))


def _resolve(spec: RuleSpec, source: str) -> AlertRule:
    return AlertRule(
        id=spec.id,
        title=Text(en=spec.title.en, zh=spec.title.zh),
        severity=Severity(spec.severity),
        applies_to=spec.applies_to,
        metric=spec.metric,
        instance=spec.instance,
        above=spec.above,
        below=spec.below,
        clear=spec.clear,
        state=spec.state,
        for_=spec.for_,
        clear_after=spec.clear_after,
        latch=spec.latch,
        notify=spec.notify,
        control=spec.control or "",
        source=source,
    )


def _nested_rule(loc: list[str | int]) -> bool:
    """Rules are validated one by one, with better locations: not again in the file's model."""
    return loc[:1] == ["rules"] and len(loc) > 1
