"""Kind ``antivirus``: av.installed, av.signatures-fresh and av.centrally-managed.

A rule's ``check:`` names its ``test`` (``installed``, ``signatures-fresh`` or
``centrally-managed``) and holds the ``policy`` (:class:`~govnet.av.policy.AvPolicy`).

The kind never contacts a terminal: :meth:`AntivirusKind.prepare` loads the newest snapshot of
each console from the store and, in live audits, asks the servers the rules apply to over SNMP
(software lists) and SSH (ClamAV), then joins everything to the audited terminals and servers
once per audit.
``evaluate`` reads the verdict for the rule's test from that join (see
:func:`govnet.av.policy.assess`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from govnet.av.policy import LIVE, AntivirusParams, AvPolicy, Live
from govnet.av.sources import default_sources
from govnet.checks.facts import DeviceFacts
from govnet.checks.fleet import FleetContext, fleet_of
from govnet.checks.playbook import load_playbooks
from govnet.checks.registry import CheckResult, register
from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.inventory.model import Device

if TYPE_CHECKING:
    from govnet.checks.playbook import Rule

KEY = "antivirus"


def catalogue_path(rule: Rule, policy: AvPolicy) -> Path:
    """``sources`` relative to the playbook's folder, else to the working directory."""
    playbook = Path(rule.source.rsplit(":", 1)[0]) if rule.source else None
    candidates = [playbook.parent / policy.sources] if playbook else []
    candidates += [Path(policy.sources), default_sources()]
    return next((p for p in candidates if p.is_file()), candidates[0])


def load_policy(path: Path) -> dict[str, AvPolicy]:
    """The ``antivirus`` rules' params of a playbook, by test."""
    out: dict[str, AvPolicy] = {}
    for book in load_playbooks([path]):
        for rule in book.rules:
            if rule.kind == "antivirus" and isinstance(rule.params, AntivirusParams):
                out.setdefault(rule.params.test, rule.params.policy)
    if not out:
        raise GovnetError(
            _("{path}: no rule of kind 'antivirus' (see playbooks/antivirus.yaml)", path=path)
        )
    return out


@register(KEY)
class AntivirusKind:
    """Antivirus coverage, signature age and edition (see the module docstring)."""

    name = KEY
    params = AntivirusParams

    def required_commands(self, device: Device, params: AntivirusParams) -> set[str]:
        return set()  # live collection (SNMP, SSH) happens once in prepare()

    def prepare(self, ctx: FleetContext, rules: Sequence[Rule]) -> None:
        endpoints = [t for t in ctx.targets if any(r.applies(t) for r in rules)]
        live: list[Live] = []
        if ctx.source == "live":
            params = [r.params for r in rules if isinstance(r.params, AntivirusParams)]
            asked = {x for p in params for x in p.policy.live}
            live = [x for x in LIVE if x in asked]
        first = rules[0]
        assert isinstance(first.params, AntivirusParams)
        known = list(ctx.inventory.devices.values()) if ctx.inventory else list(ctx.targets)
        from govnet.av.operations import fleet_data  # the store (SQLAlchemy): only when used

        ctx.data[KEY] = fleet_data(
            endpoints, ctx.store, ctx.now, known, live, catalogue_path(first, first.params.policy)
        )

    def evaluate(self, device: Device, facts: DeviceFacts, params: AntivirusParams) -> CheckResult:
        ctx = fleet_of(facts)
        data = ctx.data.get(KEY) if ctx is not None else None
        from govnet.av.operations import AvFleet

        if ctx is None or not isinstance(data, AvFleet):
            return CheckResult.errored(
                _("antivirus data was not prepared (run it with govnet audit)")
            )
        verdict = data.assess(device, params.policy, ctx.now).verdicts[params.test]
        return CheckResult(verdict.status, verdict.evidence, verdict.message)
