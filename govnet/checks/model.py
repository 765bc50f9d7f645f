"""The result model every reporter renders: findings, runs, audit reports, the exit code.

A :class:`Finding` is one rule's result on one device. A :class:`Run` is one audit with its
findings. ``to_dict()`` on each gives the stable JSON shape (ASCII keys, ISO 8601 times,
enum values as lower-case strings).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from govnet.checks.scoreboard import Score, scoreboard
from govnet.core.vocabulary import Evidence, Severity, Status, Text
from govnet.errors import ExitCode
from govnet.inventory.labels import Labels


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's result on one device."""

    device: str
    zone: str
    site: str
    unit: str | None
    rule: str
    control: str
    severity: Severity
    status: Status
    evidence: tuple[Evidence, ...] = ()
    message: str = ""
    clause: str = ""  # 等保 test unit of the control, e.g. L3-CES1-03
    platform: str = ""
    title: Text = field(default_factory=Text)
    remediation: Text = field(default_factory=Text)
    out_of_scope: str = ""  # a skip: platform | role | zone | tags (applies_to excluded it)
    elapsed: float = 0.0  # seconds the rule took on this device (facts already collected)

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "platform": self.platform,
            "zone": self.zone,
            "site": self.site,
            "unit": self.unit,
            "rule": self.rule,
            "control": self.control,
            "clause": self.clause,
            "severity": self.severity.value,
            "status": self.status.value,
            "title": self.title.to_dict(),
            "message": self.message,
            "evidence": [e.to_dict() for e in self.evidence],
            "remediation": self.remediation.to_dict(),
        }


class _NewFinding:
    """``_NewFinding(device, zone, …, elapsed)`` is ``Finding(device, zone, …, elapsed)``, equal
    to it, at a quarter of the cost: an offline audit makes tens of thousands of findings.

    ``Finding`` is frozen, so its constructor stores each of its 16 fields through
    ``object.__setattr__``. This class has the same slots (CPython lays slots out in sorted
    order, so the order written does not matter) and no ``__setattr__`` of its own, so CPython
    stores them directly; the last line then makes the object a ``Finding`` (CPython allows
    the change of class because the layouts are identical, and raises ``TypeError`` if they
    ever differ). Only :data:`new_finding` uses it.
    """

    __slots__ = (
        "clause",
        "control",
        "device",
        "elapsed",
        "evidence",
        "message",
        "out_of_scope",
        "platform",
        "remediation",
        "rule",
        "severity",
        "site",
        "status",
        "title",
        "unit",
        "zone",
    )

    def __init__(
        self,
        device: str,
        zone: str,
        site: str,
        unit: str | None,
        rule: str,
        control: str,
        severity: Severity,
        status: Status,
        evidence: tuple[Evidence, ...],
        message: str,
        clause: str,
        platform: str,
        title: Text,
        remediation: Text,
        out_of_scope: str,
        elapsed: float,
    ) -> None:
        self.device = device
        self.zone = zone
        self.site = site
        self.unit = unit
        self.rule = rule
        self.control = control
        self.severity = severity
        self.status = status
        self.evidence = evidence
        self.message = message
        self.clause = clause
        self.platform = platform
        self.title = title
        self.remediation = remediation
        self.out_of_scope = out_of_scope
        self.elapsed = elapsed
        self.__class__ = Finding  # type: ignore[assignment]


_FindingFactory = Callable[
    [
        str,
        str,
        str,
        str | None,
        str,
        str,
        Severity,
        Status,
        tuple[Evidence, ...],
        str,
        str,
        str,
        Text,
        Text,
        str,
        float,
    ],
    Finding,
]
#: ``Finding(device, zone, …, elapsed)`` (positional, every field), equal to it, faster.
new_finding = cast(_FindingFactory, _NewFinding)


def count_statuses(findings: Iterable[Finding]) -> dict[str, int]:
    """``{"pass": n, "fail": n, "error": n, "skip": n}`` (every key present)."""
    counts = Counter(f.status for f in findings)
    return {s.value: counts.get(s, 0) for s in Status}


@dataclass
class Run:
    """One audit: when it ran, which playbooks, and every finding."""

    id: str
    started: datetime
    finished: datetime | None = None
    playbooks: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return count_statuses(self.findings)

    def failed_by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.findings if f.status is Status.FAIL)
        return {s.value: counts.get(s, 0) for s in Severity}

    def unreadable_devices(self) -> list[str]:
        """Devices with at least one ``error`` finding (not reached, not read, not checked)."""
        return sorted({f.device for f in self.findings if f.status is Status.ERROR})

    def exit_code(self, fail_on: Severity) -> int:
        return exit_code(self.findings, fail_on)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "playbooks": list(self.playbooks),
            "counts": self.counts(),
            "failed_by_severity": self.failed_by_severity(),
            "findings": [f.to_dict() for f in self.findings],
        }


def exit_code(findings: Iterable[Finding], fail_on: Severity = Severity.LOW) -> int:
    """The process exit code for an audit (README "Exit codes").

    3 if some device could not be read (an ``error`` finding), whether or not findings reach
    ``fail_on``: an incomplete audit must never look like a complete one (a cron job that
    handles 1 by mailing the findings would not learn that part of the network went
    unchecked). Otherwise 1 if any ``fail`` is at or above ``fail_on``; otherwise 0. Both
    facts are in the JSON report: ``run.failed_by_severity`` and ``run.unreadable_devices``.
    """
    failed = errors = False
    for f in findings:
        if f.status is Status.FAIL and f.severity >= fail_on:
            failed = True
        elif f.status is Status.ERROR:
            errors = True
    if errors:
        return int(ExitCode.UNREACHABLE)
    return int(ExitCode.FINDINGS if failed else ExitCode.OK)


SCHEMA_VERSION = 1  # of the audit report's JSON (data/audit-report.schema.json)


@dataclass
class AuditReport:
    run: Run
    fail_on: Severity = Severity.HIGH
    previous_run: str | None = None
    new_failures: set[tuple[str, str]] = field(default_factory=set)  # (device, rule)
    exit_code: int = 0
    labels: Labels = field(default_factory=Labels)  # zh/en names of zones, sites, units

    @property
    def scores(self) -> dict[str, list[Score]]:
        return scoreboard(self.run.findings)

    def is_new(self, f: Finding) -> bool:
        return f.status is Status.FAIL and (f.device, f.rule) in self.new_failures

    def to_dict(self) -> dict[str, Any]:
        run = self.run
        return {
            "schema": SCHEMA_VERSION,
            "run": {
                "id": run.id,
                "started": run.started.isoformat(),
                "finished": run.finished.isoformat() if run.finished else None,
                "playbooks": list(run.playbooks),
                "counts": run.counts(),
                "failed_by_severity": run.failed_by_severity(),
                "unreadable_devices": run.unreadable_devices(),
                "fail_on": self.fail_on.value,
                "exit_code": self.exit_code,
                "previous_run": self.previous_run,
                "new_failures": len(self.new_failures),
            },
            "findings": [{**f.to_dict(), "new": self.is_new(f)} for f in run.findings],
            "scoreboard": {k: [s.to_dict() for s in v] for k, v in self.scores.items()},
        }
