"""The audit engine: every rule of every playbook on every device → findings.

A collector first asks :func:`required_commands` what to run on each device, fills one
:class:`DeviceFacts` per device, then calls :func:`evaluate`. Per device × rule the finding is
``skip`` when the rule does not apply (platform, role, zone, tags), ``error`` when the device
could not be read (the collection error is the message), else the kind's verdict. A kind that
raises on odd data yields an ``error`` finding for that rule only: one bad device or rule never
stops the others.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Mapping, Sequence

from govnet.checks.facts import DeviceFacts
from govnet.checks.model import Finding
from govnet.checks.playbook import Playbook, Rule
from govnet.checks.registry import CheckResult, get_kind
from govnet.core.vocabulary import Status
from govnet.i18n import _
from govnet.inventory.model import Device

__all__ = ["DeviceFacts", "evaluate", "evaluate_device", "required_commands"]


def _rules(playbooks: Iterable[Playbook]) -> list[Rule]:
    return [rule for book in playbooks for rule in book.rules]


def required_commands(
    devices: Iterable[Device], playbooks: Sequence[Playbook]
) -> dict[str, set[str]]:
    """Device name → the command lines to run on it for the rules that apply to it."""
    rules = _rules(playbooks)
    out: dict[str, set[str]] = {}
    for device in devices:
        commands: set[str] = set()
        for rule in rules:
            if rule.applies(device):
                commands |= get_kind(rule.kind).required_commands(device, rule.params)
        out[device.name] = commands
    return out


def _finding(device: Device, rule: Rule, result: CheckResult, elapsed: float = 0.0) -> Finding:
    # Positional: tens of thousands per offline audit, and keyword matching costs a third of
    # the construction. The order is Finding's field order.
    return Finding(
        device.name,
        device.zone,
        device.site,
        device.unit,
        rule.id,
        rule.control,
        rule.severity,
        result.status,
        result.evidence,
        result.message,
        rule.clause,
        device.platform,
        rule.title,
        rule.remediation,
        result.out_of_scope,
        elapsed,
    )


def evaluate_rule(device: Device, facts: DeviceFacts | None, rule: Rule) -> Finding:
    """One rule on one device."""
    miss = rule.out_of_scope(device)
    return _evaluate(device, facts, rule, None if miss is None else _skip(*miss))


def _skip(field: str, reason: str) -> CheckResult:
    return CheckResult(Status.SKIP, (), f"not applicable: {reason}", out_of_scope=field)


def _evaluate(
    device: Device, facts: DeviceFacts | None, rule: Rule, skip: CheckResult | None
) -> Finding:
    if skip is not None:
        return _finding(device, rule, skip)
    if facts is None:
        return _finding(device, rule, CheckResult.errored(_("no facts were collected")))
    if facts.error is not None:
        kind = f"{facts.error_kind}: " if facts.error_kind else ""
        return _finding(device, rule, CheckResult.errored(f"{kind}{facts.error}"))
    began = time.perf_counter()
    try:
        result = get_kind(rule.kind).evaluate(device, facts, rule.params)
    except Exception as exc:  # a kind's bug or odd data: record it, keep auditing
        result = CheckResult.errored(
            _("check {kind!r} failed: {error}: {exc}", kind=rule.kind, error=type(exc).__name__,
              exc=exc)
        )  # fmt: skip
    return _finding(device, rule, result, time.perf_counter() - began)


def evaluate_device(
    device: Device, facts: DeviceFacts | None, playbooks: Sequence[Playbook]
) -> list[Finding]:
    return [evaluate_rule(device, facts, rule) for rule in _rules(playbooks)]


def evaluate(
    devices: Iterable[Device],
    facts_by_device: Mapping[str, DeviceFacts],
    playbooks: Sequence[Playbook],
) -> list[Finding]:
    """Findings for every device × rule, in device order then playbook/rule order.

    What the kinds cached for a device (``facts.cache``: parsed config, tables) is released
    once all its rules have run; entries the caller put there beforehand are kept.

    The cyclic garbage collector is paused for the call: findings are long-lived objects
    without cycles, and collections triggered by their sheer number (tens of thousands per
    offline audit) cost a fifth of the time while freeing nothing. It is restored on return.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _evaluate_all(devices, facts_by_device, playbooks)
    finally:
        if paused:
            gc.enable()


def _evaluate_all(
    devices: Iterable[Device],
    facts_by_device: Mapping[str, DeviceFacts],
    playbooks: Sequence[Playbook],
) -> list[Finding]:
    rules = _rules(playbooks)
    # Applicability depends on four device fields only: work it out once per combination,
    # so rules of other platforms are settled before any evaluation.
    skips: dict[tuple[str, str, str, frozenset[str]], list[CheckResult | None]] = {}
    findings: list[Finding] = []
    for device in devices:
        key = (device.platform, device.role, device.zone, device.tags)
        why = skips.get(key)
        if why is None:
            misses = [rule.out_of_scope(device) for rule in rules]
            why = skips[key] = [None if m is None else _skip(*m) for m in misses]
        facts = facts_by_device.get(device.name)
        kept = set(facts.cache) if facts is not None else set()
        findings.extend(
            _evaluate(device, facts, rule, skip) for rule, skip in zip(rules, why, strict=True)
        )
        if facts is not None and len(facts.cache) > len(kept):
            # Parsed configs and tables served this device's rules; holding thousands of them
            # until the run ends costs memory and makes every garbage collection slower.
            # What the caller put in the cache (a fleet context, say) stays.
            for added in [k for k in facts.cache if k not in kept]:
                del facts.cache[added]
    return findings
