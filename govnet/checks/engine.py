"""The audit engine: every rule of every playbook on every device → findings.

A collector first asks :func:`required_commands` what to run on each device, fills one
:class:`DeviceFacts` per device, then calls :func:`evaluate`. Per device × rule the finding is
``skip`` when the rule does not apply (platform, role, zone, tags), ``error`` when the device
could not be read (the collection error is the message), else the kind's verdict. A kind that
raises on odd data yields an ``error`` finding for that rule only: one bad device or rule never
stops the others.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from govnet.checks.facts import DeviceFacts
from govnet.checks.model import Finding, new_finding
from govnet.checks.playbook import Playbook, Rule
from govnet.checks.registry import CheckResult, get_kind
from govnet.core.vocabulary import Severity, Status, Text
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
            _(
                "check {kind!r} failed: {error}: {exc}",
                kind=rule.kind,
                error=type(exc).__name__,
                exc=exc,
            )
        )
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


class _Step(NamedTuple):
    """One rule for one kind of device (platform, role, zone, tags): a skip, or what to run,
    with the rule's fields a finding takes. A tuple: the engine unpacks it once per device."""

    evaluate: Callable[[Device, DeviceFacts, Any], CheckResult] | None  # None: skipped
    params: Any
    skip: CheckResult | None
    rule: Rule
    rule_id: str
    control: str
    severity: Severity
    clause: str
    title: Text
    remediation: Text


@dataclass(frozen=True, slots=True)
class _Plan:
    steps: list[_Step]
    warm: list[Callable[[Device, DeviceFacts], None]]  # kinds' shared work, before the steps


def _raiser(exc: Exception) -> Callable[[Device, DeviceFacts, Any], CheckResult]:
    def evaluate(device: Device, facts: DeviceFacts, params: Any) -> CheckResult:
        raise exc

    return evaluate


def _plan(device: Device, rules: Sequence[Rule]) -> _Plan:
    steps = []
    by_kind: dict[str, list[Any]] = {}
    for rule in rules:
        fields = (rule, rule.id, rule.control, rule.severity, rule.clause, rule.title)
        miss = rule.out_of_scope(device)
        if miss is not None:
            steps.append(_Step(None, None, _skip(*miss), *fields, rule.remediation))
        else:
            evaluate: Callable[[Device, DeviceFacts, Any], CheckResult]
            try:
                evaluate = get_kind(rule.kind).evaluate
            except KeyError as exc:  # not from a loaded playbook: an error finding, as before
                evaluate = _raiser(exc)
            else:
                by_kind.setdefault(rule.kind, []).append(rule.params)
            steps.append(_Step(evaluate, rule.params, None, *fields, rule.remediation))
    warm = []
    for name, params in by_kind.items():
        # A kind may offer ``shared(params)``: the work its rules share on one device (a
        # parse, one search for all their patterns), run once per device before them.
        shared = getattr(get_kind(name), "shared", None)
        if shared is not None:
            with contextlib.suppress(Exception):  # as below: the rules report for themselves
                warm.append(shared(params))
    return _Plan(steps, warm)


def _evaluate_all(
    devices: Iterable[Device],
    facts_by_device: Mapping[str, DeviceFacts],
    playbooks: Sequence[Playbook],
) -> list[Finding]:
    rules = _rules(playbooks)
    # Applicability depends on four device fields only: work it out once per combination,
    # so rules of other platforms are settled before any evaluation.
    plans: dict[tuple[str, str, str, frozenset[str]], _Plan] = {}
    findings: list[Finding] = []
    add = findings.append
    clock = time.perf_counter
    for device in devices:
        key = (device.platform, device.role, device.zone, device.tags)
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _plan(device, rules)
        facts = facts_by_device.get(device.name)
        if facts is None or facts.error is not None:
            findings.extend(_evaluate(device, facts, s.rule, s.skip) for s in plan.steps)
            continue
        kept = set(facts.cache) if facts.cache else None
        # Work shared by a kind's rules (a parse, one search for all their patterns) is
        # counted in the time of the first rule that runs, as it was before it was shared.
        began = clock()
        for warm in plan.warm:
            # Only a head start: if it fails, each rule meets the problem itself and reports
            # it as its own error finding.
            with contextlib.suppress(Exception):
                warm(device, facts)
        shared = clock() - began
        name, zone, site, unit, platform = (
            device.name,
            device.zone,
            device.site,
            device.unit,
            device.platform,
        )
        for (
            evaluate,
            params,
            result,
            rule,
            rule_id,
            control,
            severity,
            clause,
            title,
            remediation,
        ) in plan.steps:
            if evaluate is None:  # skipped: the result was settled with the plan
                assert result is not None
                add(
                    new_finding(
                        name,
                        zone,
                        site,
                        unit,
                        rule_id,
                        control,
                        severity,
                        result.status,
                        (),
                        result.message,
                        clause,
                        platform,
                        title,
                        remediation,
                        result.out_of_scope,
                        0.0,
                    )
                )
                continue
            began = clock()
            try:
                result = evaluate(device, facts, params)
            except Exception as exc:  # a kind's bug or odd data: record it, keep auditing
                result = CheckResult.errored(
                    _(
                        "check {kind!r} failed: {error}: {exc}",
                        kind=rule.kind,
                        error=type(exc).__name__,
                        exc=exc,
                    )
                )
            elapsed = clock() - began + shared
            shared = 0.0
            add(
                new_finding(
                    name,
                    zone,
                    site,
                    unit,
                    rule_id,
                    control,
                    severity,
                    result.status,
                    result.evidence,
                    result.message,
                    clause,
                    platform,
                    title,
                    remediation,
                    result.out_of_scope,
                    elapsed,
                )
            )
        # Parsed configs and tables served this device's rules; holding thousands of them
        # until the run ends costs memory and makes every garbage collection slower.
        # What the caller put in the cache (a fleet context, say) stays.
        if kept is None:
            facts.cache.clear()
        elif len(facts.cache) > len(kept):
            for added in [k for k in facts.cache if k not in kept]:
                del facts.cache[added]
    return findings
