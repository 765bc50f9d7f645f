"""Fuzzing every bounded reader (issue 12): console exports as CSV, XLSX and JSON, and saved
configs. Whatever the bytes, a reader returns its result or raises the clean error of its kind
(exit 2) — never another exception; a CSV cut anywhere never imports a changed row."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govnet.av.exports import parse_export
from govnet.av.sources import load_catalogue
from govnet.checks.audit import read_saved_config
from govnet.errors import InputError
from govnet.limits import LimitError, Limits
from tests import hostile
from tests.conftest import ROOT

CATALOGUE = load_catalogue(ROOT / "playbooks" / "av-sources.yaml")
GENERIC = CATALOGUE.source("generic")
TAKEN = datetime(2025, 7, 1, tzinfo=UTC)
SMALL = Limits(
    rows=50, columns=12, cell_chars=200, json_depth=8, xlsx_part=64 * 1024, xlsx_unzipped=256 * 1024
)
FUZZ = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_N", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

cells = st.text(alphabet=st.sampled_from('ab火,"\n\r;\t x1-.:'), max_size=12)
good_row = st.tuples(
    st.from_regex(r"pc-[a-z0-9]{1,6}", fullmatch=True),
    st.sampled_from(["10.0.0.1", "10.0.0.2", "192.168.1.9"]),
    st.sampled_from(["火绒", "奇安信天擎", "Defender"]),
    st.sampled_from(["2025-06-29", "2025-01-01 08:00"]),
    st.sampled_from(["yes", "no", ""]),
)


def read(path: Path, lim: Limits = SMALL) -> list[str] | None:
    """The hosts read, or None when refused with an InputError naming the file."""
    try:
        snap = parse_export(path, GENERIC, TAKEN, lim=lim)
    except InputError as exc:
        assert exc.diagnostics and all(str(path) in d.file for d in exc.diagnostics)
        return None
    return [r.host or "" for r in snap.records]


@FUZZ
@given(st.lists(good_row, min_size=1, max_size=8), st.data())
def test_a_csv_cut_anywhere_imports_only_unchanged_rows(
    tmp_path: Path, rows: list[tuple[str, ...]], data: st.DataObject
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(hostile.HEADER)
    writer.writerows(rows)
    raw = buf.getvalue().encode("utf-8")
    cut = data.draw(st.integers(len(raw) // 3, len(raw)))
    path = tmp_path / "cut.csv"
    path.write_bytes(raw[:cut])
    hosts = read(path)
    if hosts is None:
        return
    assert len(hosts) <= len(rows)
    whole = [r[0] for r in rows]
    # every row but the last read is exactly as written; the last may only lose its tail cell
    # when the cut falls inside its final cell (nothing in the file can show that)
    assert hosts[:-1] == whole[: len(hosts) - 1]
    if hosts:
        assert hosts[-1] == whole[len(hosts) - 1]


@FUZZ
@given(st.lists(st.lists(cells, max_size=9), max_size=8))
def test_any_csv_cells_are_read_or_refused(tmp_path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(hostile.HEADER)
    writer.writerows(rows)
    path = tmp_path / "x.csv"
    path.write_text(buf.getvalue(), "utf-8")
    read(path)


@FUZZ
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | cells,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from([*hostile.HEADER, "data", "x"]), inner, max_size=5)
        ),
        max_leaves=30,
    )
)
def test_any_json_is_read_or_refused(tmp_path: Path, value: object) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps(value, ensure_ascii=False), "utf-8")
    read(path)


@FUZZ
@given(st.integers(1, 400), st.sampled_from(["[", '{"a": ', '[{"data": ']))
def test_any_json_depth_is_read_or_refused(tmp_path: Path, depth: int, opener: str) -> None:
    closer = {"[": "]", '{"a": ': "}", '[{"data": ': "}]"}[opener]
    path = tmp_path / "x.json"
    path.write_text(opener * depth + "1" + closer * depth, "utf-8")
    read(path)


def _workbook() -> bytes:
    buf = io.BytesIO()
    hostile.write_xlsx(buf, {})  # type: ignore[arg-type]
    return buf.getvalue()


WORKBOOK = _workbook()
PARTS = [i.filename for i in zipfile.ZipFile(io.BytesIO(WORKBOOK)).infolist()]
xml_text = st.text(alphabet=st.sampled_from('<>/="&;!?x aAr1:-[]\n'), max_size=120)


@FUZZ
@given(st.sampled_from(PARTS), st.one_of(xml_text, st.binary(max_size=120)), st.booleans())
def test_any_workbook_part_is_read_or_refused(
    tmp_path: Path, part: str, body: str | bytes, keep_start: bool
) -> None:
    with zipfile.ZipFile(io.BytesIO(WORKBOOK)) as zf:
        original = zf.read(part)
    if keep_start and isinstance(body, str):  # a damaged tail after a valid start
        body = original[: len(original) // 2] + body.encode()
    path = hostile.write_xlsx(tmp_path / "x.xlsx", {part: body})
    read(path)


@FUZZ
@given(st.data())
def test_any_damaged_workbook_bytes_are_read_or_refused(
    tmp_path: Path, data: st.DataObject
) -> None:
    raw = bytearray(WORKBOOK)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(raw) // 2, len(raw)))
    path = tmp_path / "x.xlsx"
    path.write_bytes(bytes(raw[:cut]))
    read(path)


@FUZZ
@given(st.binary(max_size=600) | st.text(max_size=200).map(lambda t: t.encode("utf-8")))
def test_any_saved_config_is_text_or_a_limit_error(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "dev.cfg"
    path.write_bytes(raw)
    try:
        text = read_saved_config(path, Limits(config_bytes=400))
    except LimitError as exc:
        assert exc.diagnostic.file == str(path) and exc.exit_code == 2
    else:
        assert isinstance(text, str) and len(raw) <= 400
