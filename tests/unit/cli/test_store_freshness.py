"""Read-only commands and the store (issue 18): a --db that does not exist is refused (never
created empty), and `monitor status` says how old the daemon's states are and exits 3 when the
newest is older than three poll intervals."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.monitor.model import DeviceState, DeviceStatus
from govnet.store.db import Store
from govnet.store.monitor import Batch, MonitorStore
from tests.conftest import LAB_INVENTORY

READ_ONLY = [
    ("dashboard", "--once"),
    ("monitor", "status"),
    ("monitor", "show", "int-core-1"),
    ("monitor", "history", "int-core-1"),
    ("report", "traffic"),
    ("alerts", "list"),
    ("report", "availability"),
    ("audit", "history"),
    ("backup", "stale"),
    ("backup", "show", "int-core-1"),
    ("av", "snapshots"),
    ("av", "status"),
    ("ipam", "list"),
    ("isolation", "report"),
    ("isolation", "evidence"),
]


def govnet(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["-i", str(LAB_INVENTORY), "--lang", "en", "--db", f"sqlite:///{db}", *args]
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_read_only_commands_refuse_a_missing_store(tmp_path: Path, args: tuple[str, ...]) -> None:
    db = tmp_path / "typo" / "govnet.sqlite"
    code, out, err = govnet(db, *args)
    assert code == 2, (code, out, err)
    assert out == "" and err.count("\n") == 1
    assert str(db) in err and "no such file" in err
    assert not db.exists() and not db.parent.exists()


def _states(db: Path, last_poll: float, interval: float = 60.0) -> None:
    ms = MonitorStore(Store.open(f"sqlite:///{db}"))
    rows = []
    for name in ("int-core-1", "ext-core-1"):
        status = DeviceStatus(name, state=DeviceState.UP)
        status.since = last_poll - 3600
        status.last_poll = status.last_ok = last_poll
        status.next_poll = last_poll + interval
        rows.append(status.to_row())
    ms.write(Batch([], [], rows), last_poll)


def test_status_of_a_running_daemon_is_current(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    _states(db, time.time() - 30)
    code, out, err = govnet(db, "monitor", "status", "-f", "json")
    assert code == 0 and err == ""
    rows = json.loads(out)
    assert {r["stale"] for r in rows} == {False} and all(20 < r["age_s"] < 300 for r in rows)


def test_status_with_the_daemon_stopped_says_how_old_and_exits_3(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    _states(db, time.time() - 2 * 3600)  # interval 60s: two hours is far beyond three polls
    code, out, err = govnet(db, "monitor", "status")
    assert code == 3
    assert "2h" in out and "ago" in out  # each row says how old it is
    assert err.count("\n") == 1 and "newest poll was 2h" in err and "govnetd" in err
    code, out, _ = govnet(db, "monitor", "status", "-f", "json")
    assert code == 3 and {r["stale"] for r in json.loads(out)} == {True}


def test_status_allows_up_to_three_intervals(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    _states(db, time.time() - 150, interval=60.0)  # 2.5 intervals: late, not stale
    assert govnet(db, "monitor", "status")[0] == 0
    _states(db, time.time() - 200, interval=60.0)  # 3.3 intervals
    assert govnet(db, "monitor", "status")[0] == 3
