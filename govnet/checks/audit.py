"""The audit service: collect (live, saved files or stored backups) → evaluate → store → report.

This is what ``govnet audit`` and cron run. Collection failures become ``error`` findings;
evidence is masked before anything is stored or rendered.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from govnet.checks.engine import evaluate, required_commands
from govnet.checks.facts import DeviceFacts
from govnet.checks.fleet import FLEET_KEY, FleetContext, Preparer
from govnet.checks.model import AuditReport, Finding, Run
from govnet.checks.playbook import Playbook, load_playbooks
from govnet.checks.registry import get_kind
from govnet.collect.backup import store_config
from govnet.collect.fetch import Collected, CollectOptions, collect
from govnet.collect.fleet import DeviceResult
from govnet.collect.sanitize import mask_line
from govnet.core.ids import new_run_id
from govnet.core.vocabulary import Evidence, Severity, Status, Text
from govnet.durations import utcnow
from govnet.errors import GovnetError, TransportError
from govnet.i18n import _
from govnet.inventory.loader import decode_text
from govnet.inventory.model import Device, Inventory, Terminal
from govnet.inventory.terminals import TERMINAL, terminal_target
from govnet.limits import LimitError, Limits, limits, read_regular
from govnet.locks import exclusive
from govnet.platforms import get_platform
from govnet.secrets import REDACTOR

if TYPE_CHECKING:  # SQLAlchemy: imported by the commands that open the store
    from govnet.store.db import Store

Source = Literal["live", "dir", "backup"]
SAVED_SUFFIXES = (".cfg", ".conf", ".txt")


@dataclass(frozen=True)
class AuditOptions:
    playbooks: tuple[Path, ...]
    source: Source = "live"
    from_dir: Path | None = None
    collect: CollectOptions = field(default_factory=CollectOptions)
    fail_on: Severity = Severity.HIGH
    keep_backups: bool = True  # configs fetched live are also stored as backups


def applicable(devices: Sequence[Device], playbooks: Sequence[Playbook]) -> list[Device]:
    """Devices at least one rule applies to (the others are not even contacted)."""
    rules = [r for p in playbooks for r in p.rules]
    return [d for d in devices if any(r.applies(d) for r in rules)]


def _facts_live(
    devices: list[Device],
    commands: dict[str, set[str]],
    options: AuditOptions,
    store: Store | None,
    run_id: str,
    on_done: Callable[[DeviceResult[Collected]], None] | None,
) -> dict[str, DeviceFacts]:
    ssh = [d for d in devices if get_platform(d.platform).netmiko]
    facts: dict[str, DeviceFacts] = {
        d.name: DeviceFacts(d.name, error=f"platform {d.platform} has no SSH", error_kind="usage")
        for d in devices
        if d not in ssh
    }
    fleet = collect(
        ssh, lambda d: sorted(commands.get(d.name, ())), options.collect, on_done, run_id=run_id
    )
    for res in fleet:
        if res.ok and res.result is not None:
            got = res.result
            facts[res.device] = DeviceFacts(
                res.device, got.config, got.outputs, collected_at=got.collected_at
            )
            if store is not None and options.keep_backups and got.config is not None:
                store_config(store, res.device, got.config, run_id, got.collected_at)
        else:
            err = res.error
            error = err.message if isinstance(err, TransportError) else str(err)
            facts[res.device] = DeviceFacts(res.device, error=error, error_kind=res.error_kind)
            if store is not None and options.keep_backups:
                store.record_fetch_error(res.device, run_id, utcnow(), str(res.error))
    return facts


def read_saved_config(path: Path, lim: Limits | None = None) -> str:
    """A saved config's text: a regular file within ``config_bytes``, UTF-8 or GBK, not binary.
    Raises :class:`~govnet.limits.LimitError` naming the file."""
    lim = lim or limits()
    raw = read_regular(path, lim.config_bytes, "config_bytes", "saved config")
    if b"\x00" in raw[:65536]:
        raise LimitError(
            str(path), _("binary data (NUL bytes), not a saved config text"), what="saved config"
        )
    try:
        return decode_text(raw)
    except UnicodeDecodeError as exc:
        raise LimitError(
            str(path),
            _(
                "neither UTF-8 nor GBK text (undecodable byte at offset {start}); save the "
                "config as text",
                start=exc.start,
            ),
            what="saved config",
        ) from None


def _facts_from_dir(devices: list[Device], folder: Path) -> dict[str, DeviceFacts]:
    """Each device's saved config; one unreadable file is an ``error`` for that device only."""
    if not folder.is_dir():
        raise GovnetError(_("--from-dir {folder}: no such directory", folder=folder))
    lim = limits()
    facts = {}
    for d in devices:
        candidates = (folder / f"{d.name}{suffix}" for suffix in SAVED_SUFFIXES)
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            facts[d.name] = DeviceFacts(
                d.name,
                error=_(
                    "no saved config {name}.cfg|.conf|.txt in {folder}", name=d.name, folder=folder
                ),
                error_kind="missing",
            )
            continue
        try:
            text = read_saved_config(path, lim)
        except LimitError as exc:
            facts[d.name] = DeviceFacts(d.name, error=str(exc.diagnostic), error_kind="unreadable")
            continue
        facts[d.name] = DeviceFacts(d.name, config=text)
    return facts


