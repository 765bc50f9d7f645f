"""`govnet provision` and `govnet ipam` against a lab of our own over real SSH.

The shared session lab is never changed: this module starts its own relocated copy, with its
own lab data (two switches made to reject one line each, so a push fails half-way) and one
extra switch with its factory-default configuration, and stops it at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.collect.sanitize import mask_secrets, normalise
from govnet.durations import utcnow
from govnet.inventory import Inventory, load_inventory
from govnet.lab import launcher
from govnet.platforms import get_platform
from govnet.provision.rules import left_to_people
from govnet.secrets import renderings
from govnet.store import macs as store_macs
from govnet.store import provision as records
from govnet.store.db import Store
from govnet.transport.ssh import SshSession
from tests.conftest import ROOT
from tests.integration.conftest import free_port, relocate_lab

pytestmark = pytest.mark.integration

REJECT = {"int-agg-east": "^traffic-filter ", "int-acc-west": "^packet-filter "}
FIXTURES = ROOT / "tests" / "fixtures" / "provision"
# weak switches as a county's would be (tests/fixtures/provision/<platform>/start/weak.cfg),
# each twice: as it is, and made to refuse the baseline's NTP line (the push fails half-way)
WEAK = {
    "weak-hw": ("huawei", "internal-net", "county-east"),
    "weak-h3c": ("hp_comware", "internal-net", "county-east"),
    "weak-ios": ("cisco_ios", "external-net", "county-east"),
}
NTP_REJECT = {"huawei": "^ntp-service ", "hp_comware": "^ntp-service ", "cisco_ios": "^ntp "}


@dataclass
class ProvLab:
    path: Path
    state: Path
    db: str
    inventory: Inventory

    def running(self, device: str) -> str:
        d = self.inventory.devices[device]
        with SshSession(d) as session:
            return normalise(session.fetch("running_config"), get_platform(d.platform))


@pytest.fixture(scope="module")
def plab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProvLab]:
    base = tmp_path_factory.mktemp("provision-lab")
    folder = base / "inventory"
    folder.mkdir()
    shutil.copytree(ROOT / "inventory" / "lab-data", folder / "lab-data")
    for device, pattern in REJECT.items():  # these two refuse one line with the vendor's error
        (folder / "lab-data" / device / "lab.yaml").write_text(f"reject: ['{pattern}']\n")
    path = relocate_lab(folder)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["new-sw"] = {  # no lab data: the simulator's factory-default Huawei config
        "host": "127.0.0.1",
        "port": free_port(socket.SOCK_STREAM),
        "snmp_port": free_port(socket.SOCK_DGRAM),  # never the default 161: workers share it
        "address": "10.10.9.1",
        "platform": "huawei",
        "role": "access",
        "groups": ["internal-net"],
        "site": "county-east",
    }
    data["devices"]["new-sw2"] = {  # the same, with SNMPv3 keys that regex-escaping changes
        **data["devices"]["new-sw"],
        "port": free_port(socket.SOCK_STREAM),
        "snmp_port": free_port(socket.SOCK_DGRAM),
        "address": "10.10.9.2",
        "vars": {
            "snmp_v3": {
                "user": "govnet-v3",
                "group": "govnet-ro",
                "auth_key": "env:GOVNET_T_V3_AUTH",
                "priv_key": "env:GOVNET_T_V3_PRIV",
            }
        },
    }
    last = 10
    for name, (platform, group, site) in WEAK.items():  # realistic weak starting configs
        for suffix, reject in (("", None), ("-ntp", NTP_REJECT[platform])):
            last += 1
            host = name + suffix
            seed = (FIXTURES / platform / "start" / "weak.cfg").read_text(encoding="utf-8")
            (folder / "lab-data" / host).mkdir()
            (folder / "lab-data" / host / "running.cfg").write_text(
                seed.replace("{hostname}", host), encoding="utf-8"
            )
            if reject:
                (folder / "lab-data" / host / "lab.yaml").write_text(f"reject: ['{reject}']\n")
            data["devices"][host] = {
                "host": "127.0.0.1",
                "port": free_port(socket.SOCK_STREAM),
                "snmp_port": free_port(socket.SOCK_DGRAM),
                "address": f"10.10.9.{last}",
                "platform": platform,
                "role": "access",
                "groups": [group],
                "site": site,
            }
    _idle_port_switches(folder / "lab-data", data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    state = base / "state"
    launcher.up(path, state)
    try:
        yield ProvLab(path, state, f"sqlite:///{base / 'store.sqlite'}", load_inventory(path))
    finally:
        launcher.down(state)


# shutdown-unused-ports: two switches whose MAC tables show one terminal each, linked to each
# other by an access port (in `links`: never shut); macs-ios refuses its third port's line
IDLE = {
    "macs-hw": ("int-acc-town", "huawei", "GigabitEthernet0/0/1", None),
    "macs-ios": (
        "ext-acc-west",
        "cisco_ios",
        "GigabitEthernet0/2",
        "^interface GigabitEthernet0/6$",
    ),
}


def _idle_port_switches(lab_data: Path, data: dict) -> None:  # type: ignore[type-arg]
    for host, (source, platform, port, reject) in IDLE.items():
        (lab_data / host).mkdir()
        running = (ROOT / "inventory" / "lab-data" / source / "running.cfg").read_text("utf-8")
        if platform == "huawei":  # two more access ports up: Gi0/0/3 (linked), Gi0/0/4
            for n in (3, 4):
                running = running.replace(
                    f"interface GigabitEthernet0/0/{n}\n shutdown\n",
                    f"interface GigabitEthernet0/0/{n}\n port link-type access\n"
                    " port default vlan 103\n",
                )
        (lab_data / host / "running.cfg").write_text(running, encoding="utf-8")
        tables = yaml.safe_load(
            (ROOT / "inventory" / "lab-data" / source / "tables.yaml").read_text("utf-8")
        )
        tables["mac"] = [m for m in tables["mac"] if m["interface"] == port]
        (lab_data / host / "tables.yaml").write_text(yaml.safe_dump(tables), encoding="utf-8")
        if reject:
            (lab_data / host / "lab.yaml").write_text(f"reject: ['{reject}']\n")
        data["devices"][host] = {
            **{k: v for k, v in data["devices"][source].items() if k not in ("port", "snmp_port")},
            "port": free_port(socket.SOCK_STREAM),
            "snmp_port": free_port(socket.SOCK_DGRAM),
        }
    data["links"].append({"a": "macs-hw:GigabitEthernet0/0/3", "b": "macs-ios:GigabitEthernet0/5"})


@pytest.fixture(autouse=True)
def env(plab: ProvLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVNET_DB", plab.db)
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.chdir(ROOT)


def govnet(plab: ProvLab, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-i", str(plab.path), "--lang", "en", *args], input=stdin)
    return result.exit_code, result.output


def section(running: str, header: str) -> set[str]:
    """The lines of one section of a running config (devices order them their own way)."""
    lines = running.split("\n")
    start = lines.index(header)
    return {
        ln.strip()
        for ln in lines[start + 1 :][
            : next(i for i, ln in enumerate(lines[start + 1 :]) if not ln.startswith(" "))
        ]
    }


def as_json(out: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(out[out.index("{") :])
    return doc


def test_baseline_brings_the_noncompliant_switch_to_a_clean_audit(plab: ProvLab) -> None:
    code, out = govnet(
        plab, "provision", "plan", "baseline", "--limit", "int-acc-town", "-f", "json"
    )
    assert code == 0, out
    [plan] = as_json(out)["devices"]
    assert plan["status"] == "change"
    assert {
        "undo telnet server enable",
        "undo snmp-agent community read public",
        " protocol inbound ssh",
    } <= set(plan["commands"])
    assert "- telnet server enable" in plan["diff"]

    code, out = govnet(plab, "audit", "--limit", "int-acc-town", "-f", "json")
    assert code == 1  # Telnet on, community public: the seeded violations

    code, out = govnet(
        plab, "provision", "apply", "baseline", "--limit", "int-acc-town", "--yes", "-f", "json"
    )
    assert code == 0, out
    doc = as_json(out)
    assert [d["status"] for d in doc["devices"]] == ["changed"] and doc["exit_code"] == 0

    code, out = govnet(plab, "audit", "--limit", "int-acc-town", "-f", "json")
    assert code == 0, out
    assert [f for f in as_json(out)["findings"] if f["status"] == "fail"] == []

    # re-running changes nothing
    code, out = govnet(
        plab, "provision", "apply", "baseline", "--limit", "int-acc-town", "--yes", "-f", "json"
    )
    assert code == 0 and [d["status"] for d in as_json(out)["devices"]] == ["unchanged"]
    code, out = govnet(
        plab, "provision", "plan", "baseline", "--limit", "int-acc-town", "-f", "json"
    )
    assert [d["status"] for d in as_json(out)["devices"]] == ["no-change"]

    # change records, and the backup taken before the push
    store = Store.open(plab.db)
    rows = records.changes(store, device="int-acc-town")
    assert [r["status"] for r in rows[:2]] == ["unchanged", "changed"]
    assert rows[1]["commands"] == plan["commands"]
    seed = (ROOT / "inventory" / "lab-data" / "int-acc-town" / "running.cfg").read_text(
        encoding="utf-8"
    )
    history = [cfg.text for _, cfg in store.config_history("int-acc-town")]
    assert mask_secrets(normalise(seed, get_platform("huawei"))) in history  # masked, as shown
    assert store.run(doc["run"])["exit_code"] == 0  # type: ignore[index]


def test_onboarding_allocates_a_vlan_and_subnet_and_configures_them(plab: ProvLab) -> None:
    args = ("onboard-unit", "unit=east-market", "zone=external", "ports=GigabitEthernet0/5")
    code, out = govnet(plab, "provision", "apply", *args, "--yes", "-f", "json")
    assert code == 0, out
    doc = as_json(out)
    assert [(d["device"], d["status"]) for d in doc["devices"]] == [("ext-agg-east", "changed")]
    assert doc["allocation"]["vlan"] == 200 and doc["allocation"]["prefix"] == "172.20.4.0/24"

    code, out = govnet(plab, "ipam", "list", "--zone", "external", "-f", "json")
    assert [(a["unit"], a["vlan"], a["prefix"]) for a in as_json(out)["allocations"]] == [
        ("east-market", 200, "172.20.4.0/24")
    ]

    running = plab.running("ext-agg-east")
    assert "vlan 200\n name east-market\n" in running
    assert (
        "interface Vlan200\n description east-market gateway\n ip address 172.20.4.1 255.255.255.0\n"
        in running
    )
    assert " ip access-group ONBOARD-east-market in\n" in running
    assert (
        "ip access-list extended ONBOARD-east-market\n deny ip any 10.10.0.0 0.0.255.255\n permit ip any any\n"
        in running
    )
    assert section(running, "interface GigabitEthernet0/5") == {
        "description east-market",
        "switchport access vlan 200",
        "switchport mode access",
    }

    code, out = govnet(plab, "provision", "plan", *args, "-f", "json")
    assert code == 0 and [d["status"] for d in as_json(out)["devices"]] == ["no-change"]


@pytest.mark.parametrize(
    ("device", "args"),
    [
        (
            "int-agg-east",
            ("unit=east-market", "zone=internal", "ports=GigabitEthernet0/0/5"),
        ),  # Huawei
        ("int-acc-west", ("unit=west-gov", "zone=internal", "ports=GigabitEthernet1/0/5")),  # H3C
    ],
)
def test_a_push_failing_half_way_is_rolled_back_to_a_byte_identical_config(
    plab: ProvLab, device: str, args: tuple[str, ...]
) -> None:
    before = plab.running(device)
    code, out = govnet(
        plab, "provision", "apply", "onboard-unit", *args, "--limit", device, "--yes", "-f", "json"
    )
    assert code == 1, out  # failed and rolled back
    [result] = as_json(out)["devices"]
    assert result["status"] == "rolled-back"
    assert "rejected" in result["message"] and "identical to the backup" in result["message"]
    assert result["rollback"]  # lines before the refused one had been applied, and were undone
    assert plab.running(device) == before
    seed = ROOT / "inventory" / "lab-data" / device / "running.cfg"
    saved = plab.state / "devices" / device / "running.cfg"
    assert saved.read_bytes() == seed.read_bytes()  # what the device holds, byte for byte


def test_a_failed_verification_is_rolled_back(plab: ProvLab, tmp_path: Path) -> None:
    """A template asking for two values of a one-value setting: the device keeps the last, the
    first line is missing afterwards, so the change is undone."""
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "playbooks" / "templates", templates)
    (templates / "huawei" / "baseline.j2").write_text(
        "user-interface vty 16 20\n idle-timeout 5 0\n idle-timeout 6 0\n"
    )
    before = plab.running("int-core-1")
    code, out = govnet(
        plab,
        "provision",
        "apply",
        "baseline",
        "--limit",
        "int-core-1",
        "--templates",
        str(templates),
        "--yes",
        "-f",
        "json",
    )
    assert code == 1, out
    [result] = as_json(out)["devices"]
    assert result["status"] == "rolled-back"
    assert result["problems"] == [
        "shown differently: user-interface vty 16 20 > idle-timeout 5 0 "
        "(the device shows idle-timeout 6 0)"
    ]
    assert plab.running("int-core-1") == before


def test_an_unreachable_switch_is_reported_and_nothing_else_stops(plab: ProvLab) -> None:
    code, out = govnet(
        plab,
        "provision",
        "apply",
        "baseline",
        "--limit",
        "ext-acc-town,ext-acc-west",
        "--timeout",
        "1",
        "--retries",
        "0",
        "--yes",
        "-f",
        "json",
    )
    assert code == 3, out
    results = {d["device"]: d for d in as_json(out)["devices"]}
    assert (
        results["ext-acc-town"]["status"] == "failed"
        and results["ext-acc-town"]["error_kind"] == "timeout"
    )
    assert results["ext-acc-west"]["status"] == "unchanged"


def test_apply_asks_first_and_sends_nothing_on_no(plab: ProvLab) -> None:
    before = plab.running("ext-core-1")
    code, out = govnet(plab, "provision", "apply", "baseline", "--limit", "ext-core-1", stdin="n\n")
    assert code == 0 and "idle-timeout 5 0" in out and "cancelled: nothing was sent" in out
    assert plab.running("ext-core-1") == before
    code, out = govnet(plab, "provision", "apply", "baseline", "--limit", "ext-core-1")  # no answer
    assert code == 2 and "pass --yes" in out
    code, out = govnet(
        plab, "provision", "apply", "baseline", "--limit", "ext-core-1", "-f", "csv", stdin="y\n"
    )
    assert code == 0, out
    assert "ext-core-1,hp_comware,changed,4" in out  # idle-timeout, password aging
    assert " idle-timeout 5 0" in plab.running("ext-core-1")


def test_a_factory_default_switch_keys_are_masked_in_every_output(plab: ProvLab) -> None:
    for fmt in ("json", "csv", "table"):
        code, out = govnet(plab, "provision", "plan", "baseline", "--limit", "new-sw", "-f", fmt)
        assert code == 0, out
        assert "LabAuthKey2026" not in out and "LabPrivKey2026" not in out
    plan = as_json(
        govnet(plab, "provision", "plan", "baseline", "--limit", "new-sw", "-f", "json")[1]
    )
    assert (
        "snmp-agent usm-user v3 govnet-v3 authentication-mode sha cipher ***"
        in plan["devices"][0]["commands"]
    )
    code, out = govnet(
        plab, "provision", "apply", "baseline", "--limit", "new-sw", "--yes", "-f", "json"
    )
    assert code == 0 and "LabAuthKey2026" not in out
    assert [d["status"] for d in as_json(out)["devices"]] == ["changed"]
    code, out = govnet(plab, "audit", "--limit", "new-sw", "-f", "json")
    fails = {f["control"] for f in as_json(out)["findings"] if f["status"] == "fail"}
    # what the baseline leaves to people: the factory account and unlabelled ports
    assert fails == {"auth.default-accounts", "port.unused-shutdown"}
    rows = records.changes(Store.open(plab.db), device="new-sw")
    assert "LabAuthKey2026" not in json.dumps(rows, default=str)


V3_KEYS = {"GOVNET_T_V3_AUTH": "AuthK-XYZZY-55", "GOVNET_T_V3_PRIV": "Priv.K(ey)+9"}


def test_verbose_apply_logs_no_rendering_of_the_keys(plab: ProvLab) -> None:
    """-vv used to show netmiko's expect patterns: "Pattern found: (…AuthK\\-XYZZY\\-55…)"."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from govnet.cli.main import main; main()",
            "-i",
            str(plab.path),
            "--lang",
            "en",
            "-vv",
            "provision",
            "apply",
            "baseline",
            "--limit",
            "new-sw2",
            "--yes",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **V3_KEYS},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [d["status"] for d in as_json(proc.stdout)["devices"]] == ["changed"]
    log = proc.stderr
    assert "new-sw2: sent" in log and "configuration line(s)" in log  # our own trace lines
    assert "read_channel" not in log and "Pattern found" not in log
    for key in V3_KEYS.values():
        for form in renderings(key) | {key[:8], key[-6:]}:  # whole, escaped, or a piece
            assert form not in log and form not in proc.stdout, form


