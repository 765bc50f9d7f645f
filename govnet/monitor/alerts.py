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
  is still firing, it is notified then. Sharded (:meth:`AlertEngine.set_remote`), parents and
  UPSes another poller holds are judged from the store's view of them, and a new alert that
  depends on them waits (suppressed "waiting for …") until a view read ``settle`` seconds after
  it opened has come: the other poller's last polls then count as they would in one poller.

Notifications go out when an alert opens (unless suppressed or flapping) and when a notified
alert resolves. State changes are written through an :class:`AlertSink` (the store writer)
with a history event each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from itertools import chain
from typing import Any

from govnet.durations import format_duration
from govnet.i18n import N_, _, current_lang, tr
from govnet.inventory.model import Device
from govnet.monitor.metrics import METRICS
from govnet.monitor.model import Clock, DeviceState, DeviceStatus, PollResult, SystemClock
from govnet.monitor.notify import Notifier
from govnet.monitor.problems import AlertSink, Problem, ProblemBook, problem_key
from govnet.monitor.rules import AlertRule, AlertRules
from govnet.monitor.topology import RemoteStates, Topology

__all__ = ["AlertEngine", "AlertSink", "Problem", "problem_key"]

log = logging.getLogger("govnet.monitor.alerts")

VALUE_REFRESH = 60.0  # seconds between updates of a firing alert's value in the store
# sharded: a new alert waits for the store's view of other pollers' devices at most this long
# (a store that cannot be read must not hold notifications back: past it, fail open)
MAX_REMOTE_WAIT = 30.0


Condition = tuple[AlertRule, str, bool | None, float | None, str]
StateConditions = Callable[
    ["AlertEngine", AlertRule, Device, PollResult, Mapping[tuple[str, str], float]],
    list[Condition],
]


