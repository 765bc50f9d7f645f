"""The monitor's store: batches, latest values, rollups and retention, alerts, the lock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from govnet.errors import GovnetError
from govnet.store.db import Store
from govnet.store.monitor import Batch, MonitorStore
from tests.pgserver import PostgresServer

T0 = 1_800_000_000.0  # a multiple of 3600


@pytest.fixture
def ms(store_url: str) -> Iterator[MonitorStore]:
    """The monitor store on SQLite and on PostgreSQL (a fresh database each)."""
    store = Store.open(store_url)
    yield MonitorStore(store)
    store.engine.dispose()


def batch(ts: float, value: float, device: str = "sw1") -> Batch:
    return Batch(
        samples=[(device, "if_in_bps", "Gi0/1", ts, value), (device, "up", "", ts, 1.0)],
        latest=[(device, "if_util_pct", "Gi0/1", ts, value / 1e7, "")],
        devices=[
            {
                "device": device,
                "zone": "internal",
                "site": "city",
                "role": "access",
                "rack": "",
                "state": "up",
                "since": T0,
                "last_poll": ts,
                "last_ok": ts,
                "failures": 0,
                "error": "",
                "error_kind": "",
                "rtt_ms": 1.0,
                "uptime_s": 5.0,
                "next_poll": ts + 60,
                "sys_name": device,
                "sys_descr": "",
            }
        ],
    )


def test_write_latest_and_states(ms: MonitorStore) -> None:
    ms.write(batch(T0, 1e6), T0)
    ms.write(batch(T0 + 60, 3e6), T0 + 60)
    ms.write(batch(T0 + 60, 3e6), T0 + 60)  # a replayed batch changes nothing
    assert ms.count_samples() == 4
    assert ms.values(("sw1", "if_in_bps", "Gi0/1"), T0, T0 + 60) == [(T0, 1e6), (T0 + 60, 3e6)]
    assert [r["value"] for r in ms.top("if_util_pct", 5)] == [0.3]
    assert ms.device_states()[0]["state"] == "up"
    ms.forget_devices(["sw1"])
    assert ms.device_states() == [] and ms.latest_values() == []


def test_rollups_and_retention(ms: MonitorStore) -> None:
    for i in range(0, 3 * 3600, 60):  # three hours of one sample a minute, value = minute
        ms.write(batch(T0 + i, float(i // 60)), T0 + i)
    now = T0 + 3 * 3600 + 600
    counts = ms.maintain(now, raw=3600, rollup_5m=2 * 3600, rollup_1h=365 * 86400)
    key = ("sw1", "if_in_bps", "Gi0/1")
    assert counts["rollup_300"] == 2 * 36  # two series × 36 complete 5-minute buckets
    five = ms.values(key, 0, now, step=300)
    assert five[0] == (T0 + 4200, 72.0)  # older 5-minute rollups are past their 2 h
    hourly = ms.values(key, 0, now, step=3600)
    assert hourly == [(T0, 29.5), (T0 + 3600, 89.5), (T0 + 7200, 149.5)]
    raw = ms.values(key, 0, now)
    assert raw[0][0] >= now - 3600  # raw samples older than an hour are gone
    # maintenance again: nothing rolled twice
    again = ms.maintain(now, raw=3600, rollup_5m=2 * 3600, rollup_1h=365 * 86400)
    assert again["rollup_300"] == 0 and again["rollup_3600"] == 0


def alert_row(key: str = "r|sw1|", ts: float = T0) -> dict[str, object]:
    return {
        "key": key,
        "rule": "r",
        "device": "sw1",
        "instance": "",
        "severity": "critical",
        "status": "firing",
        "opened": ts,
        "updated": ts,
        "message": "m",
        "title_en": "t",
        "title_zh": "标题",
    }


def test_one_firing_alert_per_problem(ms: MonitorStore) -> None:
    first = ms.open_alert(alert_row())
    with pytest.raises(GovnetError):
        ms.open_alert(alert_row())
    assert ms.update_firing("r|sw1|", {"value": 3.0, "updated": T0 + 1}, "x", "d", T0 + 1) == first
    assert ms.ack([first, 999], "ops", "looking", T0 + 2) == [first]
    assert ms.acked_firing_keys() == {"r|sw1|"}
    ms.update_firing("r|sw1|", {"status": "resolved", "resolved": T0 + 3}, "resolved", "", T0 + 3)
    second = ms.open_alert(alert_row(ts=T0 + 4))
    assert second != first
    assert [a["id"] for a in ms.list_alerts(status=None)] == [second, first]
    events = [e["event"] for e in ms.alert_events(first)]
    assert events == ["opened", "x", "acked", "resolved"]


def test_one_daemon_per_store(ms: MonitorStore) -> None:
    busy = r"another govnetd already monitors this store \(pid 1 on test"
    with (
        ms.daemon_lock("pid 1 on test"),
        pytest.raises(GovnetError, match=busy),
        ms.daemon_lock("pid 2"),
    ):
        pass
    with ms.daemon_lock("pid 3"):
        pass


def test_postgresql_bulk_writes_the_rows_sqlite_writes(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """PostgreSQL writes a batch per table in one ``unnest`` statement: a repeated latest value
    or device keeps its last row, a stored or repeated sample its first, as SQLite's row by row."""
    second = batch(T0 + 60, 2e6)
    second.samples += [
        ("sw1", "if_in_bps", "Gi0/1", T0, 9.0),  # already stored: stays 1e6
        ("sw1", "if_in_bps", "Gi0/1", T0 + 60, 7.0),  # repeated in the batch: the first wins
        ("sw2", "up", "", T0 + 60, 0),  # an int among floats
    ]
    device, metric, instance, ts, _, _ = second.latest[0]
    again = (device, metric, instance, ts, 0.5, "last")
    blank = (device, "if_alias", instance, ts, None, "上联")
    second.latest += [again, blank]
    second.devices += [{**second.devices[0], "state": "down", "rtt_ms": None}]
    seen = []
    with postgres_server.database() as pg_url:
        for url in (f"sqlite:///{tmp_path / 'store.sqlite'}", pg_url):
            store = Store.open(url)
            try:
                ms = MonitorStore(store)
                ms.write(batch(T0, 1e6), T0)
                ms.write(second, T0 + 60)
                key = ("sw1", "if_in_bps", "Gi0/1")
                seen.append(
                    (
                        ms.values(key, 0, T0 + 120),
                        ms.values(("sw2", "up", ""), 0, T0 + 120),
                        ms.count_samples(),
                        sorted(ms.latest_values(), key=lambda r: r["metric"]),
                        ms.device_rows(["sw1"]),
                    )
                )
            finally:
                store.engine.dispose()
    sqlite_rows, pg_rows = seen
    assert sqlite_rows == pg_rows
    assert sqlite_rows[0] == [(T0, 1e6), (T0 + 60, 2e6)] and sqlite_rows[1] == [(T0 + 60, 0.0)]
    assert [(r["value"], r["text"]) for r in sqlite_rows[3]] == [(None, "上联"), (0.5, "last")]
    row = sqlite_rows[4]["sw1"]
    assert (row["state"], row["rtt_ms"], row["updated"]) == ("down", None, T0 + 60)


