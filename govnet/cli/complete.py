"""Shell completion of the network's names (click ``shell_complete`` callbacks).

``eval "$(_GOVNET_COMPLETE=bash_source govnet)"`` (README, "Shell completion") makes
``govnet backup diff int-<TAB>`` offer the inventory's devices, ``--zone``/``--site``/
``--unit`` its zones, sites and units, ``--limit`` device names (after a comma or ``!`` too)
and ``-p`` the audit playbooks. Names come from :mod:`govnet.inventory_names` (keys only, no
validation); :mod:`govnet.cli.entry` answers the same requests without importing the CLI.
Nothing here raises: a broken or missing inventory completes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from govnet.inventory_names import Names, inventory_names

DEFAULT_INVENTORY = Path("inventory/lab.yaml")
DEFAULT_PLAYBOOKS = Path("playbooks")
SECTIONS_OF = {
    "devices": ("devices",),
    "zones": ("zones",),
    "sites": ("sites",),
    "units": ("units",),
    "any_name": ("devices", "services", "units", "sites", "zones"),
}
KINDS = (*SECTIONS_OF, "limit", "playbooks")

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def default_inventory() -> Path:
    given = os.environ.get("GOVNET_INVENTORY")
    return Path(given) if given else DEFAULT_INVENTORY


def complete_names(which: str, inventory: Path, incomplete: str) -> list[CompletionItem]:
    """What to offer for a word of kind ``which`` (one of :data:`KINDS`)."""
    if which == "playbooks":
        return _playbooks(incomplete)
    names = inventory_names(inventory)
    if which == "limit":
        return _limit(names, incomplete)
    seen: set[str] = set()
    out = []
    for section in SECTIONS_OF[which]:
        for name in names.get(section, []):
            if name.startswith(incomplete) and name not in seen:
                seen.add(name)
                out.append(CompletionItem(name, help=section[:-1]))
    return out


def _limit(names: Names, incomplete: str) -> list[CompletionItem]:
    """``--limit a,b,!c``: complete the part after the last comma (and after ``!``)."""
    head, comma, last = incomplete.rpartition(",")
    head += comma
    bang = "!" if last.startswith("!") else ""
    stem = last[len(bang) :]
    return [
        CompletionItem(f"{head}{bang}{name}") for name in names["devices"] if name.startswith(stem)
    ]


def _playbooks(incomplete: str) -> list[CompletionItem]:
    """Audit playbooks (YAML with top-level ``name:`` and ``rules:``), else files."""
    folder = Path(incomplete).parent if "/" in incomplete else DEFAULT_PLAYBOOKS
    try:
        candidates = sorted(folder.glob("*.y*ml")) if folder.is_dir() else []
    except OSError:
        candidates = []
    out = [
        CompletionItem(str(path))
        for path in candidates
        if str(path).startswith(incomplete) and _is_playbook(path)
    ]
    return out or [CompletionItem(incomplete, type="file")]


def _is_playbook(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    lines = text.splitlines()
    return "rules:" in lines and any(line.startswith("name:") for line in lines)


def _inventory_path(ctx: click.Context) -> Path:
    given = ctx.find_root().params.get("inventory")
    return Path(given) if given else default_inventory()


def completer(which: str) -> Completer:
    """A click ``shell_complete`` callback for words of kind ``which``."""

    def complete(
        ctx: click.Context, _param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return complete_names(which, _inventory_path(ctx), incomplete)

    complete.govnet_completes = which  # type: ignore[attr-defined]  # read by the tests
    return complete


complete_devices = completer("devices")
complete_zones = completer("zones")
complete_sites = completer("sites")
complete_units = completer("units")
complete_any_name = completer("any_name")
complete_limit = completer("limit")
complete_playbooks = completer("playbooks")
