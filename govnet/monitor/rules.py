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
``clear_after``). Every problem is located as ``file:line:column: rules[3].above: …`` and all are
reported at once (exit 2).
"""

from __future__ import annotations

import fnmatch
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from govnet.checks.controls import controls
from govnet.checks.model import Severity, Text
from govnet.errors import Diagnostic, PlaybookError
from govnet.inventory.model import Device, Name, Role
from govnet.monitor.config import parse_duration
from govnet.monitor.metrics import METRICS
from govnet.yamlsrc import Path_, SourceDoc, clean_loc, load_yaml_file
from govnet.yamlsrc import suggest as _suggest

DEFAULT_RULES = Path("playbooks/alerts.yaml")

STATES = (
    "device_down", "link_down", "ups_on_battery", "ups_battery_low", "leak", "sensor_failed",
    "device_rebooted",
)  # fmt: skip
StateName = Literal[
    "device_down", "link_down", "ups_on_battery", "ups_battery_low", "leak", "sensor_failed",
    "device_rebooted",
]  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _duration(value: Any) -> float:
    return parse_duration(value)


Duration = Annotated[float, BeforeValidator(_duration)]


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class TextSpec(_Strict):
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class AppliesTo(_Strict):
    role: Annotated[list[Role], BeforeValidator(_listify)] = Field(default_factory=list)
    zone: Annotated[list[Name], BeforeValidator(_listify)] = Field(default_factory=list)
    platform: Annotated[list[str], BeforeValidator(_listify)] = Field(default_factory=list)
    tags: Annotated[list[Name], BeforeValidator(_listify)] = Field(default_factory=list)
    devices: Annotated[list[str], BeforeValidator(_listify)] = Field(default_factory=list)

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


class RuleSpec(_Strict):
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
            raise ValueError("a rule needs either 'metric' (threshold) or 'state', not both")
        if self.metric is not None:
            if self.metric not in METRICS:
                raise ValueError(f"unknown metric {self.metric!r}" + _suggest(self.metric, METRICS))
            if (self.above is None) == (self.below is None):
                raise ValueError("a threshold rule needs exactly one of 'above' and 'below'")
            if self.clear is not None:
                if self.above is not None and self.clear > self.above:
                    raise ValueError(
                        f"clear ({self.clear:g}) must not be above 'above' ({self.above:g}): "
                        "it is the level the value falls back to"
                    )
                if self.below is not None and self.clear < self.below:
                    raise ValueError(
                        f"clear ({self.clear:g}) must not be below 'below' ({self.below:g}): "
                        "it is the level the value rises back to"
                    )
        elif self.above is not None or self.below is not None or self.clear is not None:
            raise ValueError("'above', 'below' and 'clear' belong to threshold rules (metric)")
        if self.state == "device_rebooted" and self.clear_after is None:
            raise ValueError("state device_rebooted needs 'clear_after' (how long it shows)")
        return self


class FlapSpec(_Strict):
    window: Duration = 600.0
    changes: int = Field(default=5, ge=2)


class DefaultsSpec(_Strict):
    flap: FlapSpec = FlapSpec()


class NotifierSpec(_Strict):
    kind: Literal["log", "syslog", "webhook", "command"]
    min_severity: Literal["critical", "high", "medium", "low"] = "low"
    address: str | None = None  # syslog: /dev/log or host:port
    facility: str = "local0"
    url: str | None = None  # webhook
    argv: list[str] | None = None  # command
    timeout: Duration = 10.0
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _needs(self) -> NotifierSpec:
        if self.kind == "webhook" and not self.url:
            raise ValueError("a webhook notifier needs 'url'")
        if self.kind == "webhook" and self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"webhook url {self.url!r} must start with http:// or https://")
        if self.kind == "command" and not self.argv:
            raise ValueError("a command notifier needs 'argv' (a list: program and arguments)")
        return self


class RulesFileSpec(_Strict):
    defaults: DefaultsSpec = DefaultsSpec()
    notifiers: list[NotifierSpec] = Field(default_factory=lambda: [NotifierSpec(kind="log")])
    rules: list[Any] = Field(min_length=1)


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
        raise PlaybookError([Diagnostic(str(path), 0, 0, "", "no such file (alert rules)")])
    doc, diags = load_yaml_file(path, kind="playbook")
    diagnostics.extend(diags)
    if doc is None:
        raise PlaybookError(diagnostics)
    if not isinstance(doc.data, dict):
        raise PlaybookError([doc.diag((), "the top level must be a mapping with 'rules'")])
    spec = _validate(diagnostics, doc, (), RulesFileSpec, doc.data)
    rules: list[AlertRule] = []
    seen: dict[str, int] = {}
    raw_rules = doc.data.get("rules")
    for i, raw in enumerate(raw_rules if isinstance(raw_rules, list) else []):
        where: Path_ = ("rules", i)
        if not isinstance(raw, dict):
            diagnostics.append(doc.diag(where, "a rule must be a mapping"))
            continue
        rule = _validate(diagnostics, doc, where, RuleSpec, raw)
        control = raw.get("control")
        if isinstance(control, str) and control not in controls():
            message = f"unknown control {control!r}" + _suggest(control, controls())
            diagnostics.append(doc.diag((*where, "control"), message))
            rule = None
        rule_id = raw.get("id")
        if isinstance(rule_id, str):
            if rule_id in seen:
                message = f"duplicate rule id {rule_id!r} (first at line {seen[rule_id]})"
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


M = typing.TypeVar("M", bound=BaseModel)


def _validate(
    diagnostics: list[Diagnostic], doc: SourceDoc, path: Path_, model: type[M], data: Any
) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        seen: set[tuple[Path_, str]] = set()
        for err in exc.errors():
            loc = clean_loc(err["loc"])
            if model is RulesFileSpec and loc[:1] == ["rules"] and len(loc) > 1:
                continue  # rules are validated one by one, with better locations
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}"
            elif err["type"] == "missing":
                message = f"required key {loc[-1]!r} is missing"
            key = (tuple(loc), message)
            if key not in seen:
                seen.add(key)
                diagnostics.append(doc.diag((*path, *loc), message))
        return None
