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

A network cut (cable, firewall dropping packets, frozen host) sends no FIN or RST: with the
kernel defaults the server would keep the silent session, and its locks, for about 2 h 11 min
(TCP keepalive) and a client read on it could block as long. The lock session therefore bounds
both sides with timeouts derived from the lease period ``e`` (:class:`SessionTimeouts`):

* **fence**: a member polls only while its lock session answered within the last
  ``L = max(3, 2 e + 1)`` s (:attr:`SessionTimeouts.lease`; ``e`` plus the step's time plus
  a margin, so a live poller never comes near it).
* **server** (per-session settings the lock session sets on itself): ``tcp_keepalives_idle``
  ``I = ceil(e)``, ``tcp_keepalives_interval`` ``V = max(1, ceil(e / 2))``,
  ``tcp_keepalives_count`` ``C = max(2, ceil((L - I) / V))`` and ``tcp_user_timeout``
  ``S = I + C V`` (in ms). The member pings every ``e`` s, so the session is never idle ``I`` s
  while the poller lives; once cut, the server probes ``I``, ``I + V``, … after the last packet
  it received and drops the session (and its locks) at ``S`` — 3 s for ``e`` ≤ 1, 5 s for
  ``e`` = 2, 11 s for ``e`` = 5: about one poll interval (at least ``4 e``), and never before
  ``L`` (``S`` ≥ ``L``). ``tcp_user_timeout`` bounds the same way a reply the server was still
  retransmitting when the cut came. ``client_connection_check_interval`` (1 s, PostgreSQL 14+)
  ends a statement still running for a client whose connection is known gone (the statements
  are short: a backstop; the idle session is the keepalives' job).
* **client** (libpq, psycopg/psycopg2): keepalives with the same ``I``/``V``/``C``,
  ``tcp_user_timeout`` and ``statement_timeout`` ``P = max(2, 1.5 e)`` s, ``connect_timeout``
  ``max(2, ceil(2 e))`` s, and every statement of the lock session runs under a watchdog that
  shuts the socket down after ``P`` s, so no thread stays blocked on a dead connection.

The poller's other sessions on the store get the same server-side keepalives and
``tcp_user_timeout`` (:func:`bound_store_sessions`): a transaction open when the cut came
(a write in flight) would otherwise keep its row locks from the new holder for hours.

So a cut poller has stopped polling by its last answered statement + ``L``, which is no later
than the server can free its locks (that statement + ``S``); a new holder then waits
:func:`~govnet.monitor.sharding.guard` (``2 e + 0.5`` s) more before polling a shard taken from
a dead session, which covers the scheduling slack of the two ends.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

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


@dataclass(frozen=True)
class SessionTimeouts:
    """The lock session's timeouts for lease period ``every`` (the module docstring has the
    arithmetic)."""

    every: float

    @property
    def idle(self) -> int:
        """Seconds of silence before the first keepalive probe (both sides)."""
        return max(1, math.ceil(self.every))

    @property
    def interval(self) -> int:
        """Seconds between keepalive probes (both sides)."""
        return max(1, math.ceil(self.every / 2))

    @property
    def count(self) -> int:
        """Unanswered probes before the session is dropped: enough that it outlives the
        lease."""
        return max(2, math.ceil((self.lease - self.idle) / self.interval))

    @property
    def server_drop(self) -> int:
        """Seconds after the last packet from a cut-off poller until the server ends its
        session (and frees its locks)."""
        return self.idle + self.count * self.interval

    @property
    def statement(self) -> float:
        """Longest wait for one statement of the lock session."""
        return max(2.0, 1.5 * self.every)

    @property
    def connect(self) -> int:
        return max(2, math.ceil(2 * self.every))

    @property
    def lease(self) -> float:
        """A member polls only while its lock session answered within this many seconds."""
        return max(3.0, 2 * self.every + 1)

    def server_settings(self) -> dict[str, str]:
        """Per-session settings (``SET``) that make the server drop a silent session."""
        return {
            "tcp_keepalives_idle": str(self.idle),
            "tcp_keepalives_interval": str(self.interval),
            "tcp_keepalives_count": str(self.count),
            "tcp_user_timeout": str(self.server_drop * 1000),
            "statement_timeout": str(int(self.statement * 1000)),
            # PostgreSQL 14+: a backend busy with a statement of a client gone ends it
            "client_connection_check_interval": "1000",
        }

    def libpq(self) -> dict[str, Any]:
        """libpq connection parameters (psycopg, psycopg2) of the lock connection."""
        return {
            "keepalives": 1,
            "keepalives_idle": self.idle,
            "keepalives_interval": self.interval,
            "keepalives_count": self.count,
            "tcp_user_timeout": int(self.statement * 1000),
            "connect_timeout": self.connect,
        }


LIBPQ_DRIVERS = frozenset({"psycopg", "psycopg2"})

_BOUNDED: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines bound_store_sessions set up
# the keepalive settings of a sharded poller's other sessions, set only where the server has them
_SET_KNOWN = (
    "SELECT count(set_config(w.name, w.value, false)) FROM (VALUES {rows}) AS w(name, value) "
    "JOIN pg_settings p ON p.name = w.name"
)


def bound_store_sessions(store: Store, timeouts: SessionTimeouts) -> None:
    """A sharded poller's other sessions on the store (heartbeat, poll results, alerts) die
    with a network cut as soon as its lock session does: a transaction of a cut-off poller
    left open on the server would otherwise keep its row locks (its devices' rows, their
    alerts) from the new holder for hours. New connections set the lock session's server-side
    keepalives and ``tcp_user_timeout``; the idle ones already pooled are replaced."""
    require_postgresql(store)
    wanted = timeouts.server_settings()
    names = ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count")
    settings = {n: wanted[n] for n in (*names, "tcp_user_timeout")}
    rows = ", ".join(f"('{name}', '{value}')" for name, value in settings.items())
    sql = _SET_KNOWN.format(rows=rows)

    def bound(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute(sql)
        finally:
            cur.close()
        dbapi_conn.commit()  # a SET in a transaction rolled back would be undone

    engine = store.engine
    if engine not in _BOUNDED:
        event.listen(engine, "connect", bound)
        _BOUNDED.add(engine)
        engine.dispose(close=True)  # checked-out connections go when returned


class _Watchdog:
    """Shuts a connection's socket down when a statement runs past its bound, or at once on
    :meth:`sever`: libpq's blocked read then fails instead of waiting for TCP to give up."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self.severed = False

    def sever(self) -> None:
        with self._lock:
            if self._fd is None:
                return
            self.severed = True
            with contextlib.suppress(OSError):
                dup = socket.socket(fileno=os.dup(self._fd))
                try:
                    dup.shutdown(socket.SHUT_RDWR)  # the socket, not only this descriptor
                finally:
                    dup.close()

    def retire(self) -> None:
        """The connection is closing: its descriptor may be reused, never touch it again."""
        with self._lock:
            self._fd = None

    def run(self, conn: Connection, sql: str, params: dict[str, Any], bound: float) -> Any:
        timer = threading.Timer(bound, self.sever)
        timer.daemon = True
        timer.start()
        try:
            return conn.execute(text(sql), params).scalar()
        finally:
            timer.cancel()


def _fileno(conn: Connection) -> int | None:
    try:
        return int(conn.connection.dbapi_connection.fileno())  # type: ignore[union-attr]
    except (AttributeError, TypeError, ValueError, SQLAlchemyError):
        return None


class ShardLeases:
    """One member's lock session: take, release and check shard locks; the cluster rows."""

    def __init__(self, store: Store, holder: str, every: float = 5.0) -> None:
        require_postgresql(store)
        self.store = store
        self.holder = holder
        self.timeouts = SessionTimeouts(every)
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._watchdog = _Watchdog(None)
        self.backend_pid = 0
        self.alive_at = 0.0  # time.monotonic() when the last statement that answered was sent

    # -- the lock session ------------------------------------------------------------------

    def _lock_engine(self) -> Engine:
        """The lock connection's own engine: no pool (a closed session is gone, never reused)
        and libpq's keepalives and timeouts on its socket."""
        if self._engine is None:
            url = self.store.engine.url
            args = self.timeouts.libpq() if url.get_driver_name() in LIBPQ_DRIVERS else {}
            self._engine = create_engine(url, poolclass=NullPool, connect_args=args)
        return self._engine

    def open(self) -> None:
        """A new lock session (after a failure: a new one, holding nothing)."""
        self.close()
        try:
            conn = self._lock_engine().connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            raise LeaseLost(
                _("cannot open the shard lock session: {why}", why=_short(exc))
            ) from exc
        self._conn = conn
        self._watchdog = _Watchdog(_fileno(conn))
        self.backend_pid = int(self._exec("SELECT pg_backend_pid()") or 0)
        self._set_timeouts()
        # shared: sharded pollers together; a govnetd without --shards takes it exclusively
        shared = self._exec("SELECT pg_try_advisory_lock_shared(:k)", k=DAEMON_LOCK_KEY)
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

    def _set_timeouts(self) -> None:
        """Ask the server to drop this session soon after its poller goes silent (the
        settings it knows: ``tcp_user_timeout`` is PostgreSQL 12+)."""
        wanted = self.timeouts.server_settings()
        known = self._exec(
            "SELECT string_agg(name, ',') FROM pg_settings WHERE name = ANY(:names)",
            names=list(wanted),
        )
        for name in str(known or "").split(","):
            if name in wanted:
                self._exec("SELECT set_config(:n, :v, false)", n=name, v=wanted[name])

    def sever(self) -> None:
        """End the session from any thread, at once: a statement blocked on it fails now (the
        server frees the locks when it sees the connection go, or by its keepalive)."""
        self._watchdog.sever()

    def close(self) -> None:
        """End the session: PostgreSQL frees every lock it held."""
        conn, self._conn = self._conn, None
        if conn is not None:
            # now, not when the server notices the socket closed (a broken session's locks
            # die with it)
            with contextlib.suppress(SQLAlchemyError):
                self._watchdog.run(conn, "SELECT pg_advisory_unlock_all()", {}, 1.0)
            self._watchdog.retire()
            try:
                conn.invalidate()  # never back into a pool with locks held
                conn.close()
            except SQLAlchemyError:
                pass

    def dispose(self) -> None:
        """Close the session and the lock connection's engine."""
        self.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _exec(self, sql: str, **params: Any) -> Any:
        conn = self._conn
        if conn is None:
            raise LeaseLost(_("the shard lock session is closed"))
        sent = time.monotonic()
        try:
            value = self._watchdog.run(conn, sql, params, self.timeouts.statement)
        except SQLAlchemyError as exc:
            why = _short(exc)
            if self._watchdog.severed:  # the driver's error would only say the socket closed
                limit = f"{self.timeouts.statement:g}"
                why = _("no answer within {limit}s", limit=limit)
            self.close()
            raise LeaseLost(_("shard lock session failed: {why}", why=why)) from exc
        self.alive_at = max(self.alive_at, sent)
        return value

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
    "SessionTimeouts",
    "ShardLeases",
    "bound_store_sessions",
    "cluster",
    "forget_members",
    "live_sessions",
    "lock_owners",
    "members",
    "require_postgresql",
]
