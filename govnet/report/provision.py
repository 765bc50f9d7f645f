"""Provisioning results for people (rich: a diff per device, then a summary) and machines.

JSON (``"schema": 1``)::

    {"schema": 1, "kind": "plan" | "apply", "run": "provision-…" | null,
     "task": "baseline", "args": {…}, "notes": ["…"], "exit_code": 0,
     "counts": {"change": 1, "no-change": 5, "skipped": 6},
     "devices": [{"device": "int-acc-town", "platform": "huawei", "status": "change",
                  "commands": ["undo telnet server enable", …],
                  "diff": ["- telnet server enable", …], "rollback": […], "lines": 4,
                  "message": "", "error_kind": null, …}]}

Every line in it is masked (``***`` for keys, passwords and communities).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from govnet.i18n import tr
from govnet.provision.operations import SKIPPED, STATUS_LABELS, DeviceChange, DevicePlan
from govnet.report.tabular import Column, rich_table, to_csv, to_json

PLAN_COLUMNS = [
    Column("device", "Device"),
    Column("platform", "Platform"),
    Column("result", "Plan"),
    Column("lines", "Lines", "right"),
    Column("message", "Message"),
]
APPLY_COLUMNS = [
    Column("device", "Device"),
    Column("platform", "Platform"),
    Column("result", "Result"),
    Column("lines", "Lines", "right"),
    Column("elapsed", "Seconds", "right"),
    Column("message", "Message"),
]
CSV_PLAN = [
    Column(k, k) for k in ("device", "platform", "status", "lines", "error_kind", "message")
]
CSV_APPLY = [*CSV_PLAN, *(Column(k, k) for k in ("elapsed", "backup_sha256"))]


def label(status: str, lang: str) -> str:
    return tr(lang, STATUS_LABELS.get(status, status))


def counts(results: Sequence[DevicePlan | DeviceChange]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in results:
        out[r.status] = out.get(r.status, 0) + 1
    return out


def document(
    kind: str,
    run_id: str | None,
    job: dict[str, Any],
    results: Sequence[DevicePlan | DeviceChange],
    code: int,
) -> dict[str, Any]:
    return {
        "schema": 1,
        "kind": kind,
        "run": run_id,
        **job,
        "exit_code": code,
        "counts": counts(results),
        "devices": [r.to_dict() for r in results],
    }


def render_json(doc: dict[str, Any]) -> str:
    return to_json(doc)


def render_csv(kind: str, results: Sequence[DevicePlan | DeviceChange]) -> str:
    return to_csv([r.to_dict() for r in results], CSV_PLAN if kind == "plan" else CSV_APPLY)


def _diff_text(lines: Sequence[str]) -> Text:
    text = Text()
    for line in lines:
        body = line.lstrip()
        style = "red" if body.startswith("- ") else "green" if body.startswith("+ ") else "bold"
        text.append(line + "\n", style=style)
    return text


def print_diffs(
    console: Console, plans: Sequence[DevicePlan], lang: str, commands: bool = True
) -> None:
    """One panel per device that will change: the diff, then the commands to be sent."""
    for p in plans:
        if not p.commands:
            continue
        body = _diff_text(p.diff)
        if commands:
            body.append(tr(lang, "commands to send:\n"), style="dim")
            body.append("\n".join(p.commands), style="cyan")
        title = f"{p.device} ({p.platform})"
        console.print(Panel(body, title=title, title_align="left", expand=False))


def print_summary(
    console: Console,
    kind: str,
    results: Sequence[DevicePlan | DeviceChange],
    lang: str,
    title: str,
    notes: Sequence[dict[str, str]] = (),
) -> None:
    rows = []
    skipped = [r for r in results if r.status == SKIPPED]
    for r in results:
        if r.status == SKIPPED:
            continue
        row = r.to_dict()
        row["result"] = label(r.status, lang)
        rows.append(row)
    columns = PLAN_COLUMNS if kind == "plan" else APPLY_COLUMNS
    if rows:
        console.print(rich_table(rows, columns, lang, title))
    for note in notes:
        console.print(note[lang] or note["en"], markup=False, highlight=False)
    _print_left_to_people(console, results, lang)
    if skipped:
        names = ", ".join(r.device for r in skipped)
        reasons = sorted({r.message for r in skipped})
        console.print(
            Text(
                tr(
                    lang,
                    "skipped: {names} ({reasons})",
                    names=names,
                    reasons=tr(lang, "; ").join(reasons),
                ),
                style="dim",
            )
        )


def _print_left_to_people(
    console: Console, results: Sequence[DevicePlan | DeviceChange], lang: str
) -> None:
    """What still fails that the task does not push, why, and what a person does."""
    todo: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for r in results:
        for item in r.left_to_people:
            todo.setdefault(item["control"], ([], item))[0].append(r.device)
    if not todo:
        return
    console.print(Text(tr(lang, "left to people (not pushed):"), style="bold"))
    for control, (devices, item) in sorted(todo.items()):
        why, fix = item["why"], item["remediation"]
        console.print(
            Text(
                f"  {control} ({', '.join(devices)}): {why.get(lang) or why['en']}; "
                f"{fix.get(lang) or fix['en']}"
            )
        )
