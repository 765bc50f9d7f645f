"""Tables of the active isolation probes (``govnet isolation probe|canary``).

- ``probe_sent``: every probe a prober sent (or could not send), one row per canary ×
  protocol, tied to its run in ``runs`` (kind ``probe``);
- ``probe_arrivals``: every verified probe a canary received — the evidence of a leak;
- ``probe_nonces``: the canaries' replay cache (token ids until their tokens expire);
- ``probe_canaries``: one row per canary session (address, process, start, last heartbeat):
  a probe counts as tested only if a session of its canary covers the time it was sent.

An arrival and its token id are written in one transaction, so a replayed token can never be
counted twice, even with several canary processes on one store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.store.db import Store, metadata, runs

probe_sent = Table(
    "probe_sent",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("probe_id", String(16), nullable=False),
    Column("token_id", String(40), nullable=False),
    Column("from_zone", String(64), nullable=False),
    Column("to_zone", String(64), nullable=False),
    Column("canary", String(64), nullable=False),
    Column("port", Integer, nullable=False),
    Column("protocol", String(8), nullable=False),
    Column("sent", Boolean, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("src", String(64)),
    Column("src_mac", String(17)),
    Column("key_id", String(16)),  # which secret signed the tokens (TokenCodec.key_id)
    Column("note", String(400), nullable=False, default=""),
    Index("ix_probe_sent_run", "run_id"),
)

probe_arrivals = Table(
    "probe_arrivals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_id", String(40), nullable=False, unique=True),
    Column("probe_id", String(16), nullable=False),
    Column("protocol", String(8), nullable=False),
    Column("canary", String(64), nullable=False),
    Column("dport", Integer),
    Column("src", String(64), nullable=False),
    Column("src_mac", String(17)),
    Column("claimed_src", String(64)),
    Column("claimed_mac", String(17)),
    Column("host", String(64), nullable=False, default=""),
    Column("issued", DateTime(timezone=True), nullable=False),
    Column("received", DateTime(timezone=True), nullable=False),
    Index("ix_probe_arrivals_probe", "probe_id"),
    Index("ix_probe_arrivals_received", "received"),
)

probe_nonces = Table(
    "probe_nonces",
    metadata,
    Column("token_id", String(40), primary_key=True),
    Column("expires", DateTime(timezone=True), nullable=False),
    Index("ix_probe_nonces_expires", "expires"),
)

probe_canaries = Table(
    "probe_canaries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(64), nullable=False),
    Column("zone", String(64), nullable=False),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("key_id", String(16), nullable=False),  # which secret it verifies with
    Column("started", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("counts", JSON, nullable=False, default=dict),
    UniqueConstraint("address", "started", "pid", name="uq_probe_canaries_session"),
    Index("ix_probe_canaries_address", "address", "last_seen"),
)


@dataclass(frozen=True)
class Arrival:
    """One verified probe received by a canary."""

    token_id: str
    probe_id: str
    protocol: str
    canary: str
    src: str
    issued: datetime
    received: datetime
    dport: int | None = None
    src_mac: str | None = None
    claimed_src: str | None = None
    claimed_mac: str | None = None
    host: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["issued"], d["received"] = self.issued.isoformat(), self.received.isoformat()
        return d


@dataclass(frozen=True)
class SentProbe:
    """One probe the prober sent (``sent``) or could not send (``note`` says why)."""

    probe_id: str
    token_id: str
    from_zone: str
    to_zone: str
    canary: str
    port: int
    protocol: str
    sent: bool
    sent_at: datetime
    src: str | None = None
    src_mac: str | None = None
    key_id: str | None = None
    note: str = ""


@dataclass(frozen=True)
class CanaryBeat:
    address: str
    zone: str
    host: str
    pid: int
    key_id: str
    started: datetime
    last_seen: datetime
    counts: dict[str, int] = field(default_factory=dict)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # SQLite drops it


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def _first_claim(store: Store, token_id: str, expires: datetime, arrival: Arrival | None) -> bool:
    try:
        with store.engine.begin() as conn:
            conn.execute(probe_nonces.insert().values(token_id=token_id, expires=expires))
            if arrival is not None:
                conn.execute(probe_arrivals.insert().values(**asdict(arrival)))
    except IntegrityError:
        return False
    except SQLAlchemyError as exc:
        raise GovnetError(
            _("store error: {name}: {exc}", name=exc.__class__.__name__, exc=exc)
        ) from exc
    return True


def record_arrival(store: Store, arrival: Arrival, expires: datetime) -> bool:
    """Remember the token id and store the arrival, in one transaction.

    False (and nothing written) when the token id was seen before: a replay."""
    return _first_claim(store, arrival.token_id, expires, arrival)


class StoreReplayCache:
    """The canary's replay cache: ``probe_nonces``, shared by every canary on the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def claim(self, token: Any, expires: datetime, evidence: Any = None) -> bool:
        arrival = evidence if isinstance(evidence, Arrival) else None
        return _first_claim(self.store, str(token.id), expires, arrival)


