"""Read-only views of an inventory for listing and the site tree (no rendering here)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from govnet.errors import GovnetError
from govnet.i18n import _
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


def describe(inv: Inventory, name: str) -> dict[str, Any]:
    """One device, terminal, unit, site or zone by name, every inherited value resolved
    (``govnet inventory show``); GovnetError when no such name."""
    if name in inv.devices:
        d = inv.devices[name]
        data = {"kind": "device", **d.to_dict(), "vars": d.vars}
        data["links"] = [
            f"{lk.a_device}:{lk.a_port} — {lk.b_device}:{lk.b_port}"
            for lk in inv.links
            if name in (lk.a_device, lk.b_device)
        ]
        return data
    if name in inv.terminals:
        return {"kind": "terminal", **inv.terminals[name].to_dict()}
    if name in inv.units:
        u = inv.units[name]
        return {
            "kind": "unit",
            "name": u.name,
            "label": u.label.model_dump(),
            "site": u.site,
            "zones": list(u.zones),
            "contact": u.contact,
            "devices": sorted(d.name for d in inv.devices.values() if d.unit == name),
            "terminals": sum(1 for t in inv.terminals.values() if t.unit == name),
        }
    if name in inv.sites:
        s = inv.sites[name]
        return {
            "kind": "site",
            "name": s.name,
            "label": s.label.model_dump(),
            "level": s.level,
            "parent": s.parent,
            "path": list(reversed(inv.site_chain(name))),
            "children": [c.name for c in inv.children(name)],
        }
    if name in inv.zones:
        z = inv.zones[name]
        return {
            "kind": "zone",
            "name": z.name,
            "label": z.label.model_dump(),
            "isolated_from": sorted(z.isolated_from),
            "prefixes": [str(p) for p in z.pools.prefixes],
            "vlans": [f"{a}-{b}" if a != b else str(a) for a, b in z.pools.vlans],
            "canaries": [c.model_dump(mode="json") for c in z.canaries],
        }
    raise GovnetError(
        _("{name!r}: no device, terminal, unit, site or zone of that name", name=name)
    )
