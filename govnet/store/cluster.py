"""Shard leases of sharded pollers (``govnetd --shards N``) on PostgreSQL, and the cluster table.

A shard is held by the PostgreSQL session that took its advisory lock::

    pg_try_advisory_lock(SHARD_LOCK_SPACE, shard)      -- the two-int4 form

on a connection of its own (autocommit: it never sits idle in a transaction). The lock lives
exactly as long as that session: a poller killed with ``kill -9`` loses its TCP connection,
PostgreSQL ends the session and the locks are free for the others at once. The two-int4 key
space does not overlap the single-bigint one (PostgreSQL documents this), so the daemon lock
(``0x676F766E6574``) and the store ledger's (``0x6C6564676572``) cannot collide with a shard;
``SHARD_LOCK_SPACE`` (``0x73687264``, "shrd") keeps shards apart from any other two-int4 user.

``monitor_cluster`` holds one row per member: who it is (host, pid, its lock session's backend
pid), how many shards the cluster runs with, which it holds with each one's poll lag, and a
heartbeat. Who really holds a lock is read from ``pg_locks`` (:meth:`ShardLeases.lock_owners`),
not from the rows, which only say who the backend pids are.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Float, Integer, String, Table, Text, delete, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.store.db import Store, metadata, safe_url
from govnet.store.monitor import DAEMON_LOCK_KEY, MonitorStore, meta, upsert

SHARD_LOCK_SPACE = 0x73687264  # "shrd": the first int4 of every shard lock

cluster = Table(
    "monitor_cluster",
    metadata,
    Column("holder", String(200), primary_key=True),  # host:pid:random
    Column("host", String(200), nullable=False, default=""),
    Column("pid", Integer, nullable=False, default=0),
    Column("backend_pid", Integer, nullable=False, default=0),  # the lock session's pid
    Column("shards_total", Integer, nullable=False, default=0),
    Column("shards", Text, nullable=False, default="{}"),  # {"shard": lag seconds}
    Column("started", Float, nullable=False, default=0.0),
    Column("heartbeat", Float, nullable=False, default=0.0),
    Column("devices", Integer, nullable=False, default=0),
    Column("lag_p99", Float, nullable=False, default=0.0),
    Column("version", String(32), nullable=False, default=""),
)


class LeaseLost(GovnetError):
    """The lock session failed: every shard it held may be someone else's now."""


@dataclass(frozen=True)
class Member:
    holder: str
    host: str
    pid: int
    backend_pid: int
    shards_total: int
    shards: dict[int, float]  # shard → poll lag (s)
    started: float
    heartbeat: float
    devices: int
    lag_p99: float
    version: str

    @classmethod
    def of(cls, row: Any) -> Member:
        try:
            raw = json.loads(row.shards or "{}")
            shards = {int(k): float(v) for k, v in raw.items()}
        except (ValueError, AttributeError):
            shards = {}
        return cls(
            str(row.holder),
            str(row.host),
            int(row.pid),
            int(row.backend_pid),
            int(row.shards_total),
            shards,
            float(row.started),
            float(row.heartbeat),
            int(row.devices),
            float(row.lag_p99),
            str(row.version),
        )

    def live(self, now: float, stale_after: float) -> bool:
        return now - self.heartbeat <= stale_after


