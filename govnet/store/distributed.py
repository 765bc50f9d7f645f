"""Results of distributed collections (``govnet worker``; govnet/distributed).

``dist_results``: one row per (run, device), written by whichever worker finished the device
first. The primary key makes a task's results idempotent: a task retried after its worker was
killed, or delivered twice after a broker outage, finds the row there and never counts the
device twice. The submitter reads the rows, finishes the run as a local run would, and
deletes them (they hold the devices' unmasked configs until then).

``dist_attempts``: every time a worker began a device (worker, zone queue, time): which
worker touched which device, kept for the operator (``--zone`` routing, retries).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    select,
)
from sqlalchemy.exc import IntegrityError

from govnet.errors import StoreError
from govnet.store.db import metadata

if TYPE_CHECKING:
    from govnet.store.db import Store

dist_results = Table(
    "dist_results",
    metadata,
    Column("run_id", String(40), nullable=False),
    Column("device", String(200), nullable=False),
    Column("worker", String(200), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=False),
    Column("payload", JSON, nullable=False),
    PrimaryKeyConstraint("run_id", "device"),
)

dist_attempts = Table(
    "dist_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), nullable=False),
    Column("device", String(200), nullable=False),
    Column("worker", String(200), nullable=False),
    Column("queue", String(200), nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Index("ix_dist_attempts_run", "run_id"),
)


def record_attempt(
    store: Store, run_id: str, device: str, worker: str, queue: str, when: datetime
) -> None:
    with store.begin() as conn:
        conn.execute(
            dist_attempts.insert().values(
                run_id=run_id, device=device, worker=worker, queue=queue, started=when
            )
        )


def save_result(
    store: Store, run_id: str, device: str, worker: str, when: datetime, payload: dict[str, Any]
) -> bool:
    """Keep the device's result unless the run has one already; True if this one was kept."""
    try:
        with store.begin() as conn:
            conn.execute(
                dist_results.insert().values(
                    run_id=run_id,
                    device=device,
                    worker=worker,
                    finished=when,
                    payload=json.loads(json.dumps(payload, default=str)),
                )
            )
    except StoreError as exc:
        if isinstance(exc.__cause__, IntegrityError):
            return False  # another delivery of the task finished this device first
        raise
    return True


def done_devices(store: Store, run_id: str) -> set[str]:
    with store.begin() as conn:
        rows = conn.execute(select(dist_results.c.device).where(dist_results.c.run_id == run_id))
        return {r.device for r in rows}


def results(
    store: Store, run_id: str, devices: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """The run's results (only ``devices`` when given), as dicts."""
    query = select(dist_results).where(dist_results.c.run_id == run_id)
    if devices is not None:
        query = query.where(dist_results.c.device.in_(list(devices)))
    with store.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def attempts(store: Store, run_id: str) -> list[dict[str, Any]]:
    query = select(dist_attempts).where(dist_attempts.c.run_id == run_id)
    with store.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(dist_attempts.c.id))]


def consume(store: Store, run_id: str) -> None:
    """The submitter has read the run's results: drop the configs and outputs they carry
    (the run's findings and backups keep what is kept, masked). The rows stay, so a late
    second delivery of a task still finds its devices done."""
    with store.begin() as conn:
        rows = conn.execute(
            select(dist_results.c.device, dist_results.c.payload).where(
                dist_results.c.run_id == run_id
            )
        ).all()
        for row in rows:
            slim = {k: v for k, v in (row.payload or {}).items() if k not in ("config", "outputs")}
            conn.execute(
                dist_results.update()
                .where(dist_results.c.run_id == run_id, dist_results.c.device == row.device)
                .values(payload={**slim, "consumed": True})
            )
