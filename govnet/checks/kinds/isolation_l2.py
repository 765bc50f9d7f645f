"""Kind ``isolation-l2``: ARP/MAC correlation across zones (一机两用, unknown devices).

::

    check: {kind: isolation-l2, detect: dual-homed}                  # tables over SSH
    check: {kind: isolation-l2, detect: unknown-device, source: snmp, zones: [internal]}

``detect``: ``dual-homed`` (control ``isolation.no-dual-homed-host``) or ``unknown-device``
(``isolation.no-unknown-device``). ``source``: ``ssh`` (default; the platform table's ``arp``
and ``mac`` commands are added to what the audit runs on each switch, parsed with
ntc-templates) or ``snmp`` (ipNetToMediaTable, Q-/BRIDGE-MIB FDB, read once per audit from
every switch the rule applies to). ``zones`` narrows the zones checked for unknown MACs
(default: every zone isolated from another). ``uplink_macs`` and ``ignore_macs``: see
:mod:`govnet.isolation.correlate`.

The tables of every switch the kind's rules apply to are collected and correlated once per
audit (``prepare``); each switch is then judged on the MACs *located* on it (see the
correlation's docstring on uplinks), so a PC in two networks fails the two access switches it
hangs off, not every switch along the way. Terminals (role ``terminal``) may be targets of a
``dual-homed`` rule: the terminal fails when its MAC is in a zone isolated from its own, which
puts the finding on its unit's scoreboard too. A switch whose tables could not be read is an
``error``; the tables are read live only (an offline audit reports ``skip``). The correlation
sees the switches of this audit: select both sides (no ``--zone`` filter) to find dual homing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from govnet.checks.facts import DeviceFacts
from govnet.checks.fleet import FleetContext, fleet_of
from govnet.checks.registry import CheckResult, register
from govnet.collect.interfaces import DeviceConfig, read_config
from govnet.collect.tables import (
    DeviceTables,
    TableEntry,
    collect_snmp,
    table_commands,
    tables_from_ssh,
)
from govnet.core.configtext import ParsedConfig, parse_config
from govnet.core.vocabulary import Evidence, Status
from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.inventory.model import Device, Name
from govnet.inventory.terminals import TERMINAL
from govnet.isolation.correlate import DualHomed, L2Options, L2Result, UnknownDevice, correlate
from govnet.isolation.static import isolated_from
from govnet.validation import Strict

if TYPE_CHECKING:
    from govnet.checks.playbook import Rule

log = logging.getLogger(__name__)

NAME = "isolation-l2"
MAX_EVIDENCE = 20
_PREFIX = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){0,5}:?$")


class L2Params(Strict):
    detect: Literal["dual-homed", "unknown-device"]
    source: Literal["ssh", "snmp"] = "ssh"
    zones: list[Name] = Field(default_factory=list)
    uplink_macs: int = Field(default=16, ge=2)
    ignore_macs: list[str] = Field(default_factory=list)

    @field_validator("ignore_macs")
    @classmethod
    def _prefixes(cls, values: list[str]) -> list[str]:
        out = []
        for value in values:
            text = str(value).strip().lower().replace("-", ":")
            if not _PREFIX.match(text):
                raise ValueError(
                    _("bad MAC prefix {value!r} (expected like 00:1a:2b or 00-1a-2b)", value=value)
                )
            out.append(text)
        return out

    def options(self) -> L2Options:
        return L2Options(self.uplink_macs, tuple(self.ignore_macs))


def _key(params: L2Params) -> tuple[str, L2Options]:
    return params.source, params.options()


def _config(facts: DeviceFacts | None) -> ParsedConfig | None:
    """The parsed configuration, without caching it on the facts (they outlive prepare)."""
    if facts is None or facts.error is not None:
        return None
    cached = facts.cache.get("config.parsed")
    if isinstance(cached, ParsedConfig):
        return cached
    return parse_config(facts.config) if facts.config else None


def collect_tables(
    ctx: FleetContext, switches: Sequence[Device], source: str
) -> dict[str, DeviceTables]:
    """Every switch's tables for one audit: parsed SSH outputs, or SNMP walks."""
    configs: dict[str, DeviceConfig | None] = {}
    for d in switches:
        cfg = _config(ctx.facts.get(d.name))
        configs[d.name] = read_config(cfg, d.platform) if cfg is not None else None
    if source == "snmp":
        tables = collect_snmp(switches)
    else:
        tables = {}
        for d in switches:
            facts = ctx.facts.get(d.name)
            if facts is None or facts.error is not None:
                why = facts.error if facts is not None else "not collected"
                tables[d.name] = DeviceTables(d.name, d.zone, "ssh", error=why)
                continue
            config = configs[d.name]
            own = config.addresses() if config is not None else set()
            tables[d.name] = tables_from_ssh(d, facts.outputs, own)
    for name, config in configs.items():
        if config is not None and name in tables:
            tables[name].uplinks |= config.trunks()
    return tables


