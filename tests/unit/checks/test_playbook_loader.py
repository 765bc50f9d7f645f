"""Playbook loading: every error class, located by file:line:column and key path, all at once."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from govnet.checks.kinds.command import CommandParams
from govnet.checks.kinds.config import ConfigParams
from govnet.checks.playbook import load_playbooks
from govnet.checks.registry import kinds
from govnet.core.controls import controls
from govnet.core.vocabulary import Severity, Text
from govnet.errors import ExitCode, PlaybookError
from govnet.inventory.model import ROLES
from govnet.platforms import platforms
from tests.unit.checks.support import BASELINE, make_device

Write = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Write:
    """Write dedented YAML to playbooks/<name> under a temporary cwd; return the relative path."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "playbooks").mkdir()

    def _write(text: str, name: str = "x.yaml") -> Path:
        path = Path("playbooks") / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


def errors(paths: Path | list[Path]) -> list[str]:
    with pytest.raises(PlaybookError) as info:
        load_playbooks(paths)
    assert info.value.exit_code == ExitCode.USAGE
    return [str(d) for d in info.value.diagnostics]


GOOD = """\
name: demo
title: {en: Demo, zh: 演示}
rules:
  - id: demo.ssh
    control: mgmt.ssh-only
    title: {en: SSH only, zh: 仅SSH}
    severity: high
    applies_to: {platform: huawei, role: [access, core], tags: [mlps-l3]}
    check: {kind: config, must_match: '^stelnet server enable$'}
    remediation: {en: stelnet server enable, zh: 启用STelnet}
    references: GB/T 28448-2019 L3-CES1-03
  - id: demo.arp
    control: isolation.no-unknown-device
    title: {en: ARP, zh: ARP}
    severity: low
    check:
      kind: command
      command: arp
      expect: [{field: mac_address, op: match, value: '^00e0', quantifier: none}]
"""


def test_a_valid_playbook_loads(write: Write) -> None:
    [book] = load_playbooks(write(GOOD))
    assert book.name == "demo" and book.title == Text("Demo", "演示")
    assert book.path == "playbooks/x.yaml"
    ssh, arp = book.rules
    assert ssh.id == "demo.ssh" and ssh.kind == "config" and ssh.severity is Severity.HIGH
    assert isinstance(ssh.params, ConfigParams)
    assert ssh.params.must_match[0].pattern == "^stelnet server enable$"
    assert ssh.applies_to.platform == ["huawei"]  # a single string is a one-item list
    assert ssh.references == ("GB/T 28448-2019 L3-CES1-03",)
    assert ssh.clause == "L3-CES1-03"
    assert ssh.source == "playbooks/x.yaml:4"
    assert ssh.remediation == Text("stelnet server enable", "启用STelnet")
    assert isinstance(arp.params, CommandParams) and arp.remediation == Text()
    assert arp.applies(make_device("cisco_ios"))


def test_applies_to(write: Write) -> None:
    [book] = load_playbooks(write(GOOD))
    rule = book.rules[0]
    tagged = frozenset({"mlps-l3"})
    assert rule.not_applicable(make_device("huawei", tags=tagged)) is None
    assert rule.not_applicable(make_device("cisco_ios", tags=tagged)) == (
        "platform cisco_ios is not one of huawei"
    )
    assert rule.not_applicable(make_device("huawei", role="gap", tags=tagged)) == (
        "role gap is not one of access, core"
    )
    assert rule.not_applicable(make_device("huawei")) == "device has none of the tags mlps-l3"


def test_the_shipped_baseline_loads() -> None:
    [book] = load_playbooks(BASELINE)
    assert book.name == "mlps2-baseline"
    assert len(book.rules) >= 13


