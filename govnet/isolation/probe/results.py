"""Probe verdicts: what was sent against what arrived, per canary and protocol.

Verdicts are derived when read, from ``probe_sent`` and ``probe_arrivals``, so an arrival
recorded after the prober stopped waiting (a slow resolver path) still turns the result into
a ``LEAK``. Per canary × protocol:

- ``LEAK``: a verified probe arrived (source, MAC and time as the canary saw them);
- ``isolated``: nothing arrived and a session of the canary covered the time the probe went
  out (started before, heartbeat after), or the prober had no route at all to the canary;
- ``error``: nothing arrived but no canary session covered the send, or the covering canary
  holds another secret (its key id differs: it would reject the probes), or the probe could
  not be sent: nothing can be concluded (a deaf canary must never read as "isolated");
- ``untested``: the forbidden zone declares no canary (one row per such zone, no protocol).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from govnet.errors import ExitCode
from govnet.i18n import NP_, tr
from govnet.store.db import Store
from govnet.store.probe import (
    Arrival,
    CanaryBeat,
    SentProbe,
    arrivals_for,
    canary_sessions,
    probe_runs,
    sent_probes,
)

NO_ROUTE = "no route"


class Verdict(StrEnum):
    ISOLATED = "isolated"
    LEAK = "LEAK"
    ERROR = "error"
    UNTESTED = "untested"

    def __str__(self) -> str:
        return self.value


# The Chinese label of each verdict word: the probe's (Verdict) and the overview's per angle
# (pass, fail, error, none, stale: govnet.probe.overview). Machine formats keep the words.
VERDICT_WORDS = {
    "isolated": NP_("probe verdict", "isolated"),
    "LEAK": NP_("probe verdict", "LEAK"),
    "error": NP_("probe verdict", "error"),
    "untested": NP_("probe verdict", "untested"),
    "pass": NP_("probe verdict", "pass"),
    "fail": NP_("probe verdict", "fail"),
    "none": NP_("probe verdict", "none"),
    "stale": NP_("probe verdict", "stale"),
}


def verdict_label(verdict: str, lang: str) -> str:
    """``pass (stale)`` → ``通过 过期`` in Chinese; unchanged in English."""
    if lang != "zh":
        return verdict
    words = (w.strip("()") for w in verdict.split())
    return " ".join(tr(lang, VERDICT_WORDS[w]) if w in VERDICT_WORDS else w for w in words)


def canary_address(address: str | None, port: int | None, protocol: str | None) -> str:
    """Where a probe went: ``ADDR`` for ICMP, ``ADDR:PORT`` otherwise ("" when unknown)."""
    if not address:
        return ""
    return address if protocol == "icmp" or port is None else f"{address}:{port}"


@dataclass(frozen=True)
class ProbeResult:
    from_zone: str
    to_zone: str
    canary: str | None
    port: int | None
    protocol: str | None
    verdict: Verdict
    sent_at: datetime | None = None
    note: str = ""
    source: str | None = None  # as the canary saw it
    source_mac: str | None = None
    received: datetime | None = None
    claimed_source: str | None = None  # what the prober put in its token
    host: str = ""
    sent: int = 0
    arrived: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "from_zone": self.from_zone,
            "to_zone": self.to_zone,
            "canary": self.canary,
            "port": self.port,
            "protocol": self.protocol,
            "verdict": self.verdict.value,
            "source": self.source,
            "source_mac": self.source_mac,
            "received": self.received.isoformat() if self.received else None,
            "claimed_source": self.claimed_source,
            "host": self.host,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "sent": self.sent,
            "arrived": self.arrived,
            "note": self.note,
        }


@dataclass
class ProbeRun:
    id: str
    from_zone: str
    host: str
    started: datetime
    finished: datetime | None
    results: list[ProbeResult] = field(default_factory=list)

    @property
    def leaks(self) -> list[ProbeResult]:
        return [r for r in self.results if r.verdict is Verdict.LEAK]

    @property
    def exit_code(self) -> int:
        """1 any leak; 3 some result could not be concluded; 0 isolated."""
        if self.leaks:
            return int(ExitCode.FINDINGS)
        if any(r.verdict is Verdict.ERROR for r in self.results):
            return int(ExitCode.UNREACHABLE)
        return int(ExitCode.OK)

    def counts(self) -> dict[str, int]:
        return {v.value: sum(r.verdict is v for r in self.results) for v in Verdict}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from_zone": self.from_zone,
            "host": self.host,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "counts": self.counts(),
            "exit_code": self.exit_code,
            "results": [r.to_dict() for r in self.results],
        }


def covering(sessions: Iterable[CanaryBeat], canary: str, when: datetime) -> list[CanaryBeat]:
    """Sessions of ``canary`` that ran from before ``when`` to a heartbeat after it."""
    return [s for s in sessions if s.address == canary and s.started <= when <= s.last_seen]


def _silence(sessions: Sequence[CanaryBeat], canary: str, went: Sequence[SentProbe]) -> str | None:
    """Why "nothing arrived" proves nothing, or None when it proves isolation: every probe was
    sent while a canary session with the prober's key listened."""
    for p in went:
        cover = covering(sessions, canary, p.sent_at)
        if not cover:
            return (
                f"canary {canary} was not listening when the probe was sent: start "
                "'govnet isolation canary' there, then probe again"
            )
        if p.key_id and not any(s.key_id == p.key_id for s in cover):
            return (
                f"canary {canary} uses a different probe secret (key {cover[0].key_id}, prober "
                f"key {p.key_id}): it would reject these probes; give both the same --secret"
            )
    return None


