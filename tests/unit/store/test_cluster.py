"""Shard leases on a real PostgreSQL: exclusive, dying with their session, apart from the daemon
lock; the cluster rows; SQLite refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from govnet.errors import GovnetError
from govnet.store.cluster import (
    LeaseLost,
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


def test_sqlite_is_refused(tmp_path: Path) -> None:
    with (
        Store.open(f"sqlite:///{tmp_path / 's.sqlite'}") as store,
        pytest.raises(GovnetError, match="sharding needs a shared PostgreSQL store"),
    ):
        ShardLeases(store, "a")
