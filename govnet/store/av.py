"""Antivirus snapshots in the store: each import with its source, file, date and records.

A snapshot is written in one transaction (all its records or nothing). Importing the same
file for the same console and date again is recognised (same SHA-256) and not stored twice.
The audit and ``govnet av status`` use the newest snapshot of each console.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    func,
    select,
)

from govnet.durations import utcnow
from govnet.store.avrecords import AvRecord, Snapshot
from govnet.store.db import Store, metadata

av_snapshots = Table(
    "av_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("console", String(128), nullable=False),
    Column("file", String(512), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("taken", DateTime(timezone=True), nullable=False),
    Column("imported", DateTime(timezone=True), nullable=False),
    Column("records", Integer, nullable=False),
    Index("ix_av_snapshots_console_taken", "console", "taken"),
)

av_records = Table(
    "av_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "snapshot_id", Integer, ForeignKey("av_snapshots.id", ondelete="CASCADE"), nullable=False
    ),
    Column("source", String(600), nullable=False),
    Column("host", String(255)),
    Column("ip", String(64)),
    Column("mac", String(17)),
    Column("zone", String(64)),
    Column("unit", String(255)),
    Column("vendor", String(64)),
    Column("product", String(255)),
    Column("edition", String(16)),
    Column("client_version", String(128)),
    Column("sig_version", String(128)),
    Column("sig_date", Date),
    Column("realtime_on", Boolean),
    Column("running", Boolean),
    Column("online", Boolean),
    Column("last_seen", DateTime(timezone=True)),
    Column("detail", JSON, nullable=False, default=dict),
    Index("ix_av_records_snapshot", "snapshot_id"),
)

_RECORD_COLUMNS = (
    "source",
    "host",
    "ip",
    "mac",
    "zone",
    "unit",
    "vendor",
    "product",
    "edition",
    "client_version",
    "sig_version",
    "sig_date",
    "realtime_on",
    "running",
    "online",
    "last_seen",
)


def _utc(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything is stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _row(record: AvRecord) -> dict[str, Any]:
    row = {c: getattr(record, c) for c in _RECORD_COLUMNS}
    if record.last_seen is not None:
        row["last_seen"] = record.last_seen.astimezone(UTC)
    row["detail"] = dict(record.detail)
    return row


def save_snapshot(store: Store, snap: Snapshot) -> tuple[int, bool]:
    """Store ``snap``; returns (id, True) or, if this very import exists, (its id, False)."""
    taken = snap.taken.astimezone(UTC)
    with store.begin() as conn:
        existing = conn.execute(
            select(av_snapshots.c.id).where(
                av_snapshots.c.console == snap.console,
                av_snapshots.c.sha256 == snap.sha256,
                av_snapshots.c.taken == taken,
            )
        ).scalar()
        if existing is not None:
            return int(existing), False
        key = conn.execute(
            av_snapshots.insert().values(
                source=snap.source,
                console=snap.console,
                file=snap.file,
                sha256=snap.sha256,
                taken=taken,
                imported=snap.imported or utcnow(),
                records=len(snap.records),
            )
        ).inserted_primary_key
        assert key is not None
        snapshot_id = int(key[0])
        if snap.records:
            conn.execute(
                av_records.insert(),
                [{**_row(r), "snapshot_id": snapshot_id} for r in snap.records],
            )
    return snapshot_id, True


def _snapshot(m: Any) -> Snapshot:
    return Snapshot(
        source=m["source"],
        console=m["console"],
        file=m["file"],
        taken=_utc(m["taken"]),
        id=int(m["id"]),
        imported=_utc(m["imported"]),
        sha256=m["sha256"],
        stored=int(m["records"]),
    )


def _record(m: Any, as_of: datetime) -> AvRecord:
    values = {c: m[c] for c in _RECORD_COLUMNS}
    if values["last_seen"] is not None:
        values["last_seen"] = _utc(values["last_seen"])
    if isinstance(values["sig_date"], datetime):
        values["sig_date"] = values["sig_date"].date()
    elif values["sig_date"] is not None and not isinstance(values["sig_date"], date):
        values["sig_date"] = date.fromisoformat(str(values["sig_date"]))
    return AvRecord(**values, as_of=as_of, detail=dict(m["detail"] or {}))


def list_snapshots(store: Store) -> list[Snapshot]:
    """Every snapshot (without records), newest first."""
    with store.begin() as conn:
        rows = conn.execute(
            select(av_snapshots).order_by(av_snapshots.c.taken.desc(), av_snapshots.c.id.desc())
        ).all()
    return [_snapshot(r._mapping) for r in rows]


def load_records(store: Store, snap: Snapshot) -> list[AvRecord]:
    with store.begin() as conn:
        rows = conn.execute(
            select(av_records).where(av_records.c.snapshot_id == snap.id).order_by(av_records.c.id)
        ).all()
    return [_record(r._mapping, snap.taken) for r in rows]


def newest_snapshots(store: Store, console: str | None = None) -> list[Snapshot]:
    """The newest snapshot of each console (or of ``console``), with its records."""
    with store.begin() as conn:
        newest = (
            select(av_snapshots.c.console, func.max(av_snapshots.c.taken).label("taken"))
            .group_by(av_snapshots.c.console)
            .subquery()
        )
        query = select(av_snapshots).join(
            newest,
            (newest.c.console == av_snapshots.c.console) & (newest.c.taken == av_snapshots.c.taken),
        )
        if console is not None:
            query = query.where(av_snapshots.c.console == console)
        rows = conn.execute(query.order_by(av_snapshots.c.console, av_snapshots.c.id.desc())).all()
    out: list[Snapshot] = []
    seen: set[str] = set()
    for r in rows:  # two imports with the same date: the later import wins
        snap = _snapshot(r._mapping)
        if snap.console not in seen:
            seen.add(snap.console)
            snap.records = load_records(store, snap)
            out.append(snap)
    return out
