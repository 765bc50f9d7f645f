"""Service alerts: down, slow (for a while), certificate expiring — told once per problem.

Rules (thresholds per service in the inventory, ``alerts:`` with defaults):

- ``service-down`` (critical): the service's state is ``down`` (failing for ``down_after``);
  resolves when it is ``up`` again;
- ``service-slow`` (medium): the slowest probe above ``slow_ms`` for ``slow_for``;
- ``service-cert-expiring`` (high): an https certificate with fewer than ``cert_days`` days.

An alert on a service whose host device is down or unreachable, or behind a failed uplink or
power feed (the monitoring suppression, :meth:`Topology.suppressed_by`), is *suppressed*:
stored and shown, not notified. Alerts are written through the daemon's store writer into
the same alerts table (``govnet alerts list`` shows them; ``device`` holds the service name).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from govnet.checks.model import Severity, Text
from govnet.durations import format_duration
from govnet.inventory.model import Service
from govnet.monitor.alerts import AlertSink, Problem, problem_key
from govnet.monitor.model import Clock, DeviceState, DeviceStatus, SystemClock
from govnet.monitor.notify import Notice, Notifier
from govnet.monitor.rules import AlertRule, AppliesTo
from govnet.services.runner import CheckResult

log = logging.getLogger("govnet.services.alerts")


def _rule(rule_id: str, en: str, zh: str, severity: str, state: str) -> AlertRule:
    return AlertRule(
        id=rule_id, title=Text(en=en, zh=zh), severity=Severity(severity),
        applies_to=AppliesTo(), state=state, source="govnet/services/alerts.py",
    )  # fmt: skip


DOWN = _rule("service-down", "Service down", "业务系统不可用", "critical", "service_down")
SLOW = _rule("service-slow", "Service slow", "业务系统响应慢", "medium", "service_slow")
CERT = _rule(
    "service-cert-expiring", "Certificate expiring", "证书即将过期", "high", "service_cert"
)
RULES: dict[str, AlertRule] = {r.id: r for r in (DOWN, SLOW, CERT)}

Suppression = Callable[[str], str]  # host device → why its alerts are consequences ("" if not)


@dataclass
class _Condition:
    rule: AlertRule
    instance: str
    active: bool | None
    value: float | None
    message: str
    hold: float = 0.0


class ServiceAlerts:
    def __init__(
        self,
        services: Mapping[str, Service],
        sink: AlertSink,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
        suppression: Suppression | None = None,
    ) -> None:
        self.services = dict(services)
        self.sink = sink
        self.notifier = notifier
        self.clock: Clock = clock or SystemClock()
        self.suppression: Suppression = suppression or (lambda _host: "")
        self.problems: dict[str, Problem] = {}

    def restore(self, rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Take the firing service alerts of a previous run; return the others."""
        others: list[Mapping[str, Any]] = []
        for row in rows:
            rule = RULES.get(str(row["rule"]))
            if rule is None:
                others.append(row)
                continue
            p = Problem(
                key=str(row["key"]), rule=rule, device=str(row["device"]),
                instance=str(row["instance"]), firing=True, opened=float(row["opened"]),
                value=row["value"], message=str(row["message"]),
                suppressed=str(row["suppressed_by"]) if row["suppressed"] else "",
                notified=bool(row["notified"]), acked=bool(row["acked"]),
                stored_at=float(row["updated"]), condition=True,
            )  # fmt: skip
            self.problems[p.key] = p
        return others

    def reload(self, services: Mapping[str, Service]) -> None:
        self.services = dict(services)
        now = self.clock.time()
        for key, p in list(self.problems.items()):
            if p.device not in self.services:
                if p.firing:
                    self._resolve(p, now, "service removed from the inventory")
                del self.problems[key]

    def conditions(self, service: Service, result: CheckResult, status: DeviceStatus) -> list[
        _Condition
    ]:  # fmt: skip
        out: list[_Condition] = []
        if status.state is DeviceState.DOWN:
            # the alert opens when the state turns down: say since when, not "down 0.0078s"
            since = datetime.fromtimestamp(status.since, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
            out.append(_Condition(DOWN, "", True, None, f"{status.error}; down since {since}"))
        elif status.state is DeviceState.UP:
            out.append(_Condition(DOWN, "", False, None, ""))
        limits = service.alerts
        if limits.slow_ms is not None and result.ok and result.ms is not None:
            out.append(
                _Condition(
                    SLOW, "", result.ms > limits.slow_ms, result.ms,
                    f"response {result.ms:.0f} ms above {limits.slow_ms:g} ms for "
                    f"{format_duration(limits.slow_for)}", limits.slow_for,
                )
            )  # fmt: skip
        if limits.cert_days is not None:
            for probe in result.probes:
                if probe.cert_days is None:
                    continue
                word = "expired" if probe.cert_days < 0 else f"expires in {probe.cert_days:.0f} d"
                out.append(
                    _Condition(
                        CERT, probe.probe, probe.cert_days < limits.cert_days, probe.cert_days,
                        f"TLS certificate {word} (alert below {limits.cert_days:g} d)",
                    )
                )  # fmt: skip
        return out

    def on_check(self, result: CheckResult, status: DeviceStatus) -> None:
        service = self.services.get(result.service)
        if service is None:
            return
        now = self.clock.time()
        for c in self.conditions(service, result, status):
            key = problem_key(c.rule.id, service.name, c.instance)
            p = self.problems.get(key)
            if p is None:
                if not c.active:
                    continue
                p = self.problems[key] = Problem(key, c.rule, service.name, c.instance)
            self._step(p, service, c, now)
        self.recheck(service, now)

    def _step(self, p: Problem, service: Service, c: _Condition, now: float) -> None:
        if c.active is None:
            return
        p.condition = c.active
        if c.active:
            p.value, p.message = c.value, c.message
            if p.firing:
                return
            if p.pending_since is None:
                p.pending_since = now
            if now - p.pending_since >= c.hold:
                self._open(p, service, now)
            return
        p.pending_since = None
        if p.firing:
            self._resolve(p, now, "condition cleared")
        else:
            self.problems.pop(p.key, None)

    def _open(self, p: Problem, service: Service, now: float) -> None:
        p.firing, p.opened, p.pending_since, p.notified, p.acked = True, now, None, False, False
        p.suppressed = self.suppression(service.host) if service.host else ""
        p.stored_at = now
        rule = p.rule
        self.sink.open(
            {"key": p.key, "rule": rule.id, "device": p.device, "instance": p.instance,
             "severity": rule.severity.value, "status": "firing", "opened": now,
             "updated": now, "value": p.value, "message": p.message,
             "title_en": rule.title.en, "title_zh": rule.title.zh, "control": "",
             "suppressed": bool(p.suppressed), "suppressed_by": p.suppressed,
             "flapping": False, "latched": False, "notified": False, "acked": False}
        )  # fmt: skip
        log.info("alert opened", extra={"alert": p.key, "service": p.device,
                                        "suppressed": p.suppressed})  # fmt: skip
        if p.suppressed:
            self.sink.update(p.key, {}, "suppressed", p.suppressed, now)
        else:
            self._notify(p, service, "firing", now)

    def _resolve(self, p: Problem, now: float, why: str) -> None:
        p.firing, p.pending_since = False, None
        self.sink.update(
            p.key, {"status": "resolved", "resolved": now, "updated": now}, "resolved", why, now
        )
        log.info("alert resolved", extra={"alert": p.key, "why": why})
        if p.notified:
            self._notify(p, self.services.get(p.device), "resolved", now)
        self.problems.pop(p.key, None)

    def recheck(self, service: Service, now: float) -> None:
        """Suppression follows the host: a host that recovers first unsuppresses (and tells)."""
        reason: str | None = None
        for p in list(self.problems.values()):
            if p.device != service.name or not p.firing:
                continue
            if reason is None:
                reason = self.suppression(service.host) if service.host else ""
            if reason == p.suppressed:
                continue
            was, p.suppressed = p.suppressed, reason
            fields = {"suppressed": bool(reason), "suppressed_by": reason, "updated": now}
            self.sink.update(p.key, fields, "suppressed" if reason else "unsuppressed",
                             reason or f"was {was}", now)  # fmt: skip
            if not reason and not p.notified:
                self._notify(p, service, "firing", now)

    def _notify(self, p: Problem, service: Service | None, status: str, now: float) -> None:
        if self.notifier is None:
            p.notified = status == "firing"
            return
        self.notifier.notify(
            Notice(
                status=status, key=p.key, rule=p.rule.id, device=p.device, instance=p.instance,
                severity=p.rule.severity.value, title_en=p.rule.title.en,
                title_zh=p.rule.title.zh, message=p.message, value=p.value, opened=p.opened,
                resolved=now if status == "resolved" else None, control="",
                zone=service.zone if service else "", site=service.site if service else "",
            )
        )  # fmt: skip
        if status == "firing":
            p.notified = True
            self.sink.update(p.key, {"notified": True}, "notified", "", now)

    def firing(self) -> list[Problem]:
        return [p for p in self.problems.values() if p.firing]
