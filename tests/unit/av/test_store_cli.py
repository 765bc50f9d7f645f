"""Snapshots in the store, ``govnet av import|status|snapshots`` and the antivirus rules inside
``govnet audit`` (offline: terminals are judged from stored snapshots, never contacted)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.av.parse import CHINA
from govnet.av.snmp import Software, software_records
from govnet.av.sources import load_catalogue
from govnet.cli.main import cli
from govnet.inventory.model import Device
from govnet.store.av import list_snapshots, newest_snapshots, save_snapshot
from govnet.store.avrecords import AvRecord, Snapshot
from govnet.store.db import Store
from tests.conftest import LAB_INVENTORY, ROOT

LAB_EXPORT = ROOT / "inventory" / "lab-data" / "av-export.csv"
TAKEN = datetime(2026, 11, 20, 9, 0, tzinfo=CHINA)


@pytest.fixture
def env(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GOVNET_DB", store_url)
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.chdir(ROOT)
    return tmp_path


def govnet(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-i", str(LAB_INVENTORY), "--lang", "en", *args])
    return result.exit_code, result.stdout, result.stderr


def test_store_keeps_snapshots_once_and_gives_the_newest_per_console(store_url: str) -> None:
    store = Store.open(store_url)
    rec = AvRecord(
        source="a.csv:2",
        host="pc-1",
        mac="00:1a:2b:00:00:01",
        vendor="qianxin",
        sig_date=date(2026, 11, 1),
        realtime_on=True,
        detail={"os": "Windows 10"},
        last_seen=TAKEN,
    )
    first = Snapshot("qianxin", "city", "a.csv", TAKEN - timedelta(days=7), [rec], sha256="1")
    second = Snapshot("qianxin", "city", "b.csv", TAKEN, [rec, rec], sha256="2")
    county = Snapshot("huorong", "county", "c.csv", TAKEN - timedelta(days=30), [rec], sha256="3")
    ids = [save_snapshot(store, s) for s in (first, second, county)]
    assert [new for _, new in ids] == [True, True, True]
    assert save_snapshot(store, second) == (ids[1][0], False)  # the same import again
    newest = newest_snapshots(store)
    assert [(s.console, s.file, len(s.records)) for s in newest] == [
        ("city", "b.csv", 2),
        ("county", "c.csv", 1),
    ]
    back = newest[0].records[0]
    assert back.as_of == TAKEN and back.last_seen == TAKEN and back.sig_date == date(2026, 11, 1)
    assert back.detail == {"os": "Windows 10"} and back.realtime_on is True
    assert [s.file for s in list_snapshots(store)] == ["b.csv", "a.csv", "c.csv"]


def test_snmp_software_lists_to_records() -> None:
    cat = load_catalogue(ROOT / "playbooks" / "av-sources.yaml")
    srv = Device(
        name="srv",
        host="127.0.0.1",
        platform="linux",
        role="server",
        zone="internal",
        site="city",
        mac="00:16:3e:00:00:01",
    )
    sw = Software(
        ("kernel-4.19", "奇安信天擎终端安全管理系统 10.0.0.4000", "clamav-1.0.7-1.ky10"),
        ("systemd", "clamd", "sshd"),
    )
    got = {r.vendor: r for r in software_records(srv, sw, cat.products, TAKEN)}
    assert set(got) == {"qianxin", "clamav"}
    assert got["qianxin"].running is False and got["qianxin"].edition == "network"
    assert got["clamav"].running is True and got["clamav"].edition == "standalone"
    assert got["clamav"].source == "snmp:srv" and got["clamav"].mac == srv.mac
    personal = software_records(
        srv, Software(("火绒安全软件 5.0",), ("HipsDaemon.exe",)), cat.products, TAKEN
    )
    assert [(r.vendor, r.edition, r.running) for r in personal] == [("huorong", "standalone", True)]
    assert software_records(srv, Software(("bash",), ("sshd",)), cat.products, TAKEN) == []


def test_import_then_status_in_every_format(env: Path) -> None:
    code, out, err = govnet("av", "import", str(LAB_EXPORT), "--source", "qianxin", "-f", "json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["records"], result["joined"], result["unknown"], result["new"]) == (
        20,
        18,
        1,
        True,
    )
    assert result["taken"] == TAKEN.isoformat()
    code, out, _ = govnet("av", "import", str(LAB_EXPORT), "--source", "qianxin")
    assert code == 0 and out.startswith("already imported: snapshot #1")

    code, out, err = govnet("av", "status", "-f", "json")
    assert code == 1, err  # pc-town-02 is stale
    report = json.loads(out)
    states = {t["terminal"]: t["state"] for t in report["terminals"]}
    assert states.pop("pc-town-02") == "stale"
    assert states.pop("prn-fin-01") == states.pop("prn-west-01") == "exempt"
    assert set(states.values()) == {"ok"}
    town = next(t for t in report["terminals"] if t["terminal"] == "pc-town-02")
    assert (town["age_days"], town["limit_days"], town["sig_date"]) == (60, 30, "2026-09-21")
    units = report["summary"]["unit"]
    assert units[0]["name"] == "qingshi-gov"  # worst first
    assert (units[0]["coverage"], units[0]["fresh_share"]) == (1.0, 0.8)
    assert {z["name"]: z["terminals"] for z in report["summary"]["zone"]} == {
        "internal": 10,
        "external": 8,
    }
    assert [u["host"] for u in report["unknown"]] == ["DESKTOP-7Q2K1M"]
    assert report["unknown"][0]["zone"] == "internal"  # from the inventory's pools
    east = next(t for t in report["terminals"] if t["terminal"] == "pc-east-04")
    assert east["matched_by"] == "ip"  # the export has no MAC for it

    code, out, _ = govnet("av", "status", "-f", "csv", "--unit", "qingshi-gov")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1 and [r["terminal"] for r in rows] == [f"pc-town-0{i}" for i in range(1, 6)]
    assert rows[1]["state"] == "stale" and rows[1]["age_days"] == "60"
    code, out, _ = govnet("av", "status", "-f", "csv", "--view", "summary")
    assert out.splitlines()[0].startswith("scope,name,terminals,coverage")
    code, out, _ = govnet("av", "status", "--zone", "external")
    assert code == 0 and "Antivirus coverage (worst first)" in out and "DESKTOP-7Q2K1M" in out
    code, out, _ = govnet("--lang", "zh", "av", "status", "--state", "stale")
    assert code == 1 and "病毒库过期" in out and "pc-city-01" not in out
    code, out, _ = govnet("av", "snapshots", "-f", "json")
    assert [s["file"] for s in json.loads(out)] == ["av-export.csv"]


def test_bad_input_exits_2_with_one_line_per_problem(env: Path) -> None:
    bad = ROOT / "tests" / "fixtures" / "av" / "rising-missing-version.csv"
    code, _out, err = govnet("av", "import", str(bad), "--source", "rising")
    assert (
        code == 2
        and "missing column 病毒库版本 (signature_version)" in err
        and "Traceback" not in err
    )
    code, _, err = govnet("av", "import", str(LAB_EXPORT), "--source", "nope")
    assert code == 2 and "--source 'nope': no such source" in err
    code, _, err = govnet("av", "import", str(env / "missing.csv"), "--source", "qianxin")
    assert code == 2 and "cannot read" in err
    code, _, err = govnet(
        "av", "import", str(LAB_EXPORT), "--source", "qianxin", "--date", "2026-13-01"
    )
    assert code == 2 and "--date" in err
    code, _, err = govnet("av", "status")
    assert code == 2 and "no antivirus snapshot in the store" in err
    code, _, err = govnet("av", "status", "--role", "core")
    assert code == 2


def test_audit_offline_judges_terminals_from_the_snapshot(env: Path) -> None:
    code, _, err = govnet(
        "av", "import", str(LAB_EXPORT), "--source", "qianxin", "--date", "2026-11-20 09:00"
    )
    assert code == 0, err
    empty = env / "configs"
    empty.mkdir()
    code, out, err = govnet(
        "audit",
        "-p",
        "playbooks/antivirus.yaml",
        "--from-dir",
        str(empty),
        "--role",
        "terminal",
        "-f",
        "json",
    )
    report = json.loads(out)
    fails = {(f["device"], f["control"]) for f in report["findings"] if f["status"] == "fail"}
    assert fails == {("pc-town-02", "av.signatures-fresh")}, err
    assert code == 1 and report["run"]["counts"]["error"] == 0
    town = next(
        f for f in report["findings"] if f["device"] == "pc-town-02" and f["status"] == "fail"
    )
    assert town["message"].startswith("signatures 60 days old (2026-09-21); internal allows 30")
    assert "av-export.csv:17" in town["evidence"][0]["note"]


def test_audit_without_a_snapshot_is_an_error_not_a_pass(env: Path) -> None:
    empty = env / "configs"
    empty.mkdir()
    code, out, _ = govnet(
        "audit",
        "-p",
        "playbooks/antivirus.yaml",
        "--from-dir",
        str(empty),
        "--limit",
        "pc-town-*",
        "-f",
        "json",
    )
    report = json.loads(out)
    assert code == 3 and {f["status"] for f in report["findings"]} == {"error"}
    assert "govnet av import" in report["findings"][0]["message"]
