"""The configuration tree: parse, render back unchanged, and config-mode edits."""

from __future__ import annotations

import pytest

from govnet.lab.configtree import ConfigSyntax, ConfigTree, EditRules
from govnet.lab.shell import default_config
from govnet.lab.vendors import VENDORS

HUAWEI = ConfigSyntax(comment="#", footer="return", leaf_indent=1)
CISCO = ConfigSyntax(comment="!", footer="end", leaf_indent=0)
UNDO = EditRules(
    negation="undo",
    single_valued=("sysname", "idle-timeout"),
    no_trace=("shutdown",),
    shown=("info-center enable",),
)
NO = EditRules(negation="no", single_valued=("hostname",), no_trace=("shutdown",))

HUAWEI_TEXT = """\
!Software Version V200R011C10SPC500
#
 sysname HW1
#
 telnet server enable
 http server enable
#
aaa
 local-user admin password irreversible-cipher abc
 local-user admin service-type ssh
#
interface GigabitEthernet0/0/1
 port link-type access
#
interface NULL0
#
user-interface con 0
 authentication-mode password
user-interface vty 0 4
 authentication-mode aaa
 idle-timeout 10 0
#
ospf 1
 area 0.0.0.0
  network 10.0.0.0 0.0.0.255
#
return
"""

CISCO_TEXT = """\
!
version 15.2
no service pad
!
hostname R1
!
interface GigabitEthernet0/1
 ip address 10.0.0.1 255.255.255.0
!
interface GigabitEthernet0/2
 shutdown
!
ip http server
ip ssh version 2
!
line con 0
line vty 0 4
 transport input ssh
!
end
"""


def test_huawei_text_round_trips_exactly() -> None:
    tree = ConfigTree.parse(HUAWEI_TEXT, HUAWEI)
    assert tree.render() == HUAWEI_TEXT
    assert tree.header == ["!Software Version V200R011C10SPC500"]


def test_cisco_text_round_trips_exactly() -> None:
    assert ConfigTree.parse(CISCO_TEXT, CISCO).render() == CISCO_TEXT


@pytest.mark.parametrize("platform", ["huawei", "hp_comware", "cisco_ios", "ruijie_os"])
def test_shipped_default_configs_round_trip(platform: str) -> None:
    dialect = VENDORS[platform].config
    assert dialect is not None
    text = default_config(platform).replace("{hostname}", "X1")
    tree = ConfigTree.parse(text, dialect.syntax, dialect.is_top_section)
    assert tree.render() == text
    assert tree.top(dialect.hostname_keyword) is not None


def test_huawei_leaves_and_sections_are_told_apart_by_indentation() -> None:
    tree = ConfigTree.parse(HUAWEI_TEXT, HUAWEI)
    top = [(n.text, n.is_section) for n in tree.root.children]
    assert top[:3] == [
        ("sysname HW1", False),
        ("telnet server enable", False),
        ("http server enable", False),
    ]
    assert ("interface NULL0", True) in top  # a section without children stays a section
    vty = tree.find("user-interface vty 0 4")
    assert vty is not None
    assert [c.text for c in vty.children] == ["authentication-mode aaa", "idle-timeout 10 0"]
    area = tree.find("ospf 1", "area 0.0.0.0")
    assert area is not None and [c.text for c in area.children] == ["network 10.0.0.0 0.0.0.255"]


def test_set_line_adds_once_and_replaces_single_valued_lines() -> None:
    tree = ConfigTree.parse(HUAWEI_TEXT, HUAWEI)
    vty = tree.find("user-interface vty 0 4")
    assert vty is not None
    assert tree.set_line(vty, "protocol inbound ssh", UNDO) is True
    assert tree.set_line(vty, "protocol inbound ssh", UNDO) is False  # already there
    assert tree.set_line(vty, "idle-timeout 5 0", UNDO) is True
    assert [c.text for c in vty.children] == [
        "authentication-mode aaa",
        "protocol inbound ssh",
        "idle-timeout 5 0",
    ]
    assert tree.set_line(tree.root, "sysname HW2", UNDO)
    assert "\n sysname HW2\n" in tree.render()
    assert "HW1" not in tree.render()


