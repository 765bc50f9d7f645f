"""Property tests for the antivirus parsers: every format round-trips, and no input makes them
fail other than with a one-line ValueProblem (never another exception)."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from govnet.av.clamav import parse_clamscan
from govnet.av.exports import parse_export
from govnet.av.parse import (
    CHINA,
    ValueProblem,
    check_version_pattern,
    date_from_version,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_edition,
    version_key,
)
from govnet.av.sources import load_catalogue
from govnet.errors import InputError
from tests.conftest import ROOT

CATALOGUE = load_catalogue(ROOT / "playbooks" / "av-sources.yaml")
RISING = check_version_pattern(CATALOGUE.sources["rising"].spec.signature.version_date or "")
KINGSOFT = check_version_pattern(CATALOGUE.sources["kingsoft"].spec.signature.version_date or "")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

moments = st.datetimes(
    min_value=datetime(1990, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(CHINA)
).map(lambda d: d.replace(microsecond=0))

FORMATS = [
    lambda d: d.strftime("%Y-%m-%d %H:%M:%S"),
    lambda d: f"{d.year}/{d.month}/{d.day} {d.hour}:{d.minute:02d}:{d.second:02d}",
    lambda d: d.strftime("%Y.%m.%d %H:%M:%S"),
    lambda d: f"{d.year}年{d.month}月{d.day}日 {d.hour:02d}:{d.minute:02d}:{d.second:02d}",
    lambda d: f"{d.year}年{d.month:02d}月{d.day:02d}日{d.hour}时{d.minute}分{d.second}秒",
    lambda d: d.isoformat(),
    lambda d: d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    lambda d: d.strftime("%Y%m%d%H%M%S"),
    lambda d: str(int(d.timestamp())) if d.year > 2001 else d.isoformat(),
    lambda d: str(int(d.timestamp()) * 1000) if d.year > 2001 else d.isoformat(),
    lambda d: f"/Date({int(d.timestamp()) * 1000})/",
    lambda d: f"{DAYS[d.weekday()]} {MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S} {d.year}",
]


@given(moments, st.sampled_from(range(len(FORMATS))))
def test_every_datetime_format_round_trips(moment: datetime, which: int) -> None:
    text = FORMATS[which](moment)
    assert parse_datetime(text, CHINA) == moment, text


@given(moments)
def test_dates_are_the_consoles_local_day(moment: datetime) -> None:
    assert parse_date(moment.astimezone(UTC).isoformat(), CHINA) == moment.date()


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(0, 9999))
def test_vendor_versions_encode_their_date(day: date, build: int) -> None:
    assert date_from_version(f"{day:%y}.{day:%m%d}.{build:04d}", RISING) == day
    assert date_from_version(f"{day:%Y.%m.%d}.{build}", KINGSOFT) == day
    assert version_key(f"{day:%Y.%m.%d}.{build}") == (day.year, day.month, day.day, build)


@given(moments, st.integers(0, 99999), st.from_regex(r"[01]\.\d{1,3}\.\d{1,3}", fullmatch=True))
def test_clamscan_round_trips(moment: datetime, daily: int, engine: str) -> None:
    line = f"ClamAV {engine}/{daily}/{FORMATS[-1](moment)}"
    got = parse_clamscan(line, CHINA)
    assert (got.engine, got.sig_version, got.sig_date(CHINA)) == (engine, str(daily), moment.date())


anything = st.one_of(
    st.text(max_size=40),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(),
    st.from_regex(
        r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?( \d{1,2}:\d{1,2}(:\d{1,2})?)?", fullmatch=True
    ),
)


@settings(max_examples=300)
@given(anything)
def test_parsers_fail_only_with_a_value_problem(value: object) -> None:
    for parse in (
        parse_datetime,
        parse_date,
        parse_bool,
        parse_edition,
        lambda v: date_from_version(v, RISING),
        lambda v: date_from_version(v, KINGSOFT),
    ):
        try:
            parse(value)
        except ValueProblem as exc:
            assert "\n" not in str(exc)


@given(st.text(max_size=200))
def test_clamscan_fails_only_with_a_value_problem(text: str) -> None:
    with contextlib.suppress(ValueProblem):
        parse_clamscan(text)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["x.csv", "x.json", "x.xlsx", "x.txt"]))
def test_any_file_is_read_or_refused_with_an_input_error(
    tmp_path_factory: object, raw: bytes, name: str
) -> None:
    folder: Path = tmp_path_factory.mktemp("av")  # type: ignore[attr-defined]
    path = folder / name
    path.write_bytes(raw)
    try:
        snap = parse_export(path, CATALOGUE.source("huorong"), datetime(2025, 1, 1, tzinfo=UTC))
    except InputError as exc:
        assert exc.diagnostics
    else:
        assert snap.records


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["pc-1", "", "PC-2"]),
            st.sampled_from(["10.0.0.1", "", "bad", "10.0.0.1;10.0.0.2"]),
            st.sampled_from(["00-1A-2B-00-00-01", "", "zz"]),
            st.one_of(st.text(max_size=12), st.sampled_from(["2025-06-29", "1751245000"])),
            st.sampled_from(["是", "否", "", "maybe", "1"]),
        ),
        max_size=6,
    )
)
def test_rows_with_any_cells_never_crash(
    tmp_path_factory: object, rows: list[tuple[str, ...]]
) -> None:
    import csv
    import io

    folder: Path = tmp_path_factory.mktemp("rows")  # type: ignore[attr-defined]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["computer_name", "local_ip", "mac", "definitions", "is_online"])
    writer.writerows(rows)
    path = folder / "x.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    try:
        snap = parse_export(path, CATALOGUE.source("huorong"), datetime(2025, 1, 1, tzinfo=UTC))
    except InputError as exc:
        assert all(d.file == str(path) for d in exc.diagnostics)
    else:
        assert all(r.host or r.ip or r.mac for r in snap.records)
        assert all(r.as_of == datetime(2025, 1, 1, tzinfo=UTC) for r in snap.records)
