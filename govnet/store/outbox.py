"""The notification outbox: every alert message to a person's channel is a row here first.

A row is written when the alert fires (committed before anyone is told), and marked sent
only after the channel said it arrived. A channel that is down keeps its rows pending, with
the next attempt time pushed back; a daemon killed meanwhile finds them on restart. Nothing is
dropped: rows are only ever marked sent (and pruned long after).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    update,
)

from govnet.store.db import Store, metadata

outbox = Table(
    "notify_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(64), nullable=False),
    Column("alert_key", String(500), nullable=False, default=""),
    Column("kind", String(16), nullable=False),  # firing | resolved | repeat | test
    Column("item", Text, nullable=False),  # the alert as JSON (channels.Item)
    Column("created", Float, nullable=False),
    Column("due", Float, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("status", String(12), nullable=False, default="pending"),  # pending | sent
    Column("sent", Float),
    Column("late", Boolean, nullable=False, default=False),
    Column("message_id", Integer),  # rows sent in one message share the id of the first
    Column("last_error", Text, nullable=False, default=""),
    Index("ix_notify_outbox_channel_status_due", "channel", "status", "due"),
    Index("ix_notify_outbox_key", "alert_key", "channel"),
)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    channel: str
    alert_key: str
    kind: str
    item: dict[str, Any]
    created: float
    due: float
    attempts: int
    status: str
    sent: float | None
    late: bool
    message_id: int | None
    last_error: str

    @classmethod
    def of(cls, row: Any) -> OutboxRow:
        m = dict(row._mapping)
        m["item"] = json.loads(m["item"])
        return cls(**m)


class Outbox:
    """Typed access to the outbox table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def enqueue(self, channel: str, kind: str, item: dict[str, Any], now: float) -> int:
        with self.store.begin() as conn:
            key = conn.execute(
                outbox.insert().values(
                    channel=channel,
                    alert_key=str(item.get("key", "")),
                    kind=kind,
                    item=json.dumps(item, ensure_ascii=False),
                    created=now,
                    due=now,
                    attempts=0,
                    status="pending",
                    late=False,
                    last_error="",
                )
            ).inserted_primary_key
        assert key is not None
        return int(key[0])

    def pending(self, channel: str, due_by: float, limit: int = 200) -> list[OutboxRow]:
        """Rows of ``channel`` still to send whose next attempt is due, oldest first."""
        with self.store.begin() as conn:
            rows = conn.execute(
                select(outbox)
                .where(
                    outbox.c.channel == channel,
                    outbox.c.status == "pending",
                    outbox.c.due <= due_by,
                )
                .order_by(outbox.c.created, outbox.c.id)
                .limit(limit)
            )
            return [OutboxRow.of(r) for r in rows]

    def mark_sent(self, ids: Sequence[int], now: float, late: bool) -> None:
        with self.store.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(ids)), outbox.c.status == "pending")
                .values(status="sent", sent=now, late=late, message_id=min(ids), last_error="")
            )

    def mark_failed(self, ids: Sequence[int], error: str, next_try: float) -> None:
        with self.store.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(ids)), outbox.c.status == "pending")
                .values(attempts=outbox.c.attempts + 1, due=next_try, last_error=error[:500])
            )

    def last_notified(self, alert_key: str, channel: str) -> float | None:
        """When ``alert_key`` was last queued for ``channel`` (firing or repeat)."""
        with self.store.begin() as conn:
            value = conn.execute(
                select(func.max(outbox.c.created)).where(
                    outbox.c.alert_key == alert_key,
                    outbox.c.channel == channel,
                    outbox.c.kind.in_(["firing", "repeat"]),
                )
            ).scalar()
        return None if value is None else float(value)

    def rows(self, status: str | None = None, limit: int = 200) -> list[OutboxRow]:
        query = select(outbox)
        if status:
            query = query.where(outbox.c.status == status)
        with self.store.begin() as conn:
            result = conn.execute(query.order_by(outbox.c.id.desc()).limit(limit))
            return [OutboxRow.of(r) for r in result]

    def prune(self, sent_before: float) -> int:
        """Forget sent rows older than ``sent_before``; pending rows are never pruned."""
        with self.store.begin() as conn:
            result = conn.execute(
                delete(outbox).where(outbox.c.status == "sent", outbox.c.sent < sent_before)
            )
            return int(result.rowcount or 0)