@pytest.mark.parametrize("name", list(WEAK))
def test_a_weak_switch_reaches_the_baseline_leaving_only_what_people_do(
    plab: ProvLab, name: str
) -> None:
    code, out = govnet(plab, "audit", "--limit", name, "-f", "json")
    assert code == 1
    code, out = govnet(
        plab, "provision", "apply", "baseline", "--limit", name, "--yes", "-f", "json"
    )
    assert code == 0, out
    [result] = as_json(out)["devices"]
    assert result["status"] == "changed", out
    code, out = govnet(plab, "audit", "--limit", name, "-f", "json")
    fails = {f["control"] for f in as_json(out)["findings"] if f["status"] == "fail"}
    assert fails and fails <= set(left_to_people(WEAK[name][0])), fails
    # the apply said so, with why and what to do
    assert {t["control"] for t in result["left_to_people"]} == fails
    assert all(t["why"]["zh"] and t["remediation"]["en"] for t in result["left_to_people"])
    code, out = govnet(plab, "provision", "plan", "baseline", "--limit", name, "-f", "json")
    assert [d["status"] for d in as_json(out)["devices"]] == ["no-change"], out


@pytest.mark.parametrize("name", [f"{n}-ntp" for n in WEAK])
def test_a_weak_switch_refusing_the_ntp_line_rolls_back_to_exactly_its_start(
    plab: ProvLab, name: str
) -> None:
    before = plab.running(name)
    code, out = govnet(
        plab, "provision", "apply", "baseline", "--limit", name, "--yes", "-f", "json"
    )
    assert code == 1, out
    [result] = as_json(out)["devices"]
    assert result["status"] == "rolled-back", result
    assert "identical to the backup" in result["message"]
    assert any(p.startswith("the device rejected 'ntp") for p in result["problems"]), result
    assert plab.running(name) == before


