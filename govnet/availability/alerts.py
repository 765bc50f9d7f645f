"""Service alerts: down, slow (for a while), certificate expiring — told once per problem.

Rules (thresholds per service in the inventory, ``alerts:`` with defaults):

- ``service-down`` (critical): the service's state is ``down`` (failing for ``down_after``);
  resolves when it is ``up`` again;
- ``service-slow`` (medium): the slowest probe above ``slow_ms`` for ``slow_for``;
- ``service-cert-expiring`` (high): an https certificate with fewer than ``cert_days`` days.

An alert on a service in a maintenance window, or whose host device is down or unreachable, or
behind a failed uplink or power feed (the monitoring suppression, :meth:`Topology.suppressed_by`),
is *suppressed*: stored and shown, not notified. The lifecycle (open, suppressed, resolved, told
once) is the SNMP alerts' own (:class:`govnet.monitor.problems.ProblemBook`). Alerts are
written through the daemon's store writer into the same alerts table (``govnet alerts list``
shows them; ``device`` holds the service name).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from govnet.availability.runner import CheckResult
from govnet.core.vocabulary import Severity, Text
from govnet.durations import format_duration
from govnet.i18n import N_, both
from govnet.inventory.model import Service
from govnet.monitor.model import Clock, DeviceState, DeviceStatus, SystemClock
from govnet.monitor.notify import Notifier
from govnet.monitor.problems import AlertSink, Problem, ProblemBook, Suppression
from govnet.monitor.rules import AlertRule, AppliesTo

log = logging.getLogger("govnet.availability.alerts")


def _rule(rule_id: str, title: str, severity: str, state: str) -> AlertRule:
    return AlertRule(
        id=rule_id,
        title=Text(**both(title)),
        severity=Severity(severity),
        applies_to=AppliesTo(),
        state=state,
        source="govnet/availability/alerts.py",
    )


DOWN = _rule("service-down", N_("Service down"), "critical", "service_down")
SLOW = _rule("service-slow", N_("Service slow"), "medium", "service_slow")
CERT = _rule("service-cert-expiring", N_("Certificate expiring"), "high", "service_cert")
RULES: dict[str, AlertRule] = {r.id: r for r in (DOWN, SLOW, CERT)}


@dataclass
class _Condition:
    rule: AlertRule
    instance: str
    active: bool | None
    value: float | None
    message: str
    hold: float = 0.0


class ServiceAlerts:
    """The service rules: which conditions hold after each check; the alerts are a
    :class:`ProblemBook`'s, subject = the service."""

    def __init__(
        self,
        services: Mapping[str, Service],
        sink: AlertSink,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
        suppression: Suppression | None = None,
    ) -> None:
        """``suppression``: service name → why its alerts are consequences ("" if not)."""
        self.services = dict(services)
        self.clock: Clock = clock or SystemClock()
        self.book = ProblemBook(
            sink, notifier, self.clock, suppression, self._place, subject="service"
        )

    @property
    def problems(self) -> dict[str, Problem]:
        return self.book.problems

    def _place(self, name: str) -> tuple[str, str]:
        service = self.services.get(name)
        return (service.zone, service.site) if service else ("", "")

    def restore(self, rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Take the firing service alerts of a previous run; return the others."""
        others: list[Mapping[str, Any]] = []
        for row in rows:
            rule = RULES.get(str(row["rule"]))
            if rule is None:
                others.append(row)
            else:
                self.book.restore(row, rule, condition=True)
        return others

    def reload(self, services: Mapping[str, Service]) -> None:
        self.services = dict(services)
        for p in list(self.problems.values()):
            if p.device not in self.services:
                self.book.drop(p, "service removed from the inventory")

    def conditions(
        self, service: Service, result: CheckResult, status: DeviceStatus
    ) -> list[_Condition]:
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
                    SLOW,
                    "",
                    result.ms > limits.slow_ms,
                    result.ms,
                    f"response {result.ms:.0f} ms above {limits.slow_ms:g} ms for "
                    f"{format_duration(limits.slow_for)}",
                    limits.slow_for,
                )
            )
        if limits.cert_days is not None:
            for probe in result.outcomes:
                if probe.cert_days is None:
                    continue
                word = "expired" if probe.cert_days < 0 else f"expires in {probe.cert_days:.0f} d"
                out.append(
                    _Condition(
                        CERT,
                        probe.probe,
                        probe.cert_days < limits.cert_days,
                        probe.cert_days,
                        f"TLS certificate {word} (alert below {limits.cert_days:g} d)",
                    )
                )
        return out

    def on_check(self, result: CheckResult, status: DeviceStatus) -> None:
        service = self.services.get(result.service)
        if service is None:
            return
        now = self.clock.time()
        book = self.book
        for c in self.conditions(service, result, status):
            p = book.get(c.rule, service.name, c.instance, c.active)
            if p is not None:
                book.step(p, c.active, c.value, c.message, now, c.hold)
        book.recheck(service.name, now)

    def firing(self) -> list[Problem]:
        return self.book.firing()
