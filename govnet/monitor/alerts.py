"""The alert engine: rules × poll results → one alert per problem, told once.

A *problem* is (rule, device, instance), e.g. ``inlet-temperature-high|env-1|Inlet
temperature``. After every poll of a device the engine evaluates the rules that apply to it:

- a condition that holds for the rule's ``for`` duration opens an alert (``firing``); it
  stays the one alert for that problem until the condition clears past the ``clear`` level
  (hysteresis), then it is ``resolved`` — a value wobbling around the threshold neither
  reopens nor renotifies;
- ``latch: true`` (water leaks) keeps it firing after the condition clears until someone
  acknowledges it (``govnet alerts ack``); ``clear_after`` keeps event-like problems (a
  reboot) visible that long;
- a problem whose condition changes ``flap.changes`` times within ``flap.window`` is
  *flapping*: it stays open, marked, without further notifications, until it has been
  stable for the window;
- an alert on a device behind a failed uplink or fed by a failed UPS is *suppressed*
  (topology.py): recorded and shown, not notified; if the cause recovers first and the alert
  is still firing, it is notified then.

Notifications go out when an alert opens (unless suppressed or flapping) and when a notified
alert resolves. State changes are written through an :class:`AlertSink` (the store writer)
with a history event each.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from govnet.durations import format_duration
from govnet.inventory.model import Device
from govnet.monitor.metrics import METRICS
from govnet.monitor.model import Clock, DeviceState, DeviceStatus, PollResult, SystemClock
from govnet.monitor.notify import Notice, Notifier
from govnet.monitor.rules import AlertRule, AlertRules
from govnet.monitor.topology import Topology

log = logging.getLogger("govnet.monitor.alerts")

VALUE_REFRESH = 60.0  # seconds between updates of a firing alert's value in the store


class AlertSink(Protocol):
    """Where alert changes go (the store, through the writer thread)."""

    def open(self, row: dict[str, Any]) -> None: ...

    def update(
        self, key: str, fields: dict[str, Any], event: str | None, detail: str, ts: float
    ) -> None: ...


@dataclass
class Problem:
    key: str
    rule: AlertRule
    device: str
    instance: str
    firing: bool = False
    pending_since: float | None = None
    opened: float = 0.0
    value: float | None = None
    message: str = ""
    suppressed: str = ""
    notified: bool = False
    acked: bool = False
    flapping: bool = False
    condition: bool | None = None
    last_active: float = 0.0
    stored_at: float = 0.0
    changes: deque[float] = field(default_factory=deque)


def problem_key(rule: str, device: str, instance: str) -> str:
    return f"{rule}|{device}|{instance}"


Condition = tuple[AlertRule, str, bool | None, float | None, str]
StateConditions = Callable[
    ["AlertEngine", AlertRule, Device, PollResult, Mapping[tuple[str, str], float]],
    list[Condition],
]


class AlertEngine:
    def __init__(
        self,
        rules: AlertRules,
        devices: Mapping[str, Device],
        topology: Topology,
        sink: AlertSink,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
        maintenance: Callable[[str, float], str] | None = None,
    ) -> None:
        self.rules = rules
        # (device, now) → "maintenance window NAME" while one covers it: its alerts are muted
        self.maintenance = maintenance
        self.devices = dict(devices)
        self.topology = topology
        self.sink = sink
        self.notifier = notifier
        self.clock: Clock = clock or SystemClock()
        self.problems: dict[str, Problem] = {}
        self.states: dict[str, DeviceState] = {}
        self.statuses: dict[str, DeviceStatus] = {}
        self.latest: dict[tuple[str, str, str], float | None] = {}
        self._applies: dict[str, tuple[AlertRules, list[AlertRule]]] = {}

    # ------------------------------------------------------------------ set-up

    def restore(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Firing alerts from the store (after a restart): still one alert per problem."""
        by_id = self.rules.by_id()
        for row in rows:
            rule = by_id.get(str(row["rule"]))
            if rule is None:
                self.sink.update(
                    str(row["key"]), self._resolved_fields(self.clock.time()), "resolved",
                    "rule no longer in the rules file", self.clock.time(),
                )  # fmt: skip
                continue
            p = Problem(
                key=str(row["key"]),
                rule=rule,
                device=str(row["device"]),
                instance=str(row["instance"]),
                firing=True,
                opened=float(row["opened"]),
                value=row["value"],
                message=str(row["message"]),
                suppressed=str(row["suppressed_by"]) if row["suppressed"] else "",
                notified=bool(row["notified"]),
                acked=bool(row["acked"]),
                flapping=bool(row["flapping"]),
                stored_at=float(row["updated"]),
            )
            if p.flapping:  # its change history died with the old process: count it as
                # just flapped, so it stays held until stable for a window (not resolved at
                # the first clear poll, reopened and notified again at the next flap)
                p.changes.extend([self.clock.time()] * self.rules.flap.changes)
            self.problems[p.key] = p

    def reload(self, rules: AlertRules, devices: Mapping[str, Device], topology: Topology) -> None:
        """SIGHUP: new rules and inventory; problems of removed rules or devices resolve."""
        self.rules, self.devices, self.topology = rules, dict(devices), topology
        self._applies.clear()
        by_id = rules.by_id()
        now = self.clock.time()
        for key, p in list(self.problems.items()):
            rule = by_id.get(p.rule.id)
            gone = "rule removed" if rule is None else ""
            if p.device not in self.devices:
                gone = "device removed from the inventory"
            if gone:
                if p.firing:
                    self._resolve(p, now, gone)
                del self.problems[key]
            else:
                assert rule is not None
                p.rule = rule

    # ------------------------------------------------------------------ evaluation

    def on_poll(self, result: PollResult, status: DeviceStatus, transition: object = None) -> None:
        name = result.device
        device = self.devices.get(name)
        if device is None:
            return
        self.states[name] = status.state
        self.statuses[name] = status
        values: dict[tuple[str, str], float] = {}
        for s in result.samples:
            values[(s.metric, s.instance)] = s.value
        for metric, instance, value, _text in result.latest:
            if value is not None:
                values[(metric, instance)] = float(value)
        by_metric: dict[str, dict[tuple[str, str], float]] = {}
        latest = self.latest
        for metric_instance, value in values.items():
            latest[(name, *metric_instance)] = value
            by_metric.setdefault(metric_instance[0], {})[metric_instance] = value
        now = self.clock.time()
        for rule in self._rules_for(device):
            # each rule sees the values of the metrics it reads (a switch has hundreds)
            wanted = _READS.get(str(rule.state), ()) if rule.metric is None else (rule.metric,)
            view = {k: v for m in wanted for k, v in by_metric.get(m, {}).items()}
            for _, instance, active, value, message in self._conditions(
                rule, device, result, status, view
            ):
                key = problem_key(rule.id, name, instance)
                p = self.problems.get(key)
                if p is None:
                    if not active:
                        continue
                    p = self.problems[key] = Problem(key, rule, name, instance)
                self._step(p, active, value, message, now)
        self._recheck_suppression(name, now)
        if transition is not None:
            for child in self.topology.children(name):
                self._recheck_suppression(child, now)

    def _rules_for(self, device: Device) -> list[AlertRule]:
        cached = self._applies.get(device.name)
        if cached is None or cached[0] is not self.rules:
            cached = (self.rules, [r for r in self.rules.rules if r.applies(device)])
            self._applies[device.name] = cached
        return cached[1]

    def _conditions(
        self,
        rule: AlertRule,
        device: Device,
        result: PollResult,
        status: DeviceStatus,
        values: Mapping[tuple[str, str], float],
    ) -> list[Condition]:
        if rule.state == "device_down":
            if status.state is DeviceState.DOWN:
                since = format_duration(max(0.0, self.clock.time() - status.since))
                return [
                    (rule, "", True, None, f"not answering SNMP ({status.error}); down {since}")
                ]
            if status.state is DeviceState.UP:
                return [(rule, "", False, None, "")]
            return []
        if not result.ok:
            return []
        if rule.metric is not None:
            out: list[Condition] = []
            meta = METRICS[rule.metric]
            for (metric, instance), value in values.items():
                if metric != rule.metric or not rule.instance_matches(instance):
                    continue
                limit = rule.above if rule.above is not None else rule.below
                word = "above" if rule.above is not None else "below"
                what = f"{meta.en} {instance}".strip()
                held = f" for {format_duration(rule.for_)}" if rule.for_ else ""
                message = f"{what} {value:g}{meta.unit} {word} {limit:g}{meta.unit}{held}"
                out.append((rule, instance, rule.condition(value), value, message))
            return out
        conditions: StateConditions = _STATE_CONDITIONS[str(rule.state)]
        return conditions(self, rule, device, result, values)

    def _step(
        self, p: Problem, active: bool | None, value: float | None, message: str, now: float
    ) -> None:
        rule = p.rule
        flap = self.rules.flap
        if active is not None and active != p.condition:
            if p.condition is not None:
                p.changes.append(now)
            p.condition = active
        while p.changes and now - p.changes[0] > flap.window:
            p.changes.popleft()
        flapping = len(p.changes) >= flap.changes
        if active is None:
            return
        if active:
            p.last_active = now
            if message:
                p.message = message
            p.value = value
            if not p.firing:
                if p.pending_since is None:
                    p.pending_since = now
                if now - p.pending_since >= rule.for_:
                    self._open(p, now, flapping)
                return
            fields: dict[str, Any] = {}
            if flapping != p.flapping:
                p.flapping = flapping
                fields["flapping"] = flapping
            if fields or now - p.stored_at >= VALUE_REFRESH:
                p.stored_at = now
                fields.update(updated=now, value=value, message=p.message)
                event = "flapping" if fields.get("flapping") else None
                self.sink.update(p.key, fields, event, p.message if event else "", now)
            return
        # the condition is clear
        p.pending_since = None
        if not p.firing:
            if not flapping and not p.changes:
                self.problems.pop(p.key, None)  # nothing to remember
            return
        if rule.clear_after is not None and now - p.last_active < rule.clear_after:
            return
        if rule.latch and not p.acked:
            if not p.flapping and p.message and "latched" not in p.message:
                p.message = f"{p.message} (cleared; latched until acknowledged)"
                self.sink.update(p.key, {"message": p.message, "updated": now}, "cleared",
                                 "condition cleared; latched until acknowledged", now)  # fmt: skip
            return
        if flapping:
            if not p.flapping:
                p.flapping = True
                self.sink.update(p.key, {"flapping": True, "updated": now}, "flapping",
                                 f"{len(p.changes)} changes within "
                                 f"{format_duration(flap.window)}", now)  # fmt: skip
            return
        self._resolve(p, now, "condition cleared")

    def _open(self, p: Problem, now: float, flapping: bool) -> None:
        rule = p.rule
        p.firing, p.opened, p.pending_since = True, now, None
        p.flapping, p.acked, p.notified = flapping, False, False
        p.suppressed = self._suppression(p.device)
        p.stored_at = now
        device = self.devices.get(p.device)
        row = {
            "key": p.key,
            "rule": rule.id,
            "device": p.device,
            "instance": p.instance,
            "severity": rule.severity.value,
            "status": "firing",
            "opened": now,
            "updated": now,
            "value": p.value,
            "message": p.message,
            "title_en": rule.title.en,
            "title_zh": rule.title.zh,
            "control": rule.control,
            "suppressed": bool(p.suppressed),
            "suppressed_by": p.suppressed,
            "flapping": flapping,
            "latched": rule.latch,
            "notified": False,
            "acked": False,
        }
        self.sink.open(row)
        log.info(
            "alert opened",
            extra={"alert": p.key, "severity": rule.severity.value, "device": p.device,
                   "suppressed": p.suppressed, "zone": device.zone if device else ""},
        )  # fmt: skip
        if p.suppressed:
            self.sink.update(p.key, {}, "suppressed", p.suppressed, now)
        elif flapping:
            detail = f"{len(p.changes)} changes within {format_duration(self.rules.flap.window)}"
            self.sink.update(p.key, {}, "flapping", detail, now)
        else:
            self._notify(p, "firing", now)

    def _resolve(self, p: Problem, now: float, why: str) -> None:
        p.firing, p.flapping, p.pending_since = False, False, None
        self.sink.update(p.key, self._resolved_fields(now), "resolved", why, now)
        log.info("alert resolved", extra={"alert": p.key, "why": why})
        if p.notified:
            self._notify(p, "resolved", now)
        p.notified = p.acked = False
        if not p.changes:
            self.problems.pop(p.key, None)

    @staticmethod
    def _resolved_fields(now: float) -> dict[str, Any]:
        return {"status": "resolved", "resolved": now, "updated": now}

    def _notify(self, p: Problem, status: str, now: float) -> None:
        if not p.rule.notify or self.notifier is None:
            if status == "firing":
                p.notified = p.rule.notify
            return
        device = self.devices.get(p.device)
        notice = Notice(
            status=status,
            key=p.key,
            rule=p.rule.id,
            device=p.device,
            instance=p.instance,
            severity=p.rule.severity.value,
            title_en=p.rule.title.en,
            title_zh=p.rule.title.zh,
            message=p.message,
            value=p.value,
            opened=p.opened,
            resolved=now if status == "resolved" else None,
            control=p.rule.control,
            zone=device.zone if device else "",
            site=device.site if device else "",
        )
        self.notifier.notify(notice)
        if status == "firing":
            p.notified = True
            self.sink.update(p.key, {"notified": True}, "notified", "", now)

    # ------------------------------------------------------------------ suppression

    def _suppression(self, device: str) -> str:
        if self.maintenance is not None:
            muted = self.maintenance(device, self.clock.time())
            if muted:
                return muted
        return self.topology.suppressed_by(device, self.states, self.latest)

    def _recheck_suppression(self, device: str, now: float) -> None:
        reason: str | None = None
        for p in self.problems.values():
            if p.device != device or not p.firing:
                continue
            if reason is None:
                reason = self._suppression(device)
            if reason == p.suppressed:
                continue
            was, p.suppressed = p.suppressed, reason
            fields = {"suppressed": bool(reason), "suppressed_by": reason, "updated": now}
            self.sink.update(p.key, fields, "suppressed" if reason else "unsuppressed",
                             reason or f"was {was}", now)  # fmt: skip
            if not reason and not p.notified and not p.flapping:
                self._notify(p, "firing", now)

    # ------------------------------------------------------------------ acks

    def sync_acks(self, acked: Iterable[str]) -> None:
        """Keys acknowledged in the store (``govnet alerts ack`` from another process)."""
        now = self.clock.time()
        for key in acked:
            p = self.problems.get(key)
            if p is None or not p.firing or p.acked:
                continue
            p.acked = True
            if p.rule.latch and p.condition is False:
                self._resolve(p, now, "acknowledged after it cleared")

    def firing(self) -> list[Problem]:
        return [p for p in self.problems.values() if p.firing]