def test_negation_removes_an_existing_line_or_records_itself() -> None:
    tree = ConfigTree.parse(HUAWEI_TEXT, HUAWEI)
    assert tree.negate(tree.root, "telnet server enable", UNDO) is True
    assert tree.find("telnet server enable") is None
    assert tree.find("undo telnet server enable") is None  # removed, not recorded

    assert tree.negate(tree.root, "ftp server enable", UNDO) is True  # nothing to remove
    assert tree.find("undo ftp server enable") is not None
    # the positive line replaces its recorded negation
    assert tree.set_line(tree.root, "ftp server enable", UNDO) is True
    assert tree.find("undo ftp server enable") is None
    assert tree.find("ftp server enable") is not None


def test_negating_an_on_by_default_feature_is_always_printed() -> None:
    tree = ConfigTree.parse(HUAWEI_TEXT, HUAWEI)
    tree.set_line(tree.root, "info-center enable", UNDO)
    assert tree.negate(tree.root, "info-center enable", UNDO) is True
    assert tree.find("info-center enable") is None
    assert tree.find("undo info-center enable") is not None
    assert tree.negate(tree.root, "info-center enable", UNDO) is False  # already recorded


def test_negation_by_prefix_and_of_whole_sections() -> None:
    tree = ConfigTree.parse(HUAWEI_TEXT, HUAWEI)
    aaa = tree.find("aaa")
    assert aaa is not None
    assert tree.negate(aaa, "local-user admin", UNDO) is True
    assert aaa.children == []
    assert tree.negate(tree.root, "interface GigabitEthernet0/0/1", UNDO) is True
    assert "GigabitEthernet0/0/1" not in tree.render()


def test_no_trace_negations_leave_nothing_when_absent() -> None:
    tree = ConfigTree.parse(CISCO_TEXT, CISCO)
    g1 = tree.find("interface GigabitEthernet0/1")
    g2 = tree.find("interface GigabitEthernet0/2")
    assert g1 is not None and g2 is not None
    assert tree.negate(g1, "shutdown", NO) is False
    assert [c.text for c in g1.children] == ["ip address 10.0.0.1 255.255.255.0"]
    assert tree.negate(g2, "shutdown", NO) is True
    assert g2.children == []


def test_new_sections_and_lines_land_next_to_their_feature_with_separators() -> None:
    tree = ConfigTree.parse(CISCO_TEXT, CISCO)
    gi3 = tree.open_section(tree.root, "interface GigabitEthernet0/3", NO)
    assert tree.open_section(tree.root, "interface GigabitEthernet0/3", NO) is gi3  # re-entered
    tree.set_line(gi3, "description new", NO)
    tree.set_line(tree.root, "ip domain-name lab.local", NO)
    tree.set_line(tree.root, "logging host 10.0.0.9", NO)
    text = tree.render()
    assert (
        "interface GigabitEthernet0/2\n shutdown\n!\n"
        "interface GigabitEthernet0/3\n description new\n!\n"
        "ip http server\nip ssh version 2\nip domain-name lab.local\n!\n"
    ) in text
    assert text.endswith("transport input ssh\n!\nlogging host 10.0.0.9\n!\nend\n")
    assert ConfigTree.parse(text, CISCO).render() == text  # stable after edits


def test_huawei_renders_new_top_level_leaves_indented_and_sections_flush() -> None:
    tree = ConfigTree.parse(HUAWEI_TEXT, HUAWEI)
    tree.set_line(tree.root, "info-center loghost 10.0.0.9", UNDO)
    acl = tree.open_section(tree.root, "acl number 2001", UNDO)
    tree.set_line(acl, "rule 5 permit source 10.0.0.0 0.0.0.255", UNDO)
    text = tree.render()
    assert text.endswith(
        "#\n info-center loghost 10.0.0.9\n#\nacl number 2001\n"
        " rule 5 permit source 10.0.0.0 0.0.0.255\n#\nreturn\n"
    )
    assert ConfigTree.parse(text, HUAWEI).render() == text
