"""One problem lifecycle: pending → firing (suppressed, flapping) → resolved, told once.

A *problem* is (rule, subject, instance): a device for the SNMP rules (:mod:`.alerts`), a
service for the availability checks (``availability/alerts.py``). Both decide *whether*
a condition holds; :class:`ProblemBook` decides what that means for the alert:

- ``step``: a condition that holds for ``hold`` seconds opens the alert; it stays the one
  alert for that problem until the condition clears, then it resolves (``clear_after``,
  ``latch`` and flapping of the rule keep it open); a firing value is rewritten at most
  every ``refresh`` seconds;
- ``open`` / ``resolve`` / ``notify``: rows and history events through the :class:`AlertSink`
  (the daemon's store writer), notifications through the :class:`Notifier`;
- ``recheck``: suppression follows the subject — when its cause recovers first and the alert
  still fires, it is told then;
- ``restore`` (rows of a previous run), ``drop`` (reload), ``sync_acks`` (``alerts ack``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from govnet.durations import format_duration
from govnet.i18n import _
from govnet.monitor.model import Clock, SystemClock
from govnet.monitor.notify import Notice, Notifier
from govnet.monitor.rules import AlertRule, FlapSpec

log = logging.getLogger("govnet.monitor.alerts")


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
    device: str  # the subject: a device, or a service for service alerts
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


def resolved_fields(now: float) -> dict[str, Any]:
    return {"status": "resolved", "resolved": now, "updated": now}


Suppression = Callable[[str], str]  # subject → why its alerts are consequences ("" if not)
Place = Callable[[str], tuple[str, str]]  # subject → (zone, site) for notifications


class ProblemBook:
    """The problems of one kind of subject (``device`` or ``service``) and their alerts."""

    def __init__(
        self,
        sink: AlertSink,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
        suppression: Suppression | None = None,
        place: Place | None = None,
        subject: str = "device",
        flap: FlapSpec | None = None,
    ) -> None:
        self.sink = sink
        self.notifier = notifier
        self.clock: Clock = clock or SystemClock()
        self.suppression: Suppression = suppression or (lambda _subject: "")
        self.place: Place = place or (lambda _subject: ("", ""))
        self.subject = subject  # the log field naming the subject
        self.flap = flap  # None: these problems never flap
        self.problems: dict[str, Problem] = {}

    # ------------------------------------------------------------------ bookkeeping

    def restore(
        self, row: Mapping[str, Any], rule: AlertRule, condition: bool | None = None
    ) -> Problem:
        """A firing alert of a previous run, still the one alert for its problem."""
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
            condition=condition,
            stored_at=float(row["updated"]),
        )
        if p.flapping and self.flap is not None:  # its change history died with the old
            # process: count it as just flapped, so it stays held until stable for a window
            # (not resolved at the first clear poll, reopened and notified again at the next)
            p.changes.extend([self.clock.time()] * self.flap.changes)
        self.problems[p.key] = p
        return p

    def resolve_row(self, key: str, why: str) -> None:
        """Resolve a stored alert the book does not hold (its rule is gone)."""
        now = self.clock.time()
        self.sink.update(key, resolved_fields(now), "resolved", why, now)

    def drop(self, p: Problem, why: str) -> None:
        """Forget a problem whose rule or subject went away (reload); resolve it if firing."""
        if p.firing:
            self._resolve(p, self.clock.time(), why)
        self.problems.pop(p.key, None)

    def get(
        self, rule: AlertRule, subject: str, instance: str, active: bool | None
    ) -> Problem | None:
        """The problem of (rule, subject, instance); a new one only when its condition holds."""
        key = problem_key(rule.id, subject, instance)
        p = self.problems.get(key)
        if p is None and active:
            p = self.problems[key] = Problem(key, rule, subject, instance)
        return p

    def firing(self) -> list[Problem]:
        return [p for p in self.problems.values() if p.firing]

    # ------------------------------------------------------------------ the lifecycle

    def step(
        self,
        p: Problem,
        active: bool | None,
        value: float | None,
        message: str,
        now: float,
        hold: float = 0.0,
        refresh: float | None = None,
    ) -> None:
        """One evaluation of ``p``'s condition (None: unknown this time)."""
        rule = p.rule
        flap = self.flap
        if active is not None and active != p.condition:
            if p.condition is not None and flap is not None:
                p.changes.append(now)
            p.condition = active
        if flap is not None:
            while p.changes and now - p.changes[0] > flap.window:
                p.changes.popleft()
        flapping = flap is not None and len(p.changes) >= flap.changes
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
                if now - p.pending_since >= hold:
                    self._open(p, now, flapping)
                return
            fields: dict[str, Any] = {}
            if flapping != p.flapping:
                p.flapping = flapping
                fields["flapping"] = flapping
            if fields or (refresh is not None and now - p.stored_at >= refresh):
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
            latched = _(" (cleared; latched until acknowledged)")
            if not p.flapping and p.message and not p.message.endswith(latched):
                p.message += latched
                self.sink.update(
                    p.key,
                    {"message": p.message, "updated": now},
                    "cleared",
                    "condition cleared; latched until acknowledged",
                    now,
                )
            return
        if flapping:
            if not p.flapping:
                p.flapping = True
                self.sink.update(
                    p.key, {"flapping": True, "updated": now}, "flapping", self._flap_detail(p), now
                )
            return
        self._resolve(p, now, "condition cleared")

    def _flap_detail(self, p: Problem) -> str:
        window = self.flap.window if self.flap is not None else 0.0
        return _("{n} changes within {window}", n=len(p.changes), window=format_duration(window))

    def _open(self, p: Problem, now: float, flapping: bool) -> None:
        rule = p.rule
        p.firing, p.opened, p.pending_since = True, now, None
        p.flapping, p.acked, p.notified = flapping, False, False
        p.suppressed = self.suppression(p.device)
        p.stored_at = now
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
            extra={
                "alert": p.key,
                "severity": rule.severity.value,
                self.subject: p.device,
                "suppressed": p.suppressed,
                "zone": self.place(p.device)[0],
            },
        )
        if p.suppressed:
            self.sink.update(p.key, {}, "suppressed", p.suppressed, now)
        elif flapping:
            self.sink.update(p.key, {}, "flapping", self._flap_detail(p), now)
        else:
            self._notify(p, "firing", now)

    def _resolve(self, p: Problem, now: float, why: str) -> None:
        p.firing, p.flapping, p.pending_since = False, False, None
        self.sink.update(p.key, resolved_fields(now), "resolved", why, now)
        log.info("alert resolved", extra={"alert": p.key, "why": why})
        if p.notified:
            self._notify(p, "resolved", now)
        p.notified = p.acked = False
        if not p.changes:
            self.problems.pop(p.key, None)

    def _notify(self, p: Problem, status: str, now: float) -> None:
        if not p.rule.notify or self.notifier is None:
            if status == "firing":
                p.notified = p.rule.notify
            return
        zone, site = self.place(p.device)
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
            zone=zone,
            site=site,
        )
        self.notifier.notify(notice)
        if status == "firing":
            p.notified = True
            self.sink.update(p.key, {"notified": True}, "notified", "", now)

    # ------------------------------------------------------------------ suppression, acks

    def recheck(self, subject: str, now: float) -> None:
        """Suppression follows the subject: one whose cause recovers first is told then."""
        reason: str | None = None
        for p in self.problems.values():
            if p.device != subject or not p.firing:
                continue
            if reason is None:
                reason = self.suppression(subject)
            if reason == p.suppressed:
                continue
            was, p.suppressed = p.suppressed, reason
            fields = {"suppressed": bool(reason), "suppressed_by": reason, "updated": now}
            self.sink.update(
                p.key,
                fields,
                "suppressed" if reason else "unsuppressed",
                reason or f"was {was}",
                now,
            )
            if not reason and not p.notified and not p.flapping:
                self._notify(p, "firing", now)

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
