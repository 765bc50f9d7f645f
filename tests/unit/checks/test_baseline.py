"""The shipped 等保 baseline on hand-written vendor configs: every control passes and fails.

Per platform there are three fixture configs under tests/fixtures/configs/<platform>/:
``good.cfg`` (explicitly hardened), ``defaults.cfg`` (hardened by relying on vendor defaults
that never appear in a running config) and ``bad.cfg`` (fails every rule). Edits of them test
one setting at a time; each case states the exact status of every rule on the platform.
"""

from __future__ import annotations

import pytest

from govnet.checks.playbook import Playbook
from govnet.core.vocabulary import Status
from tests.unit.checks.support import PLATFORMS, fixture_text, run_config

RULES = {
    "huawei": {
        "mgmt.ssh-only": "huawei.mgmt.ssh-only",
        "mgmt.vty-acl": "huawei.mgmt.vty-acl",
        "mgmt.idle-timeout": "huawei.mgmt.idle-timeout",
        "auth.login-lockout": "huawei.auth.login-lockout",
        "auth.password-storage": "huawei.auth.password-storage",
        "auth.password-policy": "huawei.auth.password-policy",
        "auth.default-accounts": "vrp-comware.auth.default-accounts",
        "snmp.no-default-community": "vrp-comware.snmp.no-default-community",
        "snmp.v3-only": "vrp-comware.snmp.v3-only",
        "audit.syslog": "vrp-comware.audit.syslog",
        "time.ntp": "huawei.time.ntp",
        "service.http-off": "huawei.service.http-off",
        "port.unused-shutdown": "switch.port.unused-shutdown",
    },
    "hp_comware": {
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
        "port.unused-shutdown": "switch.port.unused-shutdown",
    },
    "cisco_ios": {
        "mgmt.ssh-only": "ios.mgmt.ssh-only",
        "mgmt.vty-acl": "ios.mgmt.vty-acl",
        "mgmt.idle-timeout": "ios.mgmt.idle-timeout",
        "auth.login-lockout": "ios.auth.login-lockout",
        "auth.password-storage": "ios.auth.password-storage",
        "auth.password-policy": "ios.auth.password-policy",
        "auth.default-accounts": "ios.auth.default-accounts",
        "snmp.no-default-community": "ios.snmp.no-default-community",
        "snmp.v3-only": "ios.snmp.v3-only",
        "audit.syslog": "ios.audit.syslog",
        "time.ntp": "ios.time.ntp",
        "service.http-off": "ios.service.http-off",
        "port.unused-shutdown": "switch.port.unused-shutdown",
    },
    "ruijie_os": {
        "mgmt.ssh-only": "ruijie.mgmt.ssh-only",
        "mgmt.vty-acl": "ruijie.mgmt.vty-acl",
        "mgmt.idle-timeout": "ruijie.mgmt.idle-timeout",
        "auth.login-lockout": "ruijie.auth.login-lockout",
        "auth.password-storage": "ruijie.auth.password-storage",
        "auth.password-policy": "ruijie.auth.password-policy",
        "auth.default-accounts": "ruijie.auth.default-accounts",
        "snmp.no-default-community": "ruijie.snmp.no-default-community",
        "snmp.v3-only": "ruijie.snmp.v3-only",
        "audit.syslog": "ruijie.audit.syslog",
        "time.ntp": "ruijie.time.ntp",
        "service.http-off": "ruijie.service.http-off",
        "port.unused-shutdown": "switch.port.unused-shutdown",
    },
}
REQUIRED_CONTROLS = set(RULES["huawei"])


def statuses(baseline: list[Playbook], platform: str, config: str) -> dict[str, str]:
    return {rule: f.status.value for rule, f in run_config(baseline, platform, config).items()}


def expected(platform: str, failing: set[str]) -> dict[str, str]:
    """Every rule of the platform passes except the controls in ``failing``."""
    unknown = failing - set(RULES[platform])
    assert not unknown, f"test names unknown controls {unknown}"
    return {
        rule: ("fail" if control in failing else "pass")
        for control, rule in RULES[platform].items()
    }


