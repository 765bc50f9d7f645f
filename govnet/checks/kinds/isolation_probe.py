"""Kind ``isolation-probe``: did active probes from the device's zone reach a forbidden zone?

Control ``isolation.no-outbound-leak`` (违规外联). The verdict comes from the newest probe run
*from the device's zone* in the store (``govnet isolation probe --from ZONE``), not from the
device itself: the rule is attached to a zone's representative devices — the shipped playbook
uses the zone's ``core`` switches — so the audit reports one finding per isolated zone (per
core switch) alongside the static and L2 angles. Per device:

- ``skip``: the zone is isolated from no zone, or none of those zones declares a canary;
- ``error``: no store, no probe run from the zone, or the newest is older than ``max_age``
  ("no recent probe"), or some canary was not listening (nothing can be concluded);
- ``fail``: a probe arrived at a canary: evidence per leaked protocol with source and time;
- ``pass``: every probe was sent while its canary listened, and none arrived.

Parameters::

    check: {kind: isolation-probe, max_age: 24h}   # 90s, 30m, 24h, 7d; default 24h
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from govnet.checks.facts import DeviceFacts
from govnet.checks.fleet import FleetContext, fleet_of
from govnet.checks.registry import CheckResult, register
from govnet.core.vocabulary import Evidence, Status
from govnet.durations import Duration, format_age, format_duration
from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.inventory.model import Device
from govnet.validation import Strict

if TYPE_CHECKING:  # govnet.isolation.probe.results needs the store (SQLAlchemy): imported when used
    from govnet.isolation.probe.results import ProbeResult, ProbeRun

KIND = "isolation-probe"
MAX_EVIDENCE = 30


class IsolationProbeParams(Strict):
    max_age: Duration = 24 * 3600.0  # seconds


def _describe(r: ProbeResult) -> Evidence:
    from govnet.isolation.probe.results import Verdict

    port = f":{r.port}" if r.protocol != "icmp" else ""
    where = f"{r.protocol} → {r.canary}{port} ({r.to_zone})"
    if r.verdict is Verdict.LEAK:
        when = f"{r.received:%Y-%m-%d %H:%M:%S} UTC" if r.received else "?"
        mac = f" [{r.source_mac}]" if r.source_mac else ""
        return Evidence(
            f"LEAK {where} from {r.source}{mac} at {when}", note=f"host {r.host or '?'}; {r.note}"
        )
    if r.verdict is Verdict.UNTESTED:
        return Evidence(f"untested → {r.to_zone}", note=r.note)
    return Evidence(f"{r.verdict} {where}", note=r.note)


@register(KIND)
class IsolationProbeKind:
    params = IsolationProbeParams

    def required_commands(self, device: Device, params: Any) -> set[str]:
        return set()

    def prepare(self, ctx: FleetContext, rules: Sequence[Any]) -> None:
        """Read the newest probe run per zone once for the whole audit."""
        if ctx.store is None:
            ctx.data[KIND] = _("no store: probe results are read from the store (drop --no-store)")
            return
        from govnet.isolation.probe.results import newest_runs

        try:
            ctx.data[KIND] = newest_runs(ctx.store)
        except GovnetError as exc:
            ctx.data[KIND] = _("cannot read probe results: {exc}", exc=exc)

    def evaluate(self, device: Device, facts: DeviceFacts, params: Any) -> CheckResult:
        assert isinstance(params, IsolationProbeParams)
        ctx = fleet_of(facts)
        if ctx is None or ctx.inventory is None:
            return CheckResult.errored(
                _("needs the audit's inventory and store (run 'govnet audit')")
            )
        inv = ctx.inventory
        zone = inv.zones.get(device.zone)
        forbidden = sorted(zone.isolated_from) if zone else []
        if not forbidden:
            return CheckResult(
                Status.SKIP, (), _("zone {zone} is isolated from no zone", zone=device.zone)
            )
        with_canary = [z for z in forbidden if z in inv.zones and inv.zones[z].canaries]
        if not with_canary:
            return CheckResult(
                Status.SKIP,
                (),
                _(
                    "no canary declared in {zones}: nothing to probe from {zone}",
                    zones=", ".join(forbidden),
                    zone=device.zone,
                ),
            )
        if KIND not in ctx.data:
            self.prepare(ctx, ())
        data = ctx.data[KIND]
        if isinstance(data, str):
            return CheckResult.errored(data)
        from govnet.isolation.probe.results import Verdict

        run: ProbeRun | None = data.get(device.zone)
        hint = _("run 'govnet isolation probe --from {zone}' on a host in {zone}", zone=device.zone)
        if run is None:
            return CheckResult.errored(
                _(
                    "no recent probe: no probe from {zone} in the store; {hint}",
                    zone=device.zone,
                    hint=hint,
                )
            )
        age = ctx.now - run.started
        if age.total_seconds() > params.max_age:
            return CheckResult.errored(
                _(
                    "no recent probe: the newest probe from {zone} ({run}) is {age} old, more than "
                    "{max_age}; {hint}",
                    zone=device.zone,
                    run=run.id,
                    age=format_age(age),
                    max_age=format_duration(params.max_age, parts=2),
                    hint=hint,
                )
            )
        results = [r for r in run.results if r.to_zone in forbidden]
        evidence = [_describe(r) for r in results]
        probed = {r.canary for r in results if r.canary}
        for z in with_canary:
            for c in inv.zones[z].canaries:
                if str(c.address) not in probed:
                    evidence.append(
                        Evidence(
                            f"not probed → {c.address} ({z})",
                            note=_("declared after the newest probe run"),
                        )
                    )
        evidence = evidence[:MAX_EVIDENCE]
        stamp = _("run {run}, {age} ago", run=run.id, age=format_age(age))
        leaks = [r for r in results if r.verdict is Verdict.LEAK]
        if leaks:
            zones = ", ".join(sorted({r.to_zone for r in leaks}))
            protocols = ", ".join(sorted({str(r.protocol) for r in leaks}))
            return CheckResult.failed(
                _(
                    "probes from {zone} reached {zones} over {protocols} ({stamp})",
                    zone=device.zone,
                    zones=zones,
                    protocols=protocols,
                    stamp=stamp,
                ),
                evidence,
            )
        errors = [r for r in results if r.verdict is Verdict.ERROR]
        if errors:
            return CheckResult.errored(
                _(
                    "{n} probe result(s) from {zone} inconclusive: {note} ({stamp})",
                    n=len(errors),
                    zone=device.zone,
                    note=errors[0].note,
                    stamp=stamp,
                ),
                evidence,
            )
        tested = sorted({r.to_zone for r in results if r.verdict is Verdict.ISOLATED})
        if not tested:
            return CheckResult.errored(
                _(
                    "the newest probe from {zone} tested no canary of {zones} ({stamp}); {hint}",
                    zone=device.zone,
                    zones=", ".join(with_canary),
                    stamp=stamp,
                    hint=hint,
                ),
                evidence,
            )
        protocols = ", ".join(sorted({str(r.protocol) for r in results if r.protocol}))
        return CheckResult.passed(
            _(
                "no probe from {zone} reached {zones} ({protocols}; {stamp})",
                zone=device.zone,
                zones=", ".join(tested),
                protocols=protocols,
                stamp=stamp,
            ),
            evidence,
        )
