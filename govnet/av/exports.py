"""Console exports (CSV, XLSX, JSON) → :class:`~govnet.store.avrecords.AvRecord`, one per row.

The layout of each vendor's export is data (a :class:`~govnet.av.sources.Source`): which header
names carry which field. Files may be UTF-8 or GBK (what Chinese consoles write), may have title
rows above the header (the header is the first row, within the first 20, that has an identity
column and at least one more mapped column), and JSON may be a list of objects, one object
(Windows Defender's ``Get-MpComputerStatus | ConvertTo-Json``), or an API reply that holds the
list under ``data``/``list``/``items``/``records``/``rows``/``result``.

Every problem is reported with the file, the line (row) and the column, all at once, as an
:class:`~govnet.errors.InputError` (exit 2); nothing is imported from a file with errors.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from govnet.av.parse import (
    ValueProblem,
    date_from_version,
    is_empty,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_edition,
    text,
)
from govnet.av.sources import FIELDS, IDENTITY, Source
from govnet.errors import Diagnostic, InputError
from govnet.i18n import _
from govnet.inventory.loader import decode_text
from govnet.inventory.model import normalize_mac
from govnet.limits import (
    LimitError,
    Limits,
    check_cells,
    check_xlsx,
    human,
    json_depth,
    json_depth_at,
    limits,
    raise_hint,
    read_regular,
    with_dimensions,
)
from govnet.store.avrecords import AvRecord, Snapshot

HEADER_SCAN = 20
JSON_CONTAINERS_PER_ROW = 8
MAX_PROBLEMS = 30
WHAT = "antivirus export"
_SPLIT = re.compile(r"[;,|\s]+")
_EXPORT_TIME = re.compile(
    r"(?:导出时间|导出日期|生成时间|export(?:ed)?\s*(?:time|date|at|on))\s*[:：]?\s*"
    r"(?P<when>\d[\d\-/.:年月日时分秒T ]*\d[日秒]?)",
    re.I,
)


@dataclass
class Table:
    """A file's cells: the header, the rows under it, and any title rows above it."""

    file: str
    kind: str  # csv | xlsx | json
    header: list[str]
    header_line: int
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    preamble: list[str] = field(default_factory=list)


class NoHeader(InputError):
    """No header row of the source near the top (in a workbook, the next sheet is tried)."""


def _error(file: str, message: str, line: int = 0, col: int = 0, path: str = "") -> InputError:
    return InputError([Diagnostic(file, line, col, path, message)], WHAT)


def _norm(name: Any) -> str:
    s = str(name or "").replace("\ufeff", "").replace("\u200b", "")
    s = s.replace("（", "(").replace("）", ")").replace("：", ":")
    return re.sub(r"\s+", "", s).casefold()


def _mapping(header: Sequence[Any], source: Source) -> dict[str, int]:
    """Field → column index for the columns of ``header`` the source knows."""
    positions = {}
    for i, cell in enumerate(header):
        key = _norm(cell)
        if key and key not in positions:
            positions[key] = i
    out: dict[str, int] = {}
    for f in FIELDS:
        for alias in source.aliases(f):
            at = positions.get(_norm(alias))
            if at is not None:
                out[f] = at
                break
    return out


def _looks_like_header(cells: Sequence[Any], source: Source) -> bool:
    found = _mapping(cells, source)
    return any(f in found for f in IDENTITY) and len(found) >= 2


def _blank(cells: Sequence[Any]) -> bool:
    return all(c is None or c == "" for c in cells)


