"""Dates, signature versions and yes/no words as consoles write them; ClamAV's own output."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from govnet.av.clamav import parse_clamscan, parse_is_active
from govnet.av.parse import (
    CHINA,
    ValueProblem,
    check_version_pattern,
    date_from_version,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_edition,
    parse_offset,
    version_key,
)

T = datetime(2025, 6, 29, 10, 30, 15, tzinfo=CHINA)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-29 10:30:15", T),
        ("2025/6/29 10:30:15", T),
        ("2025.06.29 10:30:15", T),
        ("2025年6月29日 10:30:15", T),
        ("2025年06月29日10时30分15秒", T),
        ("2025-06-29T10:30:15", T),
        ("2025-06-29T02:30:15Z", T),
        ("2025-06-29T10:30:15.123+08:00", T.replace(microsecond=123000)),
        ("2025-06-29 04:30:15 +02:00", T),
        ("20250629103015", T),
        ("2025-06-29 10:30", T.replace(second=0)),
        ("2025-06-29", T.replace(hour=0, minute=0, second=0)),
        ("20250629", T.replace(hour=0, minute=0, second=0)),
        (str(int(T.timestamp())), T),
        (str(int(T.timestamp()) * 1000), T),
        (f"/Date({int(T.timestamp()) * 1000})/", T),
        ("Sun Jun 29 10:30:15 2025", T),
        ("Sun Jun  1 10:30:15 2025", T.replace(day=1)),
        (int(T.timestamp()), T),
        (datetime(2025, 6, 29, 10, 30, 15), T),
        (45837 + 37815 / 86400, T),  # an Excel serial day (numeric cells only)
    ],
)
def test_datetimes(text: object, expected: datetime) -> None:
    got = parse_datetime(text, CHINA)
    assert got is not None
    assert abs(got - expected) < timedelta(milliseconds=1), got


def test_source_formats_come_first() -> None:
    assert parse_datetime("06/29/2025 10:30:15 AM", CHINA, ["%m/%d/%Y %I:%M:%S %p"]) == T


@pytest.mark.parametrize("value", [None, "", " ", "-", "--", "未知", "N/A", "null"])
def test_empty_cells_are_unknown(value: object) -> None:
    assert (
        parse_datetime(value) is None and parse_bool(value) is None and parse_edition(value) is None
    )


@pytest.mark.parametrize(
    "value",
    ["2025-13-01", "2025-02-30", "yesterday", "1899-01-01", "12345", "7", True, 3.5, "2025-06"],
)
def test_bad_dates(value: object) -> None:
    with pytest.raises(ValueProblem):
        parse_datetime(value)


def test_date_is_the_consoles_day() -> None:
    # 2025-06-29 20:00 UTC is already 30 June in Beijing
    assert parse_date("2025-06-29T20:00:00Z", CHINA) == date(2025, 6, 30)
    assert parse_date(date(2025, 6, 1)) == date(2025, 6, 1)


def test_offsets() -> None:
    assert parse_offset("+08:00") == CHINA and parse_offset("Z") == UTC
    assert parse_offset("-0530") == timezone(-timedelta(hours=5, minutes=30))
    with pytest.raises(ValueProblem):
        parse_offset("+25:00")


RISING = check_version_pattern(r"(?P<yy>\d{2})\.(?P<m>\d{2})(?P<d>\d{2})\.\d{4}")
KINGSOFT = check_version_pattern(r"(?P<y>\d{4})\.(?P<m>\d{2})\.(?P<d>\d{2})\.\d+")


def test_versions_that_encode_a_date() -> None:
    assert date_from_version("25.0629.1503", RISING) == date(2025, 6, 29)
    assert date_from_version("2025.06.29.003", KINGSOFT) == date(2025, 6, 29)
    assert date_from_version("1.421.1032.0", KINGSOFT) is None  # not this vendor's shape
    with pytest.raises(ValueProblem):
        date_from_version("25.1329.1503", RISING)
    with pytest.raises(ValueError):
        check_version_pattern(r"(?P<m>\d\d)(?P<d>\d\d)")  # no year group
    assert version_key("5.0.75.4") == (5, 0, 75, 4) and version_key(None) == ()


def test_words() -> None:
    assert [parse_bool(v) for v in ("开启", "已开启", "是", "在线", "True", 1, True)] == [True] * 7
    assert [parse_bool(v) for v in ("关闭", "否", "离线", "off", 0, False)] == [False] * 6
    assert parse_edition("网络版") == "network" and parse_edition("单机版") == "standalone"
    assert parse_edition("火绒终端安全管理系统") == "network"
    assert parse_edition("金山毒霸个人版") == "standalone"
    with pytest.raises(ValueProblem):
        parse_edition("旗舰版")
    with pytest.raises(ValueProblem):
        parse_bool(2)


def test_clamscan_version() -> None:
    v = parse_clamscan("ClamAV 1.0.7/27463/Thu Nov 21 09:33:02 2024\n")
    assert (v.engine, v.sig_version, v.sig_date()) == ("1.0.7", "27463", date(2024, 11, 21))
    old = parse_clamscan(
        "LibClamAV Warning: *** The virus database is older than 7 days! ***\n"
        "ClamAV 0.103.11/26907/Mon May  1 07:25:16 2023"
    )
    assert (old.engine, old.sig_date()) == ("0.103.11", date(2023, 5, 1))
    bare = parse_clamscan("ClamAV 1.4.1")
    assert bare.sig_version is None and bare.sig_date() is None
    with pytest.raises(ValueProblem, match="not clamscan --version output"):
        parse_clamscan("bash: clamscan: command not found")


def test_systemctl_is_active() -> None:
    assert parse_is_active("active\ninactive\n") == {
        "clamav-daemon": "active",
        "clamav-freshclam": "inactive",
    }
    assert parse_is_active("failed") == {"clamav-daemon": "failed"}
    assert parse_is_active("System has not been booted with systemd") == {}


def test_regexes_in_the_shipped_catalogue_compile() -> None:
    from govnet.av.sources import load_catalogue
    from tests.conftest import ROOT

    cat = load_catalogue(ROOT / "playbooks" / "av-sources.yaml")
    for product in cat.products.values():
        for pattern in (product.installed, product.running, product.network, product.standalone):
            if pattern:
                re.compile(pattern)
    assert set(cat.sources) == {"qianxin", "huorong", "rising", "kingsoft", "defender", "generic"}
