"""IPAM: a VLAN and a subnet per unit and zone, from the zone's pools in the inventory.

Allocation is deterministic: the lowest free VLAN of the zone's ``pools.vlans`` (in the order
the ranges are written) and the first free aligned subnet of the requested length in its
``pools.prefixes`` (in order). A subnet is not free when it overlaps an allocation or holds an
address the inventory already uses in that zone (a device's ``address``, a terminal's ``ip``):
the networks a city already runs are never handed out again. Allocating a unit that already
has an allocation in the zone returns it unchanged, so onboarding can be re-run.

Every allocation first bumps the zone's row in ``ipam_zones`` inside its transaction, which
serialises allocations per zone; the unique constraints are the backstop (a conflicting insert
is retried on a fresh view, never handed out twice).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from govnet.durations import utcnow
from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.inventory.model import Inventory, Zone
from govnet.store.db import Store
from govnet.store.ipam import ipam_allocations, ipam_events, ipam_zones

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ATTEMPTS = 8


class IpamError(GovnetError):
    """Bad request or exhausted pool (exit 2): the message says what to change."""


@dataclass(frozen=True)
class Allocation:
    zone: str
    unit: str
    vlan: int
    prefix: Network
    allocated_at: datetime | None = None
    note: str = ""

    @property
    def gateway(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """The first host address: the unit's gateway on its aggregation switch."""
        first: ipaddress.IPv4Address | ipaddress.IPv6Address = next(iter(self.prefix.hosts()))  # type: ignore[assignment]
        return first

    @property
    def netmask(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return self.prefix.netmask

    @property
    def wildcard(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return self.prefix.hostmask

    @property
    def prefix_len(self) -> int:
        return self.prefix.prefixlen

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "unit": self.unit,
            "vlan": self.vlan,
            "prefix": str(self.prefix),
            "gateway": str(self.gateway),
            "allocated_at": self.allocated_at.isoformat() if self.allocated_at else None,
            "note": self.note,
        }


@dataclass(frozen=True)
class Request:
    """What to allocate: ``vlan``/``prefix`` pin a specific one (recording existing networks)."""

    unit: str
    zone: str
    prefix_len: int = 24
    vlan: int | None = None
    prefix: Network | None = None
    note: str = ""


def _row(r: Any) -> Allocation:
    when = r.allocated_at
    return Allocation(
        r.zone,
        r.unit,
        r.vlan,
        ipaddress.ip_network(r.prefix),
        when if when is None or when.tzinfo else when.replace(tzinfo=utcnow().tzinfo),
        r.note,
    )


def check_request(inventory: Inventory, req: Request) -> Zone:
    """The zone to allocate from; IpamError naming what is wrong with the request."""
    if req.unit not in inventory.units:
        known = ", ".join(sorted(inventory.units))
        raise IpamError(
            _(
                "unit {unit!r}: no such unit in the inventory (known: {known})",
                unit=req.unit,
                known=known,
            )
        )
    if req.zone not in inventory.zones:
        known = ", ".join(sorted(inventory.zones))
        raise IpamError(
            _(
                "zone {zone!r}: no such zone in the inventory (known: {known})",
                zone=req.zone,
                known=known,
            )
        )
    unit = inventory.units[req.unit]
    if unit.zones and req.zone not in unit.zones:
        raise IpamError(
            _(
                "unit {unit} is not on zone {zone} (its zones: {zones}); add the zone to "
                "units.{unit}.zones first",
                unit=req.unit,
                zone=req.zone,
                zones=", ".join(unit.zones),
            )
        )
    zone = inventory.zones[req.zone]
    if not zone.pools.vlans or not zone.pools.prefixes:
        raise IpamError(
            _(
                "zone {zone} has no address pools: set zones.{zone}.pools.vlans and "
                "pools.prefixes in the inventory",
                zone=req.zone,
            )
        )
    if not 8 <= req.prefix_len <= 30:
        raise IpamError(_("prefix length /{prefix_len}: use 8 to 30", prefix_len=req.prefix_len))
    return zone


def in_use(inventory: Inventory, zone: str) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Addresses the inventory already uses in ``zone`` (devices and terminals)."""
    used: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for d in inventory.devices.values():
        if d.zone == zone and d.address is not None:
            used.add(d.address)
    for t in inventory.terminals.values():
        if t.zone == zone and t.ip is not None:
            used.add(t.ip)
    return used


def _vlans(zone: Zone) -> Iterator[int]:
    seen: set[int] = set()
    for first, last in zone.pools.vlans:
        for v in range(first, last + 1):
            if v not in seen:
                seen.add(v)
                yield v


def _pool_text(zone: Zone) -> str:
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in zone.pools.vlans)


def choose(
    zone: Zone,
    req: Request,
    taken: list[Allocation],
    used_addresses: Iterable[ipaddress.IPv4Address | ipaddress.IPv6Address],
) -> tuple[int, Network]:
    """The VLAN and subnet for ``req`` given what is ``taken`` (pure: no store)."""
    taken_vlans = {a.vlan for a in taken}
    taken_nets = [a.prefix for a in taken]
    if req.vlan is not None:
        if req.vlan not in set(_vlans(zone)):
            raise IpamError(
                _(
                    "VLAN {vlan} is outside zone {name}'s pools ({zone})",
                    vlan=req.vlan,
                    name=zone.name,
                    zone=_pool_text(zone),
                )
            )
        if req.vlan in taken_vlans:
            owner = next(a.unit for a in taken if a.vlan == req.vlan)
            raise IpamError(
                _(
                    "VLAN {vlan} in zone {name} is already allocated to {owner}",
                    vlan=req.vlan,
                    name=zone.name,
                    owner=owner,
                )
            )
        vlan = req.vlan
    else:
        free = next((v for v in _vlans(zone) if v not in taken_vlans), None)
        if free is None:
            raise IpamError(
                _(
                    "zone {name} has no free VLAN left in its pools ({zone}, {n_taken_vlans} "
                    "allocated): release one or widen zones.{name}.pools.vlans",
                    name=zone.name,
                    zone=_pool_text(zone),
                    n_taken_vlans=len(taken_vlans),
                )
            )
        vlan = free
    if req.prefix is not None:
        net = req.prefix
        if not any(net.version == p.version and net.subnet_of(p) for p in zone.pools.prefixes):  # type: ignore[arg-type]
            pools = ", ".join(str(p) for p in zone.pools.prefixes)
            raise IpamError(
                _(
                    "{net} is outside zone {name}'s pools ({pools})",
                    net=net,
                    name=zone.name,
                    pools=pools,
                )
            )
        clash = next((a for a in taken if a.prefix.overlaps(net)), None)
        if clash is not None:
            raise IpamError(
                _(
                    "{net} overlaps {prefix}, allocated to {unit}",
                    net=net,
                    prefix=clash.prefix,
                    unit=clash.unit,
                )
            )
        return vlan, net
    length = req.prefix_len
    reserved = {
        ipaddress.ip_network(f"{a}/{length}", strict=False)
        for a in used_addresses
        if a.version == 4
    }
    for pool in zone.pools.prefixes:
        if pool.version != 4 or length < pool.prefixlen:
            continue
        for cand in pool.subnets(new_prefix=length):
            if cand in reserved or any(cand.overlaps(t) for t in taken_nets):
                continue
            return vlan, cand
    pools = ", ".join(str(p) for p in zone.pools.prefixes)
    raise IpamError(
        _(
            "zone {name} has no free /{length} left in its pools ({pools}): release one, ask "
            "for a longer prefix, or widen zones.{name}.pools.prefixes",
            name=zone.name,
            length=length,
            pools=pools,
        )
    )


def _taken(conn: Connection, zone: str) -> list[Allocation]:
    rows = conn.execute(
        select(ipam_allocations)
        .where(ipam_allocations.c.zone == zone)
        .order_by(ipam_allocations.c.id)
    ).all()
    return [_row(r) for r in rows]


def _lock_zone(conn: Connection, zone: str) -> None:
    """Take the zone's write lock: bump its serial (create the row the first time)."""
    bumped = conn.execute(
        update(ipam_zones).where(ipam_zones.c.zone == zone).values(serial=ipam_zones.c.serial + 1)
    ).rowcount
    if not bumped:
        conn.execute(insert(ipam_zones).values(zone=zone, serial=1))


def _transaction(store: Store, what: str, work: Any) -> Any:
    """Run ``work(conn)`` in one transaction; retry on a lost race, translate errors."""
    for attempt in range(ATTEMPTS):
        try:
            with store.engine.begin() as conn:
                return work(conn)
        except IntegrityError:  # a concurrent allocation won: look again on a fresh view
            if attempt == ATTEMPTS - 1:
                raise IpamError(
                    _(
                        "{what}: lost {attempts} races in a row; try again",
                        what=what,
                        attempts=ATTEMPTS,
                    )
                ) from None
        except OperationalError as exc:  # "database is locked" beyond busy_timeout
            if attempt == ATTEMPTS - 1 or "locked" not in str(exc).lower():
                raise GovnetError(
                    _("store error during {what}: {exc}", what=what, exc=exc.orig or exc)
                ) from exc
        except SQLAlchemyError as exc:
            raise GovnetError(
                _(
                    "store error during {what}: {name}: {exc}",
                    what=what,
                    name=exc.__class__.__name__,
                    exc=exc,
                )
            ) from exc
        time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def allocate(
    store: Store, inventory: Inventory, req: Request, now: datetime | None = None
) -> tuple[Allocation, bool]:
    """The unit's allocation in the zone, made now if it has none: (allocation, created)."""
    zone = check_request(inventory, req)
    used = in_use(inventory, req.zone)

    def work(conn: Connection) -> tuple[Allocation, bool]:
        _lock_zone(conn, req.zone)
        taken = _taken(conn, req.zone)
        mine = next((a for a in taken if a.unit == req.unit), None)
        if mine is not None:
            if (req.vlan is not None and req.vlan != mine.vlan) or (
                req.prefix is not None and req.prefix != mine.prefix
            ):
                raise IpamError(
                    _(
                        "unit {unit} already has VLAN {vlan} and {prefix} in zone {zone}; "
                        "release it first to change it",
                        unit=req.unit,
                        vlan=mine.vlan,
                        prefix=mine.prefix,
                        zone=req.zone,
                    )
                )
            return mine, False
        vlan, net = choose(zone, req, taken, used)
        when = now or utcnow()
        values = {"zone": req.zone, "unit": req.unit, "vlan": vlan, "prefix": str(net)}
        conn.execute(insert(ipam_allocations).values(**values, allocated_at=when, note=req.note))
        conn.execute(
            insert(ipam_events).values(**values, at=when, action="allocate", note=req.note)
        )
        return Allocation(req.zone, req.unit, vlan, net, when, req.note), True

    result: tuple[Allocation, bool] = _transaction(store, f"allocating for {req.unit}", work)
    return result


def preview(store: Store, inventory: Inventory, req: Request) -> tuple[Allocation, bool]:
    """What :func:`allocate` would return now, without recording anything."""
    zone = check_request(inventory, req)
    with store.begin() as conn:
        taken = _taken(conn, req.zone)
    mine = next((a for a in taken if a.unit == req.unit), None)
    if mine is not None:
        return mine, False
    vlan, net = choose(zone, req, taken, in_use(inventory, req.zone))
    return Allocation(req.zone, req.unit, vlan, net, None, req.note), True


def release(store: Store, zone: str, unit: str, now: datetime | None = None) -> Allocation:
    """Free the unit's VLAN and subnet in ``zone``; IpamError if it has none."""

    def work(conn: Connection) -> Allocation:
        _lock_zone(conn, zone)
        mine = next((a for a in _taken(conn, zone) if a.unit == unit), None)
        if mine is None:
            raise IpamError(
                _(
                    "unit {unit} has no allocation in zone {zone}; see 'govnet ipam list'",
                    unit=unit,
                    zone=zone,
                )
            )
        conn.execute(
            delete(ipam_allocations).where(
                ipam_allocations.c.zone == zone, ipam_allocations.c.unit == unit
            )
        )
        conn.execute(
            insert(ipam_events).values(
                at=now or utcnow(),
                action="release",
                zone=zone,
                unit=unit,
                vlan=mine.vlan,
                prefix=str(mine.prefix),
                note="",
            )
        )
        return mine

    result: Allocation = _transaction(store, f"releasing {unit}", work)
    return result


def allocations(store: Store, zone: str | None = None) -> list[Allocation]:
    query = select(ipam_allocations).order_by(ipam_allocations.c.zone, ipam_allocations.c.vlan)
    if zone is not None:
        query = query.where(ipam_allocations.c.zone == zone)
    with store.begin() as conn:
        return [_row(r) for r in conn.execute(query).all()]


def find(store: Store, zone: str, unit: str) -> Allocation | None:
    return next((a for a in allocations(store, zone) if a.unit == unit), None)


def usage(inventory: Inventory, taken: list[Allocation]) -> list[dict[str, Any]]:
    """Per zone with pools: VLANs allocated and free."""
    rows = []
    for zone in inventory.zones.values():
        if not zone.pools.vlans:
            continue
        total = len(set(_vlans(zone)))
        used = sum(1 for a in taken if a.zone == zone.name)
        rows.append(
            {
                "zone": zone.name,
                "vlans": _pool_text(zone),
                "prefixes": ", ".join(str(p) for p in zone.pools.prefixes),
                "allocated": used,
                "free_vlans": total - used,
            }
        )
    return rows
