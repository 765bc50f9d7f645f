"""The store writer's latest values: unchanged ones are not rewritten until their refresh."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest

from govnet.monitor.daemon import LATEST_REFRESH, StoreWriter
from govnet.monitor.model import DeviceState, DeviceStatus, PollResult, Sample
from govnet.store.db import Store
from govnet.store.monitor import Batch, MonitorStore

T0 = 1_800_000_000.0


def poll(ts: float, util: float, alias: str = "上联", ports: int = 2) -> PollResult:
    result = PollResult(device="sw1", started=ts, scheduled=ts, ok=True)
    for i in range(ports):
        result.samples.append(Sample("if_in_bps", f"Gi0/{i}", ts + i))  # changes each poll
        result.latest.append(("if_util_pct", f"Gi0/{i}", util if i == 0 else 5.0, ""))
        result.latest.append(("if_alias", f"Gi0/{i}", None, alias))
    return result


def stamps(ms: MonitorStore) -> dict[tuple[str, str], tuple[float, float | None, str]]:
    return {
        (r["metric"], r["instance"]): (r["ts"], r["value"], r["text"])
        for r in ms.latest_values(device="sw1")
    }


def test_unchanged_latest_values_wait_for_their_refresh(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'm.sqlite'}")
    try:
        ms = MonitorStore(store)
        writer = StoreWriter(ms)  # not started: writes in the caller
        status = DeviceStatus("sw1", state=DeviceState.UP)
        writer.poll(poll(T0, 10.0), status)
        first = stamps(ms)
        assert first[("if_util_pct", "Gi0/0")] == (T0, 10.0, "")
        assert first[("if_alias", "Gi0/1")] == (T0, None, "上联")

        writer.poll(poll(T0 + 60, 20.0), status)  # one value changed
        second = stamps(ms)
        assert second[("if_util_pct", "Gi0/0")] == (T0 + 60, 20.0, "")
        assert second[("if_util_pct", "Gi0/1")] == first[("if_util_pct", "Gi0/1")]
        assert second[("if_alias", "Gi0/0")] == first[("if_alias", "Gi0/0")]
        assert second[("if_in_bps", "Gi0/1")][0] == T0 + 60  # changed: written

        writer.poll(poll(T0 + 120, 20.0, alias="到县局"), status)  # a text changed
        assert stamps(ms)[("if_alias", "Gi0/1")] == (T0 + 120, None, "到县局")

        writer.poll(poll(T0 + 180, 20.0, alias="到县局", ports=3), status)  # a new port
        third = stamps(ms)
        assert {ts for ts, _, _ in third.values()} == {T0 + 180}  # the shape changed: all
        writer.poll(poll(T0 + 180 + LATEST_REFRESH, 20.0, alias="到县局", ports=3), status)
        assert {ts for ts, _, _ in stamps(ms).values()} == {T0 + 180 + LATEST_REFRESH}

        # another poller wrote the device meanwhile (a shard taken over): forgotten, the
        # next poll writes everything again even where it matches what was written here
        with store.begin() as conn:
            conn.exec_driver_sql("UPDATE monitor_latest SET value = 99.0, ts = 0")
        writer.forget(["sw1"])
        writer.poll(poll(T0 + 240 + LATEST_REFRESH, 20.0, alias="到县局", ports=3), status)
        assert stamps(ms)[("if_util_pct", "Gi0/0")] == (T0 + 240 + LATEST_REFRESH, 20.0, "")
        assert stamps(ms)[("if_util_pct", "Gi0/2")] == (T0 + 240 + LATEST_REFRESH, 5.0, "")
    finally:
        store.engine.dispose()


def test_a_writer_stopped_before_it_drained_says_what_is_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A store slower than the stop timeout: the items still queued are named in an error
    line, not dropped in silence."""
    store = Store.open(f"sqlite:///{tmp_path / 'm.sqlite'}")
    try:
        ms = MonitorStore(store)
        slow, entered = threading.Event(), threading.Event()
        write = ms.write

        def slow_write(batch: Batch, now: float) -> None:
            entered.set()
            slow.wait(5)  # held until the test ends
            write(batch, now)

        ms.write = slow_write  # type: ignore[method-assign]
        writer = StoreWriter(ms)
        writer.start()
        status = DeviceStatus("sw1", state=DeviceState.UP)
        for k in range(5):
            writer.poll(poll(T0 + 60 * k, float(k)), status)
        assert entered.wait(5)  # the first batch is being written; the rest wait behind it
        for k in range(5, 8):
            writer.poll(poll(T0 + 60 * k, float(k)), status)
        with caplog.at_level(logging.ERROR, logger="govnet.monitor"):
            writer.stop(timeout=0.3)
        slow.set()
        lines = [r.getMessage() for r in caplog.records]
        assert any(
            "did not finish within 0.3 s" in line and "about 4 queued" in line for line in lines
        ), lines
    finally:
        store.engine.dispose()


def test_the_writer_thread_runs_with_a_short_switch_interval(tmp_path: Path) -> None:
    """While the writer thread runs, the interpreter hands the lock over every 1 ms (not
    CPython's 5 ms), so the event loop is not kept waiting that long after each select();
    stop() puts the interpreter's own interval back."""
    store = Store.open(f"sqlite:///{tmp_path / 'm.sqlite'}")
    before = sys.getswitchinterval()
    try:
        writer = StoreWriter(MonitorStore(store))
        writer.start()
        try:
            assert sys.getswitchinterval() <= 0.001 < before
        finally:
            writer.stop()
        assert sys.getswitchinterval() == before
    finally:
        sys.setswitchinterval(before)
        store.engine.dispose()
