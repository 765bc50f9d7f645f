"""``govnet provision plan|apply``: per-device sessions, results as data, the run in the store.

Plan (nothing is sent)::

    render the task's template → fetch the running config → remediation (hier_config)

Apply, per device, in one SSH session::

    fetch → remediation (must equal the one confirmed) → back up (store) → push → fetch →
    verify every intended line → save
    on any error or failed verification: a fresh session, fetch, push the rollback computed
    from what the device now holds back to the backup, fetch, and check that the config is
    byte-identical to the backup (after normalisation)

Devices run at most ``workers`` at once (:func:`govnet.collect.fleet.run_fleet`); one
device's failure never stops the others. Commands in results and records are masked.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from govnet.collect.backup import store_config
from govnet.collect.fleet import DeviceResult, run_fleet
from govnet.collect.sanitize import mask_line, normalise
from govnet.core.ids import new_run_id
from govnet.durations import utcnow
from govnet.errors import CommandError, ExitCode, GovnetError, TransportError
from govnet.i18n import N_
from govnet.inventory.model import Device
from govnet.platforms import get_platform
from govnet.provision.remediation import (
    Intended,
    pushable,
    remediate,
    rollback_commands,
    verify,
)
from govnet.provision.rules import PlatformRules, left_to_people, platform_rules
from govnet.provision.tasks import Job, Target
from govnet.secrets import REDACTOR, check_all
from govnet.store import provision as records
from govnet.store.db import Store
from govnet.transport.jump import check_keys
from govnet.transport.session import CliSession, SessionFactory, ssh_session
from govnet.transport.ssh import SshOptions

# plan
CHANGE, NO_CHANGE = "change", "no-change"
# apply
CHANGED, UNCHANGED = "changed", "unchanged"
ROLLED_BACK, ROLLBACK_FAILED = "rolled-back", "rollback-failed"
# both
FAILED, SKIPPED = "failed", "skipped"

STATUS_LABELS: dict[str, str] = {  # msgids (report/provision.py shows them)
    CHANGE: N_("will change"),
    NO_CHANGE: N_("no change"),
    CHANGED: N_("changed"),
    UNCHANGED: N_("unchanged"),
    ROLLED_BACK: N_("failed, rolled back"),
    ROLLBACK_FAILED: N_("failed, ROLLBACK FAILED"),
    FAILED: N_("failed, nothing sent"),
    SKIPPED: N_("skipped"),
}


def mask(lines: Iterable[str]) -> list[str]:
    """Secrets out of device lines: keys, passwords and every resolved secret value."""
    return [mask_line(line) for line in lines]


def _kind(exc: GovnetError) -> str:
    """``input`` for template/argument problems; the transport kind for device problems."""
    return exc.kind if isinstance(exc, TransportError) else "input"


def _code(status: str, error_kind: str | None) -> int:
    if status == ROLLED_BACK:
        return ExitCode.FINDINGS
    if status == ROLLBACK_FAILED:
        return ExitCode.UNREACHABLE
    if status == FAILED:
        return ExitCode.USAGE if error_kind == "input" else ExitCode.UNREACHABLE
    return ExitCode.OK


# The controls a configuration text fails (the audit, passed in by the CLI: checks sit above
# provisioning); used to say what the task leaves to people.
Assess = Callable[[Device, str], Iterable[str]]


@dataclass(frozen=True)
class ProvisionOptions:
    workers: int = 16
    ssh: SshOptions = field(default_factory=SshOptions)
    # how a device session is opened: SSH (netmiko); tests pass the lab's shell in process
    session: SessionFactory = ssh_session
    assess: Assess | None = None


def people_todo(options: ProvisionOptions, device: Device, config: str) -> list[dict[str, Any]]:
    """The controls ``config`` still fails that the baseline leaves to people, with why and
    what to do (``left_to_people`` in govnet/data/provision.yaml); [] without an assessor."""
    if options.assess is None:
        return []
    table = left_to_people(device.platform)
    failing = set(options.assess(device, config))
    return [
        {
            "control": control,
            "why": row.why.model_dump(),
            "remediation": row.remediation.model_dump(),
        }
        for control, row in table.items()
        if control in failing
    ]


@dataclass
class DevicePlan:
    device: str
    platform: str
    status: str  # change | no-change | skipped | failed
    commands: list[str] = field(default_factory=list)  # masked
    diff: list[str] = field(default_factory=list)  # masked
    rollback: list[str] = field(default_factory=list)  # masked
    message: str = ""
    error_kind: str | None = None
    elapsed: float = 0.0
    left_to_people: list[dict[str, Any]] = field(default_factory=list)  # not pushed: why

    @property
    def exit_code(self) -> int:
        return _code(self.status, self.error_kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "platform": self.platform,
            "status": self.status,
            "commands": self.commands,
            "diff": self.diff,
            "rollback": self.rollback,
            "left_to_people": self.left_to_people,
            "lines": len(self.commands),
            "message": self.message,
            "error_kind": self.error_kind,
            "elapsed": round(self.elapsed, 3),
        }


@dataclass
class DeviceChange:
    device: str
    platform: str
    status: str  # changed | unchanged | rolled-back | rollback-failed | failed | skipped
    commands: list[str] = field(default_factory=list)  # masked, what was pushed
    rollback: list[str] = field(default_factory=list)  # masked, what was pushed back
    problems: list[str] = field(default_factory=list)  # why verification failed
    message: str = ""
    error_kind: str | None = None
    elapsed: float = 0.0
    backup_sha256: str | None = None
    left_to_people: list[dict[str, Any]] = field(default_factory=list)  # not pushed: why

    @property
    def exit_code(self) -> int:
        return _code(self.status, self.error_kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "platform": self.platform,
            "status": self.status,
            "commands": self.commands,
            "rollback": self.rollback,
            "problems": self.problems,
            "lines": len(self.commands),
            "message": self.message,
            "error_kind": self.error_kind,
            "elapsed": round(self.elapsed, 3),
            "backup_sha256": self.backup_sha256,
            "left_to_people": self.left_to_people,
        }


def exit_code(results: Iterable[DevicePlan | DeviceChange]) -> int:
    """The worst device decides: 3 unreachable or rollback failed, 2 input error, 1 failed
    and rolled back, 0 changed / unchanged / skipped."""
    return max((r.exit_code for r in results), default=int(ExitCode.OK))


def _skipped(
    targets: Iterable[Target], kind: type[DevicePlan] | type[DeviceChange]
) -> dict[str, Any]:
    return {
        t.device.name: kind(t.device.name, t.device.platform, SKIPPED, message=t.skip or "")
        for t in targets
        if t.skip is not None
    }


def _ordered(targets: list[Target], done: dict[str, Any]) -> list[Any]:
    return [done[t.device.name] for t in targets if t.device.name in done]


def _fetch(session: CliSession, device: Device) -> str:
    return normalise(session.fetch("running_config"), get_platform(device.platform))


# --------------------------------------------------------------------------------- plan


def plan_devices(
    job: Job,
    targets: list[Target],
    options: ProvisionOptions | None = None,
    on_done: Callable[[Any], None] | None = None,
) -> list[DevicePlan]:
    """Render, fetch and compute each device's remediation; nothing is sent."""
    opts = options or ProvisionOptions()
    check_all(r for t in targets if t.skip is None for r in t.device.ssh_secrets())
    check_keys(t.device for t in targets if t.skip is None)  # key files, exit 2

    def task(device: Device) -> DevicePlan:
        t0 = time.monotonic()
        try:
            # a task that chooses from the running configuration renders after the fetch
            intended = None if job.task.uses_running else job.intended(device)
            with opts.session(device, opts.ssh) as session:
                running = _fetch(session, device)
            if intended is None:
                intended = job.intended(device, running)
            rem = remediate(intended, running, device.name)
        except GovnetError as exc:
            return DevicePlan(
                device.name,
                device.platform,
                FAILED,
                message=REDACTOR(str(exc)),
                error_kind=_kind(exc),
                elapsed=time.monotonic() - t0,
            )
        return DevicePlan(
            device.name,
            device.platform,
            CHANGE if rem.changed else NO_CHANGE,
            commands=mask(rem.commands),
            diff=mask(rem.diff),
            rollback=mask(rem.rollback),
            message=job.explained.get(device.name, ""),
            elapsed=time.monotonic() - t0,
            left_to_people=people_todo(opts, device, running),
        )

    done: dict[str, Any] = _skipped(targets, DevicePlan)
    active = [t.device for t in targets if t.skip is None]
    fleet = run_fleet(active, task, workers=opts.workers, on_done=on_done)
    for res in fleet:
        done[res.device] = _unwrap(res, DevicePlan)
    return _ordered(targets, done)