def _record_sightings(ctx: FleetContext, tables: dict[str, DeviceTables]) -> None:
    """The MAC tables read for this audit also feed the store's sightings (what
    ``provision … shutdown-unused-ports`` decides on); a store failure only logs."""
    if ctx.store is None:
        return
    from govnet.collect.macs import record_tables

    try:
        record_tables(ctx.store, tables.values(), ctx.now)
    except GovnetError as exc:
        log.warning("isolation-l2: MAC sightings not recorded: %s", exc)


def _where(entry: TableEntry, ips: Sequence[str]) -> str:
    text = entry.describe()
    if not entry.ip and ips:
        text += f" ip {', '.join(ips)}"
    return text


def _owner(record: DualHomed | UnknownDevice) -> str:
    if isinstance(record, UnknownDevice) or record.owner is None:
        return "not in the inventory"
    o = record.owner
    return f"{o.kind} {o.name} of zone {o.zone}" if o.zone else f"{o.kind} {o.name}"


def _dual_evidence(record: DualHomed, here: str | None) -> list[Evidence]:
    out = []
    for zone, entries in record.where.items():
        for e in entries:
            if here is not None and e.device != here:
                continue
            others = [
                f"{z}: " + "; ".join(_where(o, record.ips.get(z, ())) for o in es)
                for z, es in record.where.items()
                if z != zone
            ]
            seen_elsewhere = _("; also in {others}", others=" | ".join(others)) if others else ""
            out.append(
                Evidence(
                    _(
                        "{mac} in {zone} at {where}",
                        mac=record.mac,
                        zone=zone,
                        where=_where(e, record.ips.get(zone, ())),
                    ),
                    None,
                    f"{_owner(record)}{seen_elsewhere}",
                )
            )
    return out


def _dual_summary(record: DualHomed) -> str:
    parts = [
        f"{zone} " + ", ".join(f"{e.device} {e.port or '?'}" for e in entries)
        for zone, entries in record.where.items()
    ]
    if record.owner is not None and record.owner.zone and record.owner.zone not in record.where:
        parts.append(_("registered in {zone}", zone=record.owner.zone))
    name = f" ({record.owner.name})" if record.owner is not None else ""
    return f"{record.mac}{name}: " + _(" and ").join(parts)


def _failed(message: str, evidence: list[Evidence]) -> CheckResult:
    extra = len(evidence) - MAX_EVIDENCE
    more = _(" ({extra} more not shown)", extra=extra) if extra > 0 else ""
    return CheckResult.failed(message + more, evidence[:MAX_EVIDENCE])


