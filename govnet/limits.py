"""Bounded reading of the files admins hand to govnet (console exports, saved configs, secrets).

Every reader goes through here so the same checks hold everywhere:

- only regular files are read (never ``/dev/zero``, a FIFO or a directory), opened without
  blocking and read at most ``cap + 1`` bytes, so a file that grows or lies about its size
  cannot make govnet read forever;
- each kind of file has a size cap (:class:`Limits`, defaults below, overridable with the
  environment variable ``GOVNET_LIMITS="csv_bytes=128M,rows=500000"``);
- XLSX workbooks are inspected *before* anything is parsed: the zip's member count, each
  member's declared decompressed size (Python's zipfile never inflates past it), and every XML
  part's prolog (a DTD or entity declaration is refused: no entity bombs, no external entities);
- JSON nesting depth is bounded and reported with line:column.

Every refusal is an :class:`~govnet.errors.InputError` (exit 2) naming the file, the line when
there is one, the limit and how to raise it.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from govnet.errors import Diagnostic, InputError
from govnet.i18n import N_, _

ENV = "GOVNET_LIMITS"
KIB = 1024
MIB = 1024 * KIB

# Above this many zip entries a workbook is refused before its directory is even parsed
# (a real .xlsx has a few dozen; each entry costs memory when zipfile opens the file).
ZIP_MEMBERS = 2000
# The prolog of an XML part (declaration, comments) before its root element.
XML_PROLOG = 64 * KIB
XML_SUFFIXES = (".xml", ".rels", ".vml")
# openpyxl's read-only mode reads a sheet without a <dimension> element twice (once only to
# look for it, to the end); such sheets get one before parsing (see with_dimensions).
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b")
_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData\b")


@dataclass(frozen=True)
class Limits:
    """Caps on input files; sizes in bytes unless the name says otherwise."""

    csv_bytes: int = 64 * MIB  # a CSV/TXT console export
    json_bytes: int = 64 * MIB  # a JSON console export or API reply
    xlsx_bytes: int = 32 * MIB  # the .xlsx file itself (compressed)
    xlsx_unzipped: int = 256 * MIB  # the sum of its members' decompressed sizes
    xlsx_part: int = 32 * MIB  # one non-sheet part (shared strings, styles) decompressed
    rows: int = 200_000  # rows read from one export (blank ones included)
    columns: int = 256  # columns of a row
    cell_chars: int = 32_767  # characters in one cell (Excel's own cell limit)
    json_depth: int = 64  # nesting of JSON arrays/objects
    config_bytes: int = 16 * MIB  # a saved device config (audit --from-dir)
    secret_bytes: int = 64 * KIB  # a secret file (file:PATH)
    inventory_bytes: int = 64 * MIB  # one inventory YAML file
    terminals_bytes: int = 256 * MIB  # one terminals CSV
    playbook_bytes: int = 16 * MIB  # a playbook or alert-rules YAML
    yaml_bytes: int = 16 * MIB  # any other YAML (AV sources, config file, lab data)
    yaml_alias_nodes: int = 1_000_000  # nodes that aliases may expand to, per YAML file
    yaml_depth: int = 64  # nesting of a YAML document

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, then the config file's ``limits:``, then ``GOVNET_LIMITS``
        (``key=value`` pairs, comma-separated; sizes take K/M/G suffixes, powers of 1024)."""
        env = os.environ if environ is None else environ
        spec = env.get(ENV, "").strip()
        changes, problems = _deprecated(env)
        base = replace(cls(), **_configured)
        if not spec and not changes and not problems:
            return base
        known = {f.name for f in fields(cls)}
        for item in (p.strip() for p in spec.split(",")):
            if not item:
                continue
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or key not in known:
                problems.append(
                    f"{item!r}: expected KEY=VALUE with KEY one of {', '.join(sorted(known))}"
                )
                continue
            try:
                number = parse_size(value)
            except ValueError as exc:
                problems.append(f"{key}: {exc}")
                continue
            changes[key] = number
        if problems:
            raise InputError([Diagnostic(ENV, 0, 0, "", p) for p in problems], N_("input limits"))
        return replace(base, **changes)


