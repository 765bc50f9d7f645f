"""The ``govnet`` console script: a fast path for shell completion of the network's names,
then the real CLI.

Importing the whole CLI (click commands, the pydantic inventory model, SQLAlchemy, netmiko…)
costs most of a second of CPU before click can answer a <TAB>. Completing a device, zone,
site, unit or playbook name needs none of it: this module parses the shell's request with
click's own classes, looks the word's parameter up in :data:`OPTIONS` / :data:`ARGS` and
answers from :mod:`govnet.inventory_names`. Anything else (command and option names, files)
falls through to click's completion on the full CLI. ``tests/unit/cli/test_completion.py``
keeps these tables equal to the ``shell_complete`` callbacks in the click tree.
"""

from __future__ import annotations

import os
import sys

COMPLETE_VAR = "_GOVNET_COMPLETE"

_FILTERS = {
    "--zone": "zones",
    "--site": "sites",
    "--unit": "units",
    "--limit": "limit",
    "-l": "limit",
}
# command path → option → completer (the names in govnet.cli.complete, without "complete_")
OPTIONS: dict[tuple[str, ...], dict[str, str]] = {
    **{
        path: dict(_FILTERS)
        for path in [
            ("inventory", "list"),
            ("inventory", "tree"),
            ("backup",),
            ("backup", "stale"),
            ("backup", "macs"),
            ("discover",),
            ("av", "status"),
            ("provision", "plan"),
            ("provision", "apply"),
            ("monitor", "run"),
            ("monitor", "status"),
            ("report", "availability"),
            ("report", "traffic"),
            ("hostkeys", "list"),
            ("hostkeys", "scan"),
        ]
    },
    ("audit",): {**_FILTERS, "-p": "playbooks", "--playbook": "playbooks"},
    ("ipam", "list"): {"--zone": "zones"},
    ("ipam", "allocate"): {"--zone": "zones"},
    ("ipam", "release"): {"--zone": "zones"},
    ("alerts", "list"): {"--device": "devices"},
    ("dashboard",): {"--zone": "zones", "--device": "devices"},
    ("isolation", "probe"): {"--from": "zones"},
    ("worker",): {"--zone": "zones"},
}
# command path → completer of its first argument
ARGS: dict[tuple[str, ...], str] = {
    ("inventory", "show"): "any_name",
    ("backup", "diff"): "devices",
    ("backup", "show"): "devices",
    ("monitor", "show"): "devices",
    ("monitor", "history"): "devices",
    ("ipam", "allocate"): "units",
    ("ipam", "release"): "units",
}
_GLOBAL_VALUES = {"-i", "--inventory", "--lang", "--db"}
_GROUPS = {path[0] for path in [*OPTIONS, *ARGS] if len(path) > 1}


def _resolve(args: list[str]) -> tuple[tuple[str, ...], list[str], str | None]:
    """(command path, words after it, the -i value) from the words before the cursor."""
    path: list[str] = []
    inventory: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        if not path and word in _GLOBAL_VALUES:
            if word in ("-i", "--inventory") and i + 1 < len(args):
                inventory = args[i + 1]
            i += 2
            continue
        if not path and word.startswith("--inventory="):
            inventory = word.partition("=")[2]
        elif not path and word.startswith("-"):
            pass  # a global flag (-q, -v, --no-color) or an option we do not complete
        elif not path or (len(path) == 1 and path[0] in _GROUPS and not rest and word[:1] != "-"):
            path.append(word)
        else:
            rest.append(word)
        i += 1
    return tuple(path), rest, inventory


def fast_complete(instruction: str) -> str | None:
    """The completion answer for ``instruction`` (``bash_complete`` …), or None when the
    full CLI must answer."""
    from click.shell_completion import get_completion_class

    shell, _, what = instruction.partition("_")
    cls = get_completion_class(shell)
    if cls is None or what != "complete":
        return None
    import click

    comp = cls(click.Command("govnet"), {}, "govnet", COMPLETE_VAR)
    args, incomplete = comp.get_completion_args()
    path, rest, inventory = _resolve(args)
    which: str | None = None
    if args and args[-1] in OPTIONS.get(path, {}) and rest:
        which = OPTIONS[path][args[-1]]
    elif path in ARGS and not rest and not incomplete.startswith("-"):
        which = ARGS[path]
    if which is None:
        return None
    from pathlib import Path

    from govnet.cli import complete

    items = complete.complete_names(
        which, Path(inventory) if inventory else complete.default_inventory(), incomplete
    )
    return "\n".join(comp.format_completion(item) for item in items)


def main() -> None:
    instruction = os.environ.get(COMPLETE_VAR)
    if instruction:
        answer = fast_complete(instruction)
        if answer is not None:
            sys.stdout.write(answer + "\n")
            sys.stdout.flush()
            sys.exit(0)
    from govnet.cli.main import main as full

    full()
