"""Read-only views of an inventory for listing and the site tree (no rendering here)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from govnet.inventory.model import Device, Inventory, Terminal


@dataclass
class SiteNode:
    name: str
    label_zh: str
    label_en: str
    level: str
    devices: Counter[str] = field(default_factory=Counter)  # zone → own devices
    terminals: Counter[str] = field(default_factory=Counter)  # zone → own terminals
    children: list[SiteNode] = field(default_factory=list)

    def total(self, what: str) -> Counter[str]:
        out = Counter(getattr(self, what))
        for child in self.children:
            out.update(child.total(what))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "site": self.name,
            "label": {"zh": self.label_zh, "en": self.label_en},
            "level": self.level,
            "devices": dict(sorted(self.total("devices").items())),
            "terminals": dict(sorted(self.total("terminals").items())),
            "children": [c.to_dict() for c in self.children],
        }


def site_tree(inv: Inventory, devices: list[Device], terminals: list[Terminal]) -> list[SiteNode]:
    """Roots of the site hierarchy with per-zone device and terminal counts (subtotals)."""
    nodes = {
        s.name: SiteNode(s.name, s.label.get("zh", s.name), s.label.get("en", s.name), s.level)
        for s in inv.sites.values()
    }
    for d in devices:
        nodes[d.site].devices[d.zone] += 1
    for t in terminals:
        nodes[inv.units[t.unit].site].terminals[t.zone] += 1
    roots: list[SiteNode] = []
    for site in sorted(inv.sites.values(), key=lambda s: s.name):
        (nodes[site.parent].children if site.parent else roots).append(nodes[site.name])
    return roots


def device_row(inv: Inventory, d: Device) -> dict[str, Any]:
    row = d.to_dict()
    row["ssh"] = f"{d.host}:{d.port}" if d.platform != "snmp" else ""
    row["snmp"] = f"{d.host}:{d.snmp_port} v{d.snmp.version}" if d.snmp else ""
    return row