def verdicts(
    sent: Sequence[SentProbe],
    arrivals: Iterable[Arrival],
    sessions: Sequence[CanaryBeat] = (),
    untested: Sequence[tuple[str, str]] = (),
) -> list[ProbeResult]:
    """One result per (zone, canary, port, protocol) of ``sent``, plus ``untested`` rows
    (``(from_zone, to_zone)``), in the order the probes were sent."""
    by_token = {a.token_id: a for a in arrivals}
    groups: dict[tuple[str, str, str, int, str], list[SentProbe]] = {}
    for s in sent:
        groups.setdefault((s.from_zone, s.to_zone, s.canary, s.port, s.protocol), []).append(s)
    out: list[ProbeResult] = []
    for (from_zone, to_zone, canary, port, protocol), probes in groups.items():
        got = sorted(
            (by_token[p.token_id] for p in probes if p.token_id in by_token),
            key=lambda a: a.received,
        )
        first = probes[0]
        common: dict[str, Any] = {
            "from_zone": from_zone,
            "to_zone": to_zone,
            "canary": canary,
            "port": port,
            "protocol": protocol,
            "sent_at": first.sent_at,
            "claimed_source": first.src,
            "sent": sum(p.sent for p in probes),
            "arrived": len(got),
        }
        if got:
            a = got[0]
            out.append(
                ProbeResult(
                    **common,
                    verdict=Verdict.LEAK,
                    source=a.src,
                    source_mac=a.src_mac,
                    received=a.received,
                    host=a.host,
                    note=f"{len(got)} of {len(probes)} probe(s) arrived",
                )
            )
            continue
        went = [p for p in probes if p.sent]
        if not went:
            routeless = all(p.note.startswith(NO_ROUTE) for p in probes)
            verdict = Verdict.ISOLATED if routeless else Verdict.ERROR
            out.append(ProbeResult(**common, verdict=verdict, note=first.note))
        elif (why := _silence(sessions, canary, went)) is None:
            out.append(
                ProbeResult(
                    **common,
                    verdict=Verdict.ISOLATED,
                    note="nothing arrived; the canary was listening",
                )
            )
        else:
            out.append(ProbeResult(**common, verdict=Verdict.ERROR, note=why))
    for from_zone, to_zone in untested:
        out.append(
            ProbeResult(
                from_zone,
                to_zone,
                None,
                None,
                None,
                Verdict.UNTESTED,
                note=f"zone {to_zone} declares no canary",
            )
        )
    return out


def load_run(store: Store, row: dict[str, Any]) -> ProbeRun:
    """A stored probe run (a ``runs`` row of kind ``probe``) with verdicts derived now."""
    meta = row.get("meta") or {}
    sent = sent_probes(store, row["id"])
    arrivals = arrivals_for(store, sorted({s.probe_id for s in sent}))
    untested = [(meta.get("from_zone", ""), z) for z in meta.get("untested", [])]
    sessions = canary_sessions(store, sorted({s.canary for s in sent}))
    return ProbeRun(
        id=row["id"],
        from_zone=str(meta.get("from_zone", "")),
        host=str(meta.get("host", "")),
        started=row["started"],
        finished=row["finished"],
        results=verdicts(sent, arrivals, sessions, untested),
    )


def newest_runs(store: Store, limit: int = 500) -> dict[str, ProbeRun]:
    """The newest probe run from each zone."""
    seen: dict[str, dict[str, Any]] = {}
    for row in probe_runs(store, limit):
        zone = (row.get("meta") or {}).get("from_zone")
        if isinstance(zone, str) and zone not in seen:
            seen[zone] = row
    return {zone: load_run(store, row) for zone, row in seen.items()}


def find_run(store: Store, run_id: str) -> ProbeRun | None:
    return next(
        (load_run(store, r) for r in probe_runs(store) if str(r["id"]).startswith(run_id)), None
    )
