"""Templates per platform against golden files (tests/fixtures/provision/<platform>/).

The goldens hold what the templates render for lab devices (secrets masked) and the plan
they give against each platform's default configuration. After an intended change to a
template, regenerate them with ``GOVNET_UPDATE_GOLDEN=1 pytest tests/unit/provision`` and
review the diff.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest

from govnet.inventory import Inventory, load_inventory
from govnet.provision.ipam import Allocation
from govnet.provision.operations import mask
from govnet.provision.remediation import TemplateError, remediate
from govnet.provision.tasks import Job, Prepared, get_task, parse_args
from govnet.provision.templates import TemplateSet
from govnet.secrets import REDACTOR
from tests.conftest import LAB_INVENTORY, ROOT

GOLDEN = ROOT / "tests" / "fixtures" / "provision"
TEMPLATES = TemplateSet(ROOT / "playbooks" / "templates")
DEFAULTS = ROOT / "govnet" / "lab" / "seeds" / "defaults"
BASELINE_DEVICE = {
    "huawei": "int-acc-town",
    "hp_comware": "int-acc-west",
    "cisco_ios": "ext-acc-west",
    "ruijie_os": "int-acc-east",
}
ONBOARD_DEVICE = {
    "huawei": "int-agg-east",
    "hp_comware": "int-acc-west",
    "cisco_ios": "ext-agg-east",
    "ruijie_os": "int-acc-east",
}


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_inventory(LAB_INVENTORY)


def check_golden(path: Path, text: str) -> None:
    if os.environ.get("GOVNET_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} missing: run with GOVNET_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{path} differs from the rendering"


def baseline_job(inv: Inventory) -> Job:
    task = get_task("baseline")
    return Job(task, parse_args(task, []), inv, TEMPLATES)


def onboard_job(inv: Inventory, zone: str) -> Job:
    task = get_task("onboard-unit")
    args = parse_args(
        task,
        ["unit=east-market", f"zone={zone}", "ports=GigabitEthernet0/0/5,GigabitEthernet1/0/5"],
    )
    vlan, net = (104, "10.10.4.0/24") if zone == "internal" else (204, "172.20.4.0/24")
    alloc = Allocation(zone, "east-market", vlan, ipaddress.ip_network(net))
    denied = (
        [ipaddress.ip_network("172.20.0.0/16")]
        if zone == "internal"
        else [ipaddress.ip_network("10.10.0.0/16")]
    )
    prepared = Prepared(
        context={
            "alloc": alloc,
            "unit": inv.units["east-market"],
            "ports": list(args.ports),  # type: ignore[attr-defined]
            "deny_prefixes": denied,
        }
    )
    return Job(task, args, inv, TEMPLATES, prepared)


@pytest.mark.parametrize("platform", sorted(BASELINE_DEVICE))
def test_baseline_renders_as_the_golden_file(inv: Inventory, platform: str) -> None:
    device = inv.devices[BASELINE_DEVICE[platform]]
    context = baseline_job(inv).task.context(inv, device, baseline_job(inv).args, Prepared())
    text = TEMPLATES.render(platform, "baseline", context, device.name)
    check_golden(GOLDEN / platform / "baseline.txt", REDACTOR(text))
    if platform != "cisco_ios":  # IOS never prints SNMPv3 users: its baseline sets the group only
        assert "LabAuthKey2026" in text and "LabPrivKey2026" in text  # the keys, resolved late
        assert "LabAuthKey2026" not in REDACTOR(text)  # and masked from then on


@pytest.mark.parametrize("platform", sorted(ONBOARD_DEVICE))
def test_onboard_unit_renders_as_the_golden_file(inv: Inventory, platform: str) -> None:
    device = inv.devices[ONBOARD_DEVICE[platform]]
    job = onboard_job(inv, device.zone)
    text = TEMPLATES.render(
        platform, "onboard-unit", job.task.context(inv, device, job.args, job.prepared), device.name
    )
    check_golden(GOLDEN / platform / "onboard-unit.txt", text)
    intended = job.intended(device)
    assert any(line.endswith("east-market") and "description" in line for _, line in intended.lines)


@pytest.mark.parametrize("platform", sorted(BASELINE_DEVICE))
def test_baseline_plan_against_the_factory_default_config(inv: Inventory, platform: str) -> None:
    """The commands (masked) that harden a switch as it comes from the factory, and back."""
    device = inv.devices[BASELINE_DEVICE[platform]]
    intended = baseline_job(inv).intended(device)
    running = (
        (DEFAULTS / f"{platform}.cfg")
        .read_text(encoding="utf-8")
        .replace("{hostname}", device.name)
    )
    rem = remediate(intended, running, device.name)
    text = "\n".join(mask(rem.commands)) + "\n"  # as plan and apply show them
    check_golden(GOLDEN / platform / "baseline-defaults.plan", text)
    back = "\n".join(mask(rem.rollback)) + "\n"
    check_golden(GOLDEN / platform / "baseline-defaults.rollback", back)


@pytest.mark.parametrize("platform", sorted(BASELINE_DEVICE))
def test_compliant_lab_devices_need_little_and_secrets_already_there_are_not_pushed(
    inv: Inventory, platform: str
) -> None:
    device = inv.devices[BASELINE_DEVICE[platform]]
    intended = baseline_job(inv).intended(device)
    running = (ROOT / "inventory" / "lab-data" / device.name / "running.cfg").read_text(
        encoding="utf-8"
    )
    rem = remediate(intended, running, device.name)
    assert not any(
        "usm-user" in c for c in rem.commands
    )  # the device has the user: keys never re-sent
    assert not any("LabAuthKey2026" in c for c in rem.commands + rem.rollback)


def test_a_missing_variable_names_the_template_line_and_the_device(
    inv: Inventory, tmp_path: Path
) -> None:
    (tmp_path / "huawei").mkdir()
    (tmp_path / "huawei" / "baseline.j2").write_text(
        "#\n sysname {{ device.name }}\n info-center loghost {{ vars.nowhere }}\n"
    )
    job = Job(
        get_task("baseline"), parse_args(get_task("baseline"), []), inv, TemplateSet(tmp_path)
    )
    with pytest.raises(
        TemplateError,
        match=r"huawei/baseline\.j2:3: 'dict object' has no attribute 'nowhere' \(rendering for int-acc-town\)",
    ):
        job.intended(inv.devices["int-acc-town"])


def test_a_device_without_an_snmpv3_user_is_told_what_to_set(
    inv: Inventory, tmp_path: Path
) -> None:
    (tmp_path / "huawei").mkdir()
    (tmp_path / "huawei" / "baseline.j2").write_text("#\n snmp-agent usm-user v3 {{ snmp.user }}\n")
    device = inv.devices["int-acc-town"]
    bare = type(device)(**{**device.__dict__, "vars": {}})
    job = Job(
        get_task("baseline"), parse_args(get_task("baseline"), []), inv, TemplateSet(tmp_path)
    )
    with pytest.raises(TemplateError, match=r"no SNMPv3 user for int-acc-town: set vars\.snmp_v3"):
        job.intended(bare)


def test_template_syntax_errors_and_bad_prefixes_are_template_errors(
    inv: Inventory, tmp_path: Path
) -> None:
    (tmp_path / "huawei").mkdir()
    path = tmp_path / "huawei" / "baseline.j2"
    job = Job(
        get_task("baseline"), parse_args(get_task("baseline"), []), inv, TemplateSet(tmp_path)
    )
    path.write_text("#\n{% if %}\n")
    with pytest.raises(TemplateError, match=r"baseline\.j2:2: template syntax error"):
        job.intended(inv.devices["int-acc-town"])
    path.write_text("#\n acl {{ 'not-a-net' | network }}\n")
    with pytest.raises(TemplateError, match="'not-a-net' is not an IP prefix"):
        job.intended(inv.devices["int-acc-town"])


def test_binary_fifo_and_huge_templates_are_template_errors(inv: Inventory, tmp_path: Path) -> None:
    """Issue 12: templates go through the bounded reader (exit 2 naming the file, no block)."""
    (tmp_path / "huawei").mkdir()
    path = tmp_path / "huawei" / "baseline.j2"
    job = Job(
        get_task("baseline"), parse_args(get_task("baseline"), []), inv, TemplateSet(tmp_path)
    )
    device = inv.devices["int-acc-town"]
    path.write_bytes(b"sysname x\n\x81\xff\xfe\n")
    with pytest.raises(TemplateError, match=r"baseline\.j2: neither UTF-8 nor GBK text"):
        job.intended(device)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(TemplateError, match=r"baseline\.j2: a FIFO \(named pipe\), not a regular"):
        job.intended(device)
    path.unlink()
    with path.open("wb") as fh:
        fh.truncate(17 * 1024 * 1024)
    with pytest.raises(TemplateError, match=r"baseline\.j2: 17 MiB is larger than the 16 MiB"):
        job.intended(device)
