"""Hostile and broken console exports (issue 12): each is refused with exit 2 and file:line,
fast, before the expensive part — never a traceback, never a read without end, nothing stored.

The files are made here, cheaply (tests/hostile.py): workbooks part by part with zipfile.
"""

from __future__ import annotations

import io
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.av.exports import parse_export
from govnet.av.sources import Catalogue, load_catalogue
from govnet.cli.main import cli
from govnet.errors import InputError
from govnet.limits import LimitError, Limits
from tests import hostile
from tests.conftest import LAB_INVENTORY, ROOT

MIB = 1024 * 1024
TAKEN = datetime(2025, 7, 1, tzinfo=UTC)
HEADER = ",".join(hostile.HEADER) + "\n"
ROW = "pc-{i},10.0.0.{i},火绒,2025-06-29,yes\n"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "playbooks" / "av-sources.yaml")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.delenv("GOVNET_LIMITS", raising=False)
    monkeypatch.chdir(ROOT)
    return tmp_path


def refused(catalogue: Catalogue, path: Path, lim: Limits | None = None) -> list[str]:
    with pytest.raises(InputError) as exc:
        parse_export(path, catalogue.source("generic"), TAKEN, lim=lim)
    return [str(d) for d in exc.value.diagnostics]


def govnet(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-i", str(LAB_INVENTORY), "--lang", "en", *args])
    return result.exit_code, result.stdout, result.stderr


def import_(path: Path) -> tuple[int, str]:
    code, _out, err = govnet(
        "av", "import", str(path), "--source", "generic", "--date", "2025-07-01"
    )
    assert "Traceback" not in err and "internal error" not in err
    return code, err


def nothing_stored() -> bool:
    code, out, _ = govnet("av", "snapshots", "-f", "json")
    return code == 0 and json.loads(out) == []


# ----------------------------------------------------------------------------- not files


def test_dev_zero_is_refused_not_read(env: Path) -> None:
    code, err = import_(Path("/dev/zero"))
    assert code == 2 and "/dev/zero: a device, not a regular file" in err


def test_fifo_is_refused_without_waiting_for_a_writer(env: Path) -> None:
    fifo = env / "export.csv"
    os.mkfifo(fifo)
    done: list[tuple[int, str]] = []
    worker = threading.Thread(target=lambda: done.append(import_(fifo)), daemon=True)
    worker.start()
    worker.join(30)
    if not done:  # a blocked reader: unblock it so the test ends, then fail
        with open(fifo, "w", encoding="utf-8"):
            pass
        worker.join(5)
        pytest.fail("the import blocked on a FIFO")
    code, err = done[0]
    assert code == 2 and "a FIFO (named pipe), not a regular file" in err


def test_a_directory_is_refused(catalogue: Catalogue, tmp_path: Path) -> None:
    folder = tmp_path / "export.json"
    folder.mkdir()
    (msg,) = refused(catalogue, folder)
    assert msg == f"{folder}: a directory, not a regular file: give a file"


def test_size_cap_is_checked_before_reading(catalogue: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as fh:  # sparse: 100 MiB that cost nothing to write
        fh.truncate(100 * MIB)
    (msg,) = refused(catalogue, path)
    assert msg == (
        f"{path}: 100 MiB is larger than the 64 MiB limit for this kind of file "
        "(raise it with GOVNET_LIMITS=csv_bytes=…)"
    )


# ----------------------------------------------------------------------------- truncated CSV


def test_csv_cut_mid_row_is_an_error_and_nothing_is_stored(env: Path) -> None:
    path = env / "cut.csv"
    path.write_text(HEADER + ROW.format(i=1) + ROW.format(i=2) + "pc-3,10.0.0.3,火", "utf-8")
    code, err = import_(path)
    assert (
        code == 2
        and f"{path}:4: 3 cells but the header has 5: is the row (or the file) cut short?" in err
    )
    assert nothing_stored()


def test_unclosed_quote_at_the_end_is_an_error_with_its_line(env: Path) -> None:
    path = env / "quote.csv"
    body = HEADER + ROW.format(i=1) + 'pc-2,10.0.0.2,"火绒,2025-06-29,yes\n' + ROW.format(i=3)
    path.write_text(body, "utf-8")
    code, err = import_(path)
    assert code == 2 and f"{path}:3: a quoted cell opened here is never closed" in err
    assert nothing_stored()


def test_rows_longer_or_shorter_than_the_header_are_errors(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(
        HEADER
        + ROW.format(i=1)
        + "pc-2,10.0.0.2,火绒,2025-06-29,yes,extra\n"
        + "pc-3,10.0.0.3\n"
        + ROW.format(i=4)
        + "pc-5,10.0.0.5,火绒,2025-06-29,yes,,\n",
        "utf-8",
    )
    assert refused(catalogue, path) == [
        f"{path}:3:6: a value right of the last header column (5 named): is the row shifted or merged?",
        f"{path}:4: 2 cells but the header has 5: is the row (or the file) cut short?",
    ]  # the trailing empty cells of row 6 are only trailing delimiters


def test_a_cell_over_128_kib_is_an_error_with_its_line(env: Path) -> None:
    path = env / "cell.csv"
    path.write_text(
        HEADER + ROW.format(i=1) + "pc-2,10.0.0.2," + "x" * (129 * 1024) + ",2025-06-29,yes\n",
        "utf-8",
    )
    code, err = import_(path)
    assert code == 2 and f"{path}:3: a cell longer than 131072 characters" in err


def test_a_cell_over_the_cell_cap_names_line_and_column(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    path = tmp_path / "cell.csv"
    path.write_text(HEADER + "pc-1,10.0.0.1," + "火" * 40_000 + ",2025-06-29,yes\n", "utf-8")
    (msg,) = refused(catalogue, path)
    assert msg.startswith(f"{path}:2:3: a cell of 40000 characters, more than the 32767 limit")


def test_row_and_column_caps(catalogue: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + "".join(ROW.format(i=i) for i in range(50)), "utf-8")
    (msg,) = refused(catalogue, path, Limits(rows=20))
    assert msg.startswith(f"{path}:21: more than 20 rows (raise it with GOVNET_LIMITS=rows=…)")
    wide = tmp_path / "wide.csv"
    wide.write_text(HEADER.rstrip("\n") + ",x" * 300 + "\n" + ROW.format(i=1), "utf-8")
    (msg,) = refused(catalogue, wide)
    assert msg.startswith(f"{wide}:1: more than 256 columns")


# ----------------------------------------------------------------------------- XLSX


def test_a_gigabyte_shared_string_is_refused_from_the_zip_directory(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    path = hostile.huge_shared_string(tmp_path / "sst.xlsx", 1024 * MIB)  # the reported case
    assert path.stat().st_size < 1.1 * MIB
    (msg,) = refused(catalogue, path)
    assert msg == (
        f"{path}: part xl/sharedStrings.xml unpacks to 1 GiB, more than the 32 MiB "
        "limit (raise it with GOVNET_LIMITS=xlsx_part=…)"
    )


def test_twenty_million_rows_are_refused_from_the_zip_directory(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    path = hostile.many_rows(tmp_path / "rows.xlsx", 20_000_000)  # 2 MB on disk, 496 MiB of XML
    (msg,) = refused(catalogue, path)
    assert msg == (
        f"{path}: unpacks to 496 MiB, more than the 256 MiB limit (raise it with "
        "GOVNET_LIMITS=xlsx_unzipped=…)"
    )


def test_a_sheet_that_unpacks_past_the_total_cap_is_refused(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    path = hostile.many_rows(tmp_path / "rows.xlsx", 200_000)  # ~5 MiB of XML
    (msg,) = refused(catalogue, path, Limits(xlsx_unzipped=4 * MIB))
    assert msg.startswith(f"{path}: unpacks to 4.96 MiB") and "more than the 4 MiB limit" in msg


def test_rows_of_a_sheet_are_capped_while_streaming(catalogue: Catalogue, tmp_path: Path) -> None:
    path = hostile.many_rows(tmp_path / "rows.xlsx", 20_000)
    (msg,) = refused(catalogue, path, Limits(rows=500))
    assert msg.startswith(f"{path}[Sheet1]:501: more than 500 rows")


def test_a_row_far_below_the_rest_does_not_make_a_billion_empty_rows(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    far = '<row r="999999999999"><c r="B999999999999"><v>1</v></c></row>'
    sheet = hostile.SHEET_OPEN + "".join(hostile.good_rows(2)) + far + hostile.SHEET_CLOSE
    path = hostile.write_xlsx(tmp_path / "gap.xlsx", {"xl/worksheets/sheet1.xml": sheet})
    (msg,) = refused(catalogue, path, Limits(rows=1000))
    assert msg.startswith(f"{path}[Sheet1]:1001: more than 1000 rows")


def test_a_sheet_without_dimension_is_not_parsed_twice(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    """openpyxl would parse a sheet without <dimension> to its end before the first row; the
    reader gives it one, so the row cap stops the read at once."""
    import zipfile

    from govnet.limits import check_xlsx, with_dimensions

    path = hostile.many_rows(tmp_path / "nodim.xlsx", 300_000, dimension=False)
    raw = path.read_bytes()
    assert check_xlsx(str(path), raw, Limits()) == ["xl/worksheets/sheet1.xml"]
    fixed = with_dimensions(raw, ["xl/worksheets/sheet1.xml"])
    assert check_xlsx(str(path), fixed, Limits()) == []
    with zipfile.ZipFile(io.BytesIO(fixed)) as zf:
        head = zf.open("xl/worksheets/sheet1.xml").read(400)
    assert b'main"><dimension ref="A1"/><sheetData>' in head
    (msg,) = refused(catalogue, path, Limits(rows=50))
    assert msg.startswith(f"{path}[Sheet1]:51: more than 50 rows")


def test_a_streamed_workbook_without_dimension_imports(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)  # writes no <dimension>
    sheet = book.create_sheet()
    sheet.append(list(hostile.HEADER))
    sheet.append(["pc-1", "10.0.0.1", "火绒", "2025-06-29", "yes"])
    book.save(tmp_path / "w.xlsx")
    snap = parse_export(tmp_path / "w.xlsx", catalogue.source("generic"), TAKEN)
    assert [r.host for r in snap.records] == ["pc-1"]


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/workbook.xml"])
def test_entity_bombs_are_refused_before_parsing(
    catalogue: Catalogue, tmp_path: Path, part: str
) -> None:
    path = hostile.entity_bomb(tmp_path / "bomb.xlsx", part)
    (msg,) = refused(catalogue, path)
    assert (
        msg
        == f"{path}[{part}]: refused: declares a DTD or entities (<!DOCTYPE …>), which a workbook never needs"
    )


def test_a_dtd_behind_a_comment_or_in_utf16_is_found(catalogue: Catalogue, tmp_path: Path) -> None:
    hidden = (
        '<?xml version="1.0"?>\n<!-- '
        + "x" * 5000
        + " -->"
        + hostile.BOMB_DTD.split("\n", 1)[1]
        + "<sst/>"
    )
    path = hostile.write_xlsx(tmp_path / "a.xlsx", {"xl/sharedStrings.xml": hidden})
    assert "declares a DTD" in refused(catalogue, path)[0]
    utf16 = hostile.write_xlsx(
        tmp_path / "b.xlsx", {"xl/sharedStrings.xml": hidden.encode("utf-16")}
    )
    assert "declares a DTD" in refused(catalogue, utf16)[0]
    endless = "<?xml version='1.0'?><!--" + "x" * (70 * 1024) + "-->" + "<sst/>"
    long = hostile.write_xlsx(tmp_path / "c.xlsx", {"xl/sharedStrings.xml": endless})
    assert "its XML prolog runs past 64 KiB" in refused(catalogue, long)[0]


@pytest.mark.parametrize(
    ("part", "body", "expected"),
    [
        (
            "xl/workbook.xml",
            "<workbook><sheets",
            "malformed XML inside the workbook (unclosed token at XML line 1, column 10)",
        ),
        (
            "xl/worksheets/sheet1.xml",
            hostile.SHEET_OPEN.replace("<sheetData>", '<dimension ref="A1"/><sheetData>')
            + "".join(hostile.good_rows(3))
            + "<row><c><v>1</c>",
            "malformed XML inside the workbook (mismatched tag",
        ),
        (
            "xl/sharedStrings.xml",
            "<sst><si><t>x</si>",
            "malformed XML inside the workbook (mismatched tag",
        ),
        (
            "[Content_Types].xml",
            "not xml at all",
            "malformed XML inside the workbook (syntax error",
        ),
    ],
)
def test_malformed_xml_is_exit_2(env: Path, part: str, body: str, expected: str) -> None:
    path = hostile.write_xlsx(env / "bad.xlsx", {part: body})
    code, err = import_(path)
    assert code == 2 and f"{path}" in err and expected in err, err
    assert nothing_stored()


def test_a_cell_far_right_costs_nothing(catalogue: Catalogue, tmp_path: Path) -> None:
    sheet = (
        hostile.SHEET_OPEN
        + "".join(hostile.good_rows(3))
        + '<row r="9"><c r="XFD9"><v>1</v></c></row>'
    )
    path = hostile.write_xlsx(
        tmp_path / "far.xlsx", {"xl/worksheets/sheet1.xml": sheet + hostile.SHEET_CLOSE}
    )
    snap = parse_export(path, catalogue.source("generic"), TAKEN)
    assert len(snap.records) == 3  # beyond column 257 is not read at all


def test_a_hand_made_workbook_still_imports(catalogue: Catalogue, tmp_path: Path) -> None:
    path = hostile.write_xlsx(tmp_path / "ok.xlsx", {})
    snap = parse_export(path, catalogue.source("generic"), TAKEN)
    assert [r.host for r in snap.records] == ["pc-0", "pc-1"] and snap.records[
        0
    ].source == "ok.xlsx:2"


# ----------------------------------------------------------------------------- JSON


def test_json_nested_100k_deep_is_exit_2_with_line_and_column(env: Path) -> None:
    path = hostile.deep_json(env / "deep.json", 100_000)
    code, err = import_(path)
    assert code == 2 and f"{path}:1:73: nested deeper than 64 levels" in err


def test_json_depth_under_the_recursion_limit_is_still_capped(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    path = tmp_path / "deep.json"
    path.write_text('[\n  {"host": "a", "x": ' + "[" * 200 + "]" * 200 + "}\n]", "utf-8")
    (msg,) = refused(catalogue, path)
    assert msg.startswith(f"{path}:2:84: nested deeper than 64 levels")


def test_json_parse_errors_have_line_and_column(catalogue: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n {"host": "a"},\n {"host": }\n]', "utf-8")
    (msg,) = refused(catalogue, path)
    assert msg == f"{path}:3:11: bad JSON: Expecting value"


# ----------------------------------------------------------------------------- settings


def test_limits_from_the_environment(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Limits.from_env({"GOVNET_LIMITS": "csv_bytes=1K, rows=10"}) == Limits(
        csv_bytes=1024, rows=10
    )
    assert Limits.from_env({"GOVNET_LIMITS": "xlsx_bytes=2m"}).xlsx_bytes == 2 * MIB
    with pytest.raises(InputError) as exc:
        Limits.from_env({"GOVNET_LIMITS": "rows=lots,colour=2"})
    assert [str(d) for d in exc.value.diagnostics] == [
        "GOVNET_LIMITS: 'colour=2': expected KEY=VALUE with KEY one of cell_chars, columns, "
        "config_bytes, csv_bytes, inventory_bytes, json_bytes, json_depth, playbook_bytes, rows, "
        "secret_bytes, terminals_bytes, xlsx_bytes, xlsx_part, xlsx_unzipped, yaml_alias_nodes, "
        "yaml_bytes, yaml_depth",
        "GOVNET_LIMITS: rows: not a size or count 'lots' (e.g. 500000, 64K, 32M, 1G)",
    ]
    path = env / "small.csv"
    path.write_text(HEADER + "".join(ROW.format(i=i) for i in range(40)), "utf-8")
    monkeypatch.setenv("GOVNET_LIMITS", "csv_bytes=1K")
    code, err = import_(path)
    assert code == 2 and "larger than the 1 KiB limit" in err
    monkeypatch.setenv("GOVNET_LIMITS", "rows=oops")
    code, err = import_(path)
    assert code == 2 and "GOVNET_LIMITS: rows: not a size or count 'oops'" in err
    monkeypatch.delenv("GOVNET_LIMITS")
    code, err = import_(path)
    assert code == 0, err


def test_limit_errors_are_input_errors() -> None:
    assert issubclass(LimitError, InputError) and LimitError("f", "m").exit_code == 2


# ----------------------------------------------------------------------------- snapshots


def test_snapshots_show_the_stored_record_count(env: Path) -> None:
    path = env / "ok.csv"
    path.write_text(HEADER + "".join(ROW.format(i=i) for i in range(1, 8)), "utf-8")
    assert import_(path)[0] == 0
    code, out, _ = govnet("av", "snapshots", "-f", "json")
    assert code == 0 and [s["records"] for s in json.loads(out)] == [7]
    code, out, _ = govnet("av", "snapshots")
    assert code == 0 and "│       7 │" in out


def test_json_of_millions_of_tiny_objects_is_refused_before_parsing(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    path = tmp_path / "objs.json"
    path.write_text("[" + "{}," * 2_000_000 + "{}]", "utf-8")  # 6 MB that would parse to 400 MB
    (msg,) = refused(catalogue, path)
    assert msg == (
        f"{path}: about 2000002 JSON objects and arrays, more than 8 for each of "
        "200000 rows (raise it with GOVNET_LIMITS=rows=…)"
    )


def test_a_bad_row_in_the_first_sheet_is_reported_not_hidden_by_the_next(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    first.title = "终端"
    first.append(list(hostile.HEADER))
    first.append(["pc-1", "10.0.0.1", "火绒", "2025-06-29", "yes", "stray"])
    book.create_sheet("说明").append(["导出说明"])
    book.save(tmp_path / "two.xlsx")
    (msg,) = refused(catalogue, tmp_path / "two.xlsx")
    assert msg.startswith(f"{tmp_path / 'two.xlsx'}[终端]:2:6: a value right of the last header")
    book.remove(first)
    book.create_sheet("终端").append(["no", "header"])
    book.save(tmp_path / "none.xlsx")
    (msg,) = refused(catalogue, tmp_path / "none.xlsx")
    assert "no header row of source 'generic'" in msg
