"""Inventory filters shared by every command: --zone --site --unit --role --platform --tag --limit.

Each option may repeat (OR within an option, AND across options). ``--site`` includes the
site's descendants (selecting a county selects its towns). ``--limit`` takes shell globs on
names, comma-separated; a leading ``!`` excludes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TypeVar

from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.inventory.model import Device, Inventory, Terminal

T = TypeVar("T")


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
                    _(
                        "--{key} {value!r}: no such {what} in the inventory (known: {known})",
                        key=key,
                        value=value,
                        what=_(key),
                        known=known,
                    )
                )


def _in_sites(inv: Inventory, site: str, wanted: tuple[str, ...]) -> bool:
    return not wanted or any(s in wanted for s in inv.site_chain(site))


def _match_name(name: str, include: list[str], exclude: list[str]) -> bool:
    if include and not any(fnmatchcase(name, p) for p in include):
        return False
    return not any(fnmatchcase(name, p) for p in exclude)


def _named(include: list[str], table: Mapping[str, T]) -> Iterable[T] | None:
    """The entries ``include`` names, when it names them without wildcards (``--limit sw1``):
    looked up, not matched against every name (a province has 50,000 devices and 300,000
    terminals, each made only when used); None when a pattern has a wildcard or none is given.
    """
    if not include or any(c in p for p in include for c in "*?["):
        return None
    return [table[name] for name in dict.fromkeys(include) if name in table]


def select_devices(inv: Inventory, f: Filters) -> list[Device]:
    check_filters(inv, f)
    include, exclude = _patterns(f.limit)
    out = []
    named = _named(include, inv.devices)
    for d in inv.devices.values() if named is None else named:
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
    named = _named(include, inv.terminals)
    for t in inv.terminals.values() if named is None else named:
        if f.zone and t.zone not in f.zone:
            continue
        if f.unit and t.unit not in f.unit:
            continue
        site = inv.units[t.unit].site
        if not _in_sites(inv, site, f.site) or not _match_name(t.name, include, exclude):
            continue
        out.append(t)
    return sorted(out, key=lambda t: t.name)


# Filters only devices have: terminals carry no role (but "terminal"), platform or tags.
DEVICE_ONLY = ("role", "platform", "tag")


class DeviceOnlyFilter(GovnetError):
    """A device-only filter given where only terminals are selected (a usage error)."""


def device_only(f: Filters) -> bool:
    return any(getattr(f, key) for key in DEVICE_ONLY)


def select_targets(
    inv: Inventory, f: Filters, terminals_apply: Callable[[], bool] = lambda: True
) -> tuple[list[Device], list[Terminal]]:
    """Devices and terminals for a command that handles both (``govnet audit``).

    Terminals are left out when a device-only filter is given (unless ``--role terminal``)
    or when ``terminals_apply()`` says nothing would use them (then the terminals CSVs are
    never read). GovnetError when nothing matches."""
    devices = select_devices(inv, f)
    skip = (device_only(f) and "terminal" not in f.role) or not terminals_apply()
    terminals = [] if skip else select_terminals(inv, f)
    if not devices and not terminals:
        raise GovnetError(_("no device or terminal matches the filters"))
    return devices, terminals


def select_only_terminals(inv: Inventory, f: Filters) -> list[Terminal]:
    """Terminals for a command about terminals only (``govnet av status``): DeviceOnlyFilter
    for --role/--platform/--tag, GovnetError when none matches."""
    if device_only(f):
        raise DeviceOnlyFilter(_("--role, --platform and --tag select devices, not terminals"))
    terminals = select_terminals(inv, f)
    if not terminals:
        raise GovnetError(_("no terminal matches the filters"))
    return terminals
