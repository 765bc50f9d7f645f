"""Rollback details on the lab's devices in process: refused rollback lines retried in the
platform's alternative form, permanent views emptied instead of deleted, the rejected line
named, and the lab refusing what the vendor refuses."""

from __future__ import annotations

from pathlib import Path

from govnet.errors import CommandError
from govnet.provision.operations import rejected_line
from govnet.provision.remediation import rollback_commands
from govnet.provision.rules import platform_rules
from tests.provision_sim.run import Sim, start_config


def test_a_refused_rollback_line_is_retried_in_the_platforms_other_form(tmp_path: Path) -> None:
    sim = Sim.create(tmp_path)
    device = sim.device("hp_comware")
    reject = ["^ntp-service unicast-server ", "^undo snmp-agent usm-user v3 govnet-v3 govnet-ro$"]
    sim.bench.load(device, start_config("hp_comware", "weak", device.name), reject)
    before = sim.bench.running(device)
    change = sim.apply("hp_comware")
    assert change.status == "rolled-back", change.message
    assert "undo snmp-agent usm-user v3 govnet-v3 govnet-ro" in change.rollback
    assert "undo snmp-agent usm-user v3 govnet-v3" in change.rollback  # the other form
    assert sim.bench.running(device) == before
    assert change.problems == ["the device rejected 'ntp-service unicast-server 10.10.0.10'"]


def test_a_rollback_line_with_no_other_form_is_reported_with_the_exact_remaining_diff(
    tmp_path: Path,
) -> None:
    sim = Sim.create(tmp_path)
    device = sim.device("huawei")
    reject = ["^ntp-service unicast-server ", "^undo info-center loghost "]
    sim.bench.load(device, start_config("huawei", "weak", device.name), reject)
    change = sim.apply("huawei")
    assert change.status == "rollback-failed"
    assert "the device rejected 'undo info-center loghost 10.10.0.10' in the rollback" in (
        change.problems
    )
    assert "differs from the backup: + info-center loghost 10.10.0.10" in change.problems


def test_a_permanent_view_is_emptied_never_deleted() -> None:
    current = "#\nuser-interface vty 16 20\n acl 2001 inbound\n idle-timeout 5 0\n#\nreturn\n"
    commands = rollback_commands("huawei", current, "#\nreturn\n", "sw")
    assert commands == [
        "user-interface vty 16 20",
        " undo acl 2001 inbound",
        " undo idle-timeout",
        " quit",
    ]
    assert platform_rules("huawei").is_permanent("user-interface vty 16 20")


def test_the_lab_refuses_deleting_a_user_interface_as_vrp_does(tmp_path: Path) -> None:
    sim = Sim.create(tmp_path)
    device = sim.device("huawei")
    sim.bench.load(device, start_config("huawei", "weak", device.name))
    session = sim.bench.session(device)
    try:
        session.configure(["undo user-interface vty 16 20"])
    except CommandError as exc:
        assert "Error: Unrecognized command found at '^' position." in exc.output
        assert rejected_line(exc, ["undo user-interface vty 16 20"]) == (
            "undo user-interface vty 16 20"
        )
    else:
        raise AssertionError("the lab accepted 'undo user-interface vty 16 20'")


def test_the_refused_line_is_found_in_a_whole_output_check() -> None:
    output = (
        "[sw]undo telnet server enable\n[sw]ntp-service enable\n"
        "            ^\n % Unrecognized command found at '^' position.\n[sw]quit"
    )
    exc = CommandError("sw", "rejected 'configuration': % Unrecognized command", output)
    assert rejected_line(exc, ["undo telnet server enable", "ntp-service enable"]) == (
        "ntp-service enable"
    )
