"""The 等保 baseline on firewalls: Huawei USG6000 (huawei_usg) and H3C SecPath (h3c_secpath).

Fixtures under tests/fixtures/configs/<platform>/: ``good.cfg`` (hardened), ``bad.cfg`` (weak:
fails every rule) and ``mixed.cfg`` (a hardened management plane with a weak security policy).
Each case states the verdict of every rule on the platform: the management-plane controls and
the four firewall controls (fw.*).
"""

from __future__ import annotations

import pytest

from govnet.checks.engine import DeviceFacts, evaluate
from govnet.checks.playbook import Playbook
from govnet.core.vocabulary import Status
from tests.unit.checks.support import fixture_text, make_device

FW = {
    "fw.default-deny": "fw.default-deny",
    "fw.no-any-any-permit": "fw.no-any-any-permit",
    "fw.deny-logging": "fw.deny-logging",
    "fw.policy-log-syslog": "fw.policy-log-syslog",
}
RULES = {
    "huawei_usg": {
        "mgmt.ssh-only": "huawei.mgmt.ssh-only",
        "mgmt.vty-acl": "huawei.mgmt.vty-acl",
        "mgmt.idle-timeout": "huawei.mgmt.idle-timeout",
        "auth.login-lockout": "usg.auth.login-lockout",
        "auth.password-storage": "usg.auth.password-storage",
        "auth.password-policy": "usg.auth.password-policy",
        "auth.default-accounts": "usg.auth.default-accounts",
        "snmp.no-default-community": "vrp-comware.snmp.no-default-community",
        "snmp.v3-only": "vrp-comware.snmp.v3-only",
        "audit.syslog": "vrp-comware.audit.syslog",
        "time.ntp": "huawei.time.ntp",
        "service.http-off": "usg.service.http-off",
        **FW,
    },
    "h3c_secpath": {
        "mgmt.ssh-only": "h3c.mgmt.ssh-only",
        "mgmt.vty-acl": "h3c.mgmt.vty-acl",
        "mgmt.idle-timeout": "h3c.mgmt.idle-timeout",
        "auth.login-lockout": "h3c.auth.login-lockout",
        "auth.password-storage": "h3c.auth.password-storage",
        "auth.password-policy": "h3c.auth.password-policy",
        "auth.default-accounts": "vrp-comware.auth.default-accounts",
        "snmp.no-default-community": "vrp-comware.snmp.no-default-community",
        "snmp.v3-only": "vrp-comware.snmp.v3-only",
        "audit.syslog": "vrp-comware.audit.syslog",
        "time.ntp": "h3c.time.ntp",
        "service.http-off": "h3c.service.http-off",
        **FW,
    },
}
ALL = set(RULES["huawei_usg"])


def statuses(baseline: list[Playbook], platform: str, config: str) -> dict[str, str]:
    device = make_device(platform, name="fw1", role="firewall")
    findings = evaluate([device], {device.name: DeviceFacts(device.name, config)}, baseline)
    return {f.rule: f.status.value for f in findings if f.status is not Status.SKIP}


def expected(platform: str, failing: set[str]) -> dict[str, str]:
    assert failing <= ALL
    return {rule: "fail" if c in failing else "pass" for c, rule in RULES[platform].items()}


def edit(text: str, old: str, new: str) -> str:
    assert old in text, f"fixture no longer contains {old!r}"
    return text.replace(old, new, 1)


@pytest.mark.parametrize("platform", sorted(RULES))
def test_one_rule_per_control(baseline: list[Playbook], platform: str) -> None:
    rules = [r for b in baseline for r in b.rules if platform in r.applies_to.platform]
    assert {r.control: r.id for r in rules} == RULES[platform]
    assert len(rules) == len(RULES[platform])


@pytest.mark.parametrize("platform", sorted(RULES))
def test_hardened_config_passes_every_rule(baseline: list[Playbook], platform: str) -> None:
    got = statuses(baseline, platform, fixture_text(platform, "good.cfg"))
    assert got == expected(platform, set())


@pytest.mark.parametrize("platform", sorted(RULES))
def test_weak_config_fails_every_rule(baseline: list[Playbook], platform: str) -> None:
    got = statuses(baseline, platform, fixture_text(platform, "bad.cfg"))
    assert got == expected(platform, ALL)


MIXED = {
    "huawei_usg": {"fw.no-any-any-permit", "fw.deny-logging"},
    "h3c_secpath": {"auth.login-lockout", "fw.no-any-any-permit", "fw.policy-log-syslog"},
}


@pytest.mark.parametrize("platform", sorted(RULES))
def test_mixed_config_fails_only_its_weak_settings(baseline: list[Playbook], platform: str) -> None:
    got = statuses(baseline, platform, fixture_text(platform, "mixed.cfg"))
    assert got == expected(platform, MIXED[platform])


