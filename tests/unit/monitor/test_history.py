"""History from the store (raw samples, rollups, the part not rolled up yet) as charts and
CSV/JSON (`govnet monitor history`), and the per-link 95th percentile report
(`govnet report traffic`) in every format."""

from __future__ import annotations

import io
import json
import time
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from rich.console import Console

from govnet.cli.main import cli
from govnet.dashboard.chart import history_chart
from govnet.errors import GovnetError
from govnet.monitor.history import parse_since, percentile, read_history, step_for, traffic_report
from govnet.store.db import Store
from govnet.store.monitor import Batch, MonitorStore
from tests.conftest import LAB_INVENTORY

M = 1e6
NOW = float(int(time.time() // 300) * 300)
END = NOW - 300  # the last bucket of data ends here
START = END - 100 * 300


def bucket_values(j: int) -> list[float]:
    """Five samples a bucket: 94 buckets at 100M, one with a single 950M spike, five at 900M."""
    if j == 50:
        return [100 * M] * 4 + [950 * M]
    if j >= 95:
        return [900 * M] * 5
    return [100 * M] * 5


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    ms = MonitorStore(Store.open(f"sqlite:///{path}"))
    samples = []
    for j in range(100):
        for k, value in enumerate(bucket_values(j)):
            ts = START + j * 300 + k * 60
            samples.append(("core-1", "if_in_bps", "GE1/0/1", ts, value))
            samples.append(("core-1", "if_out_bps", "GE1/0/1", ts, 10 * M))
            samples.append(("core-1", "if_in_bps", "GE1/0/2", ts, 1 * M))
            samples.append(("core-1", "rtt_ms", "", ts, 2.0 + (j % 3)))
    latest = [
        ("core-1", m, i, END, v, t)
        for m, i, v, t in (
            ("if_speed_bps", "GE1/0/1", 1e9, ""),
            ("if_speed_bps", "GE1/0/2", 1e8, ""),
            ("if_alias", "GE1/0/1", None, "uplink to 政务外网"),
            ("if_in_bps", "GE1/0/1", 900 * M, ""),
            ("if_in_bps", "GE1/0/2", M, ""),
        )
    ]
    ms.write(Batch(samples, latest, []), END)
    # the first 60 buckets are rolled up; the rest is still raw only
    ms.maintain(START + 60 * 300 + 120, raw=10 * 86400, rollup_5m=30 * 86400, rollup_1h=400 * 86400)
    ms.store.engine.dispose()
    return path


def store(db: Path) -> MonitorStore:
    return MonitorStore(Store.open(f"sqlite:///{db}"))


def test_resolution_follows_the_period() -> None:
    assert step_for(NOW - 86400, NOW, NOW) == 0
    assert step_for(NOW - 7 * 86400, NOW, NOW) == 300
    assert step_for(NOW - 90 * 86400, NOW, NOW) == 3600
    assert step_for(NOW - 5 * 86400, NOW - 4 * 86400, NOW) == 300  # raw is gone by then


def test_since_accepts_durations_and_ranges() -> None:
    tz = datetime.now().astimezone().tzinfo
    assert tz is not None
    assert parse_since("24h", NOW, tz) == (NOW - 86400, NOW)
    assert parse_since("7d", NOW, tz) == (NOW - 7 * 86400, NOW)
    start, end = parse_since("2020-01-01..2020-01-02", NOW, tz)
    assert end - start == 2 * 86400  # a date as TO includes that day
    for bad in ("yesterdayish", "2020-13-01..2020-01-02", "2020-01-02..2020-01-01"):
        with pytest.raises(GovnetError, match="--since"):
            parse_since(bad, NOW, tz)


def test_rollups_and_the_raw_tail_make_one_series(db: Path) -> None:
    h = read_history(store(db), "core-1", ["if_in_bps:GE1/0/1"], NOW - 7 * 86400, NOW, NOW)
    assert h.step == 300 and len(h.series) == 1
    points = h.series[0].points
    assert [p.ts for p in points] == [START + j * 300 for j in range(100)]  # no gap, no double
    assert points[50].value == pytest.approx(270 * M) and points[50].high == 950 * M
    assert points[99].value == 900 * M  # from the raw tail
    raw = read_history(store(db), "core-1", ["if_in_bps:GE1/0/1"], NOW - 86400, NOW, NOW)
    assert raw.step == 0 and len(raw.series[0].points) == 500


def test_default_series_are_the_busiest_interfaces_and_the_rest(db: Path) -> None:
    h = read_history(store(db), "core-1", [], NOW - 86400, NOW, NOW)
    keys = {(s.metric, s.instance) for s in h.series}
    assert ("rtt_ms", "") in keys and ("if_in_bps", "GE1/0/1") in keys


def test_unknown_metric_or_device_is_one_clear_error(db: Path) -> None:
    with pytest.raises(GovnetError, match="unknown metric"):
        read_history(store(db), "core-1", ["if_inn_bps"], NOW - 86400, NOW, NOW)
    with pytest.raises(GovnetError, match="latest value only"):
        read_history(store(db), "core-1", ["if_util_pct"], NOW - 86400, NOW, NOW)
    with pytest.raises(GovnetError, match="no history stored"):
        read_history(store(db), "core-9", [], NOW - 86400, NOW, NOW)


def test_percentile_is_nearest_rank() -> None:
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile([5.0], 95) == 5.0 and percentile([], 95) == 0.0


def test_traffic_report_ranks_by_95th_percentile(db: Path) -> None:
    step, links = traffic_report(store(db), START, END, None)
    assert step == 300
    top, other = links
    assert (top.device, top.interface, top.alias) == ("core-1", "GE1/0/1", "uplink to 政务外网")
    assert top.in_p95_bps == pytest.approx(270 * M)  # rank 95 of 100 five-minute averages
    assert top.peak_bps == 950 * M and top.out_p95_bps == 10 * M
    assert top.p95_util == pytest.approx(0.27) and top.peak_util == pytest.approx(0.95)
    assert other.interface == "GE1/0/2" and other.p95_util == pytest.approx(0.01)


def test_chart_draws_a_series(db: Path) -> None:
    h = read_history(store(db), "core-1", ["if_in_bps:GE1/0/1"], START, END, NOW)
    console = Console(width=80, file=io.StringIO(), color_system=None)
    console.print(history_chart(h, 80, 6, "en"))
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[0].startswith("Inbound traffic GE1/0/1  now 900M bit/s")
    assert "peak 950M bit/s" in lines[0]
    assert lines[1].startswith("950M bit/s ┤") and lines[6].startswith("   0 bit/s ┤")
    assert lines[1].rstrip().endswith("▅" * 3)  # the last 5 % of the period: 900 of 950
    assert lines[1].count("▅") == 3  # the spike is averaged in its column (peak: the title)
    assert set(lines[6][12:]) == {"▅", "█"}  # 100M is 5/8 of the bottom row; no gap (·)
    assert len(lines) == 8 and all(len(line) <= 80 for line in lines)


def govnet(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["-i", str(LAB_INVENTORY), "--lang", "en", "--db", f"sqlite:///{db}", *args]
    )
    return result.exit_code, result.stdout, result.stderr


def test_history_command_formats(db: Path, tmp_path: Path) -> None:
    code, out, err = govnet(db, "monitor", "history", "core-1", "if_in_bps:GE1/0/1", "-f", "csv")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "device,metric,instance,time,value,min,max,unit" and len(lines) == 501
    code, out, err = govnet(
        db, "monitor", "history", "core-1", "rtt_ms", "--since", "7d", "-f", "json"
    )
    data = json.loads(out)
    assert data["step"] == 300 and len(data["series"][0]["points"]) == 100
    code, out, err = govnet(
        db,
        "monitor",
        "history",
        "core-1",
        "if_in_bps:GE1/0/1",
        "--width",
        "100",
        "-o",
        str(tmp_path / "chart.txt"),
    )
    chart = (tmp_path / "chart.txt").read_text(encoding="utf-8")
    assert code == 0 and "core-1  " in chart and "(raw samples)" in chart and "┤" in chart
    code, out, err = govnet(db, "monitor", "history", "core-1", "bogus")
    assert code == 2 and "bogus: unknown metric" in err and err.count("\n") == 1


def test_report_traffic_in_every_format(db: Path, tmp_path: Path) -> None:
    period = (
        f"{datetime.fromtimestamp(START).isoformat()}..{datetime.fromtimestamp(END).isoformat()}"
    )
    code, out, err = govnet(db, "report", "traffic", "--period", period, "-f", "json")
    assert code == 0, err
    links = json.loads(out)["links"]
    assert [(k["rank"], k["interface"]) for k in links] == [(1, "GE1/0/1"), (2, "GE1/0/2")]
    assert links[0]["p95_util"] == pytest.approx(0.27)
    code, out, err = govnet(db, "report", "traffic", "--period", period, "-f", "csv")
    assert out.splitlines()[1].startswith(
        "1,core-1,GE1/0/1,uplink to 政务外网,1 Gbit/s,27.0%,95.0%"
    )
    code, out, err = govnet(db, "report", "traffic", "--period", period)
    assert code == 0 and "GE1/0/1" in out and "27.0%" in out
    code, out, err = govnet(
        db, "--lang", "zh", "report", "traffic", "--period", period, "-f", "html"
    )
    assert "链路流量通报" in out and "uplink to 政务外网" in out and "27.0%" in out
    xlsx = tmp_path / "traffic.xlsx"
    code, out, err = govnet(
        db, "report", "traffic", "--period", period, "-f", "xlsx", "-o", str(xlsx)
    )
    assert code == 0, err
    sheet = load_workbook(xlsx)["Links"]
    assert sheet["C2"].value == "GE1/0/1" and sheet["F2"].value == pytest.approx(0.27)
    code, out, err = govnet(db, "report", "traffic", "--period", "sometime")
    assert code == 2 and "--period" in err


def test_history_rows_merge_rollups_and_raw_only_series_in_order(store_url: str) -> None:
    """On SQLite and PostgreSQL (a server-side cursor there): series with rollups and a raw
    tail, and a series that has only raw samples, each once, ordered by series then time."""
    ms = MonitorStore(Store.open(store_url))
    t0 = 1_800_000_000.0
    samples = [(d, "if_in_bps", "p1", t0 + k * 60, float(k)) for d in ("a", "c") for k in range(20)]
    ms.write(Batch(samples, [], []), t0)
    ms.maintain(t0 + 600 + 120, raw=1e9, rollup_5m=1e9, rollup_1h=1e9)  # 2 buckets rolled up
    ms.write(
        Batch([("b", "if_in_bps", "p1", t0 + 900 + k * 60, 7.0) for k in range(3)], [], []), t0
    )
    ids = ms.series_keys(metrics=["if_in_bps"])
    rows = list(ms.history_rows(sorted(ids.values()), t0, t0 + 1200, 300))
    by_series: dict[str, list[tuple[float, int, float]]] = {}
    for sid, ts, n, total, _lo, _hi in rows:
        name = next(k[0] for k, v in ids.items() if v == sid)
        by_series.setdefault(name, []).append((ts - t0, n, total))
    assert by_series["a"] == [(0, 5, 10.0), (300, 5, 35.0), (600, 5, 60.0), (900, 5, 85.0)]
    assert by_series["a"] == by_series["c"] and by_series["b"] == [(900, 3, 21.0)]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    ms.store.engine.dispose()