BAD = """\
name: demo
titel: {en: Demo, zh: 演示}
rules:
  - id: r1
    control: mgmt.ssh-onli
    title: {en: SSH only, zh: 仅SSH}
    severity: urgent
    applies_to: {platfrom: [huawei]}
    check: {kind: config, must_match: '^stelnet server enable$'}
  - id: r2
    control: mgmt.vty-acl
    title: {en: VTY ACL}
    severity: high
    applies_to: {platform: [huwei], role: [acess]}
    check:
      kind: config
      section: '^user-interface vty '
      must_mach: '^acl '
  - id: r3
    control: mgmt.idle-timeout
    title: {en: Idle, zh: 超时}
    severity: medium
    check:
      kind: config
      must_match: ['^ok$', '(']
      value: {match: '^idle-timeout (\\d+)', le: 10, default: {huawei: 'idle 5'}}
  - id: r1
    control: time.ntp
    title: {en: NTP, zh: NTP}
    severity: low
    check: {kind: confg, must_match: x}
  - id: r5
    control: time.ntp
    title: {en: NTP, zh: NTP}
    severity: low
    check: {must_match: x}
  - id: bad id
    control: time.ntp
    title: {en: NTP, zh: NTP}
    severity: low
    remediation: {en: fix}
    check: {kind: command, command: ntp, expect: [{field: status, op: like, value: x}]}
  - just a string
  - id: r7
    title: {en: NTP, zh: NTP}
    severity: low
    check: [kind, config]
"""


def test_every_error_is_reported_at_once_with_its_location(write: Write) -> None:
    got = errors(write(BAD))
    f = "playbooks/x.yaml"
    # later work adds kinds, platforms and controls: the listings follow the tables
    known_kinds = ", ".join(sorted(kinds()))
    known_platforms = ", ".join(sorted(platforms()))
    known_controls = ", ".join(sorted(controls())[:12])
    known_roles = ", ".join(repr(r) for r in ROLES[:-1]) + f" or {ROLES[-1]!r}"
    assert {"command", "config"} <= set(kinds())
    assert got == [
        f"{f}:2:1: titel: unknown key (known: description, name, rules, title); did you mean 'title'?",
        f"{f}:5:5: rules[0].control: unknown control 'mgmt.ssh-onli' (known: {known_controls}, …); did you mean 'mgmt.ssh-only'?",
        f"{f}:7:5: rules[0].severity: Input should be 'critical', 'high', 'medium' or 'low', got 'urgent'",
        f"{f}:8:18: rules[0].applies_to.platfrom: unknown key (known: platform, role, tags, zone); did you mean 'platform'?",
        f"{f}:12:5: rules[1].title.zh: required key is missing",
        f"{f}:14:29: rules[1].applies_to.platform[0]: unknown platform 'huwei' (known: {known_platforms}); did you mean 'huawei'?",
        f"{f}:14:44: rules[1].applies_to.role[0]: Input should be {known_roles}, got 'acess'",
        f"{f}:18:7: rules[1].check.must_mach: unknown key (known: all_of, if_match, if_no_match, must_match, must_not_match, quantifier, section, unless, value, when_absent, where); did you mean 'must_match'?",
        f"{f}:25:28: rules[2].check.must_match[1]: bad regular expression '(': missing ), unterminated subpattern at position 0",
        f"{f}:26:7: rules[2].check.value: default for huawei: 'idle 5' does not match '^idle-timeout (\\\\d+)'",
        f"{f}:27:5: rules[3].id: duplicate rule id 'r1' (first at {f}:4)",
        f"{f}:31:13: rules[3].check.kind: unknown check kind 'confg' (known: {known_kinds}); did you mean 'config'?",
        f"{f}:36:5: rules[4].check: required key 'kind' is missing (known: {known_kinds})",
        f"{f}:37:5: rules[5].id: bad name 'bad id': use ASCII letters, digits, '-', '_' and '.' (labels carry zh/en)",
        f"{f}:41:5: rules[5].remediation.zh: required key is missing",
        f"{f}:42:67: rules[5].check.expect[0].op: Input should be 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'match' or 'absent', got 'like'",
        f"{f}:43:5: rules[6]: a rule must be a mapping",
        f"{f}:44:5: rules[7].control: required key is missing",
        f"{f}:47:5: rules[7].check: must be a mapping with 'kind' and the kind's keys",
    ]


def test_error_message_counts_the_errors(write: Write) -> None:
    with pytest.raises(PlaybookError, match=r"^19 errors in playbook$"):
        load_playbooks(write(BAD))


def test_duplicate_rule_ids_across_playbooks(write: Write) -> None:
    first = write(GOOD, "a.yaml")
    second = write(
        GOOD.replace("name: demo", "name: demo2").replace("demo.arp", "demo.other"), "b.yaml"
    )
    assert errors([first, second]) == [
        "playbooks/b.yaml:4:5: rules[0].id: duplicate rule id 'demo.ssh' (first at playbooks/a.yaml:4)",
    ]


