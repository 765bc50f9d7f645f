"""Lines added back return to where they stood: a device prints its configuration in a fixed
order, whatever order the lines were typed in (what makes a rollback byte-identical)."""

from __future__ import annotations

from govnet.lab.configtree import ConfigSyntax, ConfigTree, EditRules

SYNTAX = ConfigSyntax(comment="#", footer="return", leaf_indent=1)
RULES = EditRules(
    negation="undo",
    single_valued=("idle-timeout", "snmp-agent sys-info version"),
    no_trace=("shutdown",),
    shown=("telnet server enable",),
    unprinted_defaults=("ip http enable",),
)
TEXT = """\
#
 sysname HW1
#
 telnet server enable
#
 snmp-agent
 snmp-agent community read public
 snmp-agent sys-info version v2c v3
 snmp-agent trap enable
#
user-interface vty 0 4
 authentication-mode aaa
 idle-timeout 10 0
 protocol inbound all
#
return
"""


def test_removed_lines_come_back_in_their_place_whatever_the_order() -> None:
    tree = ConfigTree.parse(TEXT, SYNTAX)
    # remove two neighbours (community first), add a replacement, then put both back
    assert tree.negate(tree.root, "snmp-agent community read public", RULES)
    assert tree.negate(tree.root, "snmp-agent sys-info version v2c v3", RULES)
    assert tree.set_line(tree.root, "snmp-agent sys-info version v3", RULES)
    assert tree.negate(tree.root, "snmp-agent sys-info version v3", RULES)
    assert tree.set_line(tree.root, "snmp-agent community read public", RULES)
    assert tree.set_line(tree.root, "snmp-agent sys-info version v2c v3", RULES)
    assert tree.render() == TEXT


def test_single_valued_and_shown_lines_come_back_in_place() -> None:
    tree = ConfigTree.parse(TEXT, SYNTAX)
    vty = tree.find("user-interface vty 0 4")
    assert vty is not None
    assert tree.set_line(vty, "idle-timeout 5 0", RULES)  # replaces 10 0, lands last
    assert [c.text for c in vty.children][-1] == "idle-timeout 5 0"
    assert tree.negate(tree.root, "telnet server enable", RULES)
    assert "\n undo telnet server enable\n" in tree.render()
    assert tree.set_line(vty, "idle-timeout 10 0", RULES)
    assert tree.set_line(tree.root, "telnet server enable", RULES)
    assert tree.render() == TEXT


def test_an_unprinted_default_only_removes_its_negation() -> None:
    tree = ConfigTree.parse(TEXT, SYNTAX)
    assert tree.negate(tree.root, "ip http enable", RULES)
    assert tree.find("undo ip http enable") is not None
    assert tree.set_line(tree.root, "ip http enable", RULES)
    assert tree.render() == TEXT
    assert tree.set_line(tree.root, "ip http enable", RULES) is False