# Deprecated (one release): the per-kind variables the YAML and inventory readers had.
# Whole MiB for sizes; GOVNET_LIMITS wins where both name a limit.
DEPRECATED_ENV = {
    "GOVNET_MAX_INVENTORY_MB": "inventory_bytes",
    "GOVNET_MAX_TERMINALS_MB": "terminals_bytes",
    "GOVNET_MAX_PLAYBOOK_MB": "playbook_bytes",
    "GOVNET_MAX_YAML_MB": "yaml_bytes",
    "GOVNET_MAX_YAML_ALIAS_NODES": "yaml_alias_nodes",
    "GOVNET_MAX_YAML_DEPTH": "yaml_depth",
}


def _deprecated(env: Mapping[str, str]) -> tuple[dict[str, int], list[str]]:
    changes: dict[str, int] = {}
    problems: list[str] = []
    for name, key in DEPRECATED_ENV.items():
        raw = env.get(name, "").strip()
        if not raw:
            continue
        try:
            number = parse_size(raw)
        except ValueError as exc:
            problems.append(f"{name} (deprecated; use {ENV}={key}=…): {exc}")
            continue
        changes[key] = number * MIB if name.endswith("_MB") else number
    return changes, problems


_configured: dict[str, int] = {}


def configure(values: Mapping[str, int]) -> None:
    """The ``limits:`` of the config file: over the defaults, under the environment."""
    known = {f.name for f in fields(Limits)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(
            _(
                "unknown limit {unknown!r} (known: {known})",
                unknown=unknown[0],
                known=", ".join(sorted(known)),
            )
        )
    _configured.clear()
    _configured.update(values)


_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)i?b?\s*$", re.I)


def parse_size(value: str) -> int:
    """``65536``, ``64K``, ``32M``, ``1G`` (powers of 1024) → a positive int."""
    m = _SIZE.match(value)
    if not m:
        raise ValueError(
            _("not a size or count {strip!r} (e.g. 500000, 64K, 32M, 1G)", strip=value.strip())
        )
    number = int(m[1]) * {"": 1, "k": KIB, "m": MIB, "g": 1024 * MIB}[m[2].lower()]
    if number <= 0:
        raise ValueError(_("must be positive"))
    return number


def limits() -> Limits:
    """The limits in force (read from the environment each time: cheap, and tests can set it)."""
    return Limits.from_env()


def human(n: int) -> str:
    """``33554432`` → ``32 MiB``."""
    for unit, size in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


class LimitError(InputError):
    """An input file is refused by a cap or is not a file govnet can read (exit 2)."""

    def __init__(
        self, file: str, message: str, line: int = 0, col: int = 0, what: str = "input"
    ) -> None:
        super().__init__([Diagnostic(file, line, col, "", message)], what)
        self.message = message

    @property
    def diagnostic(self) -> Diagnostic:
        return self.diagnostics[0]