def prune_nonces(store: Store, now: datetime) -> int:
    """Forget token ids whose tokens are expired anyway (their age already rejects them)."""
    with store.begin() as conn:
        result = conn.execute(delete(probe_nonces).where(probe_nonces.c.expires < now))
        return int(result.rowcount or 0)


def heartbeat(store: Store, beat: CanaryBeat) -> None:
    """Create or refresh the canary session's row (address, started, pid)."""
    values = asdict(beat)
    key = (
        (probe_canaries.c.address == beat.address)
        & (probe_canaries.c.started == beat.started)
        & (probe_canaries.c.pid == beat.pid)
    )
    with store.begin() as conn:
        updated = conn.execute(
            probe_canaries.update().where(key).values(last_seen=beat.last_seen, counts=beat.counts)
        ).rowcount
        if not updated:
            conn.execute(probe_canaries.insert().values(**values))


def canary_sessions(store: Store, addresses: Sequence[str] | None = None) -> list[CanaryBeat]:
    """Canary sessions (newest heartbeat first), optionally for some addresses only."""
    query = select(probe_canaries).order_by(probe_canaries.c.last_seen.desc())
    if addresses is not None:
        query = query.where(probe_canaries.c.address.in_(list(addresses)))
    with store.begin() as conn:
        rows = conn.execute(query).all()
    out = []
    for r in rows:
        m = {k: v for k, v in r._mapping.items() if k != "id"}
        m["started"], m["last_seen"] = _utc(m["started"]), _utc(m["last_seen"])
        out.append(CanaryBeat(**m))
    return out


def save_probe_run(
    store: Store,
    run_id: str,
    started: datetime,
    finished: datetime,
    meta: dict[str, Any],
    sent: Sequence[SentProbe],
    exit_code: int,
) -> None:
    """The run and every probe of it, in one transaction."""
    with store.begin() as conn:
        conn.execute(
            runs.insert().values(
                id=run_id,
                kind="probe",
                started=started,
                finished=finished,
                exit_code=exit_code,
                meta=meta,
            )
        )
        if sent:
            conn.execute(probe_sent.insert(), [{**asdict(s), "run_id": run_id} for s in sent])


def sent_probes(store: Store, run_id: str) -> list[SentProbe]:
    with store.begin() as conn:
        rows = conn.execute(
            select(probe_sent).where(probe_sent.c.run_id == run_id).order_by(probe_sent.c.id)
        ).all()
    out = []
    for r in rows:
        m = {k: v for k, v in r._mapping.items() if k not in ("id", "run_id")}
        m["sent_at"] = _utc(m["sent_at"])
        out.append(SentProbe(**m))
    return out


def _arrival(row: Any) -> Arrival:
    m = {k: v for k, v in row._mapping.items() if k != "id"}
    m["issued"], m["received"] = _utc(m["issued"]), _utc(m["received"])
    return Arrival(**m)


def arrivals_for(store: Store, probe_ids: Sequence[str]) -> list[Arrival]:
    """Arrivals of the given probe runs, oldest first."""
    if not probe_ids:
        return []
    with store.begin() as conn:
        rows = conn.execute(
            select(probe_arrivals)
            .where(probe_arrivals.c.probe_id.in_(list(probe_ids)))
            .order_by(probe_arrivals.c.received, probe_arrivals.c.id)
        ).all()
    return [_arrival(r) for r in rows]


def arrivals_since(store: Store, since: datetime, limit: int = 1000) -> list[Arrival]:
    """Recent arrivals, newest first (``govnet isolation evidence``)."""
    with store.begin() as conn:
        rows = conn.execute(
            select(probe_arrivals)
            .where(probe_arrivals.c.received >= since)
            .order_by(probe_arrivals.c.received.desc(), probe_arrivals.c.id.desc())
            .limit(limit)
        ).all()
    return [_arrival(r) for r in rows]


def probe_runs(store: Store, limit: int = 500) -> list[dict[str, Any]]:
    """Probe runs, newest first (``runs`` rows with their meta)."""
    with store.begin() as conn:
        rows = conn.execute(
            select(runs).where(runs.c.kind == "probe").order_by(runs.c.started.desc()).limit(limit)
        ).all()
    out = []
    for r in rows:
        m = dict(r._mapping)
        m["started"], m["finished"] = _aware(m["started"]), _aware(m["finished"])
        out.append(m)
    return out