def _rows_under(
    file: str, kind: str, header: list[str], lines: Iterator[tuple[int, Sequence[Any]]], lim: Limits
) -> list[tuple[int, list[Any]]]:
    """The rows under the header, cut to the header's width. A CSV row with fewer cells than the
    header (a file cut mid-row) and a value right of the last named column (a shifted or merged
    row) are errors with their line; so is a cell over the size limit."""
    named = max((i + 1 for i, h in enumerate(header) if h), default=0)
    problems = _Problems(file)
    out: list[tuple[int, list[Any]]] = []
    for number, row in lines:
        if len(row) > lim.columns and row[lim.columns] is not None:
            raise LimitError(
                file,
                _(
                    "more than {columns} columns ({hint})",
                    columns=lim.columns,
                    hint=raise_hint("columns"),
                ),
                number,
                lim.columns + 1,
                WHAT,
            )
        cells = list(row[:named])
        if len(row) > named:
            tail = row[named:]
            if tail.count(None) + tail.count("") != len(tail):
                col = next(i for i, c in enumerate(tail, named + 1) if c is not None and c != "")
                message = _(
                    "a value right of the last header column ({named} named): is the "
                    "row shifted or merged?",
                    named=named,
                )
                problems.add(number, col, "", message)
                continue
        if _blank(cells):
            continue
        if kind == "csv" and len(row) < named:
            problems.add(
                number,
                0,
                "",
                _(
                    "{n} cells but the header has {named}: is the row (or the file) cut short?",
                    n=len(row),
                    named=named,
                ),
            )
            continue
        longest = (
            max(map(len, cells))
            if kind == "csv"
            # all text: C speed
            else max((len(c) for c in cells if type(c) is str), default=0)
        )
        if longest > lim.cell_chars:
            check_cells(file, number, cells, lim.cell_chars, WHAT)
        out.append((number, cells))
    problems.raise_if_any()
    return out


def _detect(
    file: str, kind: str, lines: Iterator[tuple[int, Sequence[Any]]], source: Source, lim: Limits
) -> Table:
    preamble: list[str] = []
    for number, cells in lines:
        if _looks_like_header(cells, source):
            header = [text(c) or "" for c in cells[: lim.columns]]
            while header and not header[-1]:
                header.pop()
            check_cells(file, number, header, lim.cell_chars, WHAT)
            table = Table(file, kind, header, number, preamble=preamble)
            table.rows = _rows_under(file, kind, header, lines, lim)
            return table
        if number - 1 >= HEADER_SCAN:
            break
        words = " ".join(t for c in cells[: lim.columns] if (t := text(c)))
        if words:
            preamble.append(words[:200])
    wanted = ", ".join("|".join(source.aliases(f)) for f in IDENTITY if source.aliases(f))
    message = (
        f"no header row of source {source.name!r} in the first {HEADER_SCAN} rows "
        f"(looked for {wanted}); is --source right?"
    )
    raise NoHeader([Diagnostic(file, 0, 0, "", message)], WHAT)


