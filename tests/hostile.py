"""Hostile input files, made cheaply: what the readers' caps must refuse (tests and bench).

Workbooks are written part by part with :mod:`zipfile` (no openpyxl), so a sheet of millions
of rows or a shared string of a gigabyte costs only the time to deflate repeated bytes.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

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


def write_xlsx(path: Path, parts: dict[str, str | bytes | Iterable[bytes]]) -> Path:
    """A workbook from raw parts; a part given as an iterable of chunks is streamed."""
    base: dict[str, str | bytes | Iterable[bytes]] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/sharedStrings.xml": SST_OPEN + "</sst>",
        "xl/worksheets/sheet1.xml": SHEET_OPEN + "".join(good_rows(2)) + SHEET_CLOSE,
    }
    base.update(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in base.items():
            if isinstance(content, str):
                zf.writestr(name, content.encode())
            elif isinstance(content, bytes):
                zf.writestr(name, content)
            else:
                with zf.open(name, "w", force_zip64=True) as out:
                    for chunk in content:
                        out.write(chunk)
    return path


def repeated(head: str, body: bytes, size: int, tail: str) -> Iterable[bytes]:
    yield head.encode()
    block = body * max(1, MIB // len(body))
    left = size
    while left > 0:
        out = block[:left]
        yield out
        left -= len(out)
    yield tail.encode()


def huge_shared_string(path: Path, size: int) -> Path:
    """The shared string table holds one string of ``size`` bytes ('A' deflates ~1000:1)."""
    return write_xlsx(
        path,
        {"xl/sharedStrings.xml": repeated(SST_OPEN + "<si><t>", b"A", size, "</t></si></sst>")},
    )


def many_rows(path: Path, rows: int, dimension: bool = True) -> Path:
    """A sheet with ``rows`` identical one-cell rows after a valid header (no r attributes,
    so the XML is the same bytes again and again); with or without a ``<dimension>``."""
    head = SHEET_OPEN + "".join(good_rows(1))
    if dimension:
        head = head.replace("<sheetData>", f'<dimension ref="A1:E{rows + 3}"/><sheetData>')
    row = b"<row><c><v>1</v></c></row>"
    return write_xlsx(
        path, {"xl/worksheets/sheet1.xml": repeated(head, row, rows * len(row), SHEET_CLOSE)}
    )


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