def _facts_from_backup(devices: list[Device], store: Store) -> dict[str, DeviceFacts]:
    facts = {}
    for d in devices:
        history = store.config_history(d.name)
        if not history:
            facts[d.name] = DeviceFacts(
                d.name, error="no backup in the store; run 'govnet backup'", error_kind="missing"
            )
        else:
            when, cfg = history[-1]
            facts[d.name] = DeviceFacts(d.name, config=cfg.text, collected_at=when)
    return facts


def _mask_message(message: str) -> str:
    """Mask config text quoted in a message ('line' matches '^regex'); regexes stay as is."""
    parts = REDACTOR(message).split("'")
    for i in range(1, len(parts), 2):
        if not parts[i].startswith("^"):
            parts[i] = mask_line(parts[i])
    return "'".join(parts)


def _masked(f: Finding) -> Finding:
    """Secrets out of evidence and of config lines quoted in the message."""
    evidence = tuple(dataclasses.replace(e, text=mask_line(e.text)) for e in f.evidence)
    return dataclasses.replace(f, evidence=evidence, message=_mask_message(f.message))


def finding_row(f: Finding) -> dict[str, Any]:
    d = f.to_dict()
    return {
        "device": f.device,
        "zone": f.zone,
        "site": f.site,
        "unit": f.unit,
        "rule": f.rule,
        "control": f.control,
        "severity": f.severity.value,
        "status": f.status.value,
        "message": f.message,
        "evidence": d["evidence"],
        "detail": {
            "title": d["title"],
            "remediation": d["remediation"],
            "clause": f.clause,
            "platform": f.platform,
            "out_of_scope": f.out_of_scope,
            "elapsed": round(f.elapsed, 6),
        },
    }


def finding_from_row(row: dict[str, Any]) -> Finding:
    detail = row.get("detail") or {}
    return Finding(
        device=row["device"],
        zone=row["zone"],
        site=row["site"],
        unit=row["unit"],
        rule=row["rule"],
        control=row["control"],
        severity=Severity(row["severity"]),
        status=Status(row["status"]),
        evidence=tuple(
            Evidence(e["text"], e.get("line"), e.get("note", "")) for e in row["evidence"]
        ),
        message=row["message"],
        clause=detail.get("clause", ""),
        platform=detail.get("platform", ""),
        title=Text(**detail.get("title", {})),
        remediation=Text(**detail.get("remediation", {})),
        out_of_scope=detail.get("out_of_scope", ""),
        elapsed=float(detail.get("elapsed", 0.0)),
    )


def _new_failures(store: Store, run: Run) -> tuple[str | None, set[tuple[str, str]]]:
    prev = store.previous_run("audit", run.started)
    current = {(f.device, f.rule) for f in run.findings if f.status is Status.FAIL}
    if prev is None:
        return None, set()
    before = {(r["device"], r["rule"]) for r in store.findings(prev["id"]) if r["status"] == "fail"}
    return str(prev["id"]), current - before


def _prepare(ctx: FleetContext, playbooks: Sequence[Playbook]) -> None:
    """Call each kind's optional fleet-wide ``prepare`` once, with its rules."""
    by_kind: dict[str, list[Any]] = {}
    for rule in (r for p in playbooks for r in p.rules):
        by_kind.setdefault(rule.kind, []).append(rule)
    for name, rules in sorted(by_kind.items()):
        kind = get_kind(name)
        if isinstance(kind, Preparer):
            kind.prepare(ctx, rules)


def run_audit(
    devices: Sequence[Device],
    options: AuditOptions,
    store: Store | None,
    on_done: Callable[[Any], None] | None = None,
    inventory: Inventory | None = None,
    terminals: Sequence[Terminal] = (),
) -> AuditReport:
    """Audit ``devices`` (and ``terminals``, for rules that apply to role ``terminal``)."""
    playbooks = load_playbooks(list(options.playbooks))
    candidates = list(devices)
    if inventory is not None:
        candidates += [terminal_target(inventory, t) for t in terminals]
    targets = applicable(candidates, playbooks)
    if not targets:
        raise GovnetError(_("no selected device is covered by any rule of the playbooks"))
    started = utcnow()
    run_id = new_run_id("audit", started)
    if store is not None:  # visible at once; marked interrupted if this process stops early
        store.start_run(
            run_id,
            "audit",
            started,
            {
                "playbooks": [p.name for p in playbooks],
                "source": options.source,
                "fail_on": options.fail_on.value,
                "devices": len(targets),
            },
        )
    try:
        report = _audit(targets, playbooks, options, store, run_id, started, on_done, inventory)
    except BaseException as exc:  # Ctrl-C, a store error, a bug: the run row says so
        if store is not None:
            reason = (
                "interrupted by the user"
                if isinstance(exc, KeyboardInterrupt)
                else (f"{type(exc).__name__}: {exc}"[:200])
            )
            # If the store itself failed, the row stays 'running' and reads as interrupted.
            with contextlib.suppress(GovnetError):
                store.interrupt_run(run_id, utcnow(), reason)
        raise
    return report