def decode(raw: bytes) -> str:
    """UTF-16 with a BOM (PowerShell 5's ``>``), else UTF-8, else GBK/GB18030."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    return decode_text(raw)


def _too_many_rows(file: str, line: int, lim: Limits) -> LimitError:
    message = _(
        "more than {rows} rows ({hint}); split the export or check it is the right file",
        rows=lim.rows,
        hint=raise_hint("rows"),
    )
    return LimitError(file, message, line, what=WHAT)


def _csv_error(file: str, exc: csv.Error, start: int, lim: Limits) -> InputError:
    message = str(exc)
    if "field larger than field limit" in message:
        return LimitError(
            file,
            _(
                "a cell longer than {cell_chars} characters ({hint}); is this really an export?",
                cell_chars=max(lim.cell_chars, csv.field_size_limit()),
                hint=raise_hint("cell_chars"),
            ),
            start,
            what=WHAT,
        )
    if "unexpected end of data" in message:
        return _error(
            file,
            _(
                "a quoted cell opened here is never closed: the file ends inside "
                "it (an export cut short?)"
            ),
            start,
        )
    if "NUL" in message:
        return _error(file, _("binary data (NUL bytes), not CSV text"), start)
    return _error(file, _("bad CSV: {message}", message=message), start)


def _read_csv(path: Path, raw: bytes, source: Source, lim: Limits) -> Table:
    try:
        content = decode(raw)
    except UnicodeDecodeError:
        raise _error(
            str(path), _("neither UTF-8 nor GBK text; export as CSV (UTF-8 or GBK)")
        ) from None
    if "\x00" in content[:4096]:
        raise _error(
            str(path),
            _("binary data, not CSV text; is it an .xls workbook? Save it as .xlsx or CSV"),
        )
    try:
        sniffed: Any = csv.Sniffer().sniff(content[:8192], delimiters=",\t;")
    except csv.Error:
        sniffed = csv.excel

    class Dialect(sniffed):  # type: ignore[misc]
        strict = True  # an unclosed quote at the end of the file is an error, not a cell

    if lim.cell_chars > csv.field_size_limit():
        csv.field_size_limit(lim.cell_chars)
    reader = csv.reader(io.StringIO(content, newline=""), Dialect)
    file = str(path)

    def lines() -> Iterator[tuple[int, list[Any]]]:
        count = 0
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _csv_error(file, exc, start, lim) from None
            count += 1
            if count > lim.rows:
                raise _too_many_rows(file, start, lim)
            if len(row) > lim.columns:
                raise LimitError(
                    file,
                    _(
                        "more than {columns} columns ({hint})",
                        columns=lim.columns,
                        hint=raise_hint("columns"),
                    ),
                    start,
                    what=WHAT,
                )
            yield start, row

    return _detect(file, "csv", lines(), source, lim)


def _read_xlsx(path: Path, raw: bytes, source: Source, lim: Limits) -> Table:
    import openpyxl

    file = str(path)
    undimensioned = check_xlsx(file, raw, lim, WHAT)  # sizes and DTDs, before any XML is parsed
    try:
        workbook = with_dimensions(raw, undimensioned)
        book = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl on a hostile file raises anything: translate it here
        raise _xlsx_error(file, exc) from None
    try:
        last: InputError | None = None
        for sheet in book.worksheets:
            name = f"{path}[{sheet.title}]"
            try:
                table = _detect(name, "xlsx", _sheet_rows(name, sheet, lim), source, lim)
            except NoHeader as exc:  # another sheet may hold the list; any other error is final
                last = exc
                continue
            return table
        raise last or _error(file, _("the workbook has no sheets"))
    finally:
        book.close()


def _xlsx_error(file: str, exc: Exception, row: int = 0) -> InputError:
    if isinstance(exc, ParseError):
        line, col = exc.position
        reason = str(exc).split(":")[0]
        return _error(
            file,
            _(
                "malformed XML inside the workbook ({reason} at XML line {line}, "
                "column {col}); re-save it from Excel or export CSV",
                reason=reason,
                line=line,
                col=col,
            ),
            row,
        )
    return _error(
        file,
        _("not a readable .xlsx workbook ({name}: {exc})", name=type(exc).__name__, exc=exc),
        row,
    )


def _sheet_rows(name: str, sheet: Any, lim: Limits) -> Iterator[tuple[int, Sequence[Any]]]:
    """A sheet's rows, streamed, each padded or cut to ``columns + 1`` cells (so a cell at
    column XFD costs nothing) and never more than ``rows`` of them (gaps included)."""
    sheet.reset_dimensions()  # the file's <dimension> may lie; never pad rows to it
    rows = sheet.iter_rows(max_col=lim.columns + 1, values_only=True)
    number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except InputError:
            raise
        except Exception as exc:  # malformed sheet XML, bad cell values: a clean error
            raise _xlsx_error(name, exc, number + 1) from None
        number += 1
        if number > lim.rows:
            raise _too_many_rows(name, number, lim)
        yield number, row


def _json_rows(data: Any) -> list[Any] | None:
    while True:
        if isinstance(data, list):
            return data
        if not isinstance(data, dict):
            return None
        keys = ("data", "list", "items", "records", "rows", "result", "value")
        inner = next((data[k] for k in keys if isinstance(data.get(k), list | dict)), None)
        if inner is None:
            return [data]
        data = inner


def _read_json(path: Path, raw: bytes, source: Source, lim: Limits) -> Table:
    file = str(path)
    try:
        content = decode(raw)
    except UnicodeDecodeError:
        raise _error(file, _("neither UTF-8 nor GBK text")) from None
    too_deep = f"nested deeper than {lim.json_depth} levels ({raise_hint('json_depth')})"
    # Memory: a parsed JSON object costs ~100x its 3 bytes ('{},'); count them first (C speed,
    # an overestimate when strings hold braces). An endpoint is one object, plus a few nested.
    containers = raw.count(b"{") + raw.count(b"[")
    if containers > JSON_CONTAINERS_PER_ROW * lim.rows:
        raise LimitError(
            file,
            _(
                "about {containers} JSON objects and arrays, more than "
                "{json_containers_per_row} for each of {rows} rows ({hint})",
                containers=containers,
                json_containers_per_row=JSON_CONTAINERS_PER_ROW,
                rows=lim.rows,
                hint=raise_hint("rows"),
            ),
            what=WHAT,
        )
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise _error(file, _("bad JSON: {msg}", msg=exc.msg), exc.lineno, exc.colno) from None
    except RecursionError:
        at = json_depth_at(content, lim.json_depth) or (0, 0)
        raise LimitError(file, too_deep, *at, what=WHAT) from None
    if not json_depth(data, lim.json_depth):
        at = json_depth_at(content, lim.json_depth) or (0, 0)
        raise LimitError(file, too_deep, *at, what=WHAT)
    items = _json_rows(data)
    if not items or not all(isinstance(i, dict) for i in items):
        raise _error(file, _("expected a JSON list of objects (one per endpoint)"))
    if len(items) > lim.rows:
        raise _too_many_rows(file, 0, lim)
    header: list[str] = []
    seen: set[str] = set()
    for item in items:
        for key in item:
            if key not in seen:
                seen.add(key)
                header.append(str(key))
                if len(header) > lim.columns:
                    raise LimitError(
                        file,
                        _(
                            "more than {columns} different keys ({hint})",
                            columns=lim.columns,
                            hint=raise_hint("columns"),
                        ),
                        what=WHAT,
                    )
    table = Table(file, "json", header, 0)
    for n, item in enumerate(items, 1):
        cells = [item.get(k) for k in header]
        check_cells(file, n, cells, lim.cell_chars, WHAT)
        table.rows.append((n, cells))
    return table


_KINDS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".json": "json", ".csv": "csv", ".txt": "csv"}


def _cap(kind: str, lim: Limits) -> tuple[int, str]:
    key = f"{kind}_bytes"
    return getattr(lim, key), key


def read_table(path: Path, source: Source, lim: Limits | None = None) -> tuple[Table, bytes]:
    """The file's header and rows, whatever its format (by suffix, else by content), read
    within ``lim`` (default: :func:`govnet.limits.limits`)."""
    lim = lim or limits()
    guess = _KINDS.get(path.suffix.lower())
    cap, key = (
        _cap(guess, lim)
        if guess
        else (max(lim.csv_bytes, lim.json_bytes, lim.xlsx_bytes), "csv_bytes")
    )
    raw = read_regular(path, cap, key, WHAT)
    if not raw.strip(b" \t\r\n\x00\xff\xfe\xef\xbb\xbf"):
        raise _error(str(path), _("empty file"))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm") or (
        suffix not in (".csv", ".txt", ".json") and raw[:2] == b"PK"
    ):
        kind = "xlsx"
    elif suffix == ".xls" or raw[:4] == b"\xd0\xcf\x11\xe0":
        raise _error(str(path), _("an old .xls workbook: save it as .xlsx or CSV"))
    elif suffix == ".json" or (suffix not in (".csv", ".txt") and raw.lstrip()[:1] in (b"{", b"[")):
        kind = "json"
    else:
        kind = "csv"
    cap, key = _cap(kind, lim)
    if len(raw) > cap:
        message = _(
            "{size} is larger than the {cap} limit for {kind} files ({hint})",
            size=human(len(raw)),
            cap=human(cap),
            kind=kind.upper(),
            hint=raise_hint(key),
        )
        raise LimitError(str(path), message, what=WHAT)
    if kind == "xlsx":
        return _read_xlsx(path, raw, source, lim), raw
    if kind == "json":
        return _read_json(path, raw, source, lim), raw
    return _read_csv(path, raw, source, lim), raw


# ----------------------------------------------------------------------------- rows → records


@dataclass
class _Problems:
    file: str
    items: list[Diagnostic] = field(default_factory=list)
    more: int = 0

    def add(self, line: int, col: int, column: str, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Diagnostic(self.file, line, col, column, message))
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if self.items:
            diags = list(self.items)
            if self.more:
                diags.append(
                    Diagnostic(self.file, 0, 0, "", _("… and {more} more problems", more=self.more))
                )
            raise InputError(diags, WHAT)


def _missing_columns(table: Table, source: Source, mapping: dict[str, int]) -> None:
    missing = [f for f in source.spec.required if f not in mapping]
    if not missing:
        return
    have = ", ".join(h for h in table.header if h) or "nothing"
    diags = [
        Diagnostic(
            table.file,
            table.header_line,
            0,
            "",
            _(
                "missing column {names} ({field}) required by source {name!r} ({where}); "
                "the header has: {have}",
                names="|".join(source.aliases(f)),
                field=f,
                name=source.name,
                where=source.where,
                have=have,
            ),
        )
        for f in missing
    ]
    raise InputError(diags, WHAT)


def _first(value: Any, convert: Callable[[str], str]) -> tuple[str | None, list[str]]:
    """The first of several addresses in one cell (``10.1.1.5;192.168.0.2``), and all."""
    s = text(value)
    if s is None:
        return None, []
    parts = [p for p in _SPLIT.split(s) if p]
    out = [convert(p) for p in parts]
    return (out[0] if out else None), out


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueProblem(f"not an IP address {value!r}") from None


def _mac(value: str) -> str:
    try:
        return normalize_mac(value)
    except ValueError:
        raise ValueProblem(f"not a MAC address {value!r}") from None


class _Row:
    """One row's cells by field, and the problems found reading them."""

    def __init__(
        self,
        table: Table,
        mapping: dict[str, int],
        line: int,
        cells: list[Any],
        problems: _Problems,
    ) -> None:
        self.table, self.mapping, self.line, self.cells = table, mapping, line, cells
        self.problems = problems
        self.bad = False

    def raw(self, f: str) -> Any:
        i = self.mapping.get(f)
        return self.cells[i] if i is not None and i < len(self.cells) else None

    def get(self, f: str, parse: Callable[[Any], Any]) -> Any:
        value = self.raw(f)
        try:
            return parse(value)
        except ValueProblem as exc:
            i = self.mapping[f]
            self.problems.add(self.line, i + 1, self.table.header[i], str(exc))
            self.bad = True
            return None


