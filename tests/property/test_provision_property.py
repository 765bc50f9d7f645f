"""The provisioning parsers keep their invariants whatever text they are given: the
canonical layout fed to hier_config, and a rendered template's lines and directives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from govnet.provision.remediation import (
    TemplateError,
    canonical_lines,
    canonical_text,
    parse_intended,
    remediate,
)

WORDS = [
    "interface GigabitEthernet0/0/1",
    "description  uplink ",
    "shutdown",
    "undo shutdown",
    "user-interface vty 0 4",
    "idle-timeout 5 0",
    "acl 2001 inbound",
    "@absent ^x",
    "@absent (",
    "@absent",
    "telnet server enable",
    "snmp-agent community read public",
    "aaa",
    "banner motd ^C",
    "^C",
    "return",
    "end",
    "#",
    "!",
    "!Software Version V200R011",
    "sysname X",
    "x @absent y",
    "",
    "\t",
    "rule 5 deny",
]
lines = st.tuples(st.integers(0, 4), st.sampled_from(WORDS) | st.text(max_size=10)).map(
    lambda t: " " * t[0] + t[1]
)
texts = st.lists(lines, max_size=40).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_canonical_layout_is_stable_and_well_nested(text: str) -> None:
    found = canonical_lines(text)
    depth = -1
    for d, line in found:
        assert d <= depth + 1 and d >= 0  # a line is at most one level below the one before
        assert line == line.strip() and "  " not in line and line
        depth = d
    assert canonical_text(canonical_text(text)) == canonical_text(text)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_intended_text_parses_to_lines_and_directives_or_a_template_error(text: str) -> None:
    try:
        intended = parse_intended(text, "huawei", "t.j2")
    except TemplateError:
        return
    assert not any(
        line.startswith("@absent") or line == "undo shutdown" for _, line in intended.lines
    )
    again = parse_intended(intended.text, "huawei", "t.j2")
    assert again.lines == intended.lines and again.absent == ()
    # what is intended and already there needs nothing
    try:
        rem = remediate(again, intended.text)
    except Exception as exc:  # only govnet's own errors may come out (duplicate lines)
        assert type(exc).__module__.startswith("govnet"), exc
        return
    assert rem.commands == []