def test_duplicate_playbook_names(write: Write) -> None:
    write(GOOD, "a.yaml")
    write(GOOD.replace("demo.ssh", "x.ssh").replace("demo.arp", "x.arp"), "b.yaml")
    assert errors(Path("playbooks")) == [
        "playbooks/b.yaml:1:1: name: playbook 'demo' is also defined in playbooks/a.yaml",
    ]


def test_a_directory_loads_every_yaml_file(write: Write) -> None:
    write(GOOD, "a.yaml")
    write(GOOD.replace("demo", "other"), "b.yml")
    (Path("playbooks") / "notes.txt").write_text("not a playbook")
    books = load_playbooks(Path("playbooks"))
    assert [b.name for b in books] == ["demo", "other"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: [\n", "playbooks/x.yaml:2:1: YAML syntax error: "),
        ("- a\n- b\n", "playbooks/x.yaml:1:1: the top level must be a mapping with 'rules'"),
        ("name: x\n", "playbooks/x.yaml:1:1: rules: required key is missing"),
        (
            "rules: []\n",
            "playbooks/x.yaml:1:1: rules: List should have at least 1 item after validation, not 0",
        ),
        ("rules: {}\n", "playbooks/x.yaml:1:1: rules: Input should be a valid list"),
        (
            "name: x\nname: y\nrules: []\n",
            "playbooks/x.yaml:2:1: name: duplicate key 'name' (first at line 1)",
        ),
        ("", "playbooks/x.yaml:1:1: rules: required key is missing"),
    ],
)
def test_file_level_errors(write: Write, text: str, expected: str) -> None:
    got = errors(write(text))
    assert any(g.startswith(expected) for g in got), got


def test_missing_path_and_empty_directory(write: Write) -> None:
    assert errors(Path("playbooks/nope.yaml")) == [
        "playbooks/nope.yaml: no such file or directory",
    ]
    assert errors(Path("playbooks")) == ["playbooks: no *.yaml files here"]


CHECK_ERRORS = [
    (
        "{kind: config}",
        "rules[0].check: a config check needs must_match, must_not_match, value or all_of",
    ),
    (
        "{kind: config, quantifier: any, must_match: x}",
        "rules[0].check: 'quantifier' needs 'section'",
    ),
    (
        "{kind: config, all_of: [{section: x}]}",
        "rules[0].check.all_of[0]: a clause needs must_match, must_not_match or value",
    ),
    (
        "{kind: config, value: {match: '(\\d+)'}}",
        "rules[0].check.value: give at least one bound: gt, ge, lt, le or eq",
    ),
    (
        "{kind: config, value: {match: '(\\d+)', le: many}}",
        "rules[0].check.value.le: Input should be a valid number, unable to parse string as a number, got 'many'",
    ),
    (
        "{kind: config, must_match: [1]}",
        "rules[0].check.must_match[0]: expected a regular expression (non-empty string), got 1",
    ),
    (
        "{kind: command}",
        "rules[0].check: give 'command' (a platform-table key or command line) or 'commands'",
    ),
    (
        "{kind: command, command: arp, expect: [{field: x, op: gt, value: ten}]}",
        "rules[0].check.expect[0]: op 'gt' needs a number, got 'ten'",
    ),
    (
        "{kind: command, command: arp, expect: [{field: x, op: match, value: '['}]}",
        "rules[0].check.expect[0]: bad regular expression '['",
    ),
    (
        "{kind: command, command: arp, expect: [{field: x, op: absent, value: 1}]}",
        "rules[0].check.expect[0]: op 'absent' takes no value",
    ),
    (
        "{kind: command, command: arp, expect: [{field: x, quantifier: most}]}",
        "rules[0].check.expect[0].quantifier: Input should be 'all', 'any' or 'none', got 'most'",
    ),
    (
        "{kind: command, commands: {ios: show arp}, min_rows: 1}",
        "rules[0].check: commands: unknown platform 'ios'",
    ),
    (
        "{kind: command, command: arp}",
        "rules[0].check: give at least one 'expect' test or 'min_rows'",
    ),
]


@pytest.mark.parametrize(("check", "expected"), CHECK_ERRORS)
def test_check_params_are_validated_by_the_kind(write: Write, check: str, expected: str) -> None:
    text = f"""\
    rules:
      - id: r
        control: time.ntp
        title: {{en: t, zh: t}}
        severity: low
        check: {check}
    """
    [got] = errors(write(text))
    assert got.startswith("playbooks/x.yaml:")
    assert got.split(": ", 1)[1].startswith(expected), got