def _record(row: _Row, source: Source, file_name: str, default_host: str | None) -> AvRecord | None:
    values, tz = source.values, source.tz
    formats = source.spec.date_formats

    def empty(v: Any) -> bool:
        return is_empty(v, values.empty)

    def txt(v: Any) -> str | None:
        return None if empty(v) else text(v)

    def boolean(v: Any) -> bool | None:
        return None if empty(v) else parse_bool(v, values.true, values.false)

    host = row.get("host", txt) or default_host
    ip, ips = row.get("ip", lambda v: (None, []) if empty(v) else _first(v, _ip)) or (None, [])
    mac, macs = row.get("mac", lambda v: (None, []) if empty(v) else _first(v, _mac)) or (None, [])
    sig_version = row.get("signature_version", txt)
    sig_formats = [*source.spec.signature.date_formats, *formats]
    version_re = source.version_re

    def signature_date(v: Any) -> date | None:
        # A console may write its signature *version* where a date is expected (火绒's
        # 病毒库版本 is `2025.04.06.1`): a cell in the source's version shape counts too.
        if empty(v):
            return None
        try:
            return parse_date(v, tz, sig_formats)
        except ValueProblem:
            found = None if version_re is None else date_from_version(v, version_re)
            if found is None:
                raise
            return found

    sig_date = row.get("signature_date", signature_date)
    if sig_date is None and version_re is not None and sig_version is not None:
        sig_date = row.get("signature_version", lambda v: date_from_version(v, version_re))
        if sig_date is None and not row.bad and "signature_date" not in row.mapping:
            i = row.mapping["signature_version"]
            row.problems.add(
                row.line,
                i + 1,
                row.table.header[i],
                _(
                    "signature version {sig_version!r} does not have {name}'s shape "
                    "{version_date!r}",
                    sig_version=sig_version,
                    name=source.name,
                    version_date=source.spec.signature.version_date,
                ),
            )
            row.bad = True
    named = row.get("product", txt)
    vendor, spec = source.identify(named)
    product = named or spec.label.zh
    edition = row.get(
        "edition",
        lambda v: None if empty(v) else parse_edition(v, values.network, values.standalone),
    )
    detail = {}
    if len(ips) > 1:
        detail["ips"] = " ".join(ips)
    if len(macs) > 1:
        detail["macs"] = " ".join(macs)
    os_name = row.get("os", txt)
    if os_name:
        detail["os"] = os_name
    record = AvRecord(
        source=f"{file_name}:{row.line}",
        host=host,
        ip=ip,
        mac=mac,
        zone=row.get("zone", txt),
        unit=row.get("unit", txt),
        vendor=vendor,
        product=product,
        edition=edition or spec.edition_of(product) or source.spec.edition,
        client_version=row.get("client_version", txt),
        sig_version=sig_version,
        sig_date=sig_date,
        realtime_on=row.get("realtime", boolean),
        running=row.get("running", boolean),
        online=row.get("online", boolean),
        last_seen=row.get(
            "last_seen", lambda v: None if empty(v) else parse_datetime(v, tz, formats)
        ),
        detail=detail,
    )
    if row.bad:
        return None
    if not (record.host or record.ip or record.mac):
        row.problems.add(row.line, 0, "", _("no host name, IP or MAC: cannot tell which endpoint"))
        return None
    return record


