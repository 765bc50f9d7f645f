"""Kind ``firewall-policy``: the security policy of a Huawei USG or H3C SecPath firewall.

The policy is read by :mod:`govnet.isolation.firewall` from the running configuration; one
rule tests one requirement::

    check: {kind: firewall-policy, require: default-deny}        # unmatched traffic dropped
    check: {kind: firewall-policy, require: no-any-any-permit}   # no inter-zone any→any permit
    check: {kind: firewall-policy, require: deny-logging}        # deny rules log their hits
    check: {kind: firewall-policy, require: policy-log-syslog}   # permits log sessions, to syslog

Disabled rules are not judged. Evidence is the rule's lines (numbered).
"""

from __future__ import annotations

import re
from typing import Literal

from govnet.checks.facts import DeviceFacts
from govnet.checks.kinds.config import parsed
from govnet.checks.registry import CheckResult, register
from govnet.core.configtext import ParsedConfig
from govnet.core.vocabulary import Evidence
from govnet.i18n import _
from govnet.inventory.model import Device
from govnet.isolation.firewall import (
    FIREWALL_PLATFORMS,
    FirewallPolicy,
    PolicyLine,
    PolicyRule,
    read_policy,
)
from govnet.validation import Strict

NAME = "firewall-policy"
MAX_EVIDENCE = 20
Requirement = Literal["default-deny", "no-any-any-permit", "deny-logging", "policy-log-syslog"]
_LOGHOST = re.compile(r"^info-center loghost (vpn-instance \S+ )?(\d{1,3}(\.\d{1,3}){3}|ipv6 \S+)")


class FirewallParams(Strict):
    require: Requirement


def _ev(line: PolicyLine, note: str = "") -> Evidence:
    return Evidence(line.text, line.number, note)


def _rule_ev(rule: PolicyRule, note: str) -> list[Evidence]:
    lines = rule.evidence_lines()
    return [_ev(lines[0], note), *(_ev(line) for line in lines[1:])]


def _zones(rule: PolicyRule) -> str:
    src = ",".join(rule.source.zones) or "any"
    dst = ",".join(rule.destination.zones) or "any"
    return f"{src}→{dst}"


def _logging_word(platform: str, session: bool) -> str:
    if platform == "h3c_secpath":
        return "logging enable"
    return "session logging" if session else "policy logging"


def _default_deny(policy: FirewallPolicy) -> CheckResult:
    bad: list[Evidence] = []
    problems: list[str] = []
    if policy.default_action == "permit":
        problems.append("the default action is permit")
        if policy.default_line is not None:
            bad.append(_ev(policy.default_line, "unmatched traffic is permitted"))
    for rule in policy.rules:
        if rule.disabled or rule.action != "permit" or not rule.catch_all:
            continue
        problems.append(f"rule {rule.name} permits any zone, address and service")
        bad += _rule_ev(rule, "a catch-all permit: the default deny never applies")
    if problems:
        return CheckResult.failed("; ".join(problems), bad[:MAX_EVIDENCE])
    if policy.default_line is not None:
        return CheckResult.passed(_("default action deny"), [_ev(policy.default_line)])
    return CheckResult.passed(
        _(
            "no default permit and no catch-all permit among {n_rules} rule(s) (unmatched "
            "traffic is dropped by default)",
            n_rules=len(policy.rules),
        )
    )


def _no_any_any(policy: FirewallPolicy) -> CheckResult:
    bad: list[Evidence] = []
    names: list[str] = []
    for rule in policy.rules:
        if rule.disabled or rule.action != "permit":
            continue
        if not (rule.source.any_address and rule.destination.any_address):
            continue
        same_zone = (
            len(rule.source.zones) == 1
            and rule.source.zones == rule.destination.zones
            and not rule.source.any_zone
        )
        if same_zone:
            continue
        names.append(f"{rule.name} ({_zones(rule)})")
        bad += _rule_ev(rule, f"permits any source to any destination between zones {_zones(rule)}")
    if names:
        more = f" (+{len(names) - 5} more)" if len(names) > 5 else ""
        return CheckResult.failed(
            _(
                "{n_names} inter-zone any→any permit rule(s): {names}{more}",
                n_names=len(names),
                names=", ".join(names[:5]),
                more=more,
            ),
            bad[:MAX_EVIDENCE],
        )
    permits = sum(1 for r in policy.rules if r.action == "permit" and not r.disabled)
    return CheckResult.passed(
        _("none of {permits} permit rule(s) is any→any between zones", permits=permits)
    )


