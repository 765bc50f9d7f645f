"""IPAM tables: one VLAN and one subnet per (zone, unit), and the history of changes.

``ipam_allocations`` holds what is handed out now; its unique constraints make a VLAN or a
subnet impossible to hand out twice in a zone even if two allocations race. ``ipam_zones``
has one row per zone that every allocation updates first, so allocations in one zone are
serialised by the database (SQLite's write lock, PostgreSQL's row lock) and the choice of
"the next free one" is made on a stable view. ``ipam_events`` keeps every allocate/release.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint

from govnet.store.db import metadata

ipam_allocations = Table(
    "ipam_allocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("zone", String(64), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("vlan", Integer, nullable=False),
    Column("prefix", String(64), nullable=False),  # "10.10.4.0/24"
    Column("allocated_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, default=""),
    UniqueConstraint("zone", "unit", name="uq_ipam_zone_unit"),
    UniqueConstraint("zone", "vlan", name="uq_ipam_zone_vlan"),
    UniqueConstraint("zone", "prefix", name="uq_ipam_zone_prefix"),
)

ipam_zones = Table(
    "ipam_zones",
    metadata,
    Column("zone", String(64), primary_key=True),
    Column("serial", Integer, nullable=False, default=0),  # bumped by every change: the lock
)

ipam_events = Table(
    "ipam_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(16), nullable=False),  # allocate | release
    Column("zone", String(64), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("vlan", Integer, nullable=False),
    Column("prefix", String(64), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Index("ix_ipam_events_zone_at", "zone", "at"),
)
