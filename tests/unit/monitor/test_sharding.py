"""Shard members on a real PostgreSQL with a recording host: balance as members come and go,
clean hand-over on stop, at-once stop on a failed lock session, a different N refused."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from govnet.errors import GovnetError
from govnet.monitor.sharding import (
    ShardMember,
    ShardOptions,
    cluster_view,
    guard,
    lease_period,
    resolve_shards,
)
from govnet.monitor.shards import DEFAULT_SHARDS
from govnet.store.cluster import SessionTimeouts, live_sessions
from govnet.store.db import Store
from tests.pgserver import PostgresServer


class Host:
    """Records what the member asks of the daemon."""

    def __init__(self) -> None:
        self.polling: set[int] = set()
        self.calls: list[tuple[str, tuple[int, ...], Any]] = []

    async def gain(self, shards: set[int], clean: set[int]) -> None:
        assert not shards & self.polling
        self.polling |= shards
        self.calls.append(("gain", tuple(sorted(shards)), tuple(sorted(clean))))

    async def lose(self, shards: set[int], failed: bool) -> None:
        assert shards <= self.polling
        self.polling -= shards
        self.calls.append(("lose", tuple(sorted(shards)), failed))

    def beat(self) -> dict[str, Any]:
        return {"shards": {s: 0.5 for s in self.polling}, "devices": 3, "lag_p99": 0.1}


@pytest.fixture
def pg(postgres_server: PostgresServer) -> Iterator[Store]:
    with postgres_server.database() as url, Store.open(url) as store:
        yield store


def last(host: Host) -> Any:
    """The host's last call (typed loosely: compared with literals)."""
    return host.calls[-1]


def member(pg: Store, name: str, n: int = 6) -> tuple[ShardMember, Host]:
    host = Host()
    return ShardMember(pg, ShardOptions(n, every=0.5), host, holder=name), host


def test_lease_period_and_guard() -> None:
    assert lease_period(2) == 0.5 and lease_period(20) == 5.0 and lease_period(60) == 5.0
    assert lease_period(0.5) == 0.5 and guard(0.5) == 1.5


def test_members_balance_hand_over_and_stop_at_once(
    pg: Store, postgres_server: PostgresServer
) -> None:
    async def go() -> None:
        a, ha = member(pg, "a")
        b, hb = member(pg, "b")
        await a.start()
        await a.step()
        assert a.held == set(range(6)) and ha.polling == set(range(6))
        assert ha.calls == [("gain", (0, 1, 2, 3, 4, 5), ())]  # nobody released them
        await b.start()
        await a.step()  # b is live now: a sheds to ceil(6/2) = 3, highest first
        assert a.held == {0, 1, 2} and last(ha) == ("lose", (3, 4, 5), False)
        await b.step()
        assert b.held == {3, 4, 5} and hb.calls == [("gain", (3, 4, 5), (3, 4, 5))]  # clean
        view = cluster_view(pg, time.time())
        assert [r.holder for r in view.rows] == ["a"] * 3 + ["b"] * 3 and not view.unheld
        assert view.rows[4].lag == 0.5

        # a different N is refused while these run
        c, _ = member(pg, "c", n=8)
        with pytest.raises(GovnetError, match="use --shards 6"):
            await c.start()

        # b's lock session dies: b stops polling at its next step, a takes its shards
        with postgres_server.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": b.leases.backend_pid})
        dead = b.leases.backend_pid
        for _ in range(50):
            if dead not in live_sessions(pg):
                break
            await asyncio.sleep(0.1)
        await b.step()
        assert last(hb) == ("lose", (3, 4, 5), True) and hb.polling == set()
        await a.step()  # b's row is still fresh but its session is gone: a is alone
        assert a.held == set(range(6))
        assert last(ha) == ("gain", (3, 4, 5), ())  # not clean: slots past the guard
        await b.step()  # b comes back with a new session; a sheds, b takes
        await a.step()
        await b.step()
        assert sorted([len(a.held), len(b.held)]) == [3, 3] and a.held | b.held == set(range(6))

        await a.stop()  # clean: b takes everything, marked clean
        await b.step()
        assert b.held == set(range(6)) and ha.polling == set()
        assert set(last(hb)[1]) == set(last(hb)[2])
        await b.stop()
        assert cluster_view(pg, time.time()).rows == []  # nobody left: nothing to show

    asyncio.run(go())