def _unwrap(res: DeviceResult[Any], kind: type[DevicePlan] | type[DeviceChange]) -> Any:
    if res.result is not None:
        return res.result
    err = res.error
    # the task catches govnet's errors itself; run_fleet only sees the unexpected ones
    return kind(
        res.device,
        "",
        FAILED,
        message=REDACTOR(str(err)),
        error_kind=res.error_kind,
        elapsed=res.elapsed,
    )


# --------------------------------------------------------------------------------- apply


class _Abort(Exception):
    """The push went wrong: roll back. ``problems`` lists what verification found."""

    def __init__(self, reason: str, problems: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problems = problems or []


@dataclass
class _Ctx:
    job: Job
    store: Store
    run_id: str
    options: ProvisionOptions
    confirmed: dict[str, list[str]] | None


_AT_COMMAND = re.compile(r"at command: (.*?), matched error: ")


def rejected_line(exc: GovnetError, sent: list[str]) -> str | None:
    """The pushed line the device refused, from netmiko's per-line check or, where the whole
    output was checked (Comware's long lines), the last echoed line before the error."""
    m = _AT_COMMAND.search(str(exc))
    if m:
        return m[1].strip()
    output = getattr(exc, "output", "") or ""
    last: str | None = None
    wanted = {line.strip() for line in sent}
    for out_line in output.splitlines():
        text = out_line.strip()
        if not text:
            continue
        echoed = max((w for w in wanted if w and text.endswith(w)), key=len, default=None)
        if echoed is not None:
            last = echoed
        elif last is not None and ("%" in text or text.startswith("Error")):
            return last
    return None


ROLLBACK_ROUNDS = 3


def _roll_back(ctx: _Ctx, device: Device, before: str, change: DeviceChange) -> DeviceChange:
    """A fresh session; push what brings the device back to ``before``, computed from what it
    holds now with the platform's rules; check it is identical.

    A line the device refuses is retried in the platform's alternative forms (recomputed from
    what the device then holds); one with no form left is left out and reported, and whatever
    still differs from the backup is listed line by line."""
    reason = change.message
    rules = platform_rules(device.platform)
    refused: dict[str, str] = {}  # line → the device's error
    pushed: list[str] = []
    try:
        with ctx.options.session(device, ctx.options.ssh) as session:
            restored = _fetch(session, device)
            for _ in range(ROLLBACK_ROUNDS):
                commands = _without_refused(
                    rollback_commands(device.platform, restored, before, device.name),
                    refused,
                    rules,
                )
                if not pushable(commands):
                    break
                pushed.extend(commands)
                try:
                    session.configure(pushable(commands))
                except CommandError as exc:
                    line = rejected_line(exc, pushable(commands))
                    if line is None or line in refused:
                        raise
                    refused[line] = REDACTOR(str(exc))
                    restored = _fetch(session, device)
                    continue
                restored = _fetch(session, device)
                break
    except GovnetError as exc:
        change.rollback = mask(pushed)
        change.status = ROLLBACK_FAILED
        change.error_kind = _kind(exc)
        change.message = REDACTOR(f"{reason}; rollback failed: {exc}")
        return change
    change.rollback = mask(pushed)
    if restored == before:
        change.status = ROLLED_BACK
        change.message = f"{reason}; rolled back: the configuration is identical to the backup"
        return change
    delta = [
        line
        for line in difflib.unified_diff(
            before.splitlines(), restored.splitlines(), lineterm="", n=0
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    change.status = ROLLBACK_FAILED
    change.error_kind = "rollback"
    change.problems = [
        *change.problems,
        *(f"the device rejected {mask_line(line)!r} in the rollback" for line in refused),
        *(f"differs from the backup: {line}" for line in mask(delta)),
    ]
    shown = "; ".join(mask(delta[:4])) + (" …" if len(delta) > 4 else "")
    change.message = REDACTOR(
        f"{reason}; rollback incomplete: {len(delta)} line(s) differ from the backup ({shown}); "
        f"restore it by hand from 'govnet backup show {device.name}'"
    )
    return change


def _without_refused(
    commands: list[str], refused: dict[str, str], rules: PlatformRules
) -> list[str]:
    """Lines the device refused before replaced by their next alternative form, or left out."""
    out: list[str] = []
    for command in commands:
        text = command.strip()
        pad = command[: len(command) - len(command.lstrip())]
        while text in refused:
            alternatives = [a for a in rules.alternatives(text) if a not in refused]
            if not alternatives:
                text = ""
                break
            text = alternatives[0]
        if text:
            out.append(pad + text)
    return out


def _apply_one(ctx: _Ctx, device: Device) -> DeviceChange:
    t0 = time.monotonic()
    change = DeviceChange(device.name, device.platform, FAILED)
    try:
        intended: Intended | None = None
        if not ctx.job.task.uses_running:
            intended = ctx.job.intended(device)
        session = ctx.options.session(device, ctx.options.ssh).open()
    except GovnetError as exc:
        change.error_kind, change.message = _kind(exc), REDACTOR(str(exc))
        change.elapsed = time.monotonic() - t0
        return change
    before: str | None = None
    try:
        before = _fetch(session, device)
        if intended is None:
            intended = ctx.job.intended(device, before)
        rem = remediate(intended, before, device.name)
        change.commands = mask(rem.commands)
        if ctx.confirmed is not None and ctx.confirmed.get(device.name) != change.commands:
            change.error_kind = "input"
            change.message = (
                "not in the confirmed plan; nothing was sent"
                if device.name not in ctx.confirmed
                else "its configuration changed after the plan was confirmed; nothing was "
                "sent: run the apply again"
            )
            return change
        change.backup_sha256 = hashlib.sha256(before.encode("utf-8")).hexdigest()
        store_config(ctx.store, device.name, before, ctx.run_id, utcnow())  # masked: rollback
        # works from `before`, the text fetched in this session, never from the store
        if not rem.changed:
            change.status = UNCHANGED
            change.left_to_people = people_todo(ctx.options, device, before)
            change.problems = verify(intended, before, device.name)
            change.message = ctx.job.explained.get(device.name, "")
            if change.problems:
                change.message = "nothing to push, yet not as intended: " + "; ".join(
                    change.problems
                )
            return change
        try:
            session.configure(pushable(rem.commands))
            after = _fetch(session, device)
            problems = verify(intended, after, device.name)
            if problems:
                raise _Abort(f"verification failed: {'; '.join(problems)}", problems)
            session.save()
            change.left_to_people = people_todo(ctx.options, device, after)
        except (GovnetError, _Abort) as exc:
            session.close()
            change.problems = exc.problems if isinstance(exc, _Abort) else []
            change.message = REDACTOR(exc.reason if isinstance(exc, _Abort) else str(exc))
            if isinstance(exc, CommandError):
                line = rejected_line(exc, pushable(rem.commands))
                if line is not None:
                    change.problems = [f"the device rejected {mask_line(line)!r}"]
            return _roll_back(ctx, device, before, change)
        change.status = CHANGED
        change.message = ctx.job.explained.get(device.name, "")
        return change
    except GovnetError as exc:  # before anything was pushed: fetch or plan failed
        change.error_kind, change.message = _kind(exc), REDACTOR(str(exc))
        return change
    finally:
        session.close()
        change.elapsed = time.monotonic() - t0


def apply_devices(
    job: Job,
    targets: list[Target],
    store: Store,
    options: ProvisionOptions | None = None,
    confirmed: dict[str, list[str]] | None = None,
    on_done: Callable[[Any], None] | None = None,
    run_id: str | None = None,
) -> tuple[str, list[DeviceChange]]:
    """Apply ``job`` to the targets; ``confirmed`` (device → masked commands the admin saw)
    makes a device whose remediation differs now fail without sending anything."""
    opts = options or ProvisionOptions()
    check_all(r for t in targets if t.skip is None for r in t.device.ssh_secrets())
    check_keys(t.device for t in targets if t.skip is None)  # key files, exit 2
    started = utcnow()
    run_id = run_id or new_run_id("provision", started)
    records.start_run(store, run_id, started, {**job.describe(), "devices": len(targets)})
    ctx = _Ctx(job, store, run_id, opts, confirmed)
    done: dict[str, Any] = _skipped(targets, DeviceChange)

    def finished(res: DeviceResult[DeviceChange]) -> None:
        change: DeviceChange = _unwrap(res, DeviceChange)
        _record(store, run_id, job, change)
        if on_done is not None:
            on_done(res)

    active = [t.device for t in targets if t.skip is None]
    fleet = run_fleet(active, lambda d: _apply_one(ctx, d), workers=opts.workers, on_done=finished)
    for res in fleet:
        done[res.device] = _unwrap(res, DeviceChange)
    results: list[DeviceChange] = _ordered(targets, done)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    code = exit_code(results)
    meta = {**job.describe(), "devices": len(targets), "counts": counts}
    records.finish_run(store, run_id, utcnow(), code, meta)
    return run_id, results


def _record(store: Store, run_id: str, job: Job, change: DeviceChange) -> None:
    finished: datetime = utcnow()
    records.record_change(
        store,
        run_id,
        {
            "device": change.device,
            "task": job.task.name,
            "status": change.status,
            "finished": finished,
            "elapsed": round(change.elapsed, 3),
            "commands": change.commands,
            "rollback": change.rollback,
            "problems": change.problems,
            "message": change.message,
            "backup_sha256": change.backup_sha256,
        },
    )
