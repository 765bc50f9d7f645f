"""Bookkeeping of ``govnet export`` / ``govnet import`` (govnet/transfer).

``transfer_exports``: each batch this store wrote (its hash continues the chain).
``transfer_imports``: each batch this store took in, per source (the chain it follows).
``transfer_rowmap``: a source's row id → this store's row id, for rows imported again
later with new values (alerts) or with children (AV snapshots).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, PrimaryKeyConstraint, String, Table

from govnet.store.db import metadata

transfer_exports = Table(
    "transfer_exports",
    metadata,
    Column("source", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("window_from", DateTime(timezone=True)),
    Column("window_to", DateTime(timezone=True), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("ledger_to", Integer, nullable=False, default=0),  # runs: by ledger entry, not clock
    PrimaryKeyConstraint("source", "seq"),
)

transfer_imports = Table(
    "transfer_imports",
    metadata,
    Column("source", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("window_to", String(40), nullable=False),
    Column("imported", DateTime(timezone=True), nullable=False),
    Column("rows", Integer, nullable=False),
    PrimaryKeyConstraint("source", "seq"),
)

transfer_rowmap = Table(
    "transfer_rowmap",
    metadata,
    Column("source", String(64), nullable=False),
    Column("tbl", String(40), nullable=False),
    Column("origin", Integer, nullable=False),
    Column("local", Integer, nullable=False),
    PrimaryKeyConstraint("source", "tbl", "origin"),
)