def _deny_logging(policy: FirewallPolicy) -> CheckResult:
    word = _logging_word(policy.platform, session=False)
    bad: list[Evidence] = []
    names: list[str] = []
    good: list[Evidence] = []
    for rule in policy.rules:
        if rule.disabled or rule.action != "deny":
            continue
        if rule.logging:
            good.append(_ev(rule.header, f"{word}"))
            continue
        names.append(rule.name)
        bad += _rule_ev(rule, f"a deny rule without {word}: its hits are not logged")
    usg_default = policy.platform == "huawei_usg" and policy.default_action == "deny"
    if usg_default and not policy.default_logging and policy.section is not None:
        names.append("default")
        bad.append(_ev(policy.section, "no 'default policy logging': denied traffic unlogged"))
    if names:
        more = f" (+{len(names) - 8} more)" if len(names) > 8 else ""
        return CheckResult.failed(
            _("deny without logging: {names}", names=", ".join(names[:8])) + more,
            bad[:MAX_EVIDENCE],
        )
    return CheckResult.passed(
        _("{n_good} deny rule(s), all logged", n_good=len(good)), good[:MAX_EVIDENCE]
    )


def _policy_log_syslog(policy: FirewallPolicy, facts: DeviceFacts, device: Device) -> CheckResult:
    cfg = parsed(facts, device.platform)
    assert cfg is not None
    word = _logging_word(policy.platform, session=True)
    bad: list[Evidence] = []
    problems: list[str] = []
    host = cfg.first(re.compile(_LOGHOST.pattern, re.MULTILINE), *cfg.whole())
    if host is None:
        problems.append("no info-center loghost: policy and session logs stay on the device")
        bad.append(Evidence("no line matches ^info-center loghost <address>"))
    unlogged = [
        r for r in policy.rules if not r.disabled and r.action == "permit" and not r.session_logging
    ]
    for rule in unlogged:
        bad += _rule_ev(rule, f"a permit rule without {word}: its sessions are not logged")
    if unlogged:
        names = ", ".join(r.name for r in unlogged[:8])
        problems.append(f"permit rule(s) without {word}: {names}")
    if problems:
        return CheckResult.failed("; ".join(problems), bad[:MAX_EVIDENCE])
    assert host is not None
    permits = sum(1 for r in policy.rules if r.action == "permit" and not r.disabled)
    return CheckResult.passed(
        _("{permits} permit rule(s) log sessions; logs go to syslog", permits=permits),
        [Evidence(cfg.texts[host[0]], cfg.numbers[host[0]])],
    )


_CACHE_KEY = "firewall.policy"


def policy_of(facts: DeviceFacts, cfg: ParsedConfig, platform: str) -> FirewallPolicy:
    """The device's security policy, read once and cached on its facts (four fw.* rules and
    the isolation check share it)."""
    policy = facts.cache.get(_CACHE_KEY)
    if not isinstance(policy, FirewallPolicy):
        policy = facts.cache[_CACHE_KEY] = read_policy(cfg, platform)
    return policy


@register(NAME)
class FirewallPolicyKind:
    """One requirement on a firewall's security policy (see the module docstring)."""

    name = NAME
    params = FirewallParams

    def required_commands(self, device: Device, params: FirewallParams) -> set[str]:
        return set()  # the running configuration is always collected

    def evaluate(self, device: Device, facts: DeviceFacts, params: FirewallParams) -> CheckResult:
        if device.platform not in FIREWALL_PLATFORMS:
            known = ", ".join(sorted(FIREWALL_PLATFORMS))
            return CheckResult.errored(
                _(
                    "{platform} is not a firewall platform this kind reads ({known})",
                    platform=device.platform,
                    known=known,
                )
            )
        cfg = parsed(facts, device.platform)
        if cfg is None:
            return CheckResult.errored(_("the running configuration was not collected"))
        if not len(cfg):
            return CheckResult.errored(_("the running configuration is empty"))
        policy = policy_of(facts, cfg, device.platform)
        if params.require == "default-deny":
            return _default_deny(policy)
        if params.require == "no-any-any-permit":
            return _no_any_any(policy)
        if params.require == "deny-logging":
            return _deny_logging(policy)
        return _policy_log_syslog(policy, facts, device)
