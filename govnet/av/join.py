"""Records ↔ inventory endpoints: by MAC, then IP, then host name.

A record joins the endpoint whose MAC it carries; failing that, the one with its IP address;
failing that, the one with its host name (case-insensitive, domain suffix ignored). A record
that joins nothing is an *unknown endpoint*; an endpoint that no record joins is *not covered*.
Among an endpoint's records the newest wins (:func:`current`): records of other products seen
at the same moment (one live collection) stay, older ones only fill in what the newest do not
say about the same product.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Literal

from govnet.inventory.model import Device
from govnet.store.avrecords import AvRecord

By = Literal["mac", "ip", "host"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def host_key(name: str | None) -> str | None:
    """``PC-Town-02.lab.local`` → ``pc-town-02``."""
    if not name:
        return None
    return name.strip().split(".", 1)[0].casefold() or None


@dataclass(frozen=True)
class Match:
    record: AvRecord
    by: By
    note: str = ""  # e.g. the record's MAC differs from the inventory's


@dataclass
class Joined:
    matches: dict[str, list[Match]] = field(default_factory=dict)  # endpoint name → matches
    unknown: list[AvRecord] = field(default_factory=list)

    def of(self, name: str) -> list[Match]:
        return self.matches.get(name, [])


class EndpointIndex:
    """Inventory endpoints (terminals as targets, servers) by MAC, IP and host name."""

    def __init__(self, endpoints: Iterable[Device]) -> None:
        self.by_mac: dict[str, Device] = {}
        self.by_ip: dict[str, Device] = {}
        self.by_host: dict[str, Device] = {}
        for d in endpoints:
            if d.mac:
                self.by_mac.setdefault(d.mac, d)
            if d.address is not None:
                self.by_ip.setdefault(str(d.address), d)
            key = host_key(d.name)
            if key:
                self.by_host.setdefault(key, d)

    def find(self, record: AvRecord) -> tuple[Device, By, str] | None:
        if record.mac and record.mac in self.by_mac:
            return self.by_mac[record.mac], "mac", ""
        if record.ip and record.ip in self.by_ip:
            d = self.by_ip[record.ip]
            note = ""
            if record.mac and d.mac and record.mac != d.mac:
                note = f"MAC {record.mac} in the record, {d.mac} in the inventory"
            return d, "ip", note
        key = host_key(record.host)
        if key and key in self.by_host:
            d = self.by_host[key]
            note = f"joined by name only (record IP {record.ip})" if record.ip else ""
            return d, "host", note
        return None


def join(
    endpoints: Sequence[Device], records: Iterable[AvRecord], known: Iterable[Device] = ()
) -> Joined:
    """Join ``records`` to ``endpoints``; records matching only ``known`` inventory devices
    (servers not being judged) are neither joined nor unknown."""
    index = EndpointIndex(endpoints)
    others = EndpointIndex(known)
    out = Joined()
    for record in records:
        found = index.find(record)
        if found is None:
            if others.find(record) is None:
                out.unknown.append(record)
            continue
        device, by, note = found
        out.matches.setdefault(device.name, []).append(Match(record, by, note))
    return out


def _when(record: AvRecord) -> datetime:
    return record.seen or _EPOCH


_MERGEABLE = tuple(f.name for f in fields(AvRecord) if f.name not in ("source", "detail"))


@dataclass(frozen=True)
class Current:
    """One product's state on an endpoint: the newest record, filled from older ones."""

    record: AvRecord
    sources: tuple[AvRecord, ...]  # contributing records, newest first
    by: By
    note: str = ""  # how the join went, when it is worth saying

    @property
    def sig_record(self) -> AvRecord | None:
        """The record the signature date came from (its ``as_of`` dates the age)."""
        return next((r for r in self.sources if r.sig_date is not None), None)


def current(matches: Sequence[Match]) -> list[Current]:
    """The endpoint's products now: those seen at the newest moment, each merged with older
    records of the same product; newest-first, ties broken by how much a record says."""
    if not matches:
        return []

    def said(r: AvRecord) -> int:
        return sum(getattr(r, f) is not None for f in _MERGEABLE)

    ordered = sorted(matches, key=lambda m: (_when(m.record), said(m.record)), reverse=True)
    newest = _when(ordered[0].record)
    out: list[Current] = []
    seen: set[str] = set()
    for m in ordered:
        if _when(m.record) != newest:
            break
        key = m.record.vendor or m.record.product or "?"
        if key in seen:
            continue
        seen.add(key)
        same = [x.record for x in ordered if (x.record.vendor or x.record.product or "?") == key]
        merged = same[0]
        updates = {}
        for name in _MERGEABLE:
            if getattr(merged, name) is None:
                value = next((getattr(r, name) for r in same if getattr(r, name) is not None), None)
                if value is not None:
                    updates[name] = value
        detail = {k: v for r in reversed(same) for k, v in r.detail.items()}
        merged = replace(merged, **updates, detail=detail)
        out.append(Current(merged, tuple(same), m.by, m.note))
    return out