def edit(text: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert old in text, f"fixture no longer contains {old!r}"
        text = text.replace(old, new, 1)
    return text


@pytest.mark.parametrize("platform", PLATFORMS)
def test_one_rule_per_required_control_and_platform(
    baseline: list[Playbook], platform: str
) -> None:
    rules = [
        r
        for b in baseline
        for r in b.rules
        if not r.applies_to.platform or platform in r.applies_to.platform
    ]
    by_control = {r.control: r.id for r in rules}
    assert len(by_control) == len(rules), "two rules test the same control on one platform"
    assert by_control == RULES[platform]
    assert set(by_control) == REQUIRED_CONTROLS
    for rule in rules:
        assert rule.title.en and rule.title.zh and rule.remediation.en and rule.remediation.zh
        assert any(rule.clause in ref for ref in rule.references), rule.id


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("name", ["good.cfg", "defaults.cfg"])
def test_hardened_configs_pass_every_rule(
    baseline: list[Playbook], platform: str, name: str
) -> None:
    assert statuses(baseline, platform, fixture_text(platform, name)) == expected(platform, set())


@pytest.mark.parametrize("platform", PLATFORMS)
def test_bad_config_fails_every_rule(baseline: list[Playbook], platform: str) -> None:
    got = statuses(baseline, platform, fixture_text(platform, "bad.cfg"))
    assert got == expected(platform, REQUIRED_CONTROLS)


CASES = [
    # ---------------------------------------------------------------- Huawei VRP
    (
        "huawei",
        "good.cfg",
        [(" undo telnet server enable", " telnet server enable")],
        {"mgmt.ssh-only"},
    ),
    (
        "huawei",
        "good.cfg",
        [(" stelnet server enable", " undo stelnet server enable")],
        {"mgmt.ssh-only"},
    ),
    (
        "huawei",
        "good.cfg",
        [(" protocol inbound ssh", " protocol inbound telnet")],
        {"mgmt.ssh-only"},
    ),
    (
        "huawei",
        "good.cfg",
        [
            (
                " acl 2001 inbound\n authentication-mode aaa\n idle-timeout 3",
                " authentication-mode aaa\n idle-timeout 3",
            )
        ],
        {"mgmt.vty-acl"},
    ),
    ("huawei", "good.cfg", [("idle-timeout 10 0", "idle-timeout 11 0")], {"mgmt.idle-timeout"}),
    ("huawei", "good.cfg", [("idle-timeout 10 0", "idle-timeout 9 59")], set()),
    ("huawei", "good.cfg", [("idle-timeout 3\n", "idle-timeout 0 0\n")], {"mgmt.idle-timeout"}),
    # absent idle-timeout = VRP default 10 minutes: passes a ≤ 10 rule
    ("huawei", "good.cfg", [(" idle-timeout 5 0\n", ""), (" idle-timeout 10 0\n", "")], set()),
    # login lockout is on by default; only switching it off (or loosening it) fails
    (
        "huawei",
        "defaults.cfg",
        [("aaa\n", "aaa\n undo local-aaa-user wrong-password\n")],
        {"auth.login-lockout"},
    ),
    ("huawei", "good.cfg", [("retry-time 3", "retry-time 8")], {"auth.login-lockout"}),
    (
        "huawei",
        "good.cfg",
        [("ops-zhang password irreversible-cipher", "ops-zhang password cipher")],
        {"auth.password-storage"},
    ),
    (
        "huawei",
        "good.cfg",
        [("ops-zhang password irreversible-cipher", "ops-zhang password simple")],
        {"auth.password-storage"},
    ),
    (
        "huawei",
        "good.cfg",
        [("password expire 60", "password expire 120")],
        {"auth.password-policy"},
    ),
    ("huawei", "good.cfg", [("password expire 60", "password expire 0")], {"auth.password-policy"}),
    (
        "huawei",
        "good.cfg",
        [(" local-aaa-user password policy administrator\n", "")],
        {"auth.password-policy"},
    ),
    (
        "huawei",
        "good.cfg",
        [(" local-user ops-zhang privilege", " local-user admin privilege")],
        {"auth.default-accounts"},
    ),
    (
        "huawei",
        "good.cfg",
        [(" snmp-agent\n", " snmp-agent\n snmp-agent community read cipher %^%#Xy1%^%#\n")],
        {"snmp.v3-only"},
    ),
    (
        "huawei",
        "good.cfg",
        [(" snmp-agent\n", " snmp-agent\n snmp-agent community read private\n")],
        {"snmp.v3-only", "snmp.no-default-community"},
    ),
    ("huawei", "good.cfg", [("version v3", "version v2c v3")], {"snmp.v3-only"}),
    (
        "huawei",
        "good.cfg",
        [("group v3 nms privacy", "group v3 nms authentication")],
        {"snmp.v3-only"},
    ),
    ("huawei", "good.cfg", [("privacy-mode aes128", "privacy-mode des56")], {"snmp.v3-only"}),
    (
        "huawei",
        "good.cfg",
        [("info-center loghost 10.0.0.10", "info-center loghost source Vlanif10")],
        {"audit.syslog"},
    ),
    (
        "huawei",
        "good.cfg",
        [
            (
                " undo telnet server enable\n",
                " undo telnet server enable\n undo info-center enable\n",
            )
        ],
        {"audit.syslog"},
    ),
    ("huawei", "good.cfg", [(" ntp-service unicast-server 10.0.0.10\n", "")], {"time.ntp"}),
    (
        "huawei",
        "good.cfg",
        [(" undo http server enable", " http server enable")],
        {"service.http-off"},
    ),
    ("huawei", "good.cfg", [(" undo http server enable\n", "")], {"service.http-off"}),
    (
        "huawei",
        "good.cfg",
        [("GigabitEthernet0/0/3\n shutdown", "GigabitEthernet0/0/3\n port link-type access")],
        {"port.unused-shutdown"},
    ),
    (
        "huawei",
        "good.cfg",
        [("XGigabitEthernet0/0/1\n shutdown", "XGigabitEthernet0/0/1\n undo shutdown")],
        {"port.unused-shutdown"},
    ),
    # ---------------------------------------------------------------- H3C Comware
    # Telnet is off by default on V7: only the explicit line fails
    (
        "hp_comware",
        "defaults.cfg",
        [(" ssh server enable\n", " ssh server enable\n telnet server enable\n")],
        {"mgmt.ssh-only"},
    ),
    ("hp_comware", "good.cfg", [(" ssh server enable\n", "")], {"mgmt.ssh-only"}),
    (
        "hp_comware",
        "good.cfg",
        [("protocol inbound ssh", "protocol inbound all")],
        {"mgmt.ssh-only"},
    ),
    ("hp_comware", "good.cfg", [(" acl 2001 inbound\n", "")], {"mgmt.vty-acl"}),
    ("hp_comware", "good.cfg", [("idle-timeout 10 0", "idle-timeout 10 1")], {"mgmt.idle-timeout"}),
    ("hp_comware", "good.cfg", [("idle-timeout 5 0", "idle-timeout 0 0")], {"mgmt.idle-timeout"}),
    ("hp_comware", "good.cfg", [("login-attempt 5", "login-attempt 6")], {"auth.login-lockout"}),
    (
        "hp_comware",
        "good.cfg",
        [(" password-control enable\n", "")],
        {"auth.login-lockout", "auth.password-policy"},
    ),
    ("hp_comware", "good.cfg", [(" password hash", " password cipher")], {"auth.password-storage"}),
    (
        "hp_comware",
        "good.cfg",
        [("password-control length 8", "password-control length 7")],
        {"auth.password-policy"},
    ),
    (
        "hp_comware",
        "good.cfg",
        [("password-control aging 60", "password-control aging 180")],
        {"auth.password-policy"},
    ),
    # composition defaults to one character type: it must be configured
    (
        "hp_comware",
        "defaults.cfg",
        [(" password-control composition type-number 3 type-length 1\n", "")],
        {"auth.password-policy"},
    ),
    (
        "hp_comware",
        "good.cfg",
        [("local-user ops-wang class", "local-user h3c class")],
        {"auth.default-accounts"},
    ),
    (
        "hp_comware",
        "good.cfg",
        [(" snmp-agent\n", " snmp-agent\n snmp-agent community read simple Nms-r0\n")],
        {"snmp.v3-only"},
    ),
    (
        "hp_comware",
        "good.cfg",
        [(" snmp-agent\n", " snmp-agent\n snmp-agent community write simple Nms-rw\n")],
        {"snmp.v3-only", "snmp.no-default-community"},
    ),
    ("hp_comware", "good.cfg", [("version v3", "version v1 v3")], {"snmp.v3-only"}),
    (
        "hp_comware",
        "good.cfg",
        [("authentication-mode sha", "authentication-mode md5")],
        {"snmp.v3-only"},
    ),
    ("hp_comware", "good.cfg", [(" info-center loghost 172.20.0.10\n", "")], {"audit.syslog"}),
    ("hp_comware", "good.cfg", [(" ntp-service enable\n", "")], {"time.ntp"}),
    ("hp_comware", "good.cfg", [(" clock protocol ntp\n", "")], {"time.ntp"}),
    # Comware V5 has neither `ntp-service enable` nor `clock protocol ntp`
    (
        "hp_comware",
        "good.cfg",
        [
            ("version 7.1.070, Release 6327", "version 5.20.99, Release 2222P02"),
            (" ntp-service enable\n", ""),
            (" clock protocol ntp\n", ""),
        ],
        set(),
    ),
    ("hp_comware", "good.cfg", [(" undo ip http enable", " ip http enable")], {"service.http-off"}),
    (
        "hp_comware",
        "good.cfg",
        [
            (
                "Ten-GigabitEthernet1/0/25\n shutdown",
                "Ten-GigabitEthernet1/0/25\n port link-type trunk",
            )
        ],
        {"port.unused-shutdown"},
    ),
    # ---------------------------------------------------------------- Cisco IOS
    ("cisco_ios", "good.cfg", [("ip ssh version 2", "ip ssh version 1")], {"mgmt.ssh-only"}),
    (
        "cisco_ios",
        "good.cfg",
        [
            (
                "exec-timeout 0 30\n transport input ssh",
                "exec-timeout 0 30\n transport input telnet ssh",
            )
        ],
        {"mgmt.ssh-only"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [("exec-timeout 0 30\n transport input ssh\n", "exec-timeout 0 30\n")],
        {"mgmt.ssh-only"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [("line vty 0 4\n access-class MGMT in\n", "line vty 0 4\n")],
        {"mgmt.vty-acl"},
    ),
    ("cisco_ios", "good.cfg", [("exec-timeout 10 0", "exec-timeout 10 1")], {"mgmt.idle-timeout"}),
    (
        "cisco_ios",
        "defaults.cfg",
        [("line con 0\n", "line con 0\n exec-timeout 0 0\n")],
        {"mgmt.idle-timeout"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [("login block-for 120 attempts 3 within 60\n", "")],
        {"auth.login-lockout"},
    ),
    ("cisco_ios", "good.cfg", [("attempts 3", "attempts 6")], {"auth.login-lockout"}),
    # type 7 is reversible: `username … password` fails even with service password-encryption
    (
        "cisco_ios",
        "good.cfg",
        [
            (
                "username ops-chen privilege 15 secret 9",
                "username ops-chen privilege 15 password 7 0822455D0A16 x",
            )
        ],
        {"auth.password-storage"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [("enable secret 9", "enable password 7 0822455D0A16 x\nenable secret 9")],
        {"auth.password-storage"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [("security passwords min-length 10", "security passwords min-length 7")],
        {"auth.password-policy"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [("username ops-chen privilege", "username admin privilege")],
        {"auth.default-accounts"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [
            (
                "snmp-server group nms v3 priv",
                "snmp-server group nms v3 priv\nsnmp-server community N0c-ro RO",
            )
        ],
        {"snmp.v3-only"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [
            (
                "snmp-server group nms v3 priv",
                "snmp-server group nms v3 priv\nsnmp-server community private RO",
            )
        ],
        {"snmp.v3-only", "snmp.no-default-community"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [("snmp-server group nms v3 priv", "snmp-server group nms v3 auth")],
        {"snmp.v3-only"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [("host 172.20.0.10 version 3 priv", "host 172.20.0.10 version 2c")],
        {"snmp.v3-only"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [("logging host 172.20.0.10", "logging buffered 64000")],
        {"audit.syslog"},
    ),
    (
        "cisco_ios",
        "good.cfg",
        [("service timestamps log datetime msec localtime show-timezone\n", "")],
        {"audit.syslog"},
    ),
    ("cisco_ios", "good.cfg", [("ntp server 172.20.0.10\n", "")], {"time.ntp"}),
    ("cisco_ios", "good.cfg", [("no ip http server", "ip http server")], {"service.http-off"}),
    (
        "cisco_ios",
        "good.cfg",
        [("GigabitEthernet0/3\n shutdown", "GigabitEthernet0/3\n switchport mode access")],
        {"port.unused-shutdown"},
    ),
    # ---------------------------------------------------------------- Ruijie RGOS
    # Telnet is on by default: without the explicit `no enable service telnet-server` it fails
    ("ruijie_os", "good.cfg", [("no enable service telnet-server\n", "")], {"mgmt.ssh-only"}),
    ("ruijie_os", "good.cfg", [("enable service ssh-server\n", "")], {"mgmt.ssh-only"}),
    (
        "ruijie_os",
        "good.cfg",
        [("transport input ssh", "transport input telnet ssh")],
        {"mgmt.ssh-only"},
    ),
    ("ruijie_os", "good.cfg", [("ip ssh version 2", "ip ssh version 1")], {"mgmt.ssh-only"}),
    ("ruijie_os", "good.cfg", [(" access-class MGMT in\n", "")], {"mgmt.vty-acl"}),
    ("ruijie_os", "good.cfg", [("exec-timeout 10 0", "exec-timeout 10 1")], {"mgmt.idle-timeout"}),
    ("ruijie_os", "good.cfg", [("exec-timeout 5 0", "exec-timeout 0")], {"mgmt.idle-timeout"}),
    # absent exec-timeout = the RGOS default of 10 minutes
    ("ruijie_os", "good.cfg", [(" exec-timeout 5 0\n", ""), (" exec-timeout 10 0\n", "")], set()),
    (
        "ruijie_os",
        "good.cfg",
        [("aaa local authentication attempts 3", "aaa local authentication attempts 10")],
        {"auth.login-lockout"},
    ),
    # without aaa new-model lines use `login local`: nothing is ever locked
    ("ruijie_os", "defaults.cfg", [("aaa new-model\n", "")], {"auth.login-lockout"}),
    ("ruijie_os", "good.cfg", [("service password-encryption\n", "")], {"auth.password-storage"}),
    (
        "ruijie_os",
        "good.cfg",
        [("password 7 0825734f0c0e1a5e", "password 0 Ops-Li-2026")],
        {"auth.password-storage"},
    ),
    (
        "ruijie_os",
        "good.cfg",
        [("enable secret 5", "enable password 7 0825734f0c0e1a5e\nenable secret 5")],
        {"auth.password-storage"},
    ),
    ("ruijie_os", "good.cfg", [("password policy strong\n", "")], {"auth.password-policy"}),
    ("ruijie_os", "good.cfg", [("min-size 10", "min-size 6")], {"auth.password-policy"}),
    ("ruijie_os", "good.cfg", [("life-cycle 60", "life-cycle 180")], {"auth.password-policy"}),
    # no life cycle = passwords never expire (RGOS has no default life cycle)
    (
        "ruijie_os",
        "defaults.cfg",
        [("password policy life-cycle 90\n", "")],
        {"auth.password-policy"},
    ),
    (
        "ruijie_os",
        "good.cfg",
        [("username ops-li privilege", "username ruijie privilege")],
        {"auth.default-accounts"},
    ),
    (
        "ruijie_os",
        "good.cfg",
        [
            (
                "snmp-server group nms v3 priv",
                "snmp-server group nms v3 priv\nsnmp-server community N0c-ro ro",
            )
        ],
        {"snmp.v3-only"},
    ),
    (
        "ruijie_os",
        "good.cfg",
        [
            (
                "snmp-server group nms v3 priv",
                "snmp-server group nms v3 priv\nsnmp-server community 7 public ro",
            )
        ],
        {"snmp.v3-only", "snmp.no-default-community"},
    ),
    (
        "ruijie_os",
        "good.cfg",
        [
            (
                "snmp-server group nms v3 priv",
                "snmp-server group nms v3 priv\nsnmp-server community N0c-rw rw",
            )
        ],
        {"snmp.v3-only", "snmp.no-default-community"},
    ),
    ("ruijie_os", "good.cfg", [("v3 auth sha", "v3 auth md5")], {"snmp.v3-only"}),
    ("ruijie_os", "good.cfg", [("traps version 3 priv", "traps version 2c")], {"snmp.v3-only"}),
    ("ruijie_os", "good.cfg", [("logging server 10.10.0.10\n", "")], {"audit.syslog"}),
    (
        "ruijie_os",
        "good.cfg",
        [("logging server 10.10.0.10\n", "logging 10.10.0.10\n")],
        set(),
    ),  # RGOS 10 form
    (
        "ruijie_os",
        "defaults.cfg",
        [("logging server 10.10.0.10\n", "logging server 10.10.0.10\nno logging on\n")],
        {"audit.syslog"},
    ),
    ("ruijie_os", "good.cfg", [("ntp server 10.10.0.10\n", "")], {"time.ntp"}),
    ("ruijie_os", "good.cfg", [("web-server https", "web-server http")], {"service.http-off"}),
    ("ruijie_os", "good.cfg", [("web-server https", "web-server")], {"service.http-off"}),
    (
        "ruijie_os",
        "good.cfg",
        [("TenGigabitEthernet 0/25\n shutdown", "TenGigabitEthernet 0/25\n switchport mode trunk")],
        {"port.unused-shutdown"},
    ),
]


@pytest.mark.parametrize(("platform", "base", "replacements", "failing"), CASES)
def test_one_setting_at_a_time(
    baseline: list[Playbook],
    platform: str,
    base: str,
    replacements: list[tuple[str, str]],
    failing: set[str],
) -> None:
    config = edit(fixture_text(platform, base), *replacements)
    assert statuses(baseline, platform, config) == expected(platform, failing)


def test_default_is_shown_as_evidence(baseline: list[Playbook]) -> None:
    finding = run_config(baseline, "huawei", fixture_text("huawei", "defaults.cfg"))[
        "huawei.mgmt.idle-timeout"
    ]
    assert finding.status is Status.PASS
    note = "no line matches ^idle-timeout (\\d+)(?: (\\d+))?$ (platform default: idle-timeout 10 0) = 600 s"
    assert [e.note for e in finding.evidence] == [note, note]
    assert [e.text for e in finding.evidence] == ["user-interface con 0", "user-interface vty 0 4"]


def test_failures_point_at_the_offending_lines(baseline: list[Playbook]) -> None:
    text = fixture_text("huawei", "bad.cfg")
    lines = text.splitlines()
    got = run_config(baseline, "huawei", text)
    idle = got["huawei.mgmt.idle-timeout"]
    assert [(e.line, e.text) for e in idle.evidence] == [
        (lines.index(" idle-timeout 0 0") + 1, "idle-timeout 0 0")
    ]
    assert "= 0 s, required > 0 and ≤ 600" in idle.evidence[0].note
    ssh = got["huawei.mgmt.ssh-only"]
    assert {e.text for e in ssh.evidence} == {"telnet server enable", "protocol inbound all"}
    assert all(e.line is not None and lines[e.line - 1].strip() == e.text for e in ssh.evidence)
    ports = got["switch.port.unused-shutdown"]
    assert [e.text for e in ports.evidence] == ["interface GigabitEthernet0/0/1"]
    assert ports.clause == "L3-CES1-18"


def test_mixed_ruijie_config_fails_only_its_weak_settings(baseline: list[Playbook]) -> None:
    """A half-hardened RGOS switch (tests/fixtures/configs/ruijie_os/mixed.cfg)."""
    got = statuses(baseline, "ruijie_os", fixture_text("ruijie_os", "mixed.cfg"))
    assert got == expected(
        "ruijie_os",
        {"snmp.v3-only", "auth.password-policy", "auth.login-lockout", "service.http-off"},
    )