def require_postgresql(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        raise GovnetError(
            _(
                "--shards: sharding needs a shared PostgreSQL store (--db postgresql+psycopg://…); "
                "{url} is {dialect}",
                url=safe_url(str(store.engine.url)),
                dialect=store.engine.dialect.name,
            )
        )


class ShardLeases:
    """One member's lock session: take, release and check shard locks; the cluster rows."""

    def __init__(self, store: Store, holder: str) -> None:
        require_postgresql(store)
        self.store = store
        self.holder = holder
        self._conn: Connection | None = None
        self.backend_pid = 0

    # -- the lock session ------------------------------------------------------------------

    def open(self) -> None:
        """A new lock session (after a failure: a new one, holding nothing)."""
        self.close()
        try:
            conn = self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self.backend_pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar() or 0)
            # shared: sharded pollers together; a govnetd without --shards takes it exclusively
            shared = conn.execute(
                text("SELECT pg_try_advisory_lock_shared(:k)"), {"k": DAEMON_LOCK_KEY}
            ).scalar()
        except SQLAlchemyError as exc:
            raise LeaseLost(
                _("cannot open the shard lock session: {why}", why=_short(exc))
            ) from exc
        self._conn = conn
        if not shared:
            self.close()
            who = MonitorStore(self.store).get_meta("daemon") or "?"
            raise GovnetError(
                _(
                    "a govnetd without --shards already monitors this store ({who}); stop it "
                    "before starting sharded pollers",
                    who=who,
                )
            )

    def close(self) -> None:
        """End the session: PostgreSQL frees every lock it held."""
        conn, self._conn = self._conn, None
        if conn is not None:
            # now, not when the server notices the socket closed (a broken session's locks
            # die with it)
            with contextlib.suppress(SQLAlchemyError):
                conn.execute(text("SELECT pg_advisory_unlock_all()"))
            try:
                conn.invalidate()  # never back into the pool with locks held
                conn.close()
            except SQLAlchemyError:
                pass

    def _exec(self, sql: str, **params: Any) -> Any:
        if self._conn is None:
            raise LeaseLost(_("the shard lock session is closed"))
        try:
            return self._conn.execute(text(sql), params).scalar()
        except SQLAlchemyError as exc:
            self.close()
            raise LeaseLost(_("shard lock session failed: {why}", why=_short(exc))) from exc

    def ping(self) -> None:
        """Raise :class:`LeaseLost` unless the lock session still answers."""
        self._exec("SELECT 1")

    def try_lock(self, shard: int) -> bool:
        return bool(self._exec("SELECT pg_try_advisory_lock(:k, :s)", k=SHARD_LOCK_SPACE, s=shard))

    def unlock(self, shard: int) -> bool:
        return bool(self._exec("SELECT pg_advisory_unlock(:k, :s)", k=SHARD_LOCK_SPACE, s=shard))

    def held(self) -> set[int]:
        """The shards this session holds, as PostgreSQL sees it."""
        return {s for s, pid in self.lock_owners().items() if pid == self.backend_pid}

    def lock_owners(self) -> dict[int, int]:
        """shard → backend pid of the session holding it (every member's)."""
        return lock_owners(self.store)

    # -- the cluster table -----------------------------------------------------------------

    def beat(self, row: dict[str, Any]) -> None:
        """Write this member's row (holder, host, pid, shards with lag, heartbeat, …)."""
        full = {"holder": self.holder, "backend_pid": self.backend_pid, **row}
        full["shards"] = json.dumps({str(k): round(v, 3) for k, v in row["shards"].items()})
        with self.store.begin() as conn:
            upsert(conn, cluster, [full])

    def released_cleanly(self, shards: set[int]) -> set[int]:
        """Of ``shards`` (just locked), those whose last holder let go cleanly (its polls
        finished and committed before the unlock), not by dying or losing its session."""
        keys = {f"shard:{s}": s for s in shards}
        with self.store.begin() as conn:
            rows = conn.execute(select(meta.c.key, meta.c.value).where(meta.c.key.in_(keys)))
            return {keys[k] for k, v in rows if v == "released"}

    def mark(self, shards: set[int], state: str) -> None:
        """Record each shard's hand-over state: ``held by HOLDER`` or ``released``."""
        if shards:
            with self.store.begin() as conn:
                upsert(conn, meta, [{"key": f"shard:{s}", "value": state} for s in shards])

    def leave(self) -> None:
        with self.store.begin() as conn:
            conn.execute(delete(cluster).where(cluster.c.holder == self.holder))


def lock_owners(store: Store) -> dict[int, int]:
    """shard → backend pid holding its lock, from ``pg_locks``."""
    with store.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT objid::bigint, pid FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid::bigint = :k AND objsubid = 2 AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"k": SHARD_LOCK_SPACE},
        )
        return {int(s): int(p) for s, p in rows}


def members(store: Store) -> list[Member]:
    with store.begin() as conn:
        return [Member.of(r) for r in conn.execute(select(cluster).order_by(cluster.c.started))]


def forget_members(store: Store, holders: list[str]) -> None:
    """Rows of members long dead (their sessions gone): the table shows the living."""
    if holders:
        with store.begin() as conn:
            conn.execute(delete(cluster).where(cluster.c.holder.in_(holders)))


def live_sessions(store: Store) -> set[int]:
    """Backend pids of the sessions connected now."""
    with store.begin() as conn:
        return {int(p) for (p,) in conn.execute(text("SELECT pid FROM pg_stat_activity"))}


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


__all__ = [
    "SHARD_LOCK_SPACE",
    "LeaseLost",
    "Member",
    "ShardLeases",
    "cluster",
    "forget_members",
    "live_sessions",
    "lock_owners",
    "members",
    "require_postgresql",
]