# ------------------------------------------------------------------------- state rules


def _link_down(
    engine: AlertEngine, rule: AlertRule, device: Device, result: PollResult,
    values: Mapping[tuple[str, str], float],
) -> list[Condition]:  # fmt: skip
    out: list[Condition] = []
    for (metric, instance), oper in values.items():
        if metric != "if_oper" or not engine.topology.watches(device.name, instance):
            continue
        if not rule.instance_matches(instance):
            continue
        admin = values.get(("if_admin", instance))
        if admin == 2:
            out.append((rule, instance, False, oper, ""))
            continue
        down = oper != 1
        out.append((rule, instance, down, oper, f"link {instance} is down (admin up)"))
    return out


def _ups_on_battery(
    engine: AlertEngine, rule: AlertRule, device: Device, result: PollResult,
    values: Mapping[tuple[str, str], float],
) -> list[Condition]:  # fmt: skip
    source = values.get(("ups_output_source", ""))
    if source is None:
        return []
    secs = values.get(("ups_seconds_on_battery", ""))
    charge = values.get(("ups_charge_pct", ""))
    minutes = values.get(("ups_minutes_left", ""))
    parts = ["on battery (mains failed)"]
    if secs is not None:
        parts.append(f"for {format_duration(secs)}")
    if charge is not None:
        parts.append(f"{charge:g}% charge")
    if minutes is not None:
        parts.append(f"{minutes:g} min left")
    return [(rule, "", source == 5, source, ", ".join(parts))]


