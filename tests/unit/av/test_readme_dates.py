"""README's list of antivirus date forms and version shapes, parsed literally (issue 18).

The list is read from README.md itself so the documentation and the parser stay in step: a
form added to README that the parser refuses fails here.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from govnet.av.parse import CHINA, date_from_version, parse_datetime
from govnet.av.sources import load_catalogue

README = Path(__file__).resolve().parents[3] / "README.md"


def _readme_dates() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("dates may be (each example is parsed by a test):")
    end = text.index("local times are UTC+8", start)
    return re.findall(r"`([^`]+)`", text[start:end])


DATES = _readme_dates()


def test_readme_lists_the_forms_ops_meet() -> None:
    assert "2025年6月29日 10时30分" in DATES
    assert "2026年11月29日 07时15分" in DATES
    assert len(DATES) >= 15


@pytest.mark.parametrize("example", DATES)
def test_each_readme_date_parses(example: str) -> None:
    # Excel serials come from numeric XLSX cells, so the README's serial is given as a number.
    cell: object = float(example) if re.fullmatch(r"\d+\.\d+", example) else example
    got = parse_datetime(cell, CHINA)
    assert isinstance(got, datetime)
    assert got.tzinfo is not None
    local = got.astimezone(CHINA)
    assert (local.year, local.month) in ((2025, 6), (2026, 11))
    assert local.day == 29


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ("2025年6月29日 10时30分", datetime(2025, 6, 29, 10, 30, tzinfo=CHINA)),
        ("2026年11月29日 07时15分", datetime(2026, 11, 29, 7, 15, tzinfo=CHINA)),
        ("1751164200", datetime(2025, 6, 29, 10, 30, tzinfo=CHINA)),
        ("/Date(1751164200000)/", datetime(2025, 6, 29, 10, 30, tzinfo=CHINA)),
        ("2025-06-29T02:30:00Z", datetime(2025, 6, 29, 10, 30, tzinfo=CHINA)),
    ],
)
def test_readme_dates_mean_what_they_say(example: str, expected: datetime) -> None:
    assert example in DATES
    assert parse_datetime(example, CHINA) == expected


def test_readme_version_shapes_give_their_dates() -> None:
    text = README.read_text(encoding="utf-8")
    catalogue = load_catalogue()
    shapes = {"rising": "25.0629.1503", "kingsoft": "2025.06.29.003", "huorong": "2025.04.06.1"}
    for source, example in shapes.items():
        assert f"`{example}`" in text, example
        pattern = catalogue.source(source).version_re
        assert pattern is not None, source
        got = date_from_version(example, pattern)
        assert got == (date(2025, 4, 6) if source == "huorong" else date(2025, 6, 29)), source


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-03-16 08:00:00.0", date(2026, 3, 16)),  # 奇安信 病毒库版本 in a public scan table
        ("2025-04-06 19:09:48", date(2025, 4, 6)),  # 火绒 build time (versionShow createtime)
    ],
)
def test_public_console_samples(cell: str, expected: date) -> None:
    got = parse_datetime(cell, CHINA)
    assert got is not None and got.date() == expected
