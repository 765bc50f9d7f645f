"""``govnet isolation report``: per pair of isolated zones, each angle's verdict and its age.

Angles and their sources:

- ``static`` — control ``isolation.no-cross-zone-path``, and ``l2`` — controls
  ``isolation.no-dual-homed-host`` and ``isolation.no-unknown-device``: the newest audit run
  in the store that has (non-skip) findings for each control;
- ``probe`` — the newest probe run from each zone of the pair (direction by direction, exact
  per pair); when neither zone was ever probed, the newest audit findings of
  ``isolation.no-outbound-leak``.

A finding belongs to a zone, not to a pair: an audit finding on a device of zone Z counts for
every pair that includes Z (a failure is never hidden; the detail names the devices). The
verdict per angle is the worst seen: ``fail`` > ``error`` > ``pass`` > ``none`` (no data).
An angle's age is that of its oldest source; older than ``max_age`` is flagged ``stale``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from govnet.durations import format_age
from govnet.errors import ExitCode
from govnet.inventory.model import Inventory
from govnet.isolation.probe.results import ProbeResult, ProbeRun, Verdict, newest_runs
from govnet.store.db import Store

ANGLES: dict[str, tuple[str, ...]] = {
    "static": ("isolation.no-cross-zone-path",),
    "l2": ("isolation.no-dual-homed-host", "isolation.no-unknown-device"),
    "probe": ("isolation.no-outbound-leak",),
}
_RANK = {"fail": 3, "error": 2, "pass": 1, "none": 0}
MAX_NAMES = 5


@dataclass(frozen=True)
class AngleVerdict:
    zone_a: str
    zone_b: str
    angle: str
    verdict: str  # pass | fail | error | none
    run: str | None = None
    when: datetime | None = None
    detail: str = ""
    stale: bool = False
    age: timedelta | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "zones": [self.zone_a, self.zone_b],
            "angle": self.angle,
            "verdict": self.verdict,
            "run": self.run,
            "when": self.when.isoformat() if self.when else None,
            "age_seconds": int(self.age.total_seconds()) if self.age is not None else None,
            "stale": self.stale,
            "detail": self.detail,
        }

    def row(self) -> dict[str, Any]:
        return {
            "pair": f"{self.zone_a} ↔ {self.zone_b}",
            "angle": self.angle,
            "verdict": self.verdict + (" (stale)" if self.stale else ""),
            "age": format_age(self.age) if self.age is not None else "",
            "run": self.run or "",
            "detail": self.detail,
        }


def zone_pairs(inv: Inventory) -> list[tuple[str, str]]:
    """Every unordered pair of zones that must be isolated (each once, names sorted)."""
    pairs = {
        tuple(sorted((z.name, other)))
        for z in inv.zones.values()
        for other in z.isolated_from
        if other in inv.zones
    }
    return sorted((a, b) for a, b in pairs)


@dataclass(frozen=True)
class _Source:
    run: str
    when: datetime
    rows: list[dict[str, Any]]


def newest_audit_findings(
    store: Store, controls: Iterable[str], limit: int = 50
) -> dict[str, _Source]:
    """Per control: the newest audit run with non-skip findings for it, and those findings."""
    wanted = set(controls)
    found: dict[str, _Source] = {}
    for run in store.runs("audit", limit):
        if not wanted - set(found):
            break
        rows = store.findings(run["id"])
        for control in sorted(wanted - set(found)):
            mine = [r for r in rows if r["control"] == control and r["status"] != "skip"]
            if mine:
                found[control] = _Source(str(run["id"]), run["started"], mine)
    return found


def _worst(verdicts: Iterable[str]) -> str:
    return max(verdicts, key=lambda v: _RANK[v], default="none")


def _names(rows: Sequence[dict[str, Any]]) -> str:
    names = sorted({str(r["device"]) for r in rows})
    more = f" +{len(names) - MAX_NAMES}" if len(names) > MAX_NAMES else ""
    return ", ".join(names[:MAX_NAMES]) + more


def _from_findings(a: str, b: str, angle: str, sources: dict[str, _Source]) -> AngleVerdict:
    used = [sources[c] for c in ANGLES[angle] if c in sources]
    rows = [r for s in used for r in s.rows if r["zone"] in (a, b)]
    if not rows:
        return AngleVerdict(a, b, angle, "none", detail="no audit finding for these zones")
    verdict = _worst(r["status"] for r in rows)
    oldest = min(used, key=lambda s: s.when)
    bad = [r for r in rows if r["status"] == verdict]
    detail = {
        "fail": f"{len(bad)} failing: {_names(bad)}",
        "error": f"{len(bad)} could not be checked: {_names(bad)}",
    }.get(verdict, f"{len(rows)} finding(s) pass")
    return AngleVerdict(a, b, angle, verdict, oldest.run, oldest.when, detail)


def _direction(run: ProbeRun, to_zone: str) -> tuple[str, str] | None:
    results: list[ProbeResult] = [r for r in run.results if r.to_zone == to_zone]
    if not results:
        return None
    leaks = [r for r in results if r.verdict is Verdict.LEAK]
    arrow = f"{run.from_zone}→{to_zone}"
    if leaks:
        protocols = ",".join(sorted({str(r.protocol) for r in leaks}))
        sources = ",".join(sorted({str(r.source) for r in leaks}))
        return "fail", f"{arrow}: LEAK {protocols} from {sources}"
    errors = [r for r in results if r.verdict is Verdict.ERROR]
    if errors:
        return "error", f"{arrow}: inconclusive: {errors[0].note}"
    if any(r.verdict is Verdict.ISOLATED for r in results):
        protocols = ",".join(sorted({str(r.protocol) for r in results if r.protocol}))
        return "pass", f"{arrow}: isolated ({protocols})"
    return "none", f"{arrow}: untested (no canary in {to_zone})"


def _probe(a: str, b: str, runs: dict[str, ProbeRun], sources: dict[str, _Source]) -> AngleVerdict:
    parts: list[tuple[str, str, ProbeRun]] = []
    for src, dst in ((a, b), (b, a)):
        run = runs.get(src)
        got = _direction(run, dst) if run is not None else None
        if got is not None and run is not None:
            parts.append((*got, run))
    if not parts:
        return _from_findings(a, b, "probe", sources)
    informative = [p for p in parts if p[0] != "none"] or parts
    verdict = _worst(p[0] for p in informative)
    oldest = min((p[2] for p in informative), key=lambda r: r.started)
    detail = "; ".join(p[1] for p in parts)
    return AngleVerdict(a, b, "probe", verdict, oldest.id, oldest.started, detail)


def overview(inv: Inventory, store: Store, now: datetime, max_age: timedelta) -> list[AngleVerdict]:
    """Every pair × angle, in pair order then static, l2, probe."""
    sources = newest_audit_findings(store, [c for cs in ANGLES.values() for c in cs])
    runs = newest_runs(store)
    out: list[AngleVerdict] = []
    for a, b in zone_pairs(inv):
        for angle in ("static", "l2"):
            out.append(_from_findings(a, b, angle, sources))
        out.append(_probe(a, b, runs, sources))
    aged = []
    for v in out:
        age = now - v.when if v.when else None
        stale = age is not None and age > max_age
        aged.append(
            AngleVerdict(
                v.zone_a, v.zone_b, v.angle, v.verdict, v.run, v.when, v.detail, stale, age
            )
        )
    return aged


def exit_code(verdicts: Iterable[AngleVerdict]) -> int:
    """1 when any angle fails for any pair, else 0."""
    failing = any(v.verdict == "fail" for v in verdicts)
    return int(ExitCode.FINDINGS if failing else ExitCode.OK)
