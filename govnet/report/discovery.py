"""``govnet discover`` output: one row per finding of a :class:`Discovery`, in zh or en.

Table and CSV share the rows (kind, ends, detail); JSON is ``Discovery.to_dict``. The table
view ends with the candidate inventory entries (YAML to paste) for what the inventory lacks.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from govnet.i18n import N_, NP_, tr
from govnet.inventory.model import Inventory
from govnet.isolation.discovery import Discovery
from govnet.report.tabular import Column, emit_rows, to_json

COLUMNS = [
    Column("kind", NP_("discovery", "Finding")),
    Column("a", "End A"),
    Column("b", "End B"),
    Column("detail", NP_("discovery", "Detail")),
]

_KINDS = {
    "cross-zone": N_("cable between isolated zones"),
    "unknown-neighbor": N_("neighbour not in the inventory"),
    "undeclared-link": N_("link not in the inventory"),
    "link-not-seen": N_("declared link not seen"),
    "unreadable": N_("could not read neighbours"),
}


def rows(result: Discovery, lang: str) -> list[dict[str, Any]]:
    """The findings as rows (cross-zone first: they fail the isolation audit)."""

    def kind(key: str) -> str:
        return tr(lang, _KINDS[key])

    out: list[dict[str, Any]] = []
    for c in result.cross_zone:
        via = tr(lang, " through unknown {via}", via=c.via) if c.via else ""
        out.append(
            {
                "kind": kind("cross-zone"),
                "a": f"{c.a[0]}:{c.a[1]}",
                "b": f"{c.b[0]}:{c.b[1]}",
                "detail": tr(
                    lang,
                    "{a_zone} ↔ {b_zone}, no gap{via}",
                    a_zone=c.a_zone,
                    b_zone=c.b_zone,
                    via=via,
                ),
            }
        )
    for u in result.unknown:
        for n in u.seen:
            out.append(
                {
                    "kind": kind("unknown-neighbor"),
                    "a": f"{n.device}:{n.port}",
                    "b": f"{u.name}:{n.remote_port}",
                    "detail": ", ".join(x for x in (u.address, u.chassis, n.protocol.upper()) if x),
                }
            )
    for s in result.undeclared:
        out.append(
            {
                "kind": kind("undeclared-link"),
                "a": f"{s.a[0]}:{s.a[1]}",
                "b": f"{s.b[0]}:{s.b[1]}",
                "detail": tr(lang, "seen by ") + ", ".join(s.seen_by),
            }
        )
    for link in result.not_seen:
        out.append(
            {
                "kind": kind("link-not-seen"),
                "a": f"{link.a_device}:{link.a_port}",
                "b": f"{link.b_device}:{link.b_port}",
                "detail": link.description or "",
            }
        )
    for name in result.unreadable:
        out.append(
            {
                "kind": kind("unreadable"),
                "a": name,
                "b": "",
                "detail": result.read[name].error or "",
            }
        )
    return out


def candidates(result: Discovery, inventory: Inventory, lang: str) -> str:
    """Inventory entries for what the network has and the inventory lacks (YAML)."""
    parts: list[str] = []
    if result.unknown:
        parts.append(
            tr(lang, "# candidate devices (check, fill in platform, paste under devices:)")
        )
        parts.extend(u.candidate(inventory) for u in result.unknown)
    new_links = [s.yaml() for s in result.undeclared]
    for u in result.unknown:
        new_links += [
            f'- {{a: "{n.device}:{n.port}", b: "{u.name}:{n.remote_port}"}}' for n in u.seen
        ]
    if new_links:
        parts.append(tr(lang, "# candidate links (paste under links:)"))
        parts.extend(new_links)
    return "\n".join(parts)


def emit(
    console: Console, result: Discovery, inventory: Inventory, fmt: str, lang: str
) -> str | None:
    """Render to the console (table) or return the text for json/csv."""
    if fmt == "json":
        return to_json(result.to_dict(inventory))
    found = rows(result, lang)
    n_links = len(result.seen)
    title = tr(
        lang,
        "discovery: {n_read} devices asked, {n_links} links seen",
        n_read=len(result.read),
        n_links=n_links,
    )
    text = emit_rows(console, found, COLUMNS, fmt, lang, title)
    if text is None:
        extra = candidates(result, inventory, lang)
        if extra:
            console.print(extra, markup=False, highlight=False, soft_wrap=True)
    return text
