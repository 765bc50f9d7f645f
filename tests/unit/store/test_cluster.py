"""Shard leases on a real PostgreSQL: exclusive, dying with their session, apart from the daemon
lock; the cluster rows; SQLite refused."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from govnet.errors import GovnetError
from govnet.store.cluster import (
    LeaseLost,
    SessionTimeouts,
    ShardLeases,
    live_sessions,
    lock_owners,
    members,
)
from govnet.store.db import Store
from govnet.store.monitor import MonitorStore
from tests.pgserver import PostgresServer


@pytest.fixture
def pg(postgres_server: PostgresServer) -> Iterator[Store]:
    with postgres_server.database() as url, Store.open(url) as store:
        yield store


def test_a_shard_is_held_by_one_session_only(pg: Store) -> None:
    a, b = ShardLeases(pg, "a"), ShardLeases(pg, "b")
    a.open()
    b.open()
    try:
        assert a.try_lock(3) and a.try_lock(5)
        assert not b.try_lock(3)
        assert b.try_lock(4)
        assert lock_owners(pg) == {3: a.backend_pid, 5: a.backend_pid, 4: b.backend_pid}
        assert a.held() == {3, 5} and b.held() == {4}
        assert a.unlock(3)
        assert b.try_lock(3)
        assert b.held() == {3, 4}
    finally:
        a.close()
        b.close()


def test_the_locks_die_with_the_session(pg: Store, postgres_server: PostgresServer) -> None:
    """A dead poller's session (here terminated by the server, as for a kill -9) frees its
    shards for the others; the member itself sees LeaseLost at its next ping."""
    a, b = ShardLeases(pg, "a"), ShardLeases(pg, "b")
    a.open()
    b.open()
    try:
        assert a.try_lock(0) and a.try_lock(1)
        with postgres_server.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": a.backend_pid})
        for _ in range(50):
            if a.backend_pid not in live_sessions(pg):
                break
            time.sleep(0.1)
        assert b.try_lock(0) and b.try_lock(1)
        with pytest.raises(LeaseLost, match="shard lock session failed"):
            a.ping()
        with pytest.raises(LeaseLost):
            a.try_lock(2)  # closed: nothing is taken on a dead session
        a.open()  # a new session holds nothing
        assert a.held() == set() and not a.try_lock(0)
    finally:
        a.close()
        b.close()


def test_shard_locks_do_not_collide_with_the_daemon_lock(pg: Store) -> None:
    """Sharded pollers hold the daemon lock shared: a govnetd without --shards cannot start
    beside them, and they cannot start beside it."""
    a = ShardLeases(pg, "a")
    a.open()
    try:
        assert a.try_lock(0)
        with (
            pytest.raises(GovnetError, match="another govnetd already monitors"),
            MonitorStore(pg).daemon_lock("single"),
        ):
            pass
    finally:
        a.close()
    with MonitorStore(pg).daemon_lock("single"):
        b = ShardLeases(pg, "b")
        with pytest.raises(GovnetError, match="without --shards already monitors"):
            b.open()
        b.close()


def test_cluster_rows(pg: Store) -> None:
    a = ShardLeases(pg, "host-a:1:x")
    a.open()
    try:
        a.beat(
            {
                "host": "host-a",
                "pid": 1,
                "shards_total": 4,
                "started": 10.0,
                "heartbeat": 20.0,
                "version": "t",
                "shards": {0: 0.25, 2: 1.5},
                "devices": 7,
                "lag_p99": 0.5,
            }
        )
        (m,) = members(pg)
        assert (m.holder, m.backend_pid, m.shards_total, m.shards, m.devices) == (
            "host-a:1:x",
            a.backend_pid,
            4,
            {0: 0.25, 2: 1.5},
            7,
        )
        assert m.live(25.0, 10.0) and not m.live(31.0, 10.0)
        a.leave()
        assert members(pg) == []
    finally:
        a.close()


def test_lease_arithmetic() -> None:
    """The server drops a cut-off session within about one poll interval (4 lease periods),
    never before the cut poller's lease has run out (it stops polling first)."""
    for every, drop, lease in ((0.5, 3, 3.0), (1.0, 3, 3.0), (2.0, 5, 5.0), (5.0, 11, 11.0)):
        t = SessionTimeouts(every)
        assert (t.server_drop, t.lease) == (drop, lease)
    for tenth in range(5, 51):
        t = SessionTimeouts(tenth / 10)
        assert t.lease <= t.server_drop <= 4 * t.every + 3  # the cut poller stops first
        assert t.statement < max(5.0, 2 * t.every)  # a statement gives up before the member's
        settings = t.server_settings()
        assert settings["tcp_user_timeout"] == str(t.server_drop * 1000)
        assert int(settings["tcp_keepalives_idle"]) >= t.every  # never probes a live poller


def test_the_lock_session_asks_both_ends_to_notice_a_silent_peer(pg: Store) -> None:
    """The server's side of the lock session carries the keepalives and user timeout (read
    back with SHOW); the client's socket has libpq's (read with getsockopt)."""
    a = ShardLeases(pg, "a", every=2.0)
    a.open()
    try:
        shown = {
            name: a._exec(f"SHOW {name}")
            for name in ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count")
        }
        assert shown == {
            "tcp_keepalives_idle": "2",
            "tcp_keepalives_interval": "1",
            "tcp_keepalives_count": "3",
        }
        assert a._exec("SHOW tcp_user_timeout") == "5000"  # ms
        assert a._exec("SHOW statement_timeout") == "3s"
        assert a._exec("SHOW client_connection_check_interval") == "1s"
        conn = a._conn
        assert conn is not None
        fd = conn.connection.dbapi_connection.fileno()  # type: ignore[union-attr]
        sock = socket.socket(fileno=fd)
        try:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 2
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 1
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 3000
        finally:
            sock.detach()  # libpq's descriptor: not ours to close
        # the store's own pool is not touched: its sessions keep the server's defaults
        with pg.engine.connect() as other:
            assert other.execute(text("SHOW tcp_user_timeout")).scalar() == "0"
    finally:
        a.dispose()


def test_a_statement_blocked_on_the_lock_session_is_cut_short(pg: Store) -> None:
    """sever() from another thread (the member's fence) ends a statement blocked on the
    session at once; the session is closed and its locks are gone."""
    a = ShardLeases(pg, "a", every=5.0)  # statement bound 7.5 s: the sever is what ends it
    a.open()
    try:
        assert a.try_lock(1)
        timer = threading.Timer(0.3, a.sever)
        timer.start()
        began = time.monotonic()
        with pytest.raises(LeaseLost, match="shard lock session failed"):
            a._exec("SELECT pg_sleep(30)")
        assert time.monotonic() - began < a.timeouts.statement
        timer.join()
        with pytest.raises(LeaseLost, match="closed"):
            a.ping()
        for _ in range(50):
            if 1 not in lock_owners(pg):
                break
            time.sleep(0.1)
        assert 1 not in lock_owners(pg)
    finally:
        a.dispose()


def test_sqlite_is_refused(tmp_path: Path) -> None:
    with (
        Store.open(f"sqlite:///{tmp_path / 's.sqlite'}") as store,
        pytest.raises(GovnetError, match="sharding needs a shared PostgreSQL store"),
    ):
        ShardLeases(store, "a")
