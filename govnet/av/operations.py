"""What ``govnet av`` and the ``antivirus`` check kind call: import, live collection, status.

- :func:`import_file` reads an export with a source's mapping and keeps it as a snapshot.
- :func:`live_records` asks servers now: SNMP software lists and ClamAV over SSH.
- :func:`fleet_data` gathers everything an audit or a status needs: the newest snapshot of each
  console, live records, and their join to the endpoints being judged.
- :func:`status` judges every selected terminal and sums coverage per unit, site and zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from govnet.av.clamav import collect_clamav
from govnet.av.exports import parse_export
from govnet.av.join import Joined, join
from govnet.av.parse import CHINA, local_date
from govnet.av.policy import TESTS, Assessment, AvPolicy, Live, assess
from govnet.av.snmp import collect_software, software_records
from govnet.av.sources import Catalogue, load_catalogue
from govnet.collect.fleet import run_fleet
from govnet.core.vocabulary import Status
from govnet.durations import utcnow
from govnet.errors import GovnetError, TransportError
from govnet.inventory.model import Device, Inventory, Terminal
from govnet.inventory.terminals import TERMINAL, terminal_target
from govnet.platforms import get_platform
from govnet.secrets import check_all
from govnet.store.av import newest_snapshots, save_snapshot
from govnet.store.avrecords import AvRecord, Snapshot
from govnet.store.db import Store
from govnet.transport.jump import check_keys
from govnet.transport.ssh import SshOptions

NO_SNAPSHOT = (
    "no antivirus snapshot in the store; import a console export first: "
    "govnet av import FILE --source NAME"
)


# ----------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    snapshot: Snapshot
    new: bool
    joined: int = 0
    unknown: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.snapshot.to_dict(),
            "new": self.new,
            "joined": self.joined,
            "unknown": self.unknown,
            "warnings": list(self.snapshot.warnings),
        }


def import_file(
    store: Store,
    path: Path,
    source: str,
    catalogue_path: Path | None = None,
    taken: datetime | None = None,
    console: str | None = None,
    inventory: Inventory | None = None,
) -> ImportResult:
    """Parse ``path`` with ``source``'s mapping and keep it as a snapshot (once)."""
    catalogue = load_catalogue(catalogue_path)
    snap = parse_export(path, catalogue.source(source), taken, console)
    snap.imported = utcnow()
    snap.id, new = save_snapshot(store, snap)
    result = ImportResult(snap, new)
    if inventory is not None:
        endpoints = [terminal_target(inventory, t) for t in inventory.terminals.values()]
        joined = join(endpoints, snap.records, inventory.devices.values())
        result.joined = sum(len(m) for m in joined.matches.values())
        result.unknown = len(joined.unknown)
    return result


# ----------------------------------------------------------------------------- live


def live_records(
    servers: Sequence[Device],
    catalogue: Catalogue,
    when: datetime,
    live: Iterable[Live] = ("snmp", "ssh"),
    ssh: SshOptions | None = None,
) -> tuple[list[AvRecord], dict[str, list[str]]]:
    """Ask ``servers`` now; returns records and, per server, what could not be read."""
    wanted = set(live)
    records: list[AvRecord] = []
    errors: dict[str, list[str]] = defaultdict(list)
    if "snmp" in wanted:
        with_snmp = [d for d in servers if d.snmp is not None]
        for name, got in collect_software(with_snmp).items():
            device = next(d for d in with_snmp if d.name == name)
            if isinstance(got, TransportError):
                errors[name].append(f"snmp: {got.message}")
            else:
                records += software_records(device, got, catalogue.products, when)
    if "ssh" in wanted:
        linux = [d for d in servers if d.credentials and get_platform(d.platform).name == "linux"]
        check_all(r for d in linux for r in d.ssh_secrets())
        check_keys(linux)  # key files and passphrases too (exit 2)
        product = catalogue.products.get("clamav")

        def task(device: Device) -> AvRecord | None:
            return collect_clamav(device, when, ssh, product, catalogue.tz)

        for res in run_fleet(linux, task):
            if res.error is not None:
                message = res.error.message if isinstance(res.error, TransportError) else res.error
                errors[res.device].append(f"ssh: {message}")
            elif res.result is not None:
                records.append(res.result)
    return records, dict(errors)


