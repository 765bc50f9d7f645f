"""What a check kind may need beyond one device's own facts.

Some controls are about the whole network: the same MAC seen in two isolated zones, an
antivirus record joined to an inventory terminal, a canary that received a probe. Such kinds
read the :class:`FleetContext` that the audit puts in every ``DeviceFacts.cache["fleet"]``,
and may implement the optional :class:`Preparer` hook, called once per audit before any
device is evaluated, to gather fleet-wide data (SNMP tables, stored snapshots).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from govnet.checks.facts import DeviceFacts
from govnet.inventory.model import Device, Inventory

if TYPE_CHECKING:
    from govnet.checks.playbook import Rule
    from govnet.store.db import Store

FLEET_KEY = "fleet"


@dataclass
class FleetContext:
    inventory: Inventory | None
    targets: Sequence[Device]
    facts: dict[str, DeviceFacts]
    store: Store | None
    now: datetime
    source: str  # live | dir | backup
    data: dict[str, Any] = field(default_factory=dict)  # per-kind fleet data, by kind name


def fleet_of(facts: DeviceFacts) -> FleetContext | None:
    ctx = facts.cache.get(FLEET_KEY)
    return ctx if isinstance(ctx, FleetContext) else None


@runtime_checkable
class Preparer(Protocol):
    def prepare(self, ctx: FleetContext, rules: Sequence[Rule]) -> None:
        """Gather fleet-wide data for ``rules`` into ``ctx.data[<kind name>]``."""
        ...
