"""Inventory filters shared by every command: --zone --site --unit --role --platform --tag --limit.

Each option may repeat (OR within an option, AND across options). ``--site`` includes the
site's descendants (selecting a county selects its towns). ``--limit`` takes shell globs on
names, comma-separated; a leading ``!`` excludes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.inventory.model import Device, Inventory, Terminal


@dataclass(frozen=True)
class Filters:
    zone: tuple[str, ...] = ()
    site: tuple[str, ...] = ()
    unit: tuple[str, ...] = ()
    role: tuple[str, ...] = ()
    platform: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    limit: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not any(getattr(self, f) for f in self.__dataclass_fields__)

    def describe(self) -> str:
        parts = [f"{k}={','.join(v)}" for k, v in vars(self).items() if v]
        return " ".join(parts) or "all"


def _patterns(limit: Iterable[str]) -> tuple[list[str], list[str]]:
    include: list[str] = []
    exclude: list[str] = []
    for item in limit:
        for pat in item.split(","):
            pat = pat.strip()
            if pat.startswith("!"):
                exclude.append(pat[1:])
            elif pat:
                include.append(pat)
    return include, exclude


def check_filters(inv: Inventory, f: Filters) -> None:
    """Unknown names in filters are usage errors, not empty selections."""
    tables: dict[str, Iterable[str]] = {"zone": inv.zones, "site": inv.sites, "unit": inv.units}
    for key, table in tables.items():
        for value in getattr(f, key):
            if value not in table:
                known = ", ".join(sorted(table))
                raise GovnetError(
                    _("--{key} {value!r}: no such {what} in the inventory (known: {known})",
                      key=key, value=value, what=_(key), known=known)
                )  # fmt: skip


def _in_sites(inv: Inventory, site: str, wanted: tuple[str, ...]) -> bool:
    return not wanted or any(s in wanted for s in inv.site_chain(site))


def _match_name(name: str, include: list[str], exclude: list[str]) -> bool:
    if include and not any(fnmatchcase(name, p) for p in include):
        return False
    return not any(fnmatchcase(name, p) for p in exclude)


def select_devices(inv: Inventory, f: Filters) -> list[Device]:
    check_filters(inv, f)
    include, exclude = _patterns(f.limit)
    out = []
    for d in inv.devices.values():
        if f.zone and d.zone not in f.zone:
            continue
        if f.unit and d.unit not in f.unit:
            continue
        if f.role and d.role not in f.role:
            continue
        if f.platform and d.platform not in f.platform:
            continue
        if f.tag and not d.tags.intersection(f.tag):
            continue
        if not _in_sites(inv, d.site, f.site) or not _match_name(d.name, include, exclude):
            continue
        out.append(d)
    return sorted(out, key=lambda d: d.name)


def select_terminals(inv: Inventory, f: Filters) -> list[Terminal]:
    """Terminals by zone/site/unit/limit (device-only filters do not apply to terminals)."""
    check_filters(inv, f)
    include, exclude = _patterns(f.limit)
    out = []
    for t in inv.terminals.values():
        if f.zone and t.zone not in f.zone:
            continue
        if f.unit and t.unit not in f.unit:
            continue
        site = inv.units[t.unit].site
        if not _in_sites(inv, site, f.site) or not _match_name(t.name, include, exclude):
            continue
        out.append(t)
    return sorted(out, key=lambda t: t.name)