def test_postgresql_bulk_write_recovers_from_a_failed_transaction(
    postgres_server: PostgresServer,
) -> None:
    """A batch the server refuses rolls back whole (its staging tables too) as a store error,
    not a driver exception; the next batch on the same pooled connection is written."""
    with postgres_server.database() as pg_url:
        store = Store.open(pg_url)
        try:
            ms = MonitorStore(store)
            bad = batch(T0, 1e6)
            bad.devices[0]["state"] = None  # NOT NULL: the last statement of the batch fails
            with pytest.raises(GovnetError, match=r"NotNullViolation|null value"):
                ms.write(bad, T0)
            assert ms.count_samples() == 0  # nothing of the refused batch stayed
            ms.write(batch(T0 + 60, 2e6), T0 + 60)
            assert ms.values(("sw1", "if_in_bps", "Gi0/1"), 0, T0 + 120) == [(T0 + 60, 2e6)]
            assert ms.device_rows(["sw1"])["sw1"]["state"] == "up"
        finally:
            store.engine.dispose()


def test_top_reads_the_ranked_values_and_an_old_store_loses_the_slow_index(
    store_url: str,
) -> None:
    """The busiest links come from monitor_ranked, kept with monitor_latest in one write
    (the last value wins, a removed device goes); monitor_latest has no index on its value
    column, and a store made with the old one has it dropped when it is opened."""
    store = Store.open(store_url)
    try:
        with store.begin() as conn:  # a store made before monitor_ranked
            conn.exec_driver_sql(
                "CREATE INDEX ix_monitor_latest_metric_value ON monitor_latest (metric, value)"
            )
    finally:
        store.engine.dispose()
    store = Store.open(store_url)
    try:
        assert "ix_monitor_latest_metric_value" not in {
            ix["name"] for ix in inspect(store.engine).get_indexes("monitor_latest")
        }
        ms = MonitorStore(store)
        rows = [
            ("sw1", "if_util_pct", "Gi0/1", T0, 12.5, ""),
            ("sw1", "if_util_pct", "Gi0/2", T0, 97.0, ""),
            ("sw2", "if_util_pct", "Gi0/1", T0, 40.0, ""),
            ("sw2", "if_util_pct", "Gi0/9", T0, None, ""),
            ("sw2", "cpu_pct", "", T0, 99.0, ""),
        ]
        ms.write(Batch([], rows, []), T0)
        ms.write(Batch([], [("sw1", "if_util_pct", "Gi0/2", T0 + 60, 3.0, "")], []), T0 + 60)
        top = [(r["device"], r["instance"], r["value"]) for r in ms.top("if_util_pct", 3)]
        assert top == [("sw2", "Gi0/1", 40.0), ("sw1", "Gi0/1", 12.5), ("sw1", "Gi0/2", 3.0)]
        ms.forget_devices(["sw2"])
        assert [r["device"] for r in ms.top("if_util_pct", 5)] == ["sw1", "sw1"]
        with pytest.raises(ValueError, match="not ranked"):
            ms.top("cpu_pct", 3)
    finally:
        store.engine.dispose()


