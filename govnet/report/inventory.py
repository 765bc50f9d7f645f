"""Inventory renderings: the site tree and a device's details."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.tree import Tree

from govnet.i18n import tr
from govnet.inventory.views import SiteNode
from govnet.textsafe import safe_text, visible


def _counts(label: str, counts: Counter[str]) -> str:
    if not counts:
        return ""
    inner = " ".join(f"{zone}={n}" for zone, n in sorted(counts.items()))
    return f"{label} {inner}"


def site_tree(roots: list[SiteNode], lang: str, title: str) -> Tree:
    tree = Tree(safe_text(title))

    def add(parent: Tree, node: SiteNode) -> None:
        label = node.label_zh if lang == "zh" else node.label_en
        devs = _counts(tr(lang, "devices"), node.total("devices"))
        terms = _counts(tr(lang, "terminals"), node.total("terminals"))
        detail = "  ".join(x for x in (devs, terms) if x)
        shown = safe_text(label, style="bold")
        shown.append(visible(f" ({node.name}, {node.level})  {detail}"))
        branch = parent.add(shown)
        for child in node.children:
            add(branch, child)

    for root in roots:
        add(tree, root)
    return tree


def entry_table(data: Mapping[str, Any]) -> Table:
    """``govnet inventory show``: one key per row; lists one item a line, dicts as k=v."""
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        if isinstance(value, list):
            value = "\n".join(str(v) for v in value) if value else "-"
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        table.add_row(key, "-" if value is None else str(value))
    return table