def test_unused_ports_are_shut_only_after_enough_days_of_mac_records(plab: ProvLab) -> None:
    limit = ("--limit", "macs-hw,macs-ios")
    code, out = govnet(plab, "backup", "macs", *limit, "-f", "json")
    assert code == 0, out
    assert {r["device"]: r["sightings"] for r in as_json(out)["results"]} == {
        "macs-hw": 1,
        "macs-ios": 1,
    }
    code, out = govnet(plab, "backup", "macs", "--via", "snmp", *limit, "-f", "json")
    assert code == 0, out  # the same sightings over BRIDGE-MIB: no new row
    assert [r["sightings"] for r in as_json(out)["results"]] == [1, 1]
    rows = store_macs.last_seen_by_port(Store.open(plab.db), "macs-ios")
    assert list(rows) == ["GigabitEthernet0/2"]
    args = ("provision", "plan", "shutdown-unused-ports", "days=30", *limit, "-f", "json")
    code, out = govnet(plab, *args)
    assert code == 0, out  # one collection, today: nothing to decide on
    devices = as_json(out)["devices"]
    assert [d["status"] for d in devices] == ["skipped", "skipped"]
    assert all("watched only since" in d["message"] for d in devices)

    # 40 days of collections every 2 days; macs-hw's Gi0/0/2 last showed a MAC 40 days ago,
    # its Gi0/0/5 10 days ago
    store = Store.open(plab.db)
    now = utcnow()
    for host in IDLE:
        for age in range(40, 0, -2):
            seen = []
            if host == "macs-hw" and age == 40:
                seen = [store_macs.Sighting("GigabitEthernet0/0/2", "00:1a:2b:10:03:02", 103)]
            if host == "macs-hw" and age == 10:
                seen = [store_macs.Sighting("GigabitEthernet0/0/5", "00:1a:2b:10:03:05", 103)]
            store_macs.record(store, host, seen, now - timedelta(days=age), "ssh")

    code, out = govnet(plab, *args)
    assert code == 0, out
    plans = {d["device"]: d for d in as_json(out)["devices"]}
    hw = plans["macs-hw"]
    assert hw["status"] == "change"
    day = f"{now - timedelta(days=40):%Y-%m-%d}"
    assert f"GigabitEthernet0/0/2 (last MAC {day})" in hw["message"]
    assert "GigabitEthernet0/0/4 (never in 30 days of records)" in hw["message"]
    assert [c.strip() for c in hw["commands"] if c.startswith("interface")] == [
        "interface GigabitEthernet0/0/2",
        "interface GigabitEthernet0/0/4",
    ]  # not Gi0/0/1 (a MAC now), Gi0/0/3 (linked), Gi0/0/5 (10 days ago), Gi0/0/24 (trunk)
    assert [c.strip() for c in plans["macs-ios"]["commands"] if c.startswith("interface")] == [
        "interface GigabitEthernet0/4",
        "interface GigabitEthernet0/6",
    ]

    code, out = govnet(
        plab,
        "provision",
        "apply",
        "shutdown-unused-ports",
        "days=30",
        "--limit",
        "macs-hw",
        "--yes",
        "-f",
        "json",
    )
    assert code == 0, out
    assert [d["status"] for d in as_json(out)["devices"]] == ["changed"]
    running = plab.running("macs-hw")
    for n, down in ((1, False), (2, True), (3, False), (4, True), (5, False)):
        assert ("shutdown" in section(running, f"interface GigabitEthernet0/0/{n}")) is down
    code, out = govnet(plab, *args[:-4], "--limit", "macs-hw", "-f", "json")
    assert [d["status"] for d in as_json(out)["devices"]] == ["no-change"]

    # macs-ios refuses the line of its second idle port: the first is brought back up
    before = plab.running("macs-ios")
    code, out = govnet(
        plab,
        "provision",
        "apply",
        "shutdown-unused-ports",
        "days=30",
        "--limit",
        "macs-ios",
        "--yes",
        "-f",
        "json",
    )
    assert code == 1, out
    [result] = as_json(out)["devices"]
    assert result["status"] == "rolled-back", result
    assert [c.strip() for c in result["rollback"]][:2] == [
        "interface GigabitEthernet0/4",
        "no shutdown",
    ]
    assert plab.running("macs-ios") == before


def test_mac_collection_reports_an_unreadable_switch_and_records_the_others(
    plab: ProvLab,
) -> None:
    code, out = govnet(
        plab,
        "backup",
        "macs",
        "--limit",
        "ext-acc-town,ext-acc-west",
        "--timeout",
        "1",
        "--retries",
        "0",
        "-f",
        "json",
    )
    assert code == 3, out
    results = {r["device"]: r for r in as_json(out)["results"]}
    assert results["ext-acc-town"]["status"] == "failed" and results["ext-acc-town"]["message"]
    assert results["ext-acc-west"]["status"] == "ok" and results["ext-acc-west"]["sightings"] > 0
    store = Store.open(plab.db)
    assert store_macs.collections(store, "ext-acc-town") == []
    assert len(store_macs.collections(store, "ext-acc-west")) >= 1