def test_shards_auto_takes_the_running_then_the_recorded_n(pg: Store) -> None:
    async def go() -> None:
        assert resolve_shards(pg, time.time()) == (DEFAULT_SHARDS, "default")  # never sharded
        a, _ = member(pg, "a", n=6)
        await a.start()
        assert resolve_shards(pg, time.time()) == (6, "running")
        # a poller that slipped past the start-up check with another N: auto cannot choose
        c, _ = member(pg, "c", n=8)
        await asyncio.to_thread(c.leases.open)
        await c._beat()
        with pytest.raises(GovnetError, match=r"different shard counts \(6 \(a\); 8 \(c\)\)"):
            resolve_shards(pg, time.time())
        await c.stop()
        await a.stop()
        assert resolve_shards(pg, time.time()) == (6, "recorded")  # nobody runs: the last N
        b, _ = member(pg, "b", n=4)  # an explicit N on an idle store is the new record
        await b.start()
        await b.stop()
        assert resolve_shards(pg, time.time()) == (4, "recorded")

    asyncio.run(go())


def test_a_member_blocked_past_its_lease_stops_polling_at_once(
    pg: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The fence beside the steps: a step stuck on the store (here its heartbeat waits for a
    row another transaction holds, as a write to a cut-off server would hang) cannot prove
    the lock session any more; once the lease has run out the member stops polling every
    shard, before the step's own timeout, then takes its shards again when it gets going."""

    async def go() -> None:
        a, ha = member(pg, "a")
        await a.start()
        await a.step()
        assert ha.polling == set(range(6))
        stop = asyncio.Event()
        with pg.engine.connect() as blocker:
            blocker.execute(text("SELECT 1 FROM monitor_cluster WHERE holder = 'a' FOR UPDATE"))
            running = asyncio.create_task(a.run(stop))
            for _ in range(200):
                if not ha.polling:
                    break
                await asyncio.sleep(0.05)
            assert last(ha) == ("lose", (0, 1, 2, 3, 4, 5), True) and a.held == set()
            blocker.rollback()
        for _ in range(200):
            if ha.polling == set(range(6)):
                break
            await asyncio.sleep(0.05)
        assert ha.polling == set(range(6))  # a new session: the same member polls again
        stop.set()
        await running
        await a.stop()

    with caplog.at_level(logging.ERROR, logger="govnet.monitor.sharding"):
        asyncio.run(go())
    lost = [r.getMessage() for r in caplog.records if "lock session lost" in r.getMessage()]
    lease = SessionTimeouts(0.5).lease
    assert lost and f"no answer from the shard lock session for {lease:g}s" in lost[0]


def test_a_sharded_pollers_other_sessions_die_with_a_cut_too(pg: Store) -> None:
    """The store's pooled sessions of a sharded poller carry the lock session's server-side
    keepalives (a transaction left open by a cut-off poller must not hold its rows for hours),
    and nothing else of the lock session's (no statement timeout on maintenance)."""
    with pg.engine.connect() as before:
        assert before.execute(text("SHOW tcp_user_timeout")).scalar() == "0"
    a, _ = member(pg, "a")
    member(pg, "b")  # set up once per engine
    with pg.engine.connect() as conn:
        shown = [
            conn.execute(text(f"SHOW {name}")).scalar()
            for name in ("tcp_keepalives_idle", "tcp_keepalives_count", "tcp_user_timeout")
        ]
        assert shown == ["1", "2", "3000"]
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"
    assert a.leases.timeouts.server_drop == 3


def test_next_slot_keeps_the_phase_and_is_never_the_last_poll_again() -> None:
    from govnet.monitor.daemon import next_slot

    assert next_slot(100.0, 130.0, 60.0) == 160.0  # the next one
    assert next_slot(100.0, 160.0, 60.0) == 160.0  # a slot exactly at ``after`` counts
    assert next_slot(100.0, 161.0, 60.0) == 220.0  # one passed: the one after
    assert next_slot(100.0, 90.0, 60.0) == 160.0  # never the last poll itself
