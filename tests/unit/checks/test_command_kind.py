"""Kind ``command``: real vendor output (ntc-templates fixtures) parsed and tested row by row."""

from __future__ import annotations

from typing import Any

import pytest

from govnet.checks.facts import DeviceFacts
from govnet.checks.kinds.command import (
    CommandKind,
    CommandParams,
    parse_rows,
    resolve_command,
)
from govnet.checks.registry import CheckResult, get_kind
from govnet.collect.ntc import template_for
from govnet.core.vocabulary import Evidence, Status
from tests.unit.checks.support import ROOT, make_device

OUTPUTS = ROOT / "tests" / "fixtures" / "outputs"
ARP = {
    "huawei": ("huawei_vrp_display_arp_all.raw", "display arp all", 5),
    "hp_comware": ("hp_comware_display_arp.raw", "display arp", 3),
    "cisco_ios": ("cisco_ios_show_ip_arp.raw", "show ip arp", 7),
}


def raw(name: str) -> str:
    return (OUTPUTS / name).read_text(encoding="utf-8")


def run(platform: str, params: dict[str, Any], outputs: dict[str, str]) -> CheckResult:
    kind = get_kind("command")
    assert isinstance(kind, CommandKind)
    model = CommandParams.model_validate(params)
    return kind.evaluate(make_device(platform), DeviceFacts("sw1", outputs=outputs), model)


@pytest.mark.parametrize("platform", sorted(ARP))
def test_platform_table_key_resolves_per_platform(platform: str) -> None:
    file, command, rows = ARP[platform]
    params = {
        "command": "arp",
        "min_rows": 1,
        "expect": [{"field": "ip_address", "op": "match", "value": r"^\d+\.\d+\.\d+\.\d+$"}],
    }
    kind = get_kind("command")
    assert kind.required_commands(make_device(platform), CommandParams.model_validate(params)) == {
        command
    }
    result = run(platform, params, {command: raw(file)})
    assert result.status is Status.PASS
    assert result.message == f"{rows} row(s) of {command!r} comply"
    assert len(result.evidence) == rows


def test_quantifier_none_names_the_offending_rows() -> None:
    params = {
        "command": "arp",
        "expect": [{"field": "interface", "op": "match", "value": "^MEth", "quantifier": "none"}],
    }
    result = run("huawei", params, {"display arp all": raw("huawei_vrp_display_arp_all.raw")})
    assert result.status is Status.FAIL
    assert result.message == "1 row(s) match interface match '^MEth'"
    assert result.evidence == (
        Evidence(
            "ip_address=192.168.1.253 mac_address=b076-1b65-6a40 type=I - interface=MEth0/0/1",
            None,
            "matches interface match '^MEth'",
        ),
    )


def test_where_filters_rows_before_the_tests() -> None:
    output = {"display arp all": raw("huawei_vrp_display_arp_all.raw")}
    params: dict[str, Any] = {
        "command": "arp",
        "where": [{"field": "type", "op": "match", "value": "^D"}],
        "expect": [{"field": "mac_address", "op": "match", "value": "^b8d6-"}],
    }
    assert run("huawei", params, output).status is Status.PASS
    params["where"] = []
    result = run("huawei", params, output)
    assert result.status is Status.FAIL
    assert result.message == "3 of 5 row(s) fail mac_address match '^b8d6-'"


def test_numeric_comparison_on_interface_errors() -> None:
    output = {"display interface brief": raw("huawei_vrp_display_interface_brief.raw")}
    params = {"command": "interfaces", "expect": [{"field": "inerrors", "op": "le", "value": 0}]}
    result = run("huawei", params, output)
    assert result.status is Status.FAIL
    assert [e.text.split()[0] for e in result.evidence] == [
        "interface=Eth-Trunk4",
        "interface=GigabitEthernet16/0/1(10G)",
    ]
    utilisation = {
        "command": "interfaces",
        "expect": [{"field": "oututi", "op": "lt", "value": 15}],
    }
    assert run("huawei", utilisation, output).status is Status.PASS  # "14.30%" reads as 14.3


