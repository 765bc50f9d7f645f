"""`govnet audit --from-dir` end to end, offline: seeded findings, every format, no secret leaks,
history, re-render, exit codes and the cron lock."""

from __future__ import annotations

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from govnet.checks.audit import audit_lock
from govnet.cli.main import cli
from tests.conftest import LAB_INVENTORY, ROOT

SEEDED = {
    ("int-acc-town", "mgmt.ssh-only"),
    ("int-acc-town", "snmp.no-default-community"),
    ("int-acc-town", "snmp.v3-only"),
    # the Ruijie switch and the firewalls (inventory/lab.yaml header)
    ("int-acc-east", "mgmt.idle-timeout"),
    ("int-fw-1", "fw.policy-log-syslog"),
    ("ext-fw-1", "fw.no-any-any-permit"),
}
SECRET = "S3cretCommunity42"


@pytest.fixture
def env(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    configs = tmp_path / "configs"
    configs.mkdir()
    for folder in (ROOT / "inventory" / "lab-data").iterdir():
        if (folder / "running.cfg").is_file():
            shutil.copy(folder / "running.cfg", configs / f"{folder.name}.cfg")
    town = configs / "int-acc-town.cfg"
    town.write_text(
        town.read_text().replace(
            "snmp-agent community read public",
            f"snmp-agent community read public\n snmp-agent community write {SECRET}",
        )
    )
    monkeypatch.setenv("GOVNET_DB", store_url)
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.chdir(ROOT)
    return configs


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-i", str(LAB_INVENTORY), "--lang", "en", *args])
    return result.exit_code, result.output


def test_seeded_violations_exactly_and_every_format(env: Path, tmp_path: Path) -> None:
    code, out = run("audit", "--from-dir", str(env), "-f", "json")
    assert code == 3, out  # findings, but one device unread: incomplete outranks findings
    report = json.loads(out)
    schema = json.loads(
        resources.files("govnet").joinpath("data/audit-report.schema.json").read_text()
    )
    jsonschema.validate(report, schema)
    fails = {(f["device"], f["control"]) for f in report["findings"] if f["status"] == "fail"}
    assert fails == SEEDED
    errors = {f["device"] for f in report["findings"] if f["status"] == "error"}
    assert errors == {"ext-acc-town"}  # no saved config for the hung switch
    assert report["run"]["unreadable_devices"] == ["ext-acc-town"]
    assert report["run"]["failed_by_severity"]["high"] >= 1 and report["run"]["exit_code"] == 3
    town = [
        f for f in report["findings"] if f["device"] == "int-acc-town" and f["status"] == "fail"
    ]
    assert all(f["evidence"] and f["evidence"][0]["line"] for f in town)
    assert report["scoreboard"]["unit"][0]["name"] in ("qingshi-gov", "east-gov")  # worst first

    outputs = {"json": out}
    for fmt in ("junit", "csv", "html", "table"):
        path = tmp_path / f"report.{fmt}"
        code, text = run(
            "audit",
            "--from-dir",
            str(env),
            "-f",
            fmt,
            "--all",
            *(["-o", str(path)] if fmt != "table" else []),
        )
        assert code == 3
        outputs[fmt] = path.read_text() if fmt != "table" else text
    junit = ET.fromstring(outputs["junit"].encode())
    assert junit.tag == "testsuites" and int(junit.get("failures", "0")) == len(SEEDED)
    town_suite = next(s for s in junit if s.get("name") == "int-acc-town")
    assert [c.get("name") for c in town_suite if c.find("failure") is not None]
    rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
    assert {(r["device"], r["control"]) for r in rows if r["status"] == "fail"} == SEEDED
    html = outputs["html"]
    assert html.startswith("<!DOCTYPE html>") and "int-acc-town" in html
    assert "<script" not in html and 'src="http' not in html and "href=" not in html
    assert "int-acc-town" in outputs["table"] and "Scoreboard" in outputs["table"]
    for fmt, text in outputs.items():
        assert SECRET not in text, fmt


def test_history_show_and_new_since_last_run(env: Path) -> None:
    code, _ = run("audit", "--from-dir", str(env), "--limit", "int-*")
    assert code == 1
    cfg = env / "int-core-1.cfg"
    cfg.write_text(
        cfg.read_text().replace(
            " stelnet server enable", " stelnet server enable\ntelnet server enable"
        )
    )
    code, out = run("audit", "--from-dir", str(env), "--limit", "int-*", "-f", "json")
    second = json.loads(out)
    assert second["run"]["previous_run"] and second["run"]["new_failures"] == 1
    assert [(f["device"], f["control"]) for f in second["findings"] if f["new"]] == [
        ("int-core-1", "mgmt.ssh-only")
    ]
    code, out = run("audit", "history", "-f", "json")
    runs = json.loads(out)
    # int-*: int-acc-town's 3, int-acc-east's and int-fw-1's seeded findings; then one more
    assert len(runs) == 2 and runs[0]["fail"] == 6 and runs[1]["fail"] == 5
    assert set(runs[0]["zones"]) == {"internal"}
    code, out = run("audit", "show", second["run"]["id"][:25], "-f", "json")
    assert code == 0 and json.loads(out)["findings"] == second["findings"]


def test_exit_codes_by_fail_on_and_unreadable(env: Path) -> None:
    assert run("audit", "--from-dir", str(env), "--fail-on", "critical")[0] == 3  # hung switch
    assert (
        run("audit", "--from-dir", str(env), "--fail-on", "critical", "--limit", "!ext-acc-town")[0]
        == 0
    )
    assert (
        run("audit", "--from-dir", str(env), "--fail-on", "medium", "--limit", "!ext-acc-town")[0]
        == 1
    )
    code, out = run("audit", "-p", "playbooks/nope.yaml", "--from-dir", str(env))
    assert code == 2 and "Traceback" not in out


def test_overlapping_audit_is_refused(env: Path, tmp_path: Path) -> None:
    with audit_lock(tmp_path / "locks" / "audit.lock"):
        code, out = run("audit", "--from-dir", str(env))
    assert code == 2 and "another audit is running" in out


def test_junit_has_no_cross_vendor_skips_and_has_times(env: Path, tmp_path: Path) -> None:
    """Issue 18: a rule for another platform is no test case of a device; `time` everywhere.
    The JSON report and a re-render of the stored run agree on which findings those are."""
    from govnet.inventory import load_inventory

    path = tmp_path / "junit.xml"
    code, _ = run("audit", "--from-dir", str(env), "-f", "junit", "-o", str(path))
    assert code == 3  # some lab devices have no saved config here: 3 outranks 1
    code, out = run("audit", "--from-dir", str(env), "-f", "json", "--all")
    findings = json.loads(out)["findings"]
    run_id = json.loads(out)["run"]["id"]
    inventory = load_inventory(LAB_INVENTORY)
    junit = ET.fromstring(path.read_bytes())
    assert float(junit.get("time", "-1")) >= 0
    checked = 0
    for suite in junit:
        platform = inventory.devices[suite.get("name", "")].platform
        assert float(suite.get("time", "-1")) >= 0
        for case in suite:
            assert float(case.get("time", "-1")) >= 0
            skipped = case.find("skipped")
            assert skipped is None or f"platform {platform} is not" not in skipped.get(
                "message", ""
            )
            checked += 1
    assert checked == int(junit.get("tests", "0")) > 0
    in_junit = {(s.get("name"), c.get("name")) for s in junit for c in s}
    other_platform = {
        (f["device"], f["rule"])
        for f in findings
        if f["status"] == "skip" and "not applicable: platform" in f["message"]
    }
    assert other_platform and not (other_platform & in_junit)
    applicable = {(f["device"], f["rule"]) for f in findings} - other_platform
    assert applicable == in_junit
    code, again = run("audit", "show", run_id, "-f", "junit")
    assert code in (0, 1) and 'name="int-acc-town"' in again
    reread = ET.fromstring(again.encode())
    assert {(s.get("name"), c.get("name")) for s in reread for c in s} == in_junit
