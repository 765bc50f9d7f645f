"""The lab's devices apply configuration the vendor's way (rules as data in vendors.py)."""

from __future__ import annotations

from pathlib import Path

from govnet.lab.data import LabDeviceData
from govnet.lab.shell import DeviceState, Shell

HUAWEI = """#
 sysname sw
#
 telnet server enable
#
 info-center loghost 10.0.0.1
#
aaa
 undo local-aaa-user wrong-password
 local-user govnet privilege level 15
#
acl number 2001
 rule 5 permit source 10.0.0.0 0.0.0.255
#
user-interface vty 0 4
 acl 3000 inbound
user-interface vty 16 20
#
return
"""


def shell(tmp_path: Path, text: str = HUAWEI, platform: str = "huawei") -> Shell:
    state = DeviceState.load("sw", platform, LabDeviceData("sw", text), tmp_path)
    sh = Shell(state, "govnet")
    sh.handle("system-view" if platform != "cisco_ios" else "configure terminal")
    return sh


def body(sh: Shell) -> list[str]:
    return sh.state.running_text().splitlines()


def test_configuring_the_lockout_replaces_its_displayed_negation(tmp_path: Path) -> None:
    sh = shell(tmp_path)
    sh.handle("aaa")
    sh.handle("local-aaa-user wrong-password retry-interval 5 retry-time 3 block-time 15")
    lines = body(sh)
    assert " undo local-aaa-user wrong-password" not in lines
    assert " local-aaa-user wrong-password retry-interval 5 retry-time 3 block-time 15" in lines
    # back to the default values: VRP prints nothing
    sh.handle("local-aaa-user wrong-password retry-interval 5 retry-time 3 block-time 5")
    assert not [ln for ln in body(sh) if "wrong-password" in ln]


def test_a_removed_line_added_back_prints_in_its_place_and_a_new_one_in_vrp_order(
    tmp_path: Path,
) -> None:
    sh = shell(tmp_path)
    before = body(sh)
    sh.handle("undo telnet server enable")
    sh.handle("telnet server enable")
    assert body(sh) == before
    fresh = shell(tmp_path / "b")
    fresh.handle("http server enable")  # never there: printed after telnet, before info-center
    lines = body(fresh)
    assert lines.index(" telnet server enable") < lines.index(" http server enable")
    assert lines.index(" http server enable") < lines.index(" info-center loghost 10.0.0.1")


def test_vrp_refuses_deleting_a_user_interface_with_its_error_text(tmp_path: Path) -> None:
    sh = shell(tmp_path)
    out = sh.handle("undo user-interface vty 16 20")
    assert "Error: Unrecognized command found at '^' position." in out
    assert "user-interface vty 16 20" in body(sh)


def test_a_rule_or_an_inbound_acl_replaces_the_one_with_its_key(tmp_path: Path) -> None:
    sh = shell(tmp_path)
    sh.handle("acl number 2001")
    sh.handle("rule 5 permit source 10.10.0.0 0.0.0.255")
    sh.handle("quit")
    sh.handle("user-interface vty 0 4")
    sh.handle("acl 2001 inbound")
    lines = body(sh)
    assert " rule 5 permit source 10.0.0.0 0.0.0.255" not in lines
    assert " rule 5 permit source 10.10.0.0 0.0.0.255" in lines
    assert " acl 3000 inbound" not in lines and " acl 2001 inbound" in lines
