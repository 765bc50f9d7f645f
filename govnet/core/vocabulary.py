"""The shared vocabulary of results: how bad (:class:`Severity`), what came out
(:class:`Status`), a text in two languages (:class:`Text`) and what a check saw
(:class:`Evidence`).

Audits, monitoring alerts, service checks, antivirus and isolation verdicts all speak it, so it
lives below all of them. ``to_dict()`` gives the stable JSON shape; enum values are
lower-case strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from govnet.i18n import NP_, tr


class Status(StrEnum):
    """A rule's outcome on one device."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"  # could not check: the device or the output could not be read
    SKIP = "skip"  # the rule does not apply to this device

    def __str__(self) -> str:
        return self.value


_SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}


class Severity(StrEnum):
    """How bad a failure is; ordered ``low < medium < high < critical``."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self.value]

    def __str__(self) -> str:
        return self.value

    # str's own comparisons would order alphabetically; order by rank instead.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __hash__(self) -> int:
        return hash(self.value)

    def label(self, lang: str) -> str:
        """The severity for people (``严重``/``Critical``): :data:`SEVERITY_LABELS`."""
        return tr(lang, SEVERITY_LABELS[self])


@dataclass(frozen=True, slots=True)
class Text:
    """A short text in English and Chinese (rule titles, remediation)."""

    en: str = ""
    zh: str = ""

    def get(self, lang: str) -> str:
        first, second = (self.zh, self.en) if lang == "zh" else (self.en, self.zh)
        return first or second

    def to_dict(self) -> dict[str, str]:
        return {"en": self.en, "zh": self.zh}


# One label per severity, used by every renderer: audit tables and reports, the 通报, alert
# lists and notifications, the dashboard. Alerts and findings share the Severity enum, so
# they share the labels too.
# The msgids carry the context "severity"; the catalogue says them 严重/高/中/低.
SEVERITY_LABELS: dict[Severity, str] = {
    Severity.CRITICAL: NP_("severity", "Critical"),
    Severity.HIGH: NP_("severity", "High"),
    Severity.MEDIUM: NP_("severity", "Medium"),
    Severity.LOW: NP_("severity", "Low"),
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a check saw: a configuration line (with its 1-based number) or a note."""

    text: str
    line: int | None = None
    note: str = ""

    def __str__(self) -> str:
        where = f"{self.line}: " if self.line is not None else ""
        note = f"  ({self.note})" if self.note else ""
        return f"{where}{self.text}{note}"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "text": self.text, "note": self.note}
