"""Kind ``isolation-static``: no address, route, VLAN, link or firewall policy joins isolated
zones.

The logic is :mod:`govnet.isolation.static`; this kind reads the device's running
configuration (live, saved files or backups alike) and the inventory from the audit's fleet
context, and reports each way the device reaches a zone it must be isolated from, with the
configuration lines (numbered) and the zones as evidence::

    check: {kind: isolation-static}          # addresses, routes, VLANs, links, firewall policies
    check: {kind: isolation-static, checks: [routes, links]}

The link graph is analysed once per audit (``prepare``), not once per device.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import Field

from govnet.checks.facts import DeviceFacts
from govnet.checks.fleet import FleetContext, fleet_of
from govnet.checks.kinds.config import parsed
from govnet.checks.kinds.firewall import policy_of
from govnet.checks.registry import CheckResult, register
from govnet.collect.interfaces import read_config
from govnet.core.vocabulary import Evidence
from govnet.i18n import _
from govnet.inventory.model import Device, Inventory
from govnet.isolation.firewall import FIREWALL_PLATFORMS
from govnet.isolation.static import (
    KINDS,
    Crossing,
    LeakKind,
    ZoneMap,
    config_leaks,
    isolated_from,
    link_crossings,
    link_leaks,
    policy_leaks,
)
from govnet.validation import Strict

if TYPE_CHECKING:
    from govnet.checks.playbook import Rule

NAME = "isolation-static"
MAX_EVIDENCE = 20


class StaticParams(Strict):
    checks: list[LeakKind] = Field(default_factory=lambda: list(KINDS), min_length=1)


class _Fleet:
    """What every device's evaluation shares: zone pools and the link crossings."""

    def __init__(self, inventory: Inventory) -> None:
        self.zones = ZoneMap(inventory)
        self.crossings: dict[str, list[Crossing]] = link_crossings(inventory)


def _fleet(ctx: FleetContext) -> _Fleet | None:
    if ctx.inventory is None:
        return None
    shared = ctx.data.get(NAME)
    if not isinstance(shared, _Fleet):
        shared = ctx.data[NAME] = _Fleet(ctx.inventory)
    return shared


@register(NAME)
class IsolationStaticKind:
    """Configurations and links that join isolated zones (see the module docstring)."""

    name = NAME
    params = StaticParams

    def required_commands(self, device: Device, params: StaticParams) -> set[str]:
        return set()  # the running configuration is always collected

    def prepare(self, ctx: FleetContext, rules: Sequence[Rule]) -> None:
        _fleet(ctx)

    def evaluate(self, device: Device, facts: DeviceFacts, params: StaticParams) -> CheckResult:
        ctx = fleet_of(facts)
        shared = _fleet(ctx) if ctx is not None else None
        if ctx is None or ctx.inventory is None or shared is None:
            return CheckResult.errored(
                _("isolation-static needs the inventory (run it through an audit)")
            )
        inventory = ctx.inventory
        if device.zone not in inventory.zones:
            return CheckResult.errored(
                _("zone {zone!r} is not declared in the inventory", zone=device.zone)
            )
        forbidden = isolated_from(inventory, device.zone)
        if not forbidden:
            return CheckResult.passed(
                _("zone {zone} is isolated from no other zone", zone=device.zone)
            )
        cfg = parsed(facts, device.platform)
        if cfg is None:
            return CheckResult.errored(_("no running configuration was collected"))
        config = read_config(cfg, device.platform)
        leaks = config_leaks(device, config, inventory, shared.zones, params.checks)
        if "link" in params.checks:
            leaks += link_leaks(device, shared.crossings.get(device.name, ()), config)
        policies = 0
        if "policy" in params.checks and device.platform in FIREWALL_PLATFORMS:
            policy = policy_of(facts, cfg, device.platform)
            policies = len(policy.rules)
            leaks += policy_leaks(policy, config, inventory, shared.zones)
        isolated = ", ".join(sorted(forbidden))
        if not leaks:
            counts = _(
                "{interfaces} interface(s), {routes} static route(s), {vlans} VLAN(s)",
                interfaces=len(config.interfaces),
                routes=len(config.routes),
                vlans=len({v for v, _tag in config.vlans}),
            )
            links = _("; links checked") if "link" in params.checks else ""
            rules = _(", {policies} security-policy rule(s)", policies=policies) if policies else ""
            return CheckResult.passed(
                _(
                    "nothing reaches {isolated} from zone {zone} ({counts}{rules}{links})",
                    isolated=isolated,
                    zone=device.zone,
                    counts=counts,
                    rules=rules,
                    links=links,
                )
            )
        evidence: list[Evidence] = []
        for leak in leaks:
            if leak.lines:
                evidence += [
                    Evidence(line.text, line.number, note)
                    for line, note in zip(leak.lines, leak.notes, strict=True)
                ]
            else:
                evidence += [Evidence(note) for note in leak.notes]
        reached = sorted({leak.zone for leak in leaks})
        kinds = sorted({leak.kind for leak in leaks})
        summary = _("; ").join(leak.message for leak in leaks[:5])
        more = _(" (+{n} more)", n=len(leaks) - 5) if len(leaks) > 5 else ""
        extra = len(evidence) - MAX_EVIDENCE
        shown = _(" ({extra} more lines not shown)", extra=extra) if extra > 0 else ""
        return CheckResult.failed(
            _(
                "zone {zone} reaches {reached} by {kinds}: {summary}{more}{shown}",
                zone=device.zone,
                reached=", ".join(reached),
                kinds="/".join(kinds),
                summary=summary,
                more=more,
                shown=shown,
            ),
            evidence[:MAX_EVIDENCE],
        )
