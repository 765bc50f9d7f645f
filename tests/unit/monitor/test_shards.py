"""The shard hash and the balancing decision (pure: no database)."""

from __future__ import annotations

import hashlib
import math

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from govnet.cli.monitor import ShardsParam
from govnet.monitor.shards import AUTO_SHARDS, MAX_SHARDS, fair_share, plan, shard_of, split


def test_shard_of_is_sha1_of_the_name_mod_n() -> None:
    # the documented formula, computed independently: stable across hosts and Pythons
    for name in ("sw1", "核心交换机-1", "ups-3.county"):
        digest = hashlib.sha1(name.encode("utf-8")).digest()
        assert shard_of(name, 7) == int.from_bytes(digest[:8], "big") % 7
    assert shard_of("sw1", 16) == 1 and shard_of("core-1", 16) == 11 and shard_of("x", 16) == 4
    assert shard_of("anything", 1) == 0
    with pytest.raises(ValueError):
        shard_of("sw1", 0)


def test_shards_spread_devices_evenly() -> None:
    names = [f"dev-{i:05d}" for i in range(8000)]
    sizes = [len(v) for v in split(names, 8).values()]
    assert sum(sizes) == 8000
    assert max(sizes) < 1000 * 1.1 and min(sizes) > 1000 * 0.9


def test_fair_share_is_the_ceiling() -> None:
    assert fair_share(8, 3) == 3
    assert fair_share(8, 4) == 2
    assert fair_share(8, 0) == 8  # alone (itself not yet counted)
    assert fair_share(3, 5) == 1


def test_a_lone_member_takes_every_free_shard() -> None:
    step = plan(4, held=set(), taken=set(), live=1)
    assert step.take == (0, 1, 2, 3) and step.release == ()


def test_a_member_takes_only_free_shards_up_to_its_share() -> None:
    step = plan(8, held={0, 1}, taken={0, 1, 2, 3, 4}, live=3)
    assert step.take == (5,) and step.release == ()


def test_surplus_is_released_highest_first_shard_0_last() -> None:
    # a second member joined: 8 shards / 2 live = 4 each
    step = plan(8, held=set(range(8)), taken=set(range(8)), live=2)
    assert step.release == (7, 6, 5, 4) and step.take == ()
    step = plan(4, held={0, 3}, taken={0, 3}, live=4)
    assert step.release == (3,)
    step = plan(4, held={0}, taken={0}, live=4)
    assert step == plan(4, {0}, {0}, 4) and step.release == ()


@given(
    n=st.integers(1, 40),
    members=st.integers(1, 8),
    rounds=st.integers(1, 5),
    order=st.randoms(use_true_random=False),
)
def test_balancing_converges_to_fair_and_complete(
    n: int, members: int, rounds: int, order: object
) -> None:
    """Members stepping in any order (locks exclusive, as PostgreSQL's) end with every shard
    held exactly once and nobody above ceil(N / members); from any start, joins included."""
    import random

    rnd: random.Random = order  # type: ignore[assignment]
    held: list[set[int]] = [set() for _ in range(members)]
    active = 1
    for _ in range(rounds * 4 + 2 * members + n):
        active = min(members, active + 1)  # members join one by one
        for i in rnd.sample(range(active), active):
            taken = set().union(*held)
            step = plan(n, held[i], taken, active)
            held[i] -= set(step.release)
            for s in step.take:
                if s not in set().union(*held):
                    held[i].add(s)
    all_held = [s for h in held for s in h]
    assert sorted(all_held) == list(range(n))  # each exactly once
    assert max(len(h) for h in held) <= math.ceil(n / members)


def test_a_device_taken_over_keeps_its_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    """The poller of a shard taken over polls each device first at the slot it is given and
    then every interval from it (no phase adoption after the first poll: that would poll it
    twice within an interval), starting from the state the store had."""
    import asyncio

    from govnet.monitor.config import MonitorConfig
    from govnet.monitor.model import DeviceState, DeviceStatus
    from govnet.monitor.poller import Poller
    from govnet.testing import FakeClock
    from tests.unit.monitor.support import FakeSnmp, device, system_mib

    monkeypatch.setenv("GOVNET_TEST_COMMUNITY", "test-ro")
    clock = FakeClock()
    snmp = FakeSnmp({"sw1": system_mib()})
    seen: list[float] = []

    async def go() -> Poller:
        poller = Poller([], snmp, MonitorConfig(), clock)
        start = clock.time()
        seed = DeviceStatus("sw1", state=DeviceState.UP, since=start - 3600, last_poll=start - 53)
        poller.set_devices([device()], first_due={"sw1": start + 7}, seed={"sw1": seed})
        assert poller.statuses["sw1"].since == start - 3600  # the stored state, not "unknown"
        for _ in range(200):
            for r in await poller.run_due():
                seen.append(r.started - start)
            clock.advance(1)
        return poller

    poller = asyncio.run(go())
    assert seen == [7.0, 67.0, 127.0, 187.0]
    assert poller.polls("sw1") and not poller.polls("sw2")


def test_shards_option_takes_a_number_or_auto() -> None:
    param = ShardsParam()
    assert (
        param.convert("16", None, None) == 16 and param.convert("AUTO", None, None) == AUTO_SHARDS
    )
    assert param.convert(str(MAX_SHARDS), None, None) == MAX_SHARDS
    for bad in ("0", "-3", "4097", "sixteen", ""):
        with pytest.raises(click.BadParameter, match="expected a number of shards from 1 to 4096"):
            param.convert(bad, None, None)