def test_any_and_literal_commands() -> None:
    output = {"show interfaces status": raw("cisco_ios_show_interfaces_status.raw")}
    err_disabled = {
        "command": "show interfaces status",
        "expect": [{"field": "status", "op": "eq", "value": "err-disabled", "quantifier": "none"}],
    }
    result = run("cisco_ios", err_disabled, output)
    assert result.status is Status.FAIL
    assert result.message == "1 row(s) match status eq 'err-disabled'"
    vlan8 = {
        "command": "show interfaces status",
        "expect": [{"field": "vlan_id", "op": "eq", "value": 8, "quantifier": "any"}],
    }
    assert run("cisco_ios", vlan8, output).status is Status.PASS
    vlan9 = {
        "command": "show interfaces status",
        "expect": [{"field": "vlan_id", "op": "eq", "value": 9, "quantifier": "any"}],
    }
    result = run("cisco_ios", vlan9, output)
    assert result.status is Status.FAIL and result.message == "no row of 25 has vlan_id eq 9"
    named = {
        "command": "show interfaces status",
        "where": [{"field": "status", "op": "eq", "value": "connected"}],
        "expect": [{"field": "name", "op": "absent", "quantifier": "none"}],
    }
    assert run("cisco_ios", named, output).status is Status.PASS  # every connected port is named


def test_min_rows() -> None:
    output = {"display mac-address": raw("hp_comware_display_mac-address.raw")}
    params = {
        "command": "mac",
        "where": [{"field": "vlan_id", "op": "eq", "value": "10"}],
        "min_rows": 3,
    }
    result = run("hp_comware", params, output)
    assert result.status is Status.FAIL and result.message == "2 row(s), at least 3 required"
    params["min_rows"] = 2
    assert run("hp_comware", params, output).status is Status.PASS


def test_without_a_template_each_line_is_a_row() -> None:
    command = "display snmp-agent sys-info version"
    assert template_for("huawei_vrp", command) is None  # the index's 'di[[r]]' row is no match
    output = {command: "SNMP version running in the system:\n           SNMPv3\n"}
    params = {
        "command": command,
        "expect": [{"field": "line", "op": "match", "value": "^SNMPv(1|2c)", "quantifier": "none"}],
    }
    assert run("huawei", params, output).status is Status.PASS
    output[command] = "SNMP version running in the system:\n           SNMPv2c SNMPv3\n"
    result = run("huawei", params, output)
    assert result.status is Status.FAIL
    assert result.evidence == (
        Evidence("line=SNMPv2c SNMPv3", None, "matches line match '^SNMPv(1|2c)'"),
    )


def test_parse_lines_forces_line_rows() -> None:
    rows = parse_rows("huawei", "display arp all", " a \n\n b\n", mode="lines")
    assert rows == [{"line": "a"}, {"line": "b"}]


def test_per_platform_commands() -> None:
    params = CommandParams.model_validate(
        {"command": "ntp", "commands": {"cisco_ios": "show ntp associations"}, "min_rows": 1}
    )
    assert resolve_command("cisco_ios", params) == "show ntp associations"
    assert resolve_command("huawei", params) == "display ntp-service status"
    assert resolve_command("snmp", params) is None


@pytest.mark.parametrize(
    ("platform", "params", "outputs", "message"),
    [
        (
            "huawei",
            {"command": "arp", "min_rows": 1},
            {},
            "the output of 'display arp all' was not collected",
        ),
        (
            "snmp",
            {"command": "arp", "min_rows": 1},
            {},
            "platform snmp has no 'arp' command; give it under 'commands'",
        ),
        (
            "huawei",
            {"command": "arp", "expect": [{"field": "mac", "op": "absent"}]},
            {"display arp all": raw("huawei_vrp_display_arp_all.raw")},
            "field 'mac' is not in the parsed output of 'display arp all' (fields: expire, interface, ip_address, mac_address, type, vpn_instance)",
        ),
    ],
)
def test_errors(
    platform: str, params: dict[str, Any], outputs: dict[str, str], message: str
) -> None:
    result = run(platform, params, outputs)
    assert result.status is Status.ERROR
    assert result.message == message


def test_output_the_template_rejects_is_an_error() -> None:
    result = run("huawei", {"command": "arp", "min_rows": 1}, {"display arp all": "garbage\n"})
    assert result.status is Status.ERROR
    assert result.message == (
        "cannot parse the output of 'display arp all': huawei_vrp_display_arp_all.textfsm: "
        "State Error raised. Rule Line: 17. Input Line: garbage"
    )


def test_rows_are_parsed_once_per_device() -> None:
    kind = get_kind("command")
    facts = DeviceFacts("sw1", outputs={"display arp all": raw("huawei_vrp_display_arp_all.raw")})
    params = CommandParams.model_validate({"command": "arp", "min_rows": 1})
    kind.evaluate(make_device("huawei"), facts, params)
    [key] = facts.cache
    rows = facts.cache[key]
    kind.evaluate(make_device("huawei"), facts, params)
    assert facts.cache[key] is rows and len(rows) == 5
