"""The poller with a fake clock and a fake SNMP backend: schedules, states, backoff, rates."""

from __future__ import annotations

import asyncio
from itertools import pairwise

import pytest

from govnet.monitor.config import MonitorConfig
from govnet.monitor.model import DeviceState
from govnet.monitor.poller import Poller
from govnet.testing import FakeClock
from tests.unit.monitor.support import FakeSnmp, device, interfaces_mib, system_mib

IN1 = "1.3.6.1.2.1.31.1.1.1.6.1"


@pytest.fixture(autouse=True)
def community(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVNET_TEST_COMMUNITY", "test-ro")


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def values(result, metric: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {s.instance: s.value for s in result.samples if s.metric == metric}


def test_rates_from_two_polls_and_gaps_on_wrap_and_reboot() -> None:
    mib = {**system_mib(), **interfaces_mib([("Gi0/1", 1, 1_000_000, 500_000)])}
    snmp = FakeSnmp({"sw1": mib})
    clock = FakeClock()

    async def go() -> list:  # type: ignore[type-arg]
        poller = Poller([device()], snmp, MonitorConfig(), clock)
        out = [await poller.poll("sw1")]
        clock.advance(60)
        mib["1.3.6.1.2.1.1.3.0"] = 106_000
        mib[IN1] = 1_000_000 + 60 * 1_000_000  # 1 MB/s = 8 Mbit/s
        out.append(await poller.poll("sw1"))
        clock.advance(60)
        mib["1.3.6.1.2.1.1.3.0"] = 500  # rebooted: uptime went down
        mib[IN1] = 10
        out.append(await poller.poll("sw1"))
        clock.advance(60)
        mib["1.3.6.1.2.1.1.3.0"] = 6500
        mib[IN1] = 10 + 60 * 2_000
        out.append(await poller.poll("sw1"))
        return out

    first, second, reboot, after = run(go())
    assert values(first, "if_in_bps") == {}  # nothing to compare with yet
    assert values(second, "if_in_bps") == {"Gi0/1": 8_000_000.0}
    assert reboot.rebooted and values(reboot, "if_in_bps") == {}  # a gap, not a spike
    assert [e.kind for e in reboot.events] == ["reboot"]
    assert values(after, "if_in_bps") == {"Gi0/1": 16_000.0}
    util = {i: v for m, i, v, _ in second.latest if m == "if_util_pct"}
    assert util == {"Gi0/1": 0.8}


def test_rates_follow_interfaces_by_index_when_the_set_changes() -> None:
    """Counters are remembered by position in the device's interfaces; when the interfaces
    change (one removed, one added, re-read), each rate still compares its own interface's
    readings, a new interface has none yet, and a counter not read gives no rate."""
    mib = {
        **system_mib(),
        **interfaces_mib([("Gi0/1", 1, 1_000, 1_000), ("Gi0/2", 1, 5_000, 5_000)]),
    }
    del mib["1.3.6.1.2.1.31.1.1.1.10.2"]  # Gi0/2's ifHCOutOctets not there on this poll
    snmp = FakeSnmp({"sw1": mib})
    clock = FakeClock()

    async def go() -> list:  # type: ignore[type-arg]
        poller = Poller([device()], snmp, MonitorConfig(), clock)
        out = [await poller.poll("sw1")]
        clock.advance(60)
        mib.clear()  # Gi0/1 removed from the agent, Gi0/3 added: indices 2 and 3
        ports = interfaces_mib([("Gi0/1", 1, 0, 0), ("Gi0/2", 1, 0, 0), ("Gi0/3", 1, 0, 0)])
        mib.update({k: v for k, v in ports.items() if not k.endswith(".1")})
        mib.update(system_mib(uptime_ticks=106_000))
        mib["1.3.6.1.2.1.31.1.1.1.6.2"] = 5_000 + 60 * 1_000  # 8 kbit/s in
        mib["1.3.6.1.2.1.31.1.1.1.10.2"] = 5_000 + 60 * 2_000
        mib["1.3.6.1.2.1.31.1.1.1.6.3"] = 7_000
        poller._entries["sw1"].memory.interfaces = None  # read the names again
        out.append(await poller.poll("sw1"))
        return out

    first, second = run(go())
    assert values(first, "if_in_bps") == {}
    assert values(second, "if_in_bps") == {"Gi0/2": 8_000.0}  # Gi0/3 is new: no rate yet
    assert values(second, "if_out_bps") == {}  # Gi0/2's out was not read the poll before


def test_32bit_counters_when_asked_and_wrap_is_a_gap() -> None:
    mib = {**system_mib(), **interfaces_mib([("Gi0/1", 1, 2**32 - 1000, 0)])}
    snmp = FakeSnmp({"sw1": mib})
    clock = FakeClock()

    async def go() -> list:  # type: ignore[type-arg]
        poller = Poller([device(if_counters=32)], snmp, MonitorConfig(), clock)
        out = [await poller.poll("sw1")]
        clock.advance(30)
        mib["1.3.6.1.2.1.1.3.0"] = 103_000
        mib["1.3.6.1.2.1.2.2.1.10.1"] = 5000  # wrapped
        out.append(await poller.poll("sw1"))
        clock.advance(30)
        mib["1.3.6.1.2.1.1.3.0"] = 106_000
        mib["1.3.6.1.2.1.2.2.1.10.1"] = 5000 + 30 * 100
        out.append(await poller.poll("sw1"))
        return out

    _, wrapped, after = run(go())
    assert values(wrapped, "if_in_bps") == {}
    assert [e.detail for e in wrapped.events] == ["Gi0/1 in: wrap, left as a gap"]
    assert values(after, "if_in_bps") == {"Gi0/1": 800.0}
    assert ("sw1", "1.3.6.1.2.1.31.1.1.1.6") not in snmp.requests  # never asked for HC


def test_unreachable_then_down_with_backoff_then_up() -> None:
    snmp = FakeSnmp({"sw1": system_mib()})
    clock = FakeClock()
    config = MonitorConfig(retry_delay=15, down_after=45, max_backoff=480, first_spread=0)
    polls: list[tuple[float, DeviceState]] = []

    async def go() -> None:
        poller = Poller([device()], snmp, config, clock)
        start = clock.time()
        await poller.run_due()
        snmp.silent.add("sw1")
        for _ in range(3000):
            clock.advance(1)
            for _ in await poller.run_due():
                polls.append((clock.time() - start, poller.statuses["sw1"].state))
            if clock.time() - start > 2000:
                break
        snmp.silent.clear()
        while poller.statuses["sw1"].state is not DeviceState.UP:
            clock.advance(1)
            await poller.run_due()

    run(go())
    states = [s for _, s in polls]
    assert states[0] is DeviceState.UNREACHABLE
    assert DeviceState.DOWN in states
    first_down = states.index(DeviceState.DOWN)
    times = [t for t, _ in polls]
    unreachable_gaps = [b - a for a, b in pairwise(times[: first_down + 1])]
    assert all(g <= 15 for g in unreachable_gaps)  # retried quickly while unreachable
    down_gaps = [b - a for a, b in pairwise(times[first_down:])]
    assert down_gaps[:5] == [60, 120, 240, 480, 480]  # interval, then doubling, capped


def test_a_hung_device_costs_its_own_timeout_only() -> None:
    mibs = {f"sw{i}": system_mib(name=f"sw{i}") for i in range(5)}
    snmp = FakeSnmp(mibs)
    snmp.delay["sw0"] = 3600  # never answers in time

    async def go() -> tuple[float, list]:  # type: ignore[type-arg]
        loop = asyncio.get_running_loop()
        poller = Poller(
            [device(f"sw{i}") for i in range(5)],
            snmp,
            MonitorConfig(poll_timeout=0.5, concurrency=2),
        )
        t0 = loop.time()
        results = await poller.poll_all()
        return loop.time() - t0, results

    elapsed, results = run(go())
    assert elapsed < 10  # sw0's 0.5 s, not its 3600 s (the slack: a loaded CI machine)
    by = {r.device: r for r in results}
    assert not by["sw0"].ok and by["sw0"].error == "poll did not finish within 0.5 s"
    assert all(by[f"sw{i}"].ok for i in range(1, 5))


def test_schedule_keeps_phase_and_intervals_by_role_and_vars() -> None:
    snmp = FakeSnmp({n: system_mib(name=n) for n in ("core", "ups", "fast")})
    clock = FakeClock()
    devices = [
        device("core", role="core"),
        device("ups", role="ups"),
        device("fast", role="access", poll_interval="10s"),
    ]
    seen: dict[str, list[float]] = {d.name: [] for d in devices}

    async def go() -> None:
        poller = Poller(devices, snmp, MonitorConfig(first_spread=5), clock)
        start = clock.time()
        while clock.time() - start < 400:
            for r in await poller.run_due():
                seen[r.device].append(r.scheduled - start)
            clock.advance(0.5)

    run(go())
    for name, interval in (("core", 60.0), ("ups", 30.0), ("fast", 10.0)):
        times = seen[name]
        assert times[0] <= 5  # first polls come quickly
        gaps = {round(b - a, 3) for a, b in pairwise(times[1:])}
        assert gaps == {interval}, (name, gaps)


def test_first_polls_of_many_devices_are_spread_at_the_first_rate() -> None:
    """Thousands of devices at start: their first polls come at most ``first_rate`` a second
    (never later than one interval); a handful still within ``first_spread``."""
    clock = FakeClock()
    config = MonitorConfig(first_spread=5, first_rate=100)
    many = [device(f"sw{i:04d}") for i in range(3000)]
    poller = Poller(many[:2000], FakeSnmp({}), config, clock)
    start = clock.monotonic()
    firsts = sorted(due - start for due in poller._due.values())
    assert firsts[-1] <= 20.0  # 2,000 at 100 a second
    assert firsts[-1] > 17.0 and firsts[len(firsts) // 2] > 7.0  # not all in 5 s
    slow = Poller(many, FakeSnmp({}), MonitorConfig(first_spread=5, first_rate=10), clock)
    # 3,000 at 10 a second: 300 s, five whole intervals of the access switches (60 s)
    latest = max(slow._due.values()) - clock.monotonic()
    assert 290.0 < latest <= 300.0
    few = Poller(many[:20], FakeSnmp({}), config, clock)
    assert max(few._due.values()) - clock.monotonic() <= 5.0


def test_first_polls_filling_half_the_interval_take_their_phase_at_once() -> None:
    """3,000 devices at 100 first polls a second would take 30 s of a 60 s interval: the
    first polls are spread over the whole interval instead, and each device's second poll
    comes one interval after its first (not at a phase of its own, on top of the first
    polls of the others): the start is no busier than the steady state."""
    clock = FakeClock()
    many = [device(f"sw{i:04d}") for i in range(3000)]
    snmp = FakeSnmp({d.name: system_mib(name=d.name) for d in many})
    poller = Poller(many, snmp, MonitorConfig(first_spread=5, first_rate=100), clock)
    start = clock.monotonic()
    firsts = {name: due - start for name, due in poller._due.items()}
    assert 57.0 < max(firsts.values()) <= 60.0
    per_10s = [sum(1 for t in firsts.values() if k <= t < k + 10) for k in range(0, 60, 10)]
    assert max(per_10s) < 650  # about 500 each (3,000 over 60 s), not 1,000 (100 a second)
    polled: dict[str, list[float]] = {}

    async def go() -> None:
        while clock.monotonic() - start < 130:
            for r in await poller.run_due():
                polled.setdefault(r.device, []).append(r.scheduled)
            clock.advance(0.5)

    run(go())
    wall0 = clock.time() - (clock.monotonic() - start)
    for name in ("sw0000", "sw0001", "sw1500", "sw2999"):
        times = polled[name]
        assert abs(times[0] - wall0 - firsts[name]) <= 0.5
        assert [round(b - a) for a, b in pairwise(times)] == [60] * (len(times) - 1)


def test_first_polls_needing_more_than_an_interval_take_whole_intervals() -> None:
    """5,000 devices at 60 first polls a second need 83 s: they are spread over two whole
    intervals (120 s), so their phases stay even within the 60 s interval."""
    clock = FakeClock()
    many = [device(f"sw{i:04d}") for i in range(5000)]
    poller = Poller(many, FakeSnmp({}), MonitorConfig(first_spread=5, first_rate=60), clock)
    start = clock.monotonic()
    firsts = [due - start for due in poller._due.values()]
    assert 115.0 < max(firsts) <= 120.0
    per_10s = [sum(1 for t in firsts if k <= t % 60 < k + 10) for k in range(0, 60, 10)]
    assert min(per_10s) > 700 and max(per_10s) < 970  # ~833 each


def test_reload_keeps_state_and_drops_removed() -> None:
    snmp = FakeSnmp({"a": system_mib(name="a"), "b": system_mib(name="b")})

    async def go() -> Poller:
        poller = Poller([device("a"), device("b")], snmp, MonitorConfig())
        await poller.poll_all()
        poller.set_devices([device("a"), device("c", poll_interval="soon")])
        return poller

    poller = run(go())
    assert set(poller.devices) == {"a"}
    assert poller.statuses["a"].state is DeviceState.UP
    assert "b" not in poller.statuses
    assert "c: bad vars.poll_interval 'soon'" in poller.skipped["c"]