# ----------------------------------------------------------------------------- fleet data


@dataclass
class AvFleet:
    """Everything needed to judge endpoints: snapshots, live results and the join."""

    snapshots: list[Snapshot]
    joined: Joined
    errors: dict[str, list[str]] = field(default_factory=dict)
    live: bool = False
    store: bool = True
    _cache: dict[tuple[str, int], Assessment] = field(default_factory=dict, repr=False)

    def no_data(self, endpoint: Device) -> str | None:
        if not self.store:
            return "no store (--no-store): antivirus snapshots cannot be read"
        if endpoint.role == TERMINAL:
            return None if self.snapshots else NO_SNAPSHOT
        if self.live:
            return None
        return (
            "not in any antivirus snapshot, and servers are asked over SNMP/SSH only in live audits"
        )

    def assess(self, endpoint: Device, policy: AvPolicy, now: datetime) -> Assessment:
        key = (endpoint.name, id(policy))
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = assess(
                endpoint,
                self.joined.of(endpoint.name),
                policy,
                now,
                self.errors.get(endpoint.name, ()),
                self.no_data(endpoint),
            )
        return found


def fleet_data(
    endpoints: Sequence[Device],
    store: Store | None,
    now: datetime,
    known: Iterable[Device] = (),
    live: Iterable[Live] = (),
    catalogue_path: Path | None = None,
) -> AvFleet:
    """Newest snapshot per console from the store, plus ``live`` sources for the servers among
    ``endpoints``, joined to ``endpoints``."""
    snapshots = newest_snapshots(store) if store is not None else []
    records = [r for s in snapshots for r in s.records]
    errors: dict[str, list[str]] = {}
    wanted = list(live)
    servers = [e for e in endpoints if e.role != TERMINAL]
    if wanted and servers:
        catalogue = load_catalogue(catalogue_path)
        got, errors = live_records(servers, catalogue, now, wanted)
        records += got
    joined = join(endpoints, records, known)
    return AvFleet(snapshots, joined, errors, live=bool(wanted), store=store is not None)


# ----------------------------------------------------------------------------- policy


def policy_for(policies: dict[str, AvPolicy], test: str) -> AvPolicy:
    return policies.get(test) or next(iter(policies.values()))


# ----------------------------------------------------------------------------- status


@dataclass
class ScopeSummary:
    scope: str  # unit | site | zone
    name: str
    terminals: int = 0  # judged (exempt ones not counted)
    covered: int = 0
    fresh: int = 0
    managed: int = 0
    exempt: int = 0

    @staticmethod
    def _share(n: int, d: int) -> float:
        return round(n / d, 4) if d else 1.0

    @property
    def coverage(self) -> float:
        return self._share(self.covered, self.terminals)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "name": self.name,
            "terminals": self.terminals,
            "covered": self.covered,
            "fresh": self.fresh,
            "managed": self.managed,
            "exempt": self.exempt,
            "coverage": self.coverage,
            "fresh_share": self._share(self.fresh, self.terminals),
            "managed_share": self._share(self.managed, self.terminals),
        }


