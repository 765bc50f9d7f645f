"""Active isolation probes end to end on real kernel packets, in network namespaces.

The namespaces (``govnet lab netns``: internal vantage, leaky dual-homed host, external zone
with the inventory's canary, internet) are built per test module under a unique prefix and
removed in a fixture finalizer, also when a test fails. The canary and the prober are the real
``govnet`` commands started under ``ip netns exec``; no namespace has a link to the host's
network, so no packet leaves them. Needs root (CI runs as root) and iproute2.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.inventory import load_inventory
from govnet.lab import netns
from govnet.store.db import Store
from govnet.store.probe import canary_sessions
from tests.conftest import LAB_INVENTORY, ROOT

UNAVAILABLE = netns.unavailable(try_create=True)
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(UNAVAILABLE is not None, reason=f"netns lab: {UNAVAILABLE}"),
]

GOVNET = str(Path(sys.executable).with_name("govnet"))
VANTAGE = "10.10.255.253"
CANARY = "172.20.255.250"
PLAYBOOK = """
name: netns-probe
rules:
  - id: netns.no-outbound-leak
    control: isolation.no-outbound-leak
    title: {en: No leak, zh: 无违规外联}
    severity: critical
    applies_to: {role: [core]}
    check: {kind: isolation-probe, max_age: 1h}
"""


@dataclass
class NetnsLab:
    plan: netns.NetnsPlan
    base: Path
    db: str
    secret: Path
    canary: subprocess.Popen[bytes]

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "GOVNET_DB": self.db,
            "GOVNET_LANG": "en",
            "GOVNET_LOCK_DIR": str(self.base / "locks"),
        }

    def govnet(
        self, *args: str, ns: str | None = None, wrap: tuple[str, ...] = ()
    ) -> tuple[int, str]:
        """Commands that must run inside a namespace (or without CAP_NET_RAW) run as
        processes; the others in this process, through click's runner."""
        if ns is None and not wrap:
            result = CliRunner().invoke(cli, ["-i", str(LAB_INVENTORY), *args], env=self.env())
            return result.exit_code, result.output
        argv = [*wrap, GOVNET, "-i", str(LAB_INVENTORY), *args]
        if ns is not None:
            argv = netns.exec_argv(self.plan.ns(ns), argv)
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, cwd=ROOT, env=self.env(), check=False
        )
        return done.returncode, done.stdout + done.stderr

    def probe(self, secret: Path | None = None) -> tuple[int, dict[str, Any]]:
        code, out = self.govnet(
            "isolation",
            "probe",
            "--from",
            "internal",
            "--secret",
            f"file:{secret or self.secret}",
            "--wait",
            "1.5",
            "-f",
            "json",
            ns="int",
        )
        assert code in (0, 1, 3), out
        return code, json.loads(out)


