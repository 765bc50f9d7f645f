"""Rows of plain values rendered as a rich table (people), JSON or CSV.

CSV is read by people in Excel as much as by scripts: in Chinese (``--lang zh``) its header
row holds the columns' Chinese labels and the file starts with a UTF-8 BOM, so Excel on
Windows opens it as UTF-8 rather than GBK; in English, or with ``--csv-keys``
(GOVNET_CSV_KEYS=1), the header is the machine keys (``device,zone,…``) and there is no BOM.
JSON always keeps the keys.
"""

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

from govnet.i18n import current_lang, tr
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


BOM = "\ufeff"
_csv_keys = False


def set_csv_keys(keys: bool) -> None:
    """CSV headers are the machine keys whatever the language (the CLI's ``--csv-keys``)."""
    global _csv_keys
    _csv_keys = keys


def csv_labels(lang: str | None = None) -> bool:
    """Whether a CSV in ``lang`` (default: this process's) has labelled headers and a BOM."""
    return (lang or current_lang()) != "en" and not _csv_keys


def csv_header(columns: Sequence[Column], lang: str | None = None) -> tuple[str, list[str]]:
    """(the text the file starts with, the header row) for a CSV in ``lang``."""
    lang = lang or current_lang()
    if csv_labels(lang):
        return BOM, [c.label(lang) for c in columns]
    return "", [c.key for c in columns]


def to_csv(
    rows: Sequence[dict[str, Any]], columns: Sequence[Column], lang: str | None = None
) -> str:
    start, header = csv_header(columns, lang)
    buf = io.StringIO()
    buf.write(start)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
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
        return to_csv(rows, columns, lang)
    console.print(rich_table(rows, columns, lang, title))
    return None
