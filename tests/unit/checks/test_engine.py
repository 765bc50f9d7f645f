"""The engine (device × rule → finding), the result model and the exit code."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from govnet.checks.engine import DeviceFacts, evaluate, required_commands
from govnet.checks.facts import DeviceFacts as FactsFromFacts
from govnet.checks.model import Finding, Run, exit_code
from govnet.checks.playbook import AppliesTo, Playbook, Rule
from govnet.checks.registry import get_kind
from govnet.core.vocabulary import Evidence, Severity, Status, Text
from govnet.inventory.model import Device
from tests.unit.checks.support import make_device


class _Nothing(BaseModel):
    """Params no kind understands: evaluating them makes the kind raise."""


def rule(
    rule_id: str,
    kind: str = "config",
    params: dict[str, Any] | None = None,
    severity: Severity = Severity.HIGH,
    **applies: list[str],
) -> Rule:
    model: BaseModel = (
        _Nothing()
        if params == {}
        else get_kind(kind).params.model_validate(params or {"must_match": "^sysname "})
    )
    return Rule(
        id=rule_id,
        control="mgmt.ssh-only",
        title=Text("SSH only", "仅SSH"),
        severity=severity,
        applies_to=AppliesTo.model_validate(applies),
        kind=kind,
        params=model,
        remediation=Text("fix it", "修复"),
    )


def book(*rules: Rule) -> list[Playbook]:
    return [Playbook("p", "p.yaml", list(rules))]


HW = " sysname HW\n#\nreturn\n"


def test_facts_are_reexported_by_the_engine() -> None:
    assert DeviceFacts is FactsFromFacts


def test_skip_error_and_verdicts() -> None:
    hw, ios, dead = (
        make_device("huawei", "hw"),
        make_device("cisco_ios", "ios"),
        make_device("huawei", "dead"),
    )
    facts = {
        "hw": DeviceFacts("hw", config=HW),
        "ios": DeviceFacts("ios", config="hostname R\nend\n"),
        "dead": DeviceFacts("dead", error="connection refused", error_kind="connect"),
    }
    playbooks = book(
        rule("r.hw", platform=["huawei"]), rule("r.all", params={"must_match": "^hostname "})
    )
    got = [
        (f.device, f.rule, f.status.value, f.message)
        for f in evaluate([hw, ios, dead], facts, playbooks)
    ]
    assert got == [
        ("hw", "r.hw", "pass", "compliant"),
        ("hw", "r.all", "fail", "no line matches '^hostname '"),
        ("ios", "r.hw", "skip", "not applicable: platform cisco_ios is not one of huawei"),
        ("ios", "r.all", "pass", "compliant"),
        ("dead", "r.hw", "error", "connect: connection refused"),
        ("dead", "r.all", "error", "connect: connection refused"),
    ]


def test_missing_facts_and_a_crashing_kind_are_errors_not_exceptions() -> None:
    hw, other = make_device("huawei", "hw"), make_device("huawei", "other")
    playbooks = book(rule("boom", params={}), rule("ok"))
    findings = evaluate([hw, other], {"hw": DeviceFacts("hw", config=HW)}, playbooks)
    assert [(f.device, f.rule, f.status.value) for f in findings] == [
        ("hw", "boom", "error"),
        ("hw", "ok", "pass"),
        ("other", "boom", "error"),
        ("other", "ok", "error"),
    ]
    assert findings[0].message.startswith("check 'config' failed: AttributeError: ")
    assert findings[3].message == "no facts were collected"


def test_finding_carries_the_device_and_rule_context() -> None:
    device = Device(
        name="sw9",
        host="h",
        platform="huawei",
        role="core",
        zone="internal",
        site="city",
        unit="it",
    )
    [finding] = evaluate([device], {"sw9": DeviceFacts("sw9", config=HW)}, book(rule("r")))
    assert (finding.zone, finding.site, finding.unit, finding.platform) == (
        "internal",
        "city",
        "it",
        "huawei",
    )
    assert finding.control == "mgmt.ssh-only" and finding.clause == "L3-CES1-03"
    assert finding.title == Text("SSH only", "仅SSH") and finding.remediation.zh == "修复"
    assert finding.evidence == (Evidence("sysname HW", 1),)


def test_required_commands_cover_only_applicable_rules() -> None:
    playbooks = book(
        rule("cfg"),
        rule("arp", kind="command", params={"command": "arp", "min_rows": 1}, role=["core"]),
        rule(
            "ntp", kind="command", params={"command": "ntp", "min_rows": 1}, platform=["cisco_ios"]
        ),
    )
    devices = [
        make_device("huawei", "a", role="core"),
        make_device("cisco_ios", "b"),
        make_device("snmp", "c"),
    ]
    assert required_commands(devices, playbooks) == {
        "a": {"display current-configuration", "display arp all"},
        "b": {"show running-config", "show ntp status"},
        "c": set(),
    }


def test_applies_to_zone_and_tags() -> None:
    r = rule("r", zone=["external"], tags=["mlps-l3", "dmz"])
    assert not r.applies(make_device(zone="internal", tags=frozenset({"dmz"})))
    assert not r.applies(make_device(zone="external"))
    assert r.applies(make_device(zone="external", tags=frozenset({"dmz"})))


# ----------------------------------------------------------------------------- model


def finding(status: Status, severity: Severity = Severity.HIGH, device: str = "sw1") -> Finding:
    return Finding(device, "internal", "city", None, "r", "mgmt.ssh-only", severity, status)


def test_severity_is_ordered_by_rank_not_alphabet() -> None:
    assert Severity.LOW < Severity.MEDIUM < Severity.HIGH < Severity.CRITICAL
    assert sorted([Severity.HIGH, Severity.LOW, Severity.CRITICAL, Severity.MEDIUM]) == [
        Severity.LOW,
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.CRITICAL,
    ]
    assert Severity.CRITICAL >= Severity.HIGH and not Severity.MEDIUM >= Severity.HIGH
    assert str(Severity.HIGH) == "high" and Severity("medium") is Severity.MEDIUM
    with pytest.raises(TypeError):
        _ = Severity.LOW < 3


@pytest.mark.parametrize(
    ("findings", "fail_on", "code"),
    [
        ([], Severity.LOW, 0),
        ([finding(Status.PASS), finding(Status.SKIP)], Severity.LOW, 0),
        ([finding(Status.FAIL, Severity.HIGH)], Severity.HIGH, 1),
        ([finding(Status.FAIL, Severity.CRITICAL)], Severity.HIGH, 1),
        ([finding(Status.FAIL, Severity.MEDIUM)], Severity.HIGH, 0),
        ([finding(Status.ERROR)], Severity.HIGH, 3),
        ([finding(Status.FAIL, Severity.LOW), finding(Status.ERROR)], Severity.HIGH, 3),
        # an unreadable device outranks findings: the audit is incomplete (README exit codes)
        ([finding(Status.ERROR), finding(Status.FAIL, Severity.HIGH)], Severity.HIGH, 3),
        ([finding(Status.FAIL, Severity.HIGH), finding(Status.ERROR)], Severity.HIGH, 3),
    ],
)
def test_exit_code(findings: list[Finding], fail_on: Severity, code: int) -> None:
    assert exit_code(findings, fail_on) == code


def test_run_counts_and_json() -> None:
    started = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    findings = [
        finding(Status.PASS),
        finding(Status.FAIL, Severity.LOW),
        finding(Status.FAIL, Severity.CRITICAL),
        finding(Status.SKIP),
    ]
    run = Run("audit-1", started, started, ["mlps2-baseline"], findings)
    assert run.counts() == {"pass": 1, "fail": 2, "error": 0, "skip": 1}
    assert run.failed_by_severity() == {"critical": 1, "high": 0, "medium": 0, "low": 1}
    assert run.exit_code(Severity.CRITICAL) == 1
    data = json.loads(json.dumps(run.to_dict(), ensure_ascii=False))
    assert data["started"] == "2026-11-20T09:00:00+00:00"
    assert data["findings"][1] == {
        "device": "sw1",
        "platform": "",
        "zone": "internal",
        "site": "city",
        "unit": None,
        "rule": "r",
        "control": "mgmt.ssh-only",
        "clause": "",
        "severity": "low",
        "status": "fail",
        "title": {"en": "", "zh": ""},
        "message": "",
        "evidence": [],
        "remediation": {"en": "", "zh": ""},
    }


def test_evidence_and_text() -> None:
    assert str(Evidence("idle-timeout 0 0", 12, "= 0 s")) == "12: idle-timeout 0 0  (= 0 s)"
    assert str(Evidence("no line matches x")) == "no line matches x"
    assert Evidence("a", 3, "n").to_dict() == {"line": 3, "text": "a", "note": "n"}
    assert Text("Idle", "超时").get("zh") == "超时" and Text("Idle", "").get("zh") == "Idle"


def test_applicability_is_worked_out_per_device_attributes() -> None:
    tagged = make_device("huawei", "a", tags=frozenset({"mlps-l3"}))
    plain = make_device("huawei", "b")
    again = make_device("huawei", "c", tags=frozenset({"mlps-l3"}))
    facts = {n: DeviceFacts(n, config=HW) for n in "abc"}
    findings = evaluate([tagged, plain, again], facts, book(rule("r", tags=["mlps-l3"])))
    assert [(f.device, f.status.value) for f in findings] == [
        ("a", "pass"),
        ("b", "skip"),
        ("c", "pass"),
    ]


def test_derived_data_is_released_and_caller_entries_kept() -> None:
    facts = DeviceFacts("hw", config=HW)
    facts.cache["fleet"] = marker = object()
    [finding] = evaluate([make_device("huawei", "hw")], {"hw": facts}, book(rule("r")))
    assert finding.status is Status.PASS
    assert facts.cache == {"fleet": marker}  # the parsed config is gone, the caller's entry stays


def test_an_unknown_kind_is_an_error_finding_and_the_others_still_run() -> None:
    # Rules built in code (not from a loaded playbook) may name a kind nobody registered.
    odd = dataclasses.replace(rule("odd"), kind="no-such-kind")
    book = Playbook("p", "p.yaml", [odd, rule("ok")])
    device = make_device("huawei", "sw1")
    found = evaluate([device], {"sw1": DeviceFacts("sw1", config="sysname x\n")}, [book])
    assert [f.status for f in found] == [Status.ERROR, Status.PASS]
    assert found[0].message.startswith("check 'no-such-kind' failed: KeyError: ")
