"""Terminals judged like devices: antivirus and isolation rules apply to terminals too."""

from __future__ import annotations

from govnet.inventory.model import Device, Inventory, Terminal

TERMINAL = "terminal"  # platform and role of terminals audited as targets


def terminal_target(inv: Inventory, t: Terminal) -> Device:
    """A terminal as an audit target (antivirus and isolation rules apply to terminals)."""
    return Device(
        name=t.name,
        host=str(t.ip) if t.ip else "",
        platform=TERMINAL,
        role=TERMINAL,
        zone=t.zone,
        site=inv.units[t.unit].site,
        unit=t.unit,
        address=t.ip,
        mac=t.mac,
        description=t.kind,
    )
