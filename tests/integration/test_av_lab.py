"""Antivirus on the running lab: SNMP software lists from the lab's agents, ClamAV over SSH,
and `govnet audit -p playbooks/antivirus.yaml` / `govnet av status` end to end."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.av.clamav import collect_clamav
from govnet.av.operations import live_records
from govnet.av.snmp import collect_software
from govnet.av.sources import load_catalogue
from govnet.cli.main import cli
from govnet.durations import utcnow
from tests.conftest import ROOT
from tests.integration.conftest import Lab

pytestmark = pytest.mark.integration

EXPORT = ROOT / "inventory" / "lab-data" / "av-export.csv"
SEEDED = {("pc-town-02", "av.signatures-fresh"), ("srv-ext-1", "av.signatures-fresh")}


def govnet(inventory: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-i", str(inventory), "--lang", "en", *args])
    return result.exit_code, result.stdout  # stderr may carry notices (host keys learned)


def test_snmp_software_lists_of_the_lab_servers(lab: Lab) -> None:
    servers = [lab.inventory.devices[n] for n in ("srv-int-1", "srv-ext-1")]
    got = collect_software(servers)
    internal, external = got["srv-int-1"], got["srv-ext-1"]
    assert not isinstance(internal, Exception) and not isinstance(external, Exception)
    assert (
        "奇安信天擎终端安全管理系统 10.0.0.4000" in internal.installed
        and "qaxsafed" in internal.running
    )
    assert "clamav-1.0.7-1.ky10.x86_64" in external.installed and "clamd" in external.running
    records, errors = live_records(servers, load_catalogue(), utcnow(), ["snmp"])
    assert errors == {}
    assert {(r.host, r.vendor, r.edition, r.running) for r in records} == {
        ("srv-int-1", "qianxin", "network", True),
        ("srv-ext-1", "clamav", "standalone", True),
    }


def test_snmp_failure_is_recorded_per_server(lab: Lab) -> None:
    from dataclasses import replace

    silent = replace(
        lab.inventory.devices["srv-int-1"],
        snmp_port=lab.inventory.devices["ext-acc-town"].snmp_port,
        timeout=1,
    )
    snmp = silent.snmp.model_copy(update={"timeout": 0.3, "retries": 0}) if silent.snmp else None
    records, errors = live_records(
        [replace(silent, snmp=snmp)], load_catalogue(), utcnow(), ["snmp"]
    )
    assert records == [] and errors["srv-int-1"][0].startswith("snmp: ")


def test_clamav_over_ssh(lab: Lab) -> None:
    now = utcnow()
    rec = collect_clamav(lab.inventory.devices["srv-ext-1"], now)
    assert rec is not None
    assert (rec.product, rec.sig_version, rec.sig_date) == (
        "ClamAV 1.0.7",
        "27463",
        date(2024, 11, 21),
    )
    assert rec.running is True and rec.detail == {"daemon": "active", "freshclam": "inactive"}
    assert rec.as_of == now and rec.source == "ssh:srv-ext-1"
    assert collect_clamav(lab.inventory.devices["srv-int-1"], now) is None  # no clamscan there


def test_audit_antivirus_on_the_lab_json_and_junit(lab: Lab, store_env: Path) -> None:
    code, out = govnet(
        lab.inventory_path,
        "av",
        "import",
        str(EXPORT),
        "--source",
        "qianxin",
        "--date",
        "2026-11-20 09:00",
    )
    assert code == 0, out
    code, out = govnet(
        lab.inventory_path,
        "audit",
        "-p",
        "playbooks/antivirus.yaml",
        "--timeout",
        "3",
        "-f",
        "json",
    )
    assert code == 1, out
    report = json.loads(out)
    fails = {(f["device"], f["control"]) for f in report["findings"] if f["status"] == "fail"}
    assert fails == SEEDED
    assert report["run"]["counts"]["error"] == 0
    audited = {f["device"] for f in report["findings"]}
    assert {"srv-int-1", "srv-ext-1", "pc-town-02", "prn-fin-01"} <= audited
    assert not audited & {"int-core-1", "ups-1", "ext-acc-town"}  # the rules do not apply there
    by = {(f["device"], f["rule"]): f for f in report["findings"]}
    town = by[("pc-town-02", "av.signatures-fresh")]
    assert town["message"].startswith("signatures 60 days old (2026-09-21); internal allows 30")
    clam = by[("srv-ext-1", "av.signatures-fresh")]
    assert "2024-11-21" in clam["message"] and "ssh:srv-ext-1" in clam["evidence"][0]["note"]
    assert by[("srv-int-1", "av.installed")]["status"] == "pass"
    assert "snmp:srv-int-1" in by[("srv-int-1", "av.installed")]["evidence"][0]["note"]
    assert by[("srv-int-1", "av.signatures-fresh")]["status"] == "pass"  # dated by the export
    assert by[("prn-fin-01", "av.installed")]["status"] == "skip"
    units = {s["name"]: s for s in report["scoreboard"]["unit"]}
    assert units["qingshi-gov"]["failed"] == 1 and units["east-gov"]["failed"] == 0

    code, xml = govnet(
        lab.inventory_path,
        "audit",
        "-p",
        "playbooks/antivirus.yaml",
        "--timeout",
        "3",
        "-f",
        "junit",
    )
    assert code == 1
    root = ET.fromstring(xml[xml.index("<testsuites") :])
    assert root.get("failures") == "2" and root.get("errors") == "0"
    failed = {
        (s.get("name"), c.get("name")) for s in root for c in s if c.find("failure") is not None
    }
    assert failed == {("pc-town-02", "av.signatures-fresh"), ("srv-ext-1", "av.signatures-fresh")}


def test_av_status_on_the_lab(lab: Lab, store_env: Path) -> None:
    code, _ = govnet(lab.inventory_path, "av", "import", str(EXPORT), "--source", "qianxin")
    assert code == 0
    result = CliRunner().invoke(cli, ["-i", str(lab.inventory_path), "av", "status", "-f", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    stale = [t["terminal"] for t in report["terminals"] if t["state"] not in ("ok", "exempt")]
    assert stale == ["pc-town-02"]