def _export_time(table: Table, tz: Any) -> datetime | None:
    for line in table.preamble:
        m = _EXPORT_TIME.search(line)
        if m:
            try:
                return parse_datetime(m["when"].strip(), tz)
            except ValueProblem:
                continue
    return None


def parse_export(
    path: Path,
    source: Source,
    taken: datetime | None = None,
    console: str | None = None,
    lim: Limits | None = None,
) -> Snapshot:
    """Read ``path`` with ``source``'s mapping into a snapshot (not yet stored).

    The snapshot's date is ``taken`` if given, else the export time written above the header
    (``导出时间：…``), else the newest ``last_seen`` in the file, else the file's modification
    time (with a warning). Records carry it as ``as_of``.
    """
    table, raw = read_table(path, source, lim)
    mapping = _mapping(table.header, source)
    # Defender's Get-MpComputerStatus is one object without a host name: the file names it.
    default_host = path.stem if table.kind == "json" and len(table.rows) == 1 else None
    if not any(f in mapping for f in IDENTITY) and default_host is None:
        wanted = ", ".join("|".join(source.aliases(f)) for f in IDENTITY if source.aliases(f))
        raise _error(
            table.file,
            _(
                "no column names the endpoint (looked for {wanted}); is --source right?",
                wanted=wanted,
            ),
            table.header_line,
        )
    _missing_columns(table, source, mapping)
    problems = _Problems(table.file)
    rows = [
        _Row(table, mapping, n, cells, problems)
        for n, cells in table.rows
        if not all(is_empty(c) for c in cells)
    ]
    name = path.name
    # Parse once without the snapshot date; it may come from the rows' last_seen.
    records = [r for r in (_record(row, source, name, default_host) for row in rows) if r]
    problems.raise_if_any()
    if not records:
        raise _error(table.file, _("no endpoint rows under the header"), table.header_line)
    warnings: list[str] = []
    when = taken or _export_time(table, source.tz)
    if when is None:
        seen = [r.last_seen for r in records if r.last_seen is not None]
        when = max(seen) if seen else None
    if when is None:
        when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        warnings.append(
            _(
                "{path}: no export time or last-seen column; using the file's modification time "
                "{when:%Y-%m-%d %H:%M} UTC (pass --date)",
                path=path,
                when=when,
            )
        )
    records = [replace(r, as_of=when) for r in records]
    return Snapshot(
        source=source.name,
        console=console or source.name,
        file=name,
        taken=when,
        records=records,
        sha256=hashlib.sha256(raw).hexdigest(),
        warnings=warnings,
    )