def _ups_battery_low(
    engine: AlertEngine, rule: AlertRule, device: Device, result: PollResult,
    values: Mapping[tuple[str, str], float],
) -> list[Condition]:  # fmt: skip
    status = values.get(("ups_battery_status", ""))
    if status is None:
        return []
    word = {3: "low", 4: "depleted"}.get(int(status), "")
    minutes = values.get(("ups_minutes_left", ""))
    left = f", {minutes:g} min left" if minutes is not None else ""
    return [(rule, "", status in (3, 4), status, f"battery {word}{left}")]


def _per_instance(metric: str, active_value: float, text: str) -> StateConditions:
    def conditions(
        engine: AlertEngine, rule: AlertRule, device: Device, result: PollResult,
        values: Mapping[tuple[str, str], float],
    ) -> list[Condition]:  # fmt: skip
        return [
            (rule, instance, value == active_value, value, text.format(instance=instance))
            for (m, instance), value in values.items()
            if m == metric and rule.instance_matches(instance)
        ]

    return conditions


def _rebooted(
    engine: AlertEngine, rule: AlertRule, device: Device, result: PollResult,
    values: Mapping[tuple[str, str], float],
) -> list[Condition]:  # fmt: skip
    uptime = values.get(("uptime_s", ""))
    up = f" (up {format_duration(uptime)})" if uptime is not None else ""
    return [(rule, "", result.rebooted, uptime, f"rebooted{up}")]


# the metrics each state rule reads
_READS: dict[str, tuple[str, ...]] = {
    "link_down": ("if_oper", "if_admin"),
    "ups_on_battery": ("ups_output_source", "ups_seconds_on_battery", "ups_charge_pct",
                       "ups_minutes_left"),
    "ups_battery_low": ("ups_battery_status", "ups_minutes_left"),
    "leak": ("leak",),
    "sensor_failed": ("sensor_ok",),
    "device_rebooted": ("uptime_s",),
    "device_down": (),
}  # fmt: skip

_STATE_CONDITIONS: dict[str, StateConditions] = {
    "link_down": _link_down,
    "ups_on_battery": _ups_on_battery,
    "ups_battery_low": _ups_battery_low,
    "leak": _per_instance("leak", 1.0, "water detected by {instance}"),
    "sensor_failed": _per_instance("sensor_ok", 0.0, "sensor {instance} is not working"),
    "device_rebooted": _rebooted,
}
