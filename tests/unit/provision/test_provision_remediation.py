"""Intended lines → remediation, rollback and verification (hier_config plus govnet's rules).

Where a change is "applied", it goes through the lab's device CLI (``govnet.lab.shell``), the
same code the lab's SSH devices run, so apply → re-plan → rollback is checked line by line
without a network.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govnet.collect.sanitize import normalise
from govnet.inventory import load_inventory
from govnet.lab.data import LabDeviceData
from govnet.lab.shell import DeviceState, Shell
from govnet.platforms import get_platform
from govnet.provision.remediation import (
    TemplateError,
    canonical_lines,
    canonical_text,
    parse_intended,
    pushable,
    remediate,
    rollback_commands,
    verify,
)
from govnet.provision.rules import platform_rules
from govnet.secrets import REDACTOR
from tests.conftest import LAB_INVENTORY, ROOT
from tests.unit.provision.test_provision_templates import BASELINE_DEVICE, baseline_job

DEFAULTS = ROOT / "govnet" / "lab" / "seeds" / "defaults"


class Device:
    """One lab device's CLI (the code behind the lab's SSH devices), kept across pushes."""

    def __init__(self, platform: str, running: str, tmp: Path) -> None:
        self.platform = get_platform(platform)
        self.state = DeviceState.load("sw1", platform, LabDeviceData("sw1", running), tmp)
        self.shell = Shell(self.state, "govnet")

    def push(self, commands: list[str]) -> str:
        """Type ``commands`` in configuration mode; the running config printed afterwards."""
        lines = [
            self.platform.config_enter or "",
            *pushable(commands),
            self.platform.config_exit or "",
        ]
        for line in lines:
            reply = self.shell.handle(line)
            assert "Error" not in reply and "% " not in reply, (line, reply)
        return normalise(self.state.running_text(), self.platform)


def push(platform: str, running: str, commands: list[str], tmp: Path) -> str:
    return Device(platform, running, tmp).push(commands)


def test_huawei_top_level_lines_after_a_section_stay_top_level() -> None:
    text = "#\ninterface NULL0\n#\n snmp-agent\n snmp-agent sys-info version v3\n#\nreturn\n"
    assert canonical_lines(text) == [
        (0, "interface NULL0"),
        (0, "snmp-agent"),
        (0, "snmp-agent sys-info version v3"),
    ]
    assert canonical_text(canonical_text(text)) == canonical_text(text)


def test_banners_are_left_alone_and_blanks_collapse() -> None:
    text = "!\nbanner motd ^C\nip http server\n^C\n!\nip access-list standard MGMT\n deny   any log\n!\nend\n"
    assert canonical_lines(text) == [(0, "ip access-list standard MGMT"), (1, "deny any log")]


def test_directives_and_silent_negations() -> None:
    intended = parse_intended(
        "#\n @absent ^snmp-agent community\\s\n stelnet server enable\n#\ninterface GigabitEthernet0/0/5\n"
        " description office\n undo shutdown\n#\n",
        "huawei",
    )
    assert intended.lines == (
        (0, "stelnet server enable"),
        (0, "interface GigabitEthernet0/0/5"),
        (1, "description office"),
    )
    assert [(a.path, a.pattern.pattern) for a in intended.absent] == [
        ((), r"^snmp-agent community\s"),
        (("interface GigabitEthernet0/0/5",), "^shutdown$"),  # undo shutdown is never printed
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("#\n @absent (\n", "bad regex"),
        ("#\n@absent ^x\n y\n", "directives cannot have children"),
        ("#\naaa @absent ^x\n", "must start its own line"),
        ("#\n @absent\n", "needs a regex"),
    ],
)
def test_bad_directives_are_template_errors(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_intended(text, "huawei", "t.j2")


def test_unsupported_platform_is_refused() -> None:
    with pytest.raises(Exception, match="cannot be provisioned"):
        parse_intended("hostname x\n", "linux")


COMWARE_PORT = (
    "#\ninterface GigabitEthernet1/0/5\n description old\n port access vlan 10\n#\nreturn\n"
)


def test_comware_description_change_and_removal_in_comware_syntax() -> None:
    new = parse_intended("#\ninterface GigabitEthernet1/0/5\n description new\n", "hp_comware")
    rem = remediate(new, COMWARE_PORT)
    assert rem.commands == ["interface GigabitEthernet1/0/5", " description new", " quit"]
    assert rem.rollback == ["interface GigabitEthernet1/0/5", " description old", " quit"]
    gone = parse_intended(
        "#\ninterface GigabitEthernet1/0/5\n @absent ^description\n", "hp_comware"
    )
    # hier_config's Comware driver says "undo description old"; Comware wants "undo description"
    assert remediate(gone, COMWARE_PORT).commands == [
        "interface GigabitEthernet1/0/5",
        " undo description",
        " quit",
    ]
    assert (
        platform_rules("hp_comware").fix("undo description old", ("interface X",))
        == "undo description"
    )


def test_ios_acl_entries_are_sent_without_hier_config_sequence_numbers(tmp_path: Path) -> None:
    running = "!\nip access-list extended ONB\n deny ip any 10.10.0.0 0.0.255.255\n permit ip any any\n!\nend\n"
    intended = parse_intended(
        "ip access-list extended ONB\n deny ip any 10.10.0.0 0.0.255.255\n deny ip any 10.20.0.0 0.0.255.255\n"
        " permit ip any any\n @absent .\n",
        "cisco_ios",
    )
    rem = remediate(intended, running)
    assert not any(c.strip()[:1].isdigit() or c.strip().startswith("no 1") for c in rem.commands)
    after = push("cisco_ios", running, rem.commands, tmp_path)
    assert (
        "deny ip any 10.10.0.0 0.0.255.255\n deny ip any 10.20.0.0 0.0.255.255\n permit ip any any"
        in after
    )
    assert remediate(intended, after).commands == []
    assert verify(intended, after) == []


def test_a_key_the_device_prints_encrypted_is_not_pushed_again() -> None:
    running = "#\n snmp-agent usm-user v3 nms g cipher authentication-mode sha $c$3$abc== privacy-mode aes128 $c$3$def==\n#\n"
    intended = parse_intended(
        "#\n snmp-agent usm-user v3 nms g simple authentication-mode sha Secret-1 privacy-mode aes128 Secret-2\n",
        "hp_comware",
    )
    assert remediate(intended, running).commands == []
    assert verify(intended, running) == []
    other_user = running.replace(" nms ", " ops ")
    assert remediate(intended, other_user).commands != []


def test_verification_names_missing_and_remaining_lines_with_secrets_masked() -> None:
    REDACTOR.add("Very-Secret-Key")
    intended = parse_intended(
        "#\n @absent ^snmp-agent community\\s\n snmp-agent usm-user v3 u authentication-mode sha cipher Very-Secret-Key\n"
        "#\nuser-interface vty 0 4\n protocol inbound ssh\n",
        "huawei",
    )
    running = "#\n snmp-agent community read cipher %^%#xyz%^%#\n#\nuser-interface vty 0 4\n protocol inbound all\n#\nreturn\n"
    problems = verify(intended, running)
    assert problems == [
        "missing: snmp-agent usm-user v3 u authentication-mode sha cipher ***",
        "shown differently: user-interface vty 0 4 > protocol inbound ssh "
        "(the device shows protocol inbound all)",
        "still present: snmp-agent community read cipher ***",
    ]


@pytest.mark.parametrize("platform", ["huawei", "hp_comware", "cisco_ios"])
def test_apply_then_replan_is_empty_and_rollback_restores_byte_identical(
    platform: str, tmp_path: Path
) -> None:
    """Baseline onto the factory default config through the lab CLI, both ways."""
    inv = load_inventory(LAB_INVENTORY)
    device = inv.devices[BASELINE_DEVICE[platform]]
    intended = baseline_job(inv).intended(device)
    lab = Device(
        platform, (DEFAULTS / f"{platform}.cfg").read_text().replace("{hostname}", "sw1"), tmp_path
    )
    before = lab.push([])
    rem = remediate(intended, before)
    assert rem.changed and verify(intended, before)
    after = lab.push(rem.commands)
    assert verify(intended, after) == []
    assert remediate(intended, after).commands == []  # idempotent
    # the rollback from the device's state (as apply computes it) gives the backup back
    assert lab.push(rollback_commands(platform, after, before, "sw1")) == before