CASES = [
    # USG: the default action is deny when absent; an explicit permit fails
    ("huawei_usg", " default action deny\n", " default action permit\n", {"fw.default-deny"}),
    ("huawei_usg", " default action deny\n", "", set()),
    ("huawei_usg", " default policy logging\n", "", {"fw.deny-logging"}),
    ("huawei_usg", "  session logging\n", "", {"fw.policy-log-syslog"}),
    (
        "huawei_usg",
        " info-center loghost 10.10.0.10\n",
        "",
        {"fw.policy-log-syslog", "audit.syslog"},
    ),
    # a named destination makes a trust→dmz permit acceptable; any→any is not
    ("huawei_usg", "  destination-address address-set OA-SERVERS\n", "", set()),
    (
        "huawei_usg",
        "  source-address address-set OFFICE\n  destination-address address-set OA-SERVERS\n",
        "",
        {"fw.no-any-any-permit"},
    ),
    # a disabled rule is not judged
    (
        "huawei_usg",
        "  source-address address-set OFFICE\n  destination-address address-set OA-SERVERS\n",
        "  disable\n",
        set(),
    ),
    (
        "huawei_usg",
        " service-manage https permit\n",
        " service-manage http permit\n",
        {"service.http-off"},
    ),
    (
        "huawei_usg",
        " lock-authentication failed-count 3\n",
        " lock-authentication failed-count 10\n",
        {"auth.login-lockout"},
    ),
    ("huawei_usg", " lock-authentication failed-count 3\n", "", set()),  # default 3
    ("huawei_usg", " manager-user ops-sun\n", " manager-user admin\n", {"auth.default-accounts"}),
    # administrator passwords expire only with password-modify on; valid-days 1..90, default 90
    (
        "huawei_usg",
        " manager-user password-modify enable\n",
        "",
        {"auth.password-policy"},
    ),
    ("huawei_usg", " manager-user password valid-days 90\n", "", set()),
    (
        "huawei_usg",
        " manager-user password valid-days 90\n",
        " manager-user password valid-days 0\n",
        {"auth.password-policy"},
    ),
    (
        "huawei_usg",
        " manager-user password valid-days 90\n",
        " manager-user password valid-days 180\n",
        {"auth.password-policy"},
    ),
    # SecPath: a catch-all pass rule is a default permit
    # any source to any destination between zones fails even for one service
    ("h3c_secpath", "  source-ip EXT-OFFICE\n", "", {"fw.no-any-any-permit"}),
    (
        "h3c_secpath",
        "  source-zone Trust\n  destination-zone Untrust\n  source-ip EXT-OFFICE\n  service http\n  service https\n",
        "",
        {"fw.default-deny", "fw.no-any-any-permit"},
    ),
    ("h3c_secpath", "  action drop\n  logging enable\n", "  action drop\n", {"fw.deny-logging"}),
    # a SecPath rule without action drops (the command's default): a deny rule that must log
    ("h3c_secpath", "  action drop\n  logging enable\n", "  logging enable\n", set()),
    ("h3c_secpath", "  action drop\n  logging enable\n", "", {"fw.deny-logging"}),
    (
        "h3c_secpath",
        "  action pass\n  logging enable\n",
        "  action pass\n",
        {"fw.policy-log-syslog"},
    ),
    ("h3c_secpath", " undo ip http enable\n", " ip http enable\n", {"service.http-off"}),
    (
        "h3c_secpath",
        "local-user ops-wang class",
        "local-user admin class",
        {"auth.default-accounts"},
    ),
]


@pytest.mark.parametrize(("platform", "old", "new", "failing"), CASES)
def test_one_setting_at_a_time(
    baseline: list[Playbook], platform: str, old: str, new: str, failing: set[str]
) -> None:
    config = edit(fixture_text(platform, "good.cfg"), old, new)
    assert statuses(baseline, platform, config) == expected(platform, failing)


def test_policy_findings_show_the_rule_lines(baseline: list[Playbook]) -> None:
    text = fixture_text("huawei_usg", "bad.cfg")
    lines = text.splitlines()
    device = make_device("huawei_usg", name="fw1", role="firewall")
    findings = {f.rule: f for f in evaluate([device], {"fw1": DeviceFacts("fw1", text)}, baseline)}
    anyany = findings["fw.no-any-any-permit"]
    assert [e.text for e in anyany.evidence] == [
        "rule name trust-to-untrust",
        "source-zone trust",
        "destination-zone untrust",
        "action permit",
    ]
    assert all(e.line is not None and lines[e.line - 1].strip() == e.text for e in anyany.evidence)
    assert anyany.clause == "L3-ABS1-07"
    default = findings["fw.default-deny"]
    assert [e.text for e in default.evidence] == ["default action permit"]
    # the failure names what is unlogged (the message was once empty below 9 names)
    assert findings["fw.deny-logging"].message.startswith("deny without logging: ")
    assert {f.clause for r, f in findings.items() if r.startswith("fw.")} == {
        "L3-ABS1-05",
        "L3-ABS1-07",
        "L3-ABS1-16",
        "L3-ABS1-18",
    }


def test_firewall_kind_says_what_it_cannot_judge(baseline: list[Playbook]) -> None:
    from govnet.checks.kinds.firewall import FirewallParams, FirewallPolicyKind

    kind = FirewallPolicyKind()
    params = FirewallParams(require="default-deny")
    switch = make_device("huawei", name="sw1")
    result = kind.evaluate(switch, DeviceFacts("sw1", "sysname sw1\n"), params)
    assert result.status is Status.ERROR and "not a firewall platform" in result.message
    usg = make_device("huawei_usg", name="fw1", role="firewall")
    assert kind.evaluate(usg, DeviceFacts("fw1", None), params).status is Status.ERROR
    assert kind.evaluate(usg, DeviceFacts("fw1", ""), params).status is Status.ERROR
    # a firewall without any security policy drops everything: default deny holds
    result = kind.evaluate(usg, DeviceFacts("fw1", " sysname fw1\n"), params)
    assert result.status is Status.PASS and "dropped by default" in result.message
