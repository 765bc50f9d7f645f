"""Kind ``config``: the section parser and the clause semantics."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from pydantic import ValidationError

from govnet.checks.facts import DeviceFacts
from govnet.checks.kinds.config import ConfigKind, ConfigParams, evaluate_config
from govnet.checks.registry import CheckResult, get_kind
from govnet.core.configtext import parse_config
from govnet.core.vocabulary import Evidence, Status
from tests.unit.checks.support import make_device

HUAWEI = textwrap.dedent(
    """\
    !Software Version V200R011C10SPC500
    #
     sysname HW1
    #
     telnet server enable
    #
    aaa
     authentication-scheme default
      authentication-mode local
     local-user ops password irreversible-cipher $1a$x$
    #
    interface GigabitEthernet0/0/1
     description uplink
    #
    interface GigabitEthernet0/0/2
    #
    interface GigabitEthernet0/0/3
     shutdown
    #
    user-interface con 0
     authentication-mode aaa
    user-interface vty 0 4
     acl 2001 inbound
     idle-timeout 15 0
    user-interface vty 16 20
     idle-timeout 5
    #
    return
    """
)

CISCO = textwrap.dedent(
    """\
    Building configuration...

    Current configuration : 1234 bytes
    !
    hostname R1
    !
    banner motd ^C
    line vty 0 4
    ip http server
    ^C
    interface GigabitEthernet0/1
     description uplink
     ip address 10.0.0.1 255.255.255.0
    !
    line vty 0 4
     transport input ssh
    line vty 5 15
     transport input telnet
    !
    end
    ip http server
    """
)


def check(params: dict[str, Any], config: str = HUAWEI, platform: str = "huawei") -> CheckResult:
    return evaluate_config(parse_config(config), ConfigParams.model_validate(params), platform)


# ----------------------------------------------------------------------------- parser


def test_parser_builds_sections_with_line_numbers() -> None:
    cfg = parse_config(HUAWEI)
    top = [cfg.lines[i].text for i in cfg.top]
    assert top[:3] == ["sysname HW1", "telnet server enable", "aaa"]
    aaa = cfg.top[2]
    assert [cfg.lines[i].text for i in cfg.children(aaa)] == [
        "authentication-scheme default",
        "local-user ops password irreversible-cipher $1a$x$",
    ]
    lo, hi = cfg.body(aaa)
    assert [cfg.lines[i].text for i in range(lo, hi)][1] == "authentication-mode local"
    assert cfg.lines[lo + 1].depth == 2
    assert cfg.lines[aaa].number == 7
    # "user-interface vty 0 4" follows "con 0" without a separator: a sibling, not a child
    assert "user-interface vty 0 4" in top and "user-interface vty 16 20" in top


def test_parser_skips_banner_text_headers_and_stops_at_end() -> None:
    cfg = parse_config(CISCO)
    texts = [line.text for line in cfg.lines]
    assert "ip http server" not in texts  # banner body and text after `end` are not config
    assert texts.count("line vty 0 4") == 1
    assert texts[0] == "Building configuration..."
    ssh = cfg.lines[texts.index("transport input ssh")]
    assert cfg.lines[ssh.parent].text == "line vty 0 4"
    assert ssh.number == 16


def test_parser_handles_single_line_banner_and_huawei_header() -> None:
    cfg = parse_config(
        'banner motd ^Cno entry^C\nhostname R\nheader login information "line one\nsysname X\n"\n'
        " sysname HW\n"
    )
    assert [line.text for line in cfg.lines] == [
        "banner motd ^Cno entry^C",
        "hostname R",
        'header login information "line one',
        "sysname HW",
    ]


def test_search_does_not_cross_lines_even_when_the_regex_could() -> None:
    result = check({"must_not_match": r"description\s+uplink\s+interface"})
    assert result.status is Status.PASS
    result = check({"must_match": r"^description\s+\S+$"})
    assert result.status is Status.PASS
    assert result.evidence == (Evidence("description uplink", 13),)


def test_lookups_are_anchored_per_line() -> None:
    assert check({"must_match": "^authentication-mode local$"}).status is Status.PASS
    assert check({"must_match": "^local$"}).status is Status.FAIL


# ----------------------------------------------------------------------------- global scope


def test_must_match_and_must_not_match_with_evidence() -> None:
    result = check({"must_match": "^sysname ", "must_not_match": ["^telnet server enable$"]})
    assert result.status is Status.FAIL
    assert result.evidence == (
        Evidence("telnet server enable", 5, "must not match ^telnet server enable$"),
    )
    assert result.message == "line 5: 'telnet server enable' matches '^telnet server enable$'"
    ok = check({"must_match": "^sysname "})
    assert ok.status is Status.PASS and ok.evidence == (Evidence("sysname HW1", 3),)


def test_missing_line_is_reported_without_a_number() -> None:
    result = check({"must_match": "^stelnet server enable$"})
    assert result.status is Status.FAIL
    assert result.evidence == (Evidence("no line matches ^stelnet server enable$"),)


# ----------------------------------------------------------------------------- sections


def test_every_section_must_comply() -> None:
    params = {"section": "^user-interface vty ", "must_match": "^acl \\d+ inbound$"}
    result = check(params)
    assert result.status is Status.FAIL
    assert result.evidence == (
        Evidence("user-interface vty 16 20", 25, "no line matches ^acl \\d+ inbound$"),
    )
    assert result.message == "user-interface vty 16 20: no line matches '^acl \\\\d+ inbound$'"


def test_any_section_is_enough() -> None:
    params = {"section": "^user-interface vty ", "quantifier": "any", "must_match": "^acl "}
    result = check(params)
    assert result.status is Status.PASS
    assert result.evidence == (Evidence("acl 2001 inbound", 23),)
    params["must_match"] = "^acl 3000"
    assert check(params).status is Status.FAIL


def test_where_and_unless_narrow_the_sections() -> None:
    base = {"section": "^interface ", "must_match": "^shutdown$"}
    assert check(base).status is Status.FAIL
    assert check({**base, "unless": "^description "}).status is Status.FAIL  # Gi0/0/2
    assert check({**base, "where": "^shutdown$"}).status is Status.PASS
    # interface Gi0/0/2 has no lines at all: `where` drops it, `unless` keeps it
    assert check({**base, "where": "."}).status is Status.FAIL


def test_when_absent() -> None:
    params: dict[str, Any] = {"section": "^line vty ", "must_match": "^transport input ssh$"}
    result = check(params)
    assert result.status is Status.FAIL
    assert result.message == "no section matches ^line vty "
    params["when_absent"] = "pass"
    assert check(params).status is Status.PASS


def test_cisco_sections() -> None:
    params = {"section": "^line vty ", "must_match": "^transport input ssh$"}
    result = check(params, CISCO, "cisco_ios")
    assert result.status is Status.FAIL
    assert [e.text for e in result.evidence] == ["line vty 5 15"]


# ----------------------------------------------------------------------------- values


IDLE = {
    "section": "^user-interface (con|vty) ",
    "value": {
        "match": "^idle-timeout (\\d+)(?: (\\d+))?$",
        "weights": [60, 1],
        "unit": "s",
        "gt": 0,
        "le": 600,
        "default": {"huawei": "idle-timeout 10 0"},
    },
}


def test_value_with_platform_default() -> None:
    result = check(IDLE)
    assert result.status is Status.FAIL  # vty 0 4 has 15 minutes
    assert result.evidence == (
        Evidence("idle-timeout 15 0", 24, "= 900 s, required > 0 and ≤ 600"),
    )
    fixed = HUAWEI.replace("idle-timeout 15 0", "idle-timeout 0 30")
    result = check(IDLE, fixed)
    assert result.status is Status.PASS
    assert result.evidence == (
        Evidence(
            "user-interface con 0",
            20,
            "no line matches ^idle-timeout (\\d+)(?: (\\d+))?$ "
            "(platform default: idle-timeout 10 0) = 600 s",
        ),
        Evidence("idle-timeout 0 30", 24, "= 30 s"),
        Evidence("idle-timeout 5", 26, "= 300 s"),
    )


def test_value_default_is_per_platform() -> None:
    fixed = HUAWEI.replace("idle-timeout 15 0", "idle-timeout 1 0")
    result = check(IDLE, fixed, platform="hp_comware")  # no default for this platform
    assert result.status is Status.FAIL
    assert "no line matches" in result.message


def test_value_zero_is_disabled() -> None:
    result = check(IDLE, HUAWEI.replace("idle-timeout 15 0", "idle-timeout 0 0"))
    assert result.status is Status.FAIL
    assert "'idle-timeout 0 0' = 0 s, required > 0 and ≤ 600" in result.message


def test_default_that_violates_the_bound_fails() -> None:
    params = {"value": {"match": "^retry (\\d+)$", "le": 2, "default": {"huawei": "retry 3"}}}
    result = check(params)
    assert result.status is Status.FAIL
    assert result.message == "platform default 'retry 3' = 3, required ≤ 2"


# ----------------------------------------------------------------------------- all_of, if_match


def test_all_of_clauses_must_all_hold() -> None:
    params = {
        "must_match": "^sysname ",
        "all_of": [
            {"section": "^aaa$", "must_match": "irreversible-cipher"},
            {"section": "^user-interface vty 0", "must_match": "^acl "},
        ],
    }
    assert check(params).status is Status.PASS
    params["all_of"].append({"must_not_match": "^telnet server enable$"})  # type: ignore[attr-defined]
    result = check(params)
    assert result.status is Status.FAIL
    assert [e.text for e in result.evidence] == ["telnet server enable"]


def test_conditional_clauses() -> None:
    rule = {"if_match": "^sysname HW1$", "must_match": "^stelnet server enable$"}
    assert check({"all_of": [rule]}).status is Status.FAIL
    rule["if_match"] = "^sysname OTHER$"
    assert check({"all_of": [rule]}).status is Status.PASS
    other = {"if_no_match": "^telnet server enable$", "must_match": "^never$"}
    assert check({"all_of": [other]}).status is Status.PASS


def test_evidence_is_capped() -> None:
    many = "\n".join(f"interface GigabitEthernet0/0/{n}\n#" for n in range(1, 31))
    result = check({"section": "^interface ", "must_match": "^shutdown$"}, many)
    assert result.status is Status.FAIL
    assert len(result.evidence) == 20
    assert result.message.endswith("(10 more lines of evidence not shown)")


# ----------------------------------------------------------------------------- params


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "a config check needs must_match, must_not_match, value or all_of"),
        ({"must_match": "("}, "bad regular expression '('"),
        ({"must_match": ""}, "expected a regular expression"),
        ({"quantifier": "any", "must_match": "x"}, "'quantifier' needs 'section'"),
        ({"all_of": [{"section": "x"}]}, "a clause needs must_match, must_not_match or value"),
        ({"value": {"match": "(\\d+)"}}, "give at least one bound"),
        ({"value": {"match": "x", "le": 1}}, "match has 0 group(s) but 1 weight(s)"),
        (
            {"value": {"match": "^t (\\d+)", "le": 1, "default": {"huawei": "x 1"}}},
            "default for huawei: 'x 1' does not match",
        ),
        (
            {"value": {"match": "^t (\\d+)", "le": 1, "default": {"huwei": "t 1"}}},
            "unknown platform 'huwei'",
        ),
        ({"must_mach": "x"}, "Extra inputs are not permitted"),
        ({"section": "^aaa$", "all_of": [{"must_match": "x"}]}, "need tests beside them"),
    ],
)
def test_bad_params_are_rejected(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        ConfigParams.model_validate(params)
    assert message in str(info.value)


# ----------------------------------------------------------------------------- the kind


def test_kind_parses_each_config_once_and_reports_missing_config() -> None:
    kind = get_kind("config")
    assert isinstance(kind, ConfigKind)
    device = make_device("huawei")
    facts = DeviceFacts("sw1", config=HUAWEI)
    params = ConfigParams.model_validate({"must_match": "^sysname "})
    assert kind.evaluate(device, facts, params).status is Status.PASS
    cached = facts.cache["config.parsed"]
    assert kind.evaluate(device, facts, params).status is Status.PASS
    assert facts.cache["config.parsed"] is cached
    missing = kind.evaluate(device, DeviceFacts("sw1"), params)
    assert missing.status is Status.ERROR
    assert missing.message == "the running configuration was not collected"
    empty = kind.evaluate(device, DeviceFacts("sw1", config="#\nreturn\n"), params)
    assert empty.status is Status.ERROR


def test_kind_reads_config_from_outputs_and_names_its_command() -> None:
    kind = get_kind("config")
    params = ConfigParams.model_validate({"must_match": "^sysname "})
    huawei, cisco = make_device("huawei"), make_device("cisco_ios")
    assert kind.required_commands(huawei, params) == {"display current-configuration"}
    assert kind.required_commands(cisco, params) == {"show running-config"}
    facts = DeviceFacts("sw1", outputs={"display current-configuration": HUAWEI})
    assert kind.evaluate(huawei, facts, params).status is Status.PASS


def test_a_pattern_scan_does_not_carry_one_config_into_the_next() -> None:
    """The scan remembers lines it has read; two configurations with the same first lines
    (and the same line at another depth) are still each read as themselves."""
    from govnet.core.configtext import PatternScan

    shutdown, port = _re("^shutdown$"), _re("^interface ")
    scan = PatternScan([shutdown, port])
    first = "interface A\n shutdown\n#\ninterface B\n description up\n"
    second = "interface A\n shutdown\n#\nshutdown\ninterface C\n shutdown\n"
    one, two = scan.parse(first), scan.parse(second)
    assert (one.texts, one.numbers, one.top_of) == (
        ("interface A", "shutdown", "interface B", "description up"),
        (1, 2, 4, 5),
        (0, 0, 2, 2),
    )
    assert (one.hits(shutdown), one.hits(port)) == ([1], [0, 2])
    assert (two.texts, two.numbers, two.top_of) == (
        ("interface A", "shutdown", "shutdown", "interface C", "shutdown"),
        (1, 2, 4, 5, 6),
        (0, 0, 2, 3, 3),  # the column-0 "shutdown" is a block of its own
    )
    assert (two.hits(shutdown), two.hits(port)) == ([1, 2, 4], [0, 3])
    again = scan.parse(first)  # and the first reads as before
    assert (again.texts, again.numbers, again.top_of) == (one.texts, one.numbers, one.top_of)
    assert (again.hits(shutdown), again.hits(port)) == ([1], [0, 2])


def _re(pattern: str) -> Any:
    from govnet.checks.kinds.config import compile_regex

    return compile_regex(pattern)


def test_made_fast_results_are_the_frozen_classes() -> None:
    """Findings, results and evidence lines made by the engine's fast constructors are
    instances of their frozen classes, equal to the ones their constructors make."""
    import dataclasses

    from govnet.checks.kinds.config import _evidence
    from govnet.checks.model import Finding, new_finding
    from govnet.checks.registry import new_result
    from govnet.core.vocabulary import Severity, Text

    line = _evidence("shutdown", 3, "note")
    assert type(line) is Evidence and line == Evidence("shutdown", 3, "note")
    result = new_result(Status.PASS, (line,), "compliant")
    assert type(result) is CheckResult and result == CheckResult(Status.PASS, (line,), "compliant")
    fields = (
        *("sw1", "internal", "city", None, "r1", "c1", Severity.HIGH, Status.FAIL, (line,)),
        *("bad", "L3-CES1-01", "huawei", Text(en="t"), Text(en="r"), "", 0.5),
    )
    finding = new_finding(*fields)
    assert type(finding) is Finding and finding == Finding(*fields)
    assert hash(finding) == hash(Finding(*fields))
    with pytest.raises(dataclasses.FrozenInstanceError):
        line.text = "changed"  # type: ignore[misc]
    for frozen in (result, finding):
        with pytest.raises(dataclasses.FrozenInstanceError):
            frozen.message = "changed"  # type: ignore[misc]
