"""Rows of plain values rendered as a rich table (people), JSON or CSV (machines)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from govnet.i18n import tr
from govnet.textsafe import csv_cell, safe_text


@dataclass(frozen=True)
class Column:
    key: str
    en: str  # msgid: the header in the catalogue's language (babel.cfg: Column:2)
    justify: str = "left"

    def label(self, lang: str) -> str:
        return tr(lang, self.en)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return str(value)


def _shown(value: Any) -> Text:
    """A table cell as literal text (device/file/user data: no markup, controls visible)."""
    return safe_text(_cell(value))


def rich_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[Column], lang: str, title: str | None = None
) -> Table:
    table = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        table.add_column(col.label(lang), justify=col.justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*(_shown(row.get(c.key)) for c in columns))
    return table


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    for row in rows:
        writer.writerow([csv_cell(_cell(row.get(c.key))) for c in columns])
    return buf.getvalue()


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def emit_rows(
    console: Console,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    fmt: str,
    lang: str,
    title: str | None = None,
    json_data: Any = None,
) -> str | None:
    """Render to the console (table) or return text for json/csv (the caller writes it)."""
    if fmt == "json":
        return to_json(json_data if json_data is not None else list(rows))
    if fmt == "csv":
        return to_csv(rows, columns)
    console.print(rich_table(rows, columns, lang, title))
    return None
