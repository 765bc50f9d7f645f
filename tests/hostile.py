"""Hostile input files, made cheaply: what the readers' caps must refuse (tests and bench).

Workbooks are zipped by hand (no openpyxl): a part that repeats a block is deflated once and
the block's deflate output repeated, so a sheet of 20 million rows or a shared string of a
gigabyte takes a moment and a megabyte to write.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MIB = 1024 * 1024
HEADER = ("host", "ip", "product", "sigdb_date", "realtime_on")  # the generic source's columns

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET_OPEN = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_CLOSE = "</sheetData></worksheet>"
SST_OPEN = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
BOMB_DTD = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>\n"
)


def inline_row(number: int, cells: Iterable[str]) -> str:
    inner = "".join(f'<c t="inlineStr"><is><t>{c}</t></is></c>' for c in cells)
    return f'<row r="{number}">{inner}</row>'


def good_rows(n: int) -> list[str]:
    return [inline_row(1, HEADER)] + [
        inline_row(
            i + 2, (f"pc-{i}", f"10.0.{i // 250}.{i % 250 + 1}", "火绒", "2025-06-29", "yes")
        )
        for i in range(n)
    ]


@dataclass(frozen=True)
class Repeat:
    """A part made of ``head``, then ``block`` ``count`` times, then ``tail``: deflated once
    per piece and the block's deflate output repeated, so a gigabyte costs milliseconds."""

    head: bytes
    block: bytes
    count: int
    tail: bytes

    @property
    def size(self) -> int:
        return len(self.head) + len(self.block) * self.count + len(self.tail)


def _deflate_piece(data: bytes) -> bytes:
    """Raw deflate of ``data``, byte-aligned and independent (a full flush, not final), so
    pieces can be concatenated in any order and number."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)


def _deflated(content: str | bytes | Repeat) -> tuple[bytes, int, int]:
    """(raw deflate stream, CRC-32, size) of a part."""
    if isinstance(content, str):
        content = content.encode()
    if isinstance(content, bytes):
        content = Repeat(content, b"", 0, b"")
    block = _deflate_piece(content.block) if content.count else b""
    crc = zlib.crc32(content.head)
    for _ in range(content.count):
        crc = zlib.crc32(content.block, crc)
    crc = zlib.crc32(content.tail, crc)
    stream = _deflate_piece(content.head) + block * content.count + _deflate_piece(content.tail)
    return stream + b"\x03\x00", crc, content.size  # an empty final block ends the stream


def write_zip(target: Path | BinaryIO, parts: dict[str, str | bytes | Repeat]) -> None:
    """A plain zip (deflate, no zip64: parts under 4 GiB) written by hand."""
    out = io.BytesIO()
    central = io.BytesIO()
    for name, content in parts.items():
        data, crc, size = _deflated(content)
        raw = name.encode()
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8, 0, 0x21, crc, len(data), size, len(raw), 0
            )
            + raw
            + data
        )
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0x800,
                8,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(raw),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw
        )
    start = out.tell()
    out.write(central.getvalue())
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(central.getvalue()), start, 0
        )
    )
    if isinstance(target, Path):
        target.write_bytes(out.getvalue())
    else:
        target.write(out.getvalue())


def write_xlsx(path: Path, parts: dict[str, str | bytes | Repeat]) -> Path:
    """A workbook from raw parts (a minimal valid one where ``parts`` says nothing)."""
    base: dict[str, str | bytes | Repeat] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/sharedStrings.xml": SST_OPEN + "</sst>",
        "xl/worksheets/sheet1.xml": SHEET_OPEN + "".join(good_rows(2)) + SHEET_CLOSE,
    }
    base.update(parts)
    write_zip(path, base)
    return path


def repeated(head: str, body: bytes, size: int, tail: str) -> Repeat:
    block = body * max(1, MIB // len(body))
    count = max(1, size // len(block))
    return Repeat(head.encode(), block, count, tail.encode())


def huge_shared_string(path: Path, size: int) -> Path:
    """The shared string table holds one string of ``size`` bytes (whole MiBs of 'A')."""
    sst = repeated(SST_OPEN + "<si><t>", b"A", size, "</t></si></sst>")
    return write_xlsx(path, {"xl/sharedStrings.xml": sst})


def many_rows(path: Path, rows: int, dimension: bool = True) -> Path:
    """A sheet with about ``rows`` identical one-cell rows after a valid header (no r
    attributes, so the XML is the same bytes again and again); with or without a
    ``<dimension>``."""
    head = SHEET_OPEN + "".join(good_rows(1))
    if dimension:
        head = head.replace("<sheetData>", f'<dimension ref="A1:E{rows + 3}"/><sheetData>')
    row = b"<row><c><v>1</v></c></row>"
    block = row * 1000
    sheet = Repeat(head.encode(), block, max(1, rows // 1000), SHEET_CLOSE.encode())
    return write_xlsx(path, {"xl/worksheets/sheet1.xml": sheet})


def entity_bomb(path: Path, part: str = "xl/sharedStrings.xml") -> Path:
    """Billion laughs in one XML part."""
    body = BOMB_DTD + (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
        if part.endswith("sharedStrings.xml")
        else WORKBOOK.split("\n", 1)[1]
    )
    return write_xlsx(path, {part: body})


def deep_json(path: Path, depth: int) -> Path:
    path.write_text('{"data": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    return path
