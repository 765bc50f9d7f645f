"""Kind ``isolation-neighbors``: LLDP/CDP neighbours across isolated zones.

::

    check: {kind: isolation-neighbors}

The platform table's ``lldp`` (and ``cdp``) commands are added to what the audit runs on each
switch; the neighbours of every switch the rule applies to are compared with the inventory once
per audit (``prepare``, :func:`govnet.isolation.discovery.analyse`). A switch fails when one of
its cables reaches a device of a zone isolated from its own without a gap between them —
directly, or through a box the inventory does not know that a device of the other zone also
sees; the evidence names both ends and ports. Read live only (an offline audit reports
``skip``); a switch whose neighbours could not be read is an ``error``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from govnet.checks.facts import DeviceFacts
from govnet.checks.fleet import FleetContext, fleet_of
from govnet.checks.registry import CheckResult, register
from govnet.collect.neighbors import DeviceNeighbors, neighbor_commands, neighbors_from_ssh
from govnet.core.vocabulary import Evidence, Status
from govnet.i18n import _
from govnet.inventory.model import Device
from govnet.inventory.terminals import TERMINAL
from govnet.isolation.discovery import Discovery, analyse
from govnet.validation import Strict

if TYPE_CHECKING:
    from govnet.checks.playbook import Rule

log = logging.getLogger(__name__)

NAME = "isolation-neighbors"


class NeighborParams(Strict):
    """No options yet: the zones and gaps come from the inventory."""


@register(NAME)
class IsolationNeighborsKind:
    """Cables between isolated zones seen by LLDP/CDP (see the module docstring)."""

    name = NAME
    params = NeighborParams

    def required_commands(self, device: Device, params: NeighborParams) -> set[str]:
        if device.platform == TERMINAL:
            return set()
        return set(neighbor_commands(device.platform).values())

    def prepare(self, ctx: FleetContext, rules: Sequence[Rule]) -> None:
        if ctx.source != "live" or ctx.inventory is None:
            return
        read: dict[str, DeviceNeighbors] = {}
        for d in ctx.targets:
            if d.platform == TERMINAL or not any(r.applies(d) for r in rules):
                continue
            facts = ctx.facts.get(d.name)
            if facts is None or facts.error is not None:
                why = facts.error if facts is not None else "not collected"
                read[d.name] = DeviceNeighbors(d.name, error=why)
                continue
            read[d.name] = neighbors_from_ssh(d, facts.outputs)
        try:
            ctx.data[NAME] = analyse(ctx.inventory, read)
        except Exception as exc:  # a bug or a library surprise: every switch reports it
            log.error("%s: %s: %s", NAME, type(exc).__name__, exc)
            ctx.data[NAME] = f"{type(exc).__name__}: {exc}"

    def evaluate(self, device: Device, facts: DeviceFacts, params: NeighborParams) -> CheckResult:
        ctx = fleet_of(facts)
        if ctx is None or ctx.inventory is None:
            return CheckResult.errored(
                _("{name} needs the inventory (run it through an audit)", name=NAME)
            )
        if ctx.source != "live":
            return CheckResult(
                Status.SKIP, (), "not applicable: LLDP/CDP neighbours are read live, not from files"
            )
        result = ctx.data.get(NAME)
        if isinstance(result, str):
            return CheckResult.errored(_("cannot compare the neighbours: {result}", result=result))
        if not isinstance(result, Discovery):
            return CheckResult.errored(
                _("the LLDP/CDP neighbours were not collected for this audit")
            )
        mine = result.read.get(device.name)
        if mine is None:
            return CheckResult.errored(_("no neighbours were collected from this device"))
        if mine.error is not None:
            return CheckResult.errored(
                _("cannot read the LLDP/CDP neighbours: {error}", error=mine.error)
            )
        crossings = result.cross_zone_of(device.name)
        if not crossings:
            return CheckResult.passed(
                _(
                    "{n_neighbors} neighbour(s); none in a zone isolated from {zone}",
                    n_neighbors=len(mine.neighbors),
                    zone=device.zone,
                )
            )
        evidence = [
            Evidence(c.describe(), None, "cable between isolated zones without a gap")
            for c in crossings
        ]
        return CheckResult.failed(
            _(
                "{n_crossings} neighbour relation(s) across isolated zones without a gap: ",
                n_crossings=len(crossings),
            )
            + "; ".join(c.describe() for c in crossings[:5]),
            evidence,
        )