@register(NAME)
class IsolationL2Kind:
    """One MAC in two isolated zones; MACs nobody declared (see the module docstring)."""

    name = NAME
    params = L2Params

    def required_commands(self, device: Device, params: L2Params) -> set[str]:
        if params.source != "ssh" or device.platform == TERMINAL:
            return set()
        return set(table_commands(device.platform).values())

    def prepare(self, ctx: FleetContext, rules: Sequence[Rule]) -> None:
        results: dict[tuple[str, L2Options], L2Result | str] = ctx.data.setdefault(NAME, {})
        if ctx.source != "live" or ctx.inventory is None:
            return
        inventory = ctx.inventory
        by_source: dict[str, list[Rule]] = {}
        for rule in rules:
            assert isinstance(rule.params, L2Params)
            by_source.setdefault(rule.params.source, []).append(rule)
        for source, group in sorted(by_source.items()):
            switches = [
                t
                for t in ctx.targets
                if t.platform != TERMINAL and any(r.applies(t) for r in group)
            ]
            keys = {_key(r.params) for r in group if isinstance(r.params, L2Params)}
            try:
                tables = collect_tables(ctx, switches, source)
                _record_sightings(ctx, tables)
                for key in keys - set(results):
                    results[key] = correlate(inventory, tables, key[1])
            except Exception as exc:  # a bug or a library surprise: every switch reports it
                log.error("isolation-l2: %s tables: %s: %s", source, type(exc).__name__, exc)
                log.debug("isolation-l2: traceback", exc_info=True)  # GOVNET_DEBUG=1
                for key in keys:
                    results[key] = f"{type(exc).__name__}: {exc}"

    def evaluate(self, device: Device, facts: DeviceFacts, params: L2Params) -> CheckResult:
        ctx = fleet_of(facts)
        if ctx is None or ctx.inventory is None:
            return CheckResult.errored(
                _("isolation-l2 needs the inventory (run it through an audit)")
            )
        if ctx.source != "live":
            return CheckResult(
                Status.SKIP,
                (),
                _("not applicable: ARP/MAC tables are read live, not from saved files"),
            )
        result = ctx.data.get(NAME, {}).get(_key(params))
        if isinstance(result, str):
            return CheckResult.errored(
                _("cannot collect or correlate the ARP/MAC tables: {error}", error=result)
            )
        if not isinstance(result, L2Result):
            return CheckResult.errored(_("the ARP/MAC tables were not collected for this audit"))
        strange = sorted(set(params.zones) - set(ctx.inventory.zones))
        if strange:
            return CheckResult.errored(
                _("zones {zones} are not in the inventory", zones=", ".join(strange))
            )
        watched = set(params.zones) or {
            z for z in ctx.inventory.zones if isolated_from(ctx.inventory, z)
        }
        if device.platform == TERMINAL:
            return self._terminal(device, result, params)
        tables = result.tables.get(device.name)
        if tables is None:
            return CheckResult.errored(_("no ARP/MAC tables were collected from this device"))
        if tables.error is not None:
            return CheckResult.errored(
                _("cannot read the ARP/MAC tables: {error}", error=tables.error)
            )
        n = len(tables.entries)
        if params.detect == "dual-homed":
            records = result.dual_by_device.get(device.name, [])
            if not records:
                return CheckResult.passed(
                    _(
                        "{n} table entries ({via}); no MAC here is also in a zone isolated from "
                        "{zone}",
                        n=n,
                        via=tables.via,
                        zone=device.zone,
                    )
                )
            evidence = [ev for r in records for ev in _dual_evidence(r, device.name)]
            summary = "; ".join(_dual_summary(r) for r in records[:5])
            return _failed(
                _(
                    "{n} MAC(s) seen in zones isolated from each other: {summary}",
                    n=len(records),
                    summary=summary,
                ),
                evidence,
            )
        if device.zone not in watched:
            return CheckResult(
                Status.SKIP,
                (),
                _("not applicable: zone {zone} is not checked for unknown MACs", zone=device.zone),
            )
        unknown = [u for u in result.unknown_by_device.get(device.name, []) if u.zone in watched]
        if not unknown:
            return CheckResult.passed(
                _(
                    "{n} table entries ({via}); every MAC is a known terminal or device",
                    n=n,
                    via=tables.via,
                )
            )
        evidence = [
            Evidence(
                _("{mac} at {where}", mac=u.mac, where=_where(e, u.ips)),
                None,
                _("unknown MAC in zone {zone}", zone=u.zone),
            )
            for u in unknown
            for e in u.where
            if e.device == device.name
        ]
        macs = ", ".join(u.mac for u in unknown[:10])
        return _failed(
            _(
                "{n} MAC(s) in zone {zone} that are no inventory terminal or device: {macs}",
                n=len(unknown),
                zone=device.zone,
                macs=macs,
            ),
            evidence,
        )

    @staticmethod
    def _terminal(device: Device, result: L2Result, params: L2Params) -> CheckResult:
        if params.detect != "dual-homed":
            return CheckResult(
                Status.SKIP, (), _("not applicable: terminals are known by definition")
            )
        record = result.dual_by_mac.get(device.mac or "")
        if record is not None:
            return _failed(
                _(
                    "seen in zones isolated from each other: {summary}",
                    summary=_dual_summary(record),
                ),
                _dual_evidence(record, None),
            )
        zones = result.zones_by_owner.get(device.name)
        if not zones:
            return CheckResult.passed(_("not seen in the ARP/MAC tables read"))
        return CheckResult.passed(_("seen only in {zones}", zones=", ".join(sorted(zones))))
