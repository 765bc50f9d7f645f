"""``govnet provision plan|apply TASK [KEY=VALUE]… [filters]``, ``provision tasks``."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

import click

from govnet.checks.engine import DeviceFacts, evaluate
from govnet.checks.playbook import Playbook, load_playbooks
from govnet.cli.audit import DEFAULT_PLAYBOOK as BASELINE_PLAYBOOK
from govnet.cli.common import App, exit_with, filter_options, filters_from, format_option, pass_app
from govnet.errors import GovnetError
from govnet.i18n import N_, _, tr
from govnet.inventory.model import Device
from govnet.provision.operations import (
    CHANGE,
    FAILED,
    NO_CHANGE,
    DeviceChange,
    DevicePlan,
    ProvisionOptions,
    apply_devices,
    exit_code,
    plan_devices,
)
from govnet.provision.tasks import TASKS, Job, Target, make_job
from govnet.provision.templates import TemplateSet, templates_dir
from govnet.report import provision as render
from govnet.report.tabular import Column, emit_rows
from govnet.transport.ssh import SshOptions

KINDS = {"plan": N_("plan"), "apply": N_("apply")}  # a run's title


def _common(func: Any) -> Any:
    for opt in reversed(
        [
            click.argument("task"),
            click.argument("task_args", nargs=-1, metavar="[KEY=VALUE]..."),
            filter_options,
            click.option(
                "--templates",
                type=click.Path(file_okay=False, path_type=Path),
                help="Template folder [env GOVNET_TEMPLATES; config 'templates'; "
                "default templates/ of the playbooks folder].",
            ),
            click.option("--workers", default=16, show_default=True, help="Devices at once."),
            click.option("--timeout", type=float, help="Connect timeout per device (s)."),
            click.option("--retries", default=1, show_default=True, help="Extra connect attempts."),
            format_option("table", "json", "csv"),
        ]
    ):
        func = opt(func)
    return func


def _job(
    app: App,
    task: str,
    task_args: tuple[str, ...],
    templates: Path | None,
    kwargs: dict[str, Any],
    commit: bool,
) -> tuple[Job, list[Target]]:
    return make_job(
        app.inventory(),
        app.store(),
        task,
        task_args,
        templates_dir(templates),
        filters_from(kwargs),
        commit,
    )


def _assess(device: Device, config: str) -> list[str]:
    """The baseline controls ``config`` fails (the audit's rules, offline): provisioning says
    which of them it leaves to people. No baseline playbook here: nothing is said."""
    if not _baseline_path().is_file():
        return []
    findings = evaluate(
        [device], {device.name: DeviceFacts(device.name, config=config)}, _baseline()
    )
    return [f.control for f in findings if f.status.value == "fail"]


def _baseline_path() -> Path:
    from govnet.settings import active

    return active().playbook(BASELINE_PLAYBOOK)


_BASELINE_LOCK = threading.Lock()


def _baseline() -> list[Playbook]:
    """Loaded once; devices are assessed from several threads, and two loading the playbook
    at once made one of them fail ("N errors in playbook")."""
    with _BASELINE_LOCK:
        return _load_baseline()


@cache
def _load_baseline() -> list[Playbook]:
    return list(load_playbooks([_baseline_path()]))


def _options(workers: int, timeout: float | None, retries: int) -> ProvisionOptions:
    return ProvisionOptions(
        workers=workers, ssh=SshOptions(timeout=timeout, retries=retries), assess=_assess
    )


def _emit(
    app: App,
    kind: str,
    run_id: str | None,
    job: Job,
    results: list[DevicePlan] | list[DeviceChange],
    fmt: str,
    output: Path | None,
    diffs: bool,
) -> int:
    code = exit_code(results)
    if fmt == "json":
        app.write(
            render.render_json(render.document(kind, run_id, job.describe(), results, code)), output
        )
    elif fmt == "csv":
        app.write(render.render_csv(kind, results), output)
    else:
        if diffs:
            render.print_diffs(
                app.console, [r for r in results if isinstance(r, DevicePlan)], app.lang
            )
        title = tr(app.lang, KINDS[kind]) + f" {job.task.name}" + (f" {run_id}" if run_id else "")
        render.print_summary(app.console, kind, results, app.lang, title, job.prepared.notes)
    return code


@click.group()
def provision() -> None:
    """Provision devices from templates: plan (a diff, nothing sent), apply (push, verify,
    roll back on failure). Tasks: baseline, onboard-unit ('govnet provision tasks')."""


@provision.command()
@_common
@pass_app
def plan(
    app: App,
    /,
    task: str,
    task_args: tuple[str, ...],
    templates: Path | None,
    workers: int,
    timeout: float | None,
    retries: int,
    fmt: str,
    output: Path | None,
    **kwargs: Any,
) -> None:
    """Show, per device, the change TASK would make (a diff and the commands); nothing is sent.

    Exit 0 planned; 2 bad task arguments or templates; 3 some devices unreachable."""
    job, targets = _job(app, task, task_args, templates, kwargs, commit=False)
    active = sum(1 for t in targets if t.skip is None)
    with app.progress(active, tr(app.lang, "planning")) as advance:
        plans = plan_devices(job, targets, _options(workers, timeout, retries), on_done=advance)
    code = _emit(app, "plan", None, job, plans, fmt, output, diffs=True)
    if code:
        exit_with(code)


@provision.command()
@_common
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def apply(
    app: App,
    /,
    task: str,
    task_args: tuple[str, ...],
    templates: Path | None,
    workers: int,
    timeout: float | None,
    retries: int,
    fmt: str,
    output: Path | None,
    yes: bool,
    **kwargs: Any,
) -> None:
    """Apply TASK: back up, push, verify every intended line, save; roll back on any error.

    Without --yes the plan is shown first and applied only after confirmation (and only if
    no device's configuration changed meanwhile). Re-running changes nothing.

    Exit 0 every device changed or unchanged; 1 some failed and were rolled back (their
    configuration is identical to the backup); 2 bad arguments or templates; 3 some devices
    unreachable, or a rollback failed (look at those devices)."""
    options = _options(workers, timeout, retries)
    job, targets = _job(app, task, task_args, templates, kwargs, commit=False)
    confirmed: dict[str, list[str]] | None = None
    early: list[DeviceChange] = []
    if not yes:
        confirmed, early = _confirm(app, job, targets, options)
        if confirmed is None:
            return
        targets = [t for t in targets if t.skip is not None or t.device.name in confirmed]
    # after confirmation the task's run-wide values are made for real (an IPAM allocation)
    job.prepared = job.task.prepare(app.store(), job.inventory, job.args, commit=True)
    active = sum(1 for t in targets if t.skip is None)
    with app.progress(active, tr(app.lang, "applying")) as advance:
        run_id, results = apply_devices(job, targets, app.store(), options, confirmed, advance)
    code = _emit(app, "apply", run_id, job, results + early, fmt, output, diffs=False)
    if code:
        exit_with(code)


def _confirm(
    app: App, job: Job, targets: list[Target], options: ProvisionOptions
) -> tuple[dict[str, list[str]] | None, list[DeviceChange]]:
    """Plan, show the diffs (stderr), ask. None if the admin said no."""
    active = sum(1 for t in targets if t.skip is None)
    with app.progress(active, tr(app.lang, "planning")) as advance:
        plans = plan_devices(job, targets, options, on_done=advance)
    render.print_diffs(app.err, plans, app.lang)
    failed = [p for p in plans if p.status == FAILED]
    for p in failed:
        app.err.print(f"{p.device}: {p.message}", style="red", markup=False, highlight=False)
    pending = [p for p in plans if p.status == CHANGE]
    if pending:
        question = tr(
            app.lang, "Apply these changes to {n_pending} device(s)?", n_pending=len(pending)
        )
        try:
            yes = click.confirm(question, default=False, err=True)
        except click.Abort:
            raise GovnetError(
                _("no answer to the confirmation: pass --yes to apply without asking")
            ) from None
        if not yes:
            app.err.print(tr(app.lang, "cancelled: nothing was sent"))
            return None, []
    confirmed = {p.device: p.commands for p in plans if p.status in (CHANGE, NO_CHANGE)}
    early = [
        DeviceChange(p.device, p.platform, p.status, message=p.message, error_kind=p.error_kind)
        for p in failed
    ]
    return confirmed, early


TASK_COLUMNS = [
    Column("task", "Task"),
    Column("arguments", "Arguments"),
    Column("platforms", "Templates for"),
    Column("summary", "What it does"),
]


@provision.command("tasks")
@click.option("--templates", type=click.Path(file_okay=False, path_type=Path))
@format_option("table", "json", "csv")
@pass_app
def tasks_(app: App, templates: Path | None, fmt: str, output: Path | None) -> None:
    """The tasks, their KEY=VALUE arguments and the platforms with templates."""
    folder = TemplateSet(templates_dir(templates))
    rows = [
        {
            "task": t.name,
            "arguments": ", ".join(
                f"{k}{'' if f.is_required() else '?'}" for k, f in t.args_model.model_fields.items()
            )
            or "-",
            "platforms": ", ".join(folder.platforms(t.name)) or "-",
            "summary": t.summary[app.lang],
        }
        for t in TASKS.values()
    ]
    text = emit_rows(app.console, rows, TASK_COLUMNS, fmt, app.lang, tr(app.lang, "tasks"))
    if text is not None:
        app.write(text, output)