def _wait_for_canary(store: Store, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if canary_sessions(store, [CANARY]):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"the canary did not start:\n{log.read_text(errors='replace')}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetnsLab]:
    base = tmp_path_factory.mktemp("netns")
    prefix = f"gvt{secrets.token_hex(3)}"  # unique per run and per xdist worker
    plan = netns.plan(load_inventory(LAB_INVENTORY), prefix)
    db = f"sqlite:///{base / 'store.sqlite'}"
    secret = base / "probe.secret"
    secret.write_text(secrets.token_hex(32) + "\n")
    store = Store.open(db)
    log = base / "canary.log"
    netns.up(plan)
    proc: subprocess.Popen[bytes] | None = None
    try:
        with open(log, "wb") as out:
            argv = [
                GOVNET,
                "-i",
                str(LAB_INVENTORY),
                "isolation",
                "canary",
                "--secret",
                f"file:{secret}",
                "--duration",
                "300",
            ]
            env = {**os.environ, "GOVNET_DB": db}
            proc = subprocess.Popen(
                netns.exec_argv(plan.ns("ext"), argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=env,
            )
        _wait_for_canary(store, proc, log)
        yield NetnsLab(plan, base, db, secret, proc)
    finally:
        if proc is not None:
            _stop(proc)
        netns.down(prefix)
    assert netns.list_namespaces(prefix) == []


def _by_protocol(run: dict[str, Any], zone: str = "external") -> dict[str, dict[str, Any]]:
    return {r["protocol"]: r for r in run["results"] if r["to_zone"] == zone}


def test_isolated_case_passes(lab: NetnsLab) -> None:
    netns.set_leak(lab.plan.prefix, False)
    code, run = lab.probe()
    assert code == 0, run
    results = _by_protocol(run)
    assert {p: r["verdict"] for p, r in results.items()} == {
        "icmp": "isolated",
        "tcp": "isolated",
        "dns": "isolated",
    }
    assert all(r["claimed_source"] == VANTAGE for r in results.values())
    assert [r["verdict"] for r in run["results"] if r["to_zone"] == "internet"] == ["untested"]


def test_leak_case_fails_with_the_protocols_that_leaked(lab: NetnsLab) -> None:
    netns.set_leak(lab.plan.prefix, True)
    try:
        code, run = lab.probe()
    finally:
        netns.set_leak(lab.plan.prefix, False)
    assert code == 1, run
    results = _by_protocol(run)
    assert {p: r["verdict"] for p, r in results.items()} == {
        "icmp": "LEAK",
        "tcp": "LEAK",
        "dns": "LEAK",
    }
    for r in results.values():
        assert r["source"] == VANTAGE and r["canary"] == CANARY and r["received"]
        assert r["source_mac"]  # the leaky host's external MAC: the last hop before the canary

    # the audit reports it on the internal zone's core switch, with the protocols
    cfg = lab.base / "configs"
    cfg.mkdir(exist_ok=True)
    for device in ("int-core-1", "ext-core-1"):
        shutil.copy(ROOT / "inventory" / "lab-data" / device / "running.cfg", cfg / f"{device}.cfg")
    (lab.base / "pb.yaml").write_text(PLAYBOOK)
    code, out = lab.govnet(
        "audit",
        "-p",
        str(lab.base / "pb.yaml"),
        "--from-dir",
        str(cfg),
        "--role",
        "core",
        "-f",
        "json",
    )
    assert code == 1, out
    findings = {f["device"]: f for f in json.loads(out)["findings"]}
    leak = findings["int-core-1"]
    assert (leak["status"], leak["control"]) == ("fail", "isolation.no-outbound-leak")
    assert "reached external over dns, icmp, tcp" in leak["message"]
    assert findings["ext-core-1"]["status"] == "skip"

    code, out = lab.govnet("isolation", "report", "-f", "json")
    assert code == 1, out
    probe = next(
        v
        for v in json.loads(out)["verdicts"]
        if v["zones"] == ["external", "internal"] and v["angle"] == "probe"
    )
    assert probe["verdict"] == "fail" and "LEAK dns,icmp,tcp" in probe["detail"]

    code, out = lab.govnet("isolation", "evidence", "-f", "json")
    assert code == 0, out
    assert {(a["protocol"], a["src"]) for a in json.loads(out)} >= {
        ("icmp", VANTAGE),
        ("tcp", VANTAGE),
        ("dns", VANTAGE),
    }


def test_probes_signed_with_another_secret_are_not_counted(lab: NetnsLab) -> None:
    other = lab.base / "other.secret"
    other.write_text(secrets.token_hex(32) + "\n")
    netns.set_leak(lab.plan.prefix, True)
    try:
        code, run = lab.probe(other)
    finally:
        netns.set_leak(lab.plan.prefix, False)
    assert code == 3, run  # inconclusive, never "isolated"
    results = _by_protocol(run)
    assert {r["verdict"] for r in results.values()} == {"error"}
    assert all("different probe secret" in r["note"] for r in results.values())


def test_without_cap_net_raw_the_probe_stops_with_exit_2(lab: NetnsLab) -> None:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("util-linux setpriv is not installed")
    wrap = (setpriv, "--bounding-set", "-net_raw", "--inh-caps", "-net_raw", "--")
    code, out = lab.govnet(
        "isolation",
        "probe",
        "--from",
        "internal",
        "--secret",
        f"file:{lab.secret}",
        ns="int",
        wrap=wrap,
    )
    assert code == 2 and "needs root or CAP_NET_RAW" in out


def test_lab_netns_commands_leave_nothing_behind(lab: NetnsLab) -> None:
    code, out = lab.govnet("lab", "netns", "status", "--prefix", lab.plan.prefix, "-f", "json")
    assert code == 0, out
    status = json.loads(out)
    assert status["up"] and status["leak"] is False
    assert status["namespaces"][lab.plan.ns("ext")]["processes"] >= 1  # the canary

    prefix = f"gvt{secrets.token_hex(3)}"
    try:
        code, out = lab.govnet("lab", "netns", "up", "--prefix", prefix, "--leak")
        assert code == 0, out
        assert netns.status(prefix).leak is True
        code, out = lab.govnet("lab", "netns", "up", "--prefix", prefix)
        assert code == 2 and "already up" in out
        code, out = lab.govnet("lab", "netns", "leak", "off", "--prefix", prefix)
        assert code == 0 and netns.status(prefix).leak is False
        code, out = lab.govnet("lab", "netns", "down", "--prefix", prefix)
        assert code == 0, out
    finally:
        netns.down(prefix)
    assert netns.list_namespaces(prefix) == []
    code, out = lab.govnet("lab", "netns", "status", "--prefix", prefix)
    assert code == 3 and "not up" in out