def raise_hint(key: str) -> str:
    return f"raise it with {ENV}={key}=…"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_regular(path: Path, cap: int, key: str, what: str = "input") -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``cap`` bytes.

    Opened non-blocking (a FIFO never makes this wait), checked with ``fstat`` on the open
    descriptor (no race with a swapped file), and read at most ``cap + 1`` bytes.
    """
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise LimitError(
            name, _("cannot read: {strerror}", strerror=exc.strerror or exc), what=what
        ) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LimitError(
                name,
                _("{st_mode}, not a regular file: give a file", st_mode=_kind(st.st_mode)),
                what=what,
            )
        if st.st_size > cap:
            raise LimitError(
                name,
                _(
                    "{st_size} is larger than the {cap} limit for this kind of file ({hint})",
                    st_size=human(st.st_size),
                    cap=human(cap),
                    hint=raise_hint(key),
                ),
                what=what,
            )
        chunks: list[bytes] = []
        left = cap + 1
        size = max(MIB, st.st_size + 1)  # the whole file in one read: no 1 MiB pieces to join
        while left > 0:
            try:
                chunk = os.read(fd, min(left, size))
            except BlockingIOError:  # pragma: no cover - regular files never block
                continue
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise LimitError(
                name,
                _(
                    "grew past the {cap} limit while being read ({hint})",
                    cap=human(cap),
                    hint=raise_hint(key),
                ),
                what=what,
            )
        return b"".join(chunks)
    except OSError as exc:
        raise LimitError(
            name, _("cannot read: {strerror}", strerror=exc.strerror or exc), what=what
        ) from None
    finally:
        os.close(fd)


def read_input(path: Path, kind: str, name: str | None = None) -> bytes:
    """A YAML or CSV input of a ``kind`` (inventory, terminals, playbook, yaml), capped by
    ``{kind}_bytes``; :class:`LimitError` naming ``name`` (default: the path)."""
    key = f"{kind}_bytes"
    cap = getattr(limits(), key, None)
    if not isinstance(cap, int):
        raise ValueError(_("no size limit for {kind!r} files", kind=kind))
    try:
        return read_regular(path, cap, key, what=f"{kind} file")
    except LimitError as exc:
        if name is None:
            raise
        raise LimitError(name, exc.message, what=exc.what) from None


def check_cells(file: str, line: int, cells: list[Any], cap: int, what: str = "input") -> None:
    """Refuse a row with a text cell longer than ``cap`` characters (line:column)."""
    for i, cell in enumerate(cells):
        if isinstance(cell, str) and len(cell) > cap:
            raise LimitError(
                file,
                _(
                    "a cell of {n_cell} characters, more than the {cap} limit ({hint}); is this "
                    "really an export?",
                    n_cell=len(cell),
                    cap=cap,
                    hint=raise_hint("cell_chars"),
                ),
                line,
                i + 1,
                what,
            )


# ----------------------------------------------------------------------------- XLSX


_PROLOG = re.compile(r"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)


def _xml_start(head: bytes) -> str:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head.decode("utf-16", errors="replace")
    if head[:4] in (b"\x00<\x00?", b"<\x00?\x00", b"\x00<\x00!", b"<\x00!\x00"):
        return head.decode("utf-16-be" if head[0] == 0 else "utf-16-le", errors="replace")
    return head.decode("utf-8", errors="replace").lstrip("\ufeff")


def xml_prolog_problem(head: bytes, complete: bool) -> str | None:
    """Why an XML part must not be parsed (a DTD, entities, an endless prolog), else None.

    ``head`` is the first :data:`XML_PROLOG` bytes; ``complete`` says the part is no longer.
    """
    text = _xml_start(head)
    end = _PROLOG.match(text)
    at = end.end() if end else 0
    rest = text[at:]
    if rest[:9].upper() == "<!DOCTYPE" or rest[:8].upper() == "<!ENTITY":
        return "declares a DTD or entities (<!DOCTYPE …>), which a workbook never needs"
    if not complete and (not rest or rest[:2] in ("<!", "<?")):
        return f"its XML prolog runs past {XML_PROLOG // KIB} KiB before the first element"
    return None


def check_xlsx(file: str, raw: bytes, lim: Limits, what: str = "input") -> list[str]:
    """Refuse a workbook before parsing it: too many members, too large decompressed, or an
    XML part with a DTD. ``raw`` is the whole (already size-capped) file. Returns the sheets
    that have no ``<dimension>`` (for :func:`with_dimensions`)."""
    undimensioned: list[str] = []
    entries = raw.count(b"PK\x01\x02")  # central directory headers (may overcount, never under)
    if entries > ZIP_MEMBERS:
        raise LimitError(
            file,
            _(
                "about {entries} zip entries; a workbook has a few dozen (limit {zip_members})",
                entries=entries,
                zip_members=ZIP_MEMBERS,
            ),
            what=what,
        )
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            total = 0
            for info in infos:
                total += info.file_size
                sheet = info.filename.startswith("xl/worksheets/")
                if not sheet and info.file_size > lim.xlsx_part:
                    raise LimitError(
                        file,
                        _(
                            "part {filename} unpacks to {file_size}, more than the {xlsx_part} "
                            "limit ({hint})",
                            filename=info.filename,
                            file_size=human(info.file_size),
                            xlsx_part=human(lim.xlsx_part),
                            hint=raise_hint("xlsx_part"),
                        ),
                        what=what,
                    )
            if total > lim.xlsx_unzipped:
                raise LimitError(
                    file,
                    _(
                        "unpacks to {total}, more than the {xlsx_unzipped} limit ({hint})",
                        total=human(total),
                        xlsx_unzipped=human(lim.xlsx_unzipped),
                        hint=raise_hint("xlsx_unzipped"),
                    ),
                    what=what,
                )
            for info in infos:
                if not info.filename.lower().endswith(XML_SUFFIXES) or info.is_dir():
                    continue
                with zf.open(info) as member:
                    head = member.read(XML_PROLOG)
                problem = xml_prolog_problem(head, len(head) < XML_PROLOG)
                if problem:
                    raise LimitError(
                        f"{file}[{info.filename}]",
                        _("refused: {problem}", problem=problem),
                        what=what,
                    )
                if info.filename.startswith("xl/worksheets/") and _lacks_dimension(head):
                    undimensioned.append(info.filename)
        return undimensioned
    except LimitError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        OSError,
        ValueError,
        zlib.error,
    ) as exc:
        raise LimitError(
            file,
            _("not a readable .xlsx workbook ({name}: {exc})", name=type(exc).__name__, exc=exc),
            what=what,
        ) from None


def _lacks_dimension(head: bytes) -> bool:
    data = _SHEET_DATA.search(head)
    dim = _DIMENSION.search(head)
    return dim is None or (data is not None and data.start() < dim.start())


_ROOT = re.compile(rb"<(?P<prefix>\w+:)?worksheet\b[^>]*>")


def with_dimensions(raw: bytes, members: list[str]) -> bytes:
    """``raw`` with ``<dimension ref="A1"/>`` after the root tag of each sheet in ``members``.

    openpyxl's read-only mode looks for a sheet's ``<dimension>`` by parsing until it finds
    one: without it, the whole sheet is parsed once more before the first row is read (a sheet
    written by streaming writers such as openpyxl's own write-only mode). The rows are then
    read without relying on it (``reset_dimensions``). Only those members are re-deflated.
    """
    if not members:
        return raw
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            if info.filename not in members:
                dst.writestr(info, src.read(info))
                continue
            with src.open(info) as reader, dst.open(info.filename, "w", force_zip64=True) as w:
                head = reader.read(XML_PROLOG)
                root = _ROOT.search(head)
                if root is None:  # not a worksheet openpyxl can read anyway: its error will say
                    w.write(head)
                else:
                    prefix = root["prefix"] or b""
                    w.write(head[: root.end()] + b"<" + prefix + b'dimension ref="A1"/>')
                    w.write(head[root.end() :])
                while chunk := reader.read(MIB):
                    w.write(chunk)
    return out.getvalue()


# ----------------------------------------------------------------------------- JSON


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def json_depth_at(text: str, cap: int) -> tuple[int, int] | None:
    """(line, column) where ``text``'s nesting first goes deeper than ``cap``, else None."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > cap:
                start = m.start()
                line = text.count("\n", 0, start) + 1
                return line, start - (text.rfind("\n", 0, start) + 1) + 1
        elif token in "]}":
            depth -= 1
    return None


def json_depth(value: Any, cap: int) -> bool:
    """True if ``value`` (parsed JSON) nests no deeper than ``cap``; iterative, stops early."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > cap:
            return False
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return True