def test_series_ids_remembered_by_position_follow_a_change_of_shape(store_url: str) -> None:
    """A device's series ids are remembered by the order of its samples: a new interface,
    a removed one, the same device twice in one batch and a refused batch (its new series
    rolled back) all still put every value on its own series."""
    store = Store.open(store_url)
    try:
        ms = MonitorStore(store)

        def poll(ts: float, ports: list[str]) -> list[tuple[str, str, str, float, float]]:
            return [("sw1", "if_in_bps", p, ts, ts + k) for k, p in enumerate(ports)] + [
                ("sw2", "up", "", ts, 1.0)
            ]

        ms.write(Batch(poll(T0, ["Gi0/1", "Gi0/2"]), [], []), T0)
        ms.write(Batch(poll(T0 + 60, ["Gi0/1", "Gi0/2"]), [], []), T0 + 60)
        ms.write(Batch(poll(T0 + 120, ["Gi0/3", "Gi0/1"]), [], []), T0 + 120)  # new, moved
        twice = poll(T0 + 180, ["Gi0/2"]) + poll(T0 + 181, ["Gi0/1", "Gi0/2", "Gi0/3"])
        ms.write(Batch(twice, [], []), T0 + 181)
        refused = batch(T0 + 240, 0.0).devices
        refused[0]["state"] = None  # NOT NULL: the batch's last statement fails
        bad = Batch(poll(T0 + 240, ["Gi0/4"]), [], refused)
        with pytest.raises(GovnetError):
            ms.write(bad, T0 + 240)  # Gi0/4's new series is rolled back with it
        ms.write(Batch(poll(T0 + 300, ["Gi0/4"]), [], []), T0 + 300)  # as refused

        def values(port: str) -> list[tuple[float, float]]:
            return ms.values(("sw1", "if_in_bps", port), 0, T0 + 600)

        assert values("Gi0/1") == [
            (T0, T0),
            (T0 + 60, T0 + 60),
            (T0 + 120, T0 + 121),
            (T0 + 181, T0 + 181),
        ]
        assert values("Gi0/2") == [
            (T0, T0 + 1),
            (T0 + 60, T0 + 61),
            (T0 + 180, T0 + 180),
            (T0 + 181, T0 + 182),
        ]
        assert values("Gi0/3") == [(T0 + 120, T0 + 120), (T0 + 181, T0 + 183)]
        assert values("Gi0/4") == [(T0 + 300, T0 + 300)]
        assert len(ms.values(("sw2", "up", ""), 0, T0 + 600)) == 6
    finally:
        store.engine.dispose()


def test_postgresql_series_another_poller_creates_meanwhile_are_looked_up(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pollers' first polls of a device's new interface race: the series the other one
    inserted between this one's lookup and its insert is not returned by the insert (ON
    CONFLICT DO NOTHING) and is looked up again; every value lands on the one series."""
    with postgres_server.database() as url:
        store = Store.open(url)
        try:
            ms, other = MonitorStore(store), MonitorStore(store)
            create = ms._create_series_pg

            def racing(conn: Any, keys: list[tuple[str, str, str]]) -> Any:
                # committed in its own transaction while this one is between the two steps
                other.write(Batch([("sw1", "if_in_bps", "Gi0/1", T0, 1.0)], [], []), T0)
                return create(conn, keys)

            monkeypatch.setattr(ms, "_create_series_pg", racing)
            polled = [
                ("sw1", "if_in_bps", p, T0 + 60, v) for p, v in (("Gi0/1", 2.0), ("Gi0/2", 3.0))
            ]
            ms.write(Batch(polled, [], []), T0 + 60)
            assert ms.values(("sw1", "if_in_bps", "Gi0/1"), 0, T0 + 600) == [
                (T0, 1.0),
                (T0 + 60, 2.0),
            ]
            assert ms.values(("sw1", "if_in_bps", "Gi0/2"), 0, T0 + 600) == [(T0 + 60, 3.0)]
            with store.begin() as conn:
                assert conn.exec_driver_sql("SELECT count(*) FROM monitor_series").scalar() == 2
        finally:
            store.engine.dispose()