@dataclass
class StatusReport:
    now: datetime
    snapshots: list[dict[str, Any]]
    terminals: list[dict[str, Any]]
    summary: dict[str, list[dict[str, Any]]]
    unknown: list[dict[str, Any]]

    @property
    def problems(self) -> int:
        return sum(1 for t in self.terminals if t["state"] not in ("ok", "exempt"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": 1,
            "as_of": self.now.isoformat(),
            "snapshots": self.snapshots,
            "terminals": self.terminals,
            "summary": self.summary,
            "unknown": self.unknown,
        }


def _fmt(when: datetime | None) -> str | None:
    return when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if when else None


def terminal_row(inv: Inventory, t: Terminal, a: Assessment) -> dict[str, Any]:
    main = a.main
    r = main.record if main else None
    sig = main.sig_record if main else None
    problem = next(
        (v.message for v in a.verdicts.values() if v.status in (Status.FAIL, Status.ERROR)), ""
    )
    return {
        "terminal": t.name,
        "unit": t.unit,
        "site": inv.units[t.unit].site,
        "zone": t.zone,
        "kind": t.kind,
        "ip": str(t.ip) if t.ip else None,
        "mac": t.mac,
        "state": a.state,
        "product": r.product if r else None,
        "vendor": r.vendor if r else None,
        "edition": r.edition if r else None,
        "client_version": r.client_version if r else None,
        "sig_version": r.sig_version if r else None,
        "sig_date": r.sig_date.isoformat() if r and r.sig_date else None,
        "age_days": a.age_days,
        "limit_days": a.limit,
        "realtime": r.realtime_on if r else None,
        "running": r.running if r else None,
        "last_seen": _fmt(r.last_seen) if r else None,
        "as_of": _fmt(sig.as_of if sig else (r.as_of if r else None)),
        "data_age_days": a.data_age_days,
        "matched_by": main.by if main else None,
        "source": r.source if r else None,
        "verdicts": {k: v.status.value for k, v in a.verdicts.items()},
        "message": problem or "; ".join(a.notes),
    }


def _summaries(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    tallies: dict[tuple[str, str], ScopeSummary] = {}
    for row in rows:
        for scope in ("unit", "site", "zone"):
            key = (scope, row[scope])
            s = tallies.setdefault(key, ScopeSummary(scope, row[scope]))
            if row["state"] == "exempt":
                s.exempt += 1
                continue
            s.terminals += 1
            verdicts = row["verdicts"]
            s.covered += verdicts["installed"] == "pass"
            s.fresh += verdicts["signatures-fresh"] == "pass"
            s.managed += verdicts["centrally-managed"] == "pass"
    out: dict[str, list[dict[str, Any]]] = {"unit": [], "site": [], "zone": []}
    for (scope, _), s in tallies.items():
        out[scope].append(s.to_dict())
    for items in out.values():
        items.sort(key=lambda d: (d["coverage"], d["fresh_share"], d["managed_share"], d["name"]))
    return out


def _unknown_row(inv: Inventory, r: AvRecord) -> dict[str, Any]:
    import ipaddress

    zone = r.zone
    if zone is None and r.ip:
        zone = inv.zone_of_address(ipaddress.ip_address(r.ip))
    return {
        "host": r.host,
        "ip": r.ip,
        "mac": r.mac,
        "unit": r.unit,
        "zone": zone,
        "product": r.product,
        "sig_date": r.sig_date.isoformat() if r.sig_date else None,
        "last_seen": _fmt(r.last_seen),
        "source": r.source,
    }


def status(
    inv: Inventory,
    store: Store,
    policies: dict[str, AvPolicy],
    terminals: Sequence[Terminal],
    now: datetime | None = None,
) -> StatusReport:
    """Judge ``terminals`` from the newest snapshot of each console (no live collection)."""
    now = now or utcnow()
    endpoints = [terminal_target(inv, t) for t in terminals]
    everyone = [terminal_target(inv, t) for t in inv.terminals.values()]
    data = fleet_data(everyone, store, now, inv.devices.values())
    if not data.snapshots:
        raise GovnetError(NO_SNAPSHOT)
    rows = []
    for t, e in zip(terminals, endpoints, strict=True):
        inst, fresh, managed = (data.assess(e, policy_for(policies, test), now) for test in TESTS)
        state = inst.state
        if state in ("ok", "stale", "unknown-age", "standalone"):
            state = fresh.state if fresh.state in ("stale", "unknown-age") else "ok"
            if state == "ok" and managed.state == "standalone":
                state = "standalone"
        verdicts = {
            "installed": inst.verdicts["installed"],
            "signatures-fresh": fresh.verdicts["signatures-fresh"],
            "centrally-managed": managed.verdicts["centrally-managed"],
        }
        merged = Assessment(
            e,
            inst.products,
            verdicts,
            state,
            fresh.limit,
            fresh.age_days,
            fresh.data_age_days,
            fresh.notes,
        )
        rows.append(terminal_row(inv, t, merged))
    limits = policy_for(policies, "signatures-fresh")
    snaps = []
    for s in data.snapshots:
        age = (local_date(now) - local_date(s.taken)).days
        stale = sorted(z for z in inv.zones if age > limits.limit(z))
        snaps.append({**s.to_dict(), "taken": _fmt(s.taken), "age_days": age, "stale_for": stale})
    unknown = [_unknown_row(inv, r) for r in data.joined.unknown]
    return StatusReport(now, snaps, rows, _summaries(rows), unknown)
