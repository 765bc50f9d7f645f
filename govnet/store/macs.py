"""MAC sightings: which MACs each switch port has shown, and since when govnet has watched.

``mac_sightings`` keeps one row per (device, port, MAC, VLAN): ``first_seen`` when it was first
in a MAC table, ``last_seen`` the latest collection that showed it. A collection updates the
rows it saw (never adds one per collection), so the table stays as large as the set of
distinct sightings; rows not seen for the retention are pruned. VLAN 0 means "not known"
(a NULL would defeat the unique key).

``mac_watches`` keeps one row per device and collection (when, how, how many rows), pruned
with the same retention: it tells for how long govnet has watched a device, so a port with
no sighting can be told from a port on a switch govnet has not looked at
(:func:`watched_since`). Written by ``govnet backup macs`` and by audits that read the
tables (the ``isolation-l2`` check); read by ``provision … shutdown-unused-ports``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from govnet.store.db import Store, _utc, metadata

DEFAULT_RETENTION = timedelta(days=180)

mac_sightings = Table(
    "mac_sightings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device", String(200), nullable=False),
    Column("port", String(128), nullable=False),
    Column("mac", String(17), nullable=False),
    Column("vlan", Integer, nullable=False, default=0),  # 0: not known
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    UniqueConstraint("device", "port", "mac", "vlan", name="uq_mac_sightings"),
    Index("ix_mac_sightings_device_port", "device", "port", "last_seen"),
    Index("ix_mac_sightings_last_seen", "last_seen"),
)

mac_watches = Table(
    "mac_watches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("via", String(16), nullable=False),  # ssh | snmp
    Column("entries", Integer, nullable=False, default=0),
    Index("ix_mac_watches_device_at", "device", "at"),
)


@dataclass(frozen=True)
class Sighting:
    """One MAC on one port (MAC-table rows only: no ARP, never the switch's own MACs)."""

    port: str
    mac: str
    vlan: int | None = None


def _upsert(conn: Connection) -> Any:
    name = conn.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(mac_sightings)
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(mac_sightings)
    return None


def record(store: Store, device: str, sightings: Iterable[Sighting], at: datetime, via: str) -> int:
    """Record one successful collection of ``device``'s MAC table taken at ``at``: every
    sighting's ``last_seen`` moves to ``at`` (never back), new ones are added. Returns the
    number of distinct sightings recorded. One transaction."""
    rows: dict[tuple[str, str, int], dict[str, Any]] = {}
    for s in sightings:
        key = (s.port, s.mac, s.vlan or 0)
        rows[key] = {
            "device": device,
            "port": s.port,
            "mac": s.mac,
            "vlan": s.vlan or 0,
            "first_seen": at,
            "last_seen": at,
        }
    with store.begin() as conn:
        if rows:
            stmt = _upsert(conn)
            if stmt is not None:
                stmt = stmt.on_conflict_do_update(
                    index_elements=["device", "port", "mac", "vlan"],
                    set_={"last_seen": stmt.excluded.last_seen},
                    where=mac_sightings.c.last_seen < stmt.excluded.last_seen,
                )
                conn.execute(stmt, list(rows.values()))
            else:  # other databases: update what exists, insert the rest
                _portable(conn, device, rows, at)
        conn.execute(insert(mac_watches).values(device=device, at=at, via=via, entries=len(rows)))
    return len(rows)


def _portable(
    conn: Connection, device: str, rows: dict[tuple[str, str, int], dict[str, Any]], at: datetime
) -> None:
    c = mac_sightings.c
    for (port, mac, vlan), row in rows.items():
        where = and_(c.device == device, c.port == port, c.mac == mac, c.vlan == vlan)
        done = conn.execute(
            update(mac_sightings).where(where, c.last_seen < at).values(last_seen=at)
        )
        if done.rowcount == 0 and conn.execute(select(c.id).where(where)).first() is None:
            conn.execute(insert(mac_sightings).values(**row))


def prune(store: Store, before: datetime) -> tuple[int, int]:
    """Delete sightings last seen and collections made before ``before``: (sightings,
    collections) deleted."""
    with store.begin() as conn:
        a = conn.execute(delete(mac_sightings).where(mac_sightings.c.last_seen < before))
        b = conn.execute(delete(mac_watches).where(mac_watches.c.at < before))
    return a.rowcount or 0, b.rowcount or 0


def last_seen_by_port(store: Store, device: str) -> dict[str, datetime]:
    """Each port of ``device`` with the latest time any MAC was seen on it."""
    c = mac_sightings.c
    query = select(c.port, func.max(c.last_seen)).where(c.device == device).group_by(c.port)
    with store.begin() as conn:
        return {port: _utc(at) for port, at in conn.execute(query).all()}


def collections(store: Store, device: str) -> list[datetime]:
    """When ``device``'s MAC table was collected, oldest first (within the retention)."""
    query = select(mac_watches.c.at).where(mac_watches.c.device == device)
    with store.begin() as conn:
        return sorted(_utc(r[0]) for r in conn.execute(query).all())


def watched_since(times: Sequence[datetime], now: datetime, max_gap: timedelta) -> datetime | None:
    """The start of the unbroken watch that reaches ``now``: collections no more than
    ``max_gap`` apart, the latest no older than ``max_gap``. None when the latest collection
    is already older than that (govnet is not watching the device now)."""
    if not times or now - times[-1] > max_gap:
        return None
    start = times[-1]
    for earlier in reversed(times[:-1]):
        if start - earlier > max_gap:
            break
        start = earlier
    return start
