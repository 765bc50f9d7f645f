"""The ranking (通报) offices publish: share of passed checks per unit, site and zone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from govnet.core.vocabulary import Status

if TYPE_CHECKING:  # the model imports this module (AuditReport.scores)
    from govnet.checks.model import Finding


@dataclass(frozen=True)
class Score:
    scope: str  # unit | site | zone
    name: str
    passed: int
    failed: int
    errors: int
    devices: int

    @property
    def checked(self) -> int:
        """Results that say something about compliance: could-not-check ones do not."""
        return self.passed + self.failed

    @property
    def share(self) -> float:
        """Passed / (passed + failed): a device that could not be checked is reported (its
        ``errors``), never counted as non-compliance (one hung switch put a whole
        town at the bottom of the 通报)."""
        return self.passed / self.checked if self.checked else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "name": self.name,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "devices": self.devices,
            "share": round(self.share, 4),
        }


def scoreboard(findings: Iterable[Finding]) -> dict[str, list[Score]]:
    """Per scope, worst first (lowest share, then most failures, then name)."""
    tallies: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    devices: dict[tuple[str, str], set[str]] = defaultdict(set)
    for f in findings:
        if f.status is Status.SKIP:
            continue
        idx = {Status.PASS: 0, Status.FAIL: 1, Status.ERROR: 2}[f.status]
        for scope, name in (("unit", f.unit), ("site", f.site), ("zone", f.zone)):
            if name:
                tallies[(scope, name)][idx] += 1
                devices[(scope, name)].add(f.device)
    out: dict[str, list[Score]] = {"unit": [], "site": [], "zone": []}
    for (scope, name), (p, fl, e) in tallies.items():
        out[scope].append(Score(scope, name, p, fl, e, len(devices[(scope, name)])))
    for scores in out.values():
        scores.sort(key=lambda s: (s.share, -s.failed, s.name))
    return out
