"""Change records of ``govnet provision apply``: one row per device and run.

The run itself is a row of ``runs`` (kind ``provision``), written when the run starts and
completed when it ends; each device's row is written as soon as that device is done, so a
killed run still tells what it changed. Commands are stored masked (secrets as ``***``);
the config backed up before the push is in ``configs`` (``backup_sha256``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    select,
    update,
)

from govnet.store.db import Store, metadata, runs

provision_changes = Table(
    "provision_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("device", String(200), nullable=False),
    Column("task", String(64), nullable=False),
    Column("status", String(24), nullable=False),  # changed | unchanged | rolled-back | …
    Column("finished", DateTime(timezone=True), nullable=False),
    Column("elapsed", Float, nullable=False, default=0.0),
    Column("commands", JSON, nullable=False, default=list),  # masked
    Column("rollback", JSON, nullable=False, default=list),  # masked, what was pushed back
    Column("problems", JSON, nullable=False, default=list),  # verification failures
    Column("message", Text, nullable=False, default=""),
    Column("backup_sha256", String(64)),
    Index("ix_provision_changes_run", "run_id"),
    Index("ix_provision_changes_device", "device", "finished"),
)


def start_run(store: Store, run_id: str, started: datetime, meta: dict[str, Any]) -> None:
    with store.begin() as conn:
        conn.execute(runs.insert().values(id=run_id, kind="provision", started=started, meta=meta))


def record_change(store: Store, run_id: str, row: dict[str, Any]) -> None:
    from govnet.store import ledger

    with store.begin() as conn:
        result = conn.execute(provision_changes.insert().values(run_id=run_id, **row))
        key = result.inserted_primary_key
        assert key is not None
        ledger.append(conn, "provision_change", str(key[0]))


def finish_run(
    store: Store, run_id: str, finished: datetime, exit_code: int, meta: dict[str, Any]
) -> None:
    from govnet.store import ledger

    with store.begin() as conn:
        conn.execute(
            update(runs)
            .where(runs.c.id == run_id)
            .values(finished=finished, exit_code=exit_code, meta=meta)
        )
        ledger.append(conn, "run", run_id)


def changes(
    store: Store, run_id: str | None = None, device: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Change records, newest first."""
    query = select(provision_changes).order_by(provision_changes.c.id.desc()).limit(limit)
    if run_id is not None:
        query = query.where(provision_changes.c.run_id == run_id)
    if device is not None:
        query = query.where(provision_changes.c.device == device)
    with store.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(query).all()]