class AlertEngine:
    """The SNMP rules: which conditions hold after each poll. What an alert then does (open,
    suppressed, flapping, resolved, told) is the :class:`ProblemBook`'s."""

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
        self.clock: Clock = clock or SystemClock()
        self.book = ProblemBook(
            sink, notifier, self.clock, self._suppression, self._place, "device", rules.flap
        )
        self.states: dict[str, DeviceState] = {}
        self.statuses: dict[str, DeviceStatus] = {}
        self.latest: dict[tuple[str, str, str], float | None] = {}
        # the metrics kept in self.latest; None: all (the /metrics exporter serves them).
        # Without the exporter only what suppression reads (topology.READS): at 10,000
        # switches every latest value is millions of entries, every port status 400,000
        self.keep_latest: frozenset[str] | None = None
        # …and of those, per device, the (metric, instance) pairs the topology reads (a
        # parent's port towards a child, a UPS's output): not every port of every switch
        self._suppression_keys = topology.read_keys()
        self._applies: dict[str, tuple[AlertRules, list[AlertRule], frozenset[str]]] = {}
        # sharded pollers: what the store says of devices held by the others (None: this
        # engine sees every device itself) and how long a poll takes to reach the store
        self.remote: RemoteStates | None = None
        self.settle: float | None = 2.0  # None: new alerts do not wait for a newer view

    @property
    def problems(self) -> dict[str, Problem]:
        return self.book.problems

    # ------------------------------------------------------------------ set-up

    def restore(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Firing alerts from the store (after a restart): still one alert per problem."""
        by_id = self.rules.by_id()
        for row in rows:
            rule = by_id.get(str(row["rule"]))
            if rule is None:
                self.book.resolve_row(str(row["key"]), "rule no longer in the rules file")
            else:
                self.book.restore(row, rule)

    def reload(self, rules: AlertRules, devices: Mapping[str, Device], topology: Topology) -> None:
        """SIGHUP: new rules and inventory; problems of removed rules or devices resolve."""
        self.rules, self.devices, self.topology = rules, dict(devices), topology
        self._suppression_keys = topology.read_keys()
        self.book.flap = rules.flap
        self._applies.clear()
        by_id = rules.by_id()
        for p in list(self.problems.values()):
            rule = by_id.get(p.rule.id)
            gone = "rule removed" if rule is None else ""
            if p.device not in self.devices:
                gone = "device removed from the inventory"
            if gone:
                self.book.drop(p, gone)
            else:
                assert rule is not None
                p.rule = rule

    def release(self, names: Iterable[str]) -> int:
        """Devices handed to another poller (sharding): forget their problems here without
        resolving them (their alerts stay firing in the store; the new holder restores them).
        Returns how many problems were handed over."""
        gone = set(names)
        handed = [k for k, p in self.problems.items() if p.device in gone]
        for key in handed:
            del self.problems[key]
        if self.remote is not None and gone:  # until the next view: what we knew of them
            self.remote = self.remote.adopt(
                {n: s for n, s in self.states.items() if n in gone},
                {k: v for k, v in self.latest.items() if k[0] in gone},
                self.clock.time() + MAX_REMOTE_WAIT,
            )
        for name in gone:
            self.states.pop(name, None)
            self.statuses.pop(name, None)
        if gone:
            self.latest = {k: v for k, v in self.latest.items() if k[0] not in gone}
        return len(handed)

    # ------------------------------------------------------------------ evaluation

    def on_poll(self, result: PollResult, status: DeviceStatus, transition: object = None) -> None:
        name = result.device
        device = self.devices.get(name)
        if device is None:
            return
        self.states[name] = status.state
        self.statuses[name] = status
        rules, reads = self._rules_for(device)
        # only the values a rule reads or `latest` keeps (a switch's poll has hundreds; a
        # value in both lists counts as the latest one, in the sample's place)
        by_metric: dict[str, dict[tuple[str, str], float]] = {}
        latest, keep = self.latest, self.keep_latest
        kept = self._suppression_keys.get(name, _NOTHING) if keep is not None else _NOTHING
        numbers = ((m, i, float(v)) for m, i, v, _text in result.latest if v is not None)
        for metric, instance, number in chain(result.samples, numbers):
            if keep is None or (kept and metric in keep and (metric, instance) in kept):
                latest[(name, metric, instance)] = number
            if metric in reads:
                by_metric.setdefault(metric, {})[(metric, instance)] = number
        now = self.clock.time()
        book = self.book
        for rule in rules:
            # each rule sees the values of the metrics it reads
            wanted = _READS.get(str(rule.state), ()) if rule.metric is None else (rule.metric,)
            view = {k: v for m in wanted for k, v in by_metric.get(m, {}).items()}
            for _rule, instance, active, value, message in self._conditions(
                rule, device, result, status, view
            ):
                p = book.get(rule, name, instance, active)
                if p is not None:
                    book.step(p, active, value, message, now, rule.for_, VALUE_REFRESH)
        book.recheck(name, now)
        if transition is not None:
            for child in self.topology.children(name):
                book.recheck(child, now)

    def _rules_for(self, device: Device) -> tuple[list[AlertRule], frozenset[str]]:
        """The rules that apply to ``device`` and the metrics they read."""
        cached = self._applies.get(device.name)
        if cached is None or cached[0] is not self.rules:
            rules = [r for r in self.rules.rules if r.applies(device)]
            reads = frozenset(
                m
                for r in rules
                for m in (_READS.get(str(r.state), ()) if r.metric is None else (r.metric,))
            )
            cached = (self.rules, rules, reads)
            self._applies[device.name] = cached
        return cached[1], cached[2]

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
                    (
                        rule,
                        "",
                        True,
                        None,
                        _(
                            "not answering SNMP ({error}); down {since}",
                            error=status.error,
                            since=since,
                        ),
                    )
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
                active = rule.condition(value)
                if not active:  # the message is read only while the condition holds
                    out.append((rule, instance, active, value, ""))
                    continue
                limit = rule.above if rule.above is not None else rule.below
                what = f"{meta.label(current_lang())} {instance}".strip()
                held = (
                    _(" for {duration}", duration=format_duration(rule.for_)) if rule.for_ else ""
                )
                if rule.above is not None:
                    said = _("{what} {value}{unit} above {limit}{unit}{held}")
                else:
                    said = _("{what} {value}{unit} below {limit}{unit}{held}")
                message = said.format(
                    what=what, value=f"{value:g}", unit=meta.unit, limit=f"{limit:g}", held=held
                )
                out.append((rule, instance, active, value, message))
            return out
        conditions: StateConditions = _STATE_CONDITIONS[str(rule.state)]
        return conditions(self, rule, device, result, values)

    # ------------------------------------------------------------------ suppression

    def _suppression(self, device: str, problems: Iterable[Problem] | None = None) -> str:
        now = self.clock.time()
        if self.maintenance is not None:
            muted = self.maintenance(device, now)
            if muted:
                return muted
        remote = self.remote
        if remote is None:
            return self.topology.suppressed_by(device, self.states, self.latest)
        why = self.topology.suppressed_by(
            device, remote.states_with(self.states, now), remote.latest_with(self.latest, now)
        )
        if why:
            return why
        waiting = self._waiting_for(device, remote, now, problems)
        if waiting:
            return _("waiting for the state of {devices} from their pollers", devices=waiting)
        return ""

    def _waiting_for(
        self,
        device: str,
        remote: RemoteStates,
        now: float,
        problems: Iterable[Problem] | None = None,
    ) -> str:
        """The other pollers' devices the alerts of ``device`` wait for ("" if none): those
        the view was not read for yet, and for a new alert, a view read ``settle`` seconds
        after it opened, so a failure their pollers saw before it counts (in one poller it
        would). At most MAX_REMOTE_WAIT: a store that cannot be read does not hold them."""
        if self.settle is None:
            return ""
        others = sorted(self.topology.dependencies(device) - self.states.keys())
        if not others:
            return ""
        unasked = [d for d in others if d not in remote.asked]
        if unasked:
            return ", ".join(unasked) if now - remote.read_at < MAX_REMOTE_WAIT else ""
        if problems is None:
            problems = (p for p in self.problems.values() if p.device == device)
        newest = 0.0
        for p in problems:
            if not p.firing:
                continue
            if p.notified and not p.suppressed:
                return ""  # already told as no consequence: no flip-flop for a second alert
            if not p.notified:
                newest = max(newest, p.opened)
        if remote.read_at >= newest + self.settle or now - newest >= MAX_REMOTE_WAIT:
            return ""
        return ", ".join(others)

    def set_remote(self, remote: RemoteStates | None) -> None:
        """A new view of the other pollers' devices (sharding): alerts whose suppression it
        changes follow it — suppressed when a parent another poller holds failed, told when
        the wait for the view is over and nothing explains them (or the cause is stale)."""
        self.remote = remote
        self.recheck_remote()

    def recheck_remote(self) -> None:
        """Re-judge the firing alerts of devices that depend on other pollers' devices (also
        when the view could not be read: waits run out, rows grow stale)."""
        if self.remote is None:
            return
        by_device: dict[str, list[Problem]] = {}
        for p in self.problems.values():
            if p.firing:
                by_device.setdefault(p.device, []).append(p)
        now = self.clock.time()
        for device, problems in sorted(by_device.items()):
            if not self.topology.dependencies(device) - self.states.keys():
                continue  # everything it depends on is polled here
            reason = self._suppression(device, problems)
            if any(p.suppressed != reason for p in problems):
                self.book.recheck(device, now)

    def host_suppression(self, host: str) -> str:
        """Why the alerts of something running on ``host`` are consequences ("" if not): the
        host is down or unreachable, or behind a failed uplink or power feed."""
        state = self.states.get(host)
        if state in (DeviceState.DOWN, DeviceState.UNREACHABLE):
            return _("host {host} ({state})", host=host, state=tr(current_lang(), state.value))
        behind = self.topology.suppressed_by(host, self.states, self.latest)
        return _("host {host} {behind}", host=host, behind=behind) if behind else ""

    def _place(self, device: str) -> tuple[str, str]:
        d = self.devices.get(device)
        return (d.zone, d.site) if d else ("", "")

    # ------------------------------------------------------------------ acks

    def sync_acks(self, acked: Iterable[str]) -> None:
        """Keys acknowledged in the store (``govnet alerts ack`` from another process)."""
        self.book.sync_acks(acked)

    def firing(self) -> list[Problem]:
        return self.book.firing()


# ------------------------------------------------------------------------- state rules


def _link_down(
    engine: AlertEngine,
    rule: AlertRule,
    device: Device,
    result: PollResult,
    values: Mapping[tuple[str, str], float],
) -> list[Condition]:
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
        out.append(
            (rule, instance, down, oper, _("link {instance} is down (admin up)", instance=instance))
        )
    return out


def _ups_on_battery(
    engine: AlertEngine,
    rule: AlertRule,
    device: Device,
    result: PollResult,
    values: Mapping[tuple[str, str], float],
) -> list[Condition]:
    source = values.get(("ups_output_source", ""))
    if source is None:
        return []
    secs = values.get(("ups_seconds_on_battery", ""))
    charge = values.get(("ups_charge_pct", ""))
    minutes = values.get(("ups_minutes_left", ""))
    parts = [_("on battery (mains failed)")]
    if secs is not None:
        parts.append(_("for {duration}", duration=format_duration(secs)))
    if charge is not None:
        parts.append(_("{charge} charge", charge=f"{charge:g}%"))
    if minutes is not None:
        parts.append(_("{minutes} min left", minutes=f"{minutes:g}"))
    return [(rule, "", source == 5, source, _(", ").join(parts))]


def _ups_battery_low(
    engine: AlertEngine,
    rule: AlertRule,
    device: Device,
    result: PollResult,
    values: Mapping[tuple[str, str], float],
) -> list[Condition]:
    status = values.get(("ups_battery_status", ""))
    if status is None:
        return []
    minutes = values.get(("ups_minutes_left", ""))
    left = _(", {minutes} min left", minutes=f"{minutes:g}") if minutes is not None else ""
    said = {3: _("battery low{left}", left=left), 4: _("battery depleted{left}", left=left)}
    return [(rule, "", status in (3, 4), status, said.get(int(status), _("battery")))]


def _per_instance(metric: str, active_value: float, text: str) -> StateConditions:
    def conditions(
        engine: AlertEngine,
        rule: AlertRule,
        device: Device,
        result: PollResult,
        values: Mapping[tuple[str, str], float],
    ) -> list[Condition]:
        return [
            (rule, instance, value == active_value, value, _(text, instance=instance))
            for (m, instance), value in values.items()
            if m == metric and rule.instance_matches(instance)
        ]

    return conditions


def _rebooted(
    engine: AlertEngine,
    rule: AlertRule,
    device: Device,
    result: PollResult,
    values: Mapping[tuple[str, str], float],
) -> list[Condition]:
    uptime = values.get(("uptime_s", ""))
    up = _(" (up {duration})", duration=format_duration(uptime)) if uptime is not None else ""
    return [(rule, "", result.rebooted, uptime, _("rebooted{up}", up=up))]


_NOTHING: frozenset[tuple[str, str]] = frozenset()


# the metrics each state rule reads
_READS: dict[str, tuple[str, ...]] = {
    "link_down": ("if_oper", "if_admin"),
    "ups_on_battery": (
        "ups_output_source",
        "ups_seconds_on_battery",
        "ups_charge_pct",
        "ups_minutes_left",
    ),
    "ups_battery_low": ("ups_battery_status", "ups_minutes_left"),
    "leak": ("leak",),
    "sensor_failed": ("sensor_ok",),
    "fan_failed": ("fan_ok",),
    "psu_failed": ("psu_ok",),
    "hw_fault": ("hw_ok",),
    "device_rebooted": ("uptime_s",),
    "device_down": (),
}

_STATE_CONDITIONS: dict[str, StateConditions] = {
    "link_down": _link_down,
    "ups_on_battery": _ups_on_battery,
    "ups_battery_low": _ups_battery_low,
    "leak": _per_instance("leak", 1.0, N_("water detected by {instance}")),
    "sensor_failed": _per_instance("sensor_ok", 0.0, N_("sensor {instance} is not working")),
    "fan_failed": _per_instance("fan_ok", 0.0, N_("fan {instance} failed")),
    "psu_failed": _per_instance("psu_ok", 0.0, N_("power supply {instance} failed")),
    "hw_fault": _per_instance("hw_ok", 0.0, N_("{instance} reports a hardware fault")),
    "device_rebooted": _rebooted,
}