def _audit(
    targets: list[Device],
    playbooks: list[Playbook],
    options: AuditOptions,
    store: Store | None,
    run_id: str,
    started: datetime,
    on_done: Callable[[Any], None] | None,
    inventory: Inventory | None,
) -> AuditReport:
    hosts = [t for t in targets if t.platform != TERMINAL]
    if options.source == "live":
        commands = required_commands(hosts, playbooks)
        facts = _facts_live(hosts, commands, options, store, run_id, on_done)
    elif options.source == "dir":
        assert options.from_dir is not None
        facts = _facts_from_dir(hosts, options.from_dir)
    else:
        if store is None:
            raise GovnetError(_("--from-backup needs the store"))
        facts = _facts_from_backup(hosts, store)
    for t in targets:
        if t.platform == TERMINAL:
            facts[t.name] = DeviceFacts(t.name)  # judged from fleet data, never contacted
    ctx = FleetContext(inventory, targets, facts, store, started, options.source)
    for f in facts.values():
        f.cache[FLEET_KEY] = ctx
    _prepare(ctx, playbooks)
    findings = [_masked(f) for f in evaluate(targets, facts, playbooks)]
    run = Run(run_id, started, utcnow(), [p.name for p in playbooks], findings)
    report = AuditReport(run, options.fail_on, exit_code=run.exit_code(options.fail_on))
    if store is not None:
        report.previous_run, report.new_failures = _new_failures(store, run)
        meta = {
            "playbooks": run.playbooks,
            "counts": run.counts(),
            "source": options.source,
            "fail_on": options.fail_on.value,
            "devices": len(targets),
        }
        assert run.finished is not None
        store.finish_run(
            run_id, run.finished, meta, [finding_row(f) for f in findings], report.exit_code
        )
    return report


def load_report(store: Store, run_id: str) -> AuditReport:
    from govnet.store.db import run_status

    row = store.run(run_id)
    if row is None or row["kind"] != "audit":
        raise GovnetError(
            _("{run_id!r}: no audit run with that id; see 'govnet audit history'", run_id=run_id)
        )
    if run_status(row) != "complete":
        reason = row["meta"].get("reason") or _("the process stopped before writing its findings")
        raise GovnetError(
            _(
                "{id}: this audit run is {row} ({reason}); it has no findings",
                id=row["id"],
                row=run_status(row),
                reason=reason,
            )
        )
    findings = [finding_from_row(r) for r in store.findings(row["id"])]
    meta = row["meta"]
    run = Run(row["id"], row["started"], row["finished"], meta.get("playbooks", []), findings)
    fail_on = Severity(meta.get("fail_on", "high"))
    report = AuditReport(run, fail_on, exit_code=row["exit_code"] or 0)
    report.previous_run, report.new_failures = _new_failures(store, run)
    return report


def history(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """Recent audit runs with counts and the pass share per zone and site (the trend): passed
    ÷ (passed + failed), as in the report's ranking; could-not-check is not non-compliance."""
    from govnet.store.db import run_status

    out = []
    for row in store.runs("audit", limit):
        shares: dict[str, dict[str, list[int]]] = {"zone": {}, "site": {}}
        for f in store.findings(row["id"]):
            if f["status"] in ("pass", "fail"):
                for scope in ("zone", "site"):
                    tally = shares[scope].setdefault(f[scope] or "-", [0, 0])
                    tally[0] += f["status"] == "pass"
                    tally[1] += 1
        out.append(
            {
                "id": row["id"],
                "started": row["started"],
                "exit_code": row["exit_code"],
                "status": run_status(row),
                "devices": row["meta"].get("devices"),
                **row["meta"].get("counts", {}),
                "zones": {k: round(p / n, 4) for k, (p, n) in sorted(shares["zone"].items())},
                "sites": {k: round(p / n, 4) for k, (p, n) in sorted(shares["site"].items())},
            }
        )
    return out


def lock_path() -> Path:
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return Path(os.environ.get("GOVNET_LOCK_DIR") or base / "govnet") / "audit.lock"


@contextmanager
def audit_lock(path: Path | None = None) -> Iterator[None]:
    """One audit at a time per machine (cron runs must not overlap)."""
    path = path or lock_path()
    with exclusive(
        path,
        str(os.getpid()),
        lambda pid: f"another audit is running (pid {pid}, lock {path}); this run was skipped",
    ):
        yield
