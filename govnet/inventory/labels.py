"""Chinese and English names of zones, sites and units, for reports and documents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from govnet.i18n import tr


@dataclass(frozen=True)
class Labels:
    """Chinese and English names of zones, sites and units (from the inventory); an id
    without a label is shown as itself."""

    zones: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # name → (zh, en)
    sites: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    units: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def from_inventory(cls, inv: Any) -> Labels:
        def table(items: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
            return {n: (x.label.zh or "", x.label.en or "") for n, x in items.items()}

        return cls(table(inv.zones), table(inv.sites), table(inv.units))

    def name(self, scope: str, key: str | None, lang: str) -> str:
        if not key:
            return tr(lang, "(no unit)") if scope == "unit" else ""
        zh, en = getattr(self, scope + "s").get(key, ("", ""))
        return (zh or en or key) if lang == "zh" else (en or zh or key)
