"""Console exports of every source: encodings, Chinese headers, date and version formats, and
bad files that must end in one clear error (never a traceback)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from govnet.av.exports import parse_export
from govnet.av.parse import CHINA
from govnet.av.sources import Catalogue, load_catalogue
from govnet.errors import InputError
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "av"
SOURCES = ROOT / "playbooks" / "av-sources.yaml"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(SOURCES)


def load(catalogue: Catalogue, name: str, source: str, **kw: object) -> list:  # type: ignore[type-arg]
    return parse_export(FIXTURES / name, catalogue.source(source), **kw).records  # type: ignore[arg-type]


def test_qianxin_gbk_with_title_row(catalogue: Catalogue) -> None:
    snap = parse_export(FIXTURES / "qianxin-gbk.csv", catalogue.source("qianxin"))
    assert snap.taken == datetime(2025, 6, 30, 9, 0, tzinfo=CHINA)  # 导出时间 above the header
    a, b, c = snap.records
    assert (a.host, a.ip, a.mac, a.vendor, a.edition) == (
        "PC-A",
        "10.1.1.11",
        "00:1a:2b:00:00:01",
        "qianxin",
        "network",
    )
    assert (a.sig_version, a.sig_date, a.realtime_on, a.online) == (
        "2025.06.29.02",
        date(2025, 6, 29),
        True,
        True,
    )
    assert a.last_seen == datetime(2025, 6, 30, 8, 57, 12, tzinfo=CHINA)
    assert (
        a.source == "qianxin-gbk.csv:3" and a.as_of == snap.taken and a.detail["os"] == "Windows 10"
    )
    assert (
        b.mac == "00:1a:2b:00:00:02" and b.sig_date == date(2025, 5, 1) and b.realtime_on is False
    )
    assert c.mac is None and c.ip == "10.1.1.13" and c.detail["ips"] == "10.1.1.13 192.168.0.5"
    assert c.sig_date is None  # an empty cell: unknown, not an error


def test_huorong_utf8_bom_chinese_headers(catalogue: Catalogue) -> None:
    snap = parse_export(FIXTURES / "huorong-utf8.csv", catalogue.source("huorong"))
    one, two = snap.records
    assert one.sig_date == date(2025, 6, 29) and one.online is True and two.online is False
    assert two.last_seen == datetime(2025, 6, 25, 12, 0, 1, tzinfo=CHINA)  # 2025年06月25日
    assert snap.taken == datetime(2025, 6, 30, 8, 55, tzinfo=CHINA)  # newest last seen


def test_huorong_api_field_names_and_unix_times(catalogue: Catalogue) -> None:
    one, two = load(catalogue, "huorong-api.json", "huorong")
    assert (one.host, one.ip, one.client_version, one.detail["os"]) == (
        "hr-api-1",
        "10.2.0.1",
        "5.0.76.1",
        "Windows 10",
    )
    assert one.last_seen == datetime.fromtimestamp(1751245000, UTC)
    assert (one.online, two.online, two.sig_date) == (True, False, date(2025, 6, 1))


def test_rising_signature_date_from_the_version(catalogue: Catalogue) -> None:
    one, two = load(catalogue, "rising-gbk.csv", "rising")
    assert (one.sig_version, one.sig_date) == ("25.0629.1503", date(2025, 6, 29))
    assert two.sig_date == date(2025, 4, 2) and one.product == "瑞星ESM"


def test_kingsoft_version_and_chinese_dates(catalogue: Catalogue) -> None:
    (one,) = load(catalogue, "kingsoft-utf8.csv", "kingsoft")
    assert one.sig_date == date(2025, 6, 28) and one.realtime_on is True
    assert one.last_seen == datetime(2025, 6, 30, 8, 55, tzinfo=CHINA)


def test_generic_identifies_products_and_editions(catalogue: Catalogue) -> None:
    one, two = load(catalogue, "generic.csv", "generic")
    assert (one.vendor, one.edition, one.sig_date) == ("huorong", "standalone", date(2025, 6, 29))
    assert (two.vendor, two.edition, two.realtime_on) == ("qianxin", "network", False)
    assert two.last_seen == datetime(2025, 6, 30, tzinfo=UTC)


def test_defender_powershell7_and_5(catalogue: Catalogue) -> None:
    taken = datetime(2025, 6, 30, tzinfo=CHINA)
    (ps7,) = load(catalogue, "defender-ps7.json", "defender", taken=taken)
    assert (ps7.host, ps7.edition, ps7.realtime_on, ps7.running) == (
        "WIN-01",
        "standalone",
        True,
        True,
    )
    assert ps7.sig_date == date(2025, 6, 29) and ps7.sig_version == "1.421.1032.0"
    # UTF-16 with BOM, one object without a host name (the file names it), /Date(ms)/
    snap = parse_export(FIXTURES / "pc-win-02.json", catalogue.source("defender"))
    (ps5,) = snap.records
    assert ps5.host == "pc-win-02" and ps5.realtime_on is False
    assert ps5.sig_date == datetime.fromtimestamp(1750200000, UTC).astimezone(CHINA).date()
    assert snap.warnings and "--date" in snap.warnings[0]  # no time in the file: says so


def test_xlsx_with_title_row_and_date_cells(catalogue: Catalogue, tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["奇安信天擎终端列表"])
    sheet.append(["终端名称", "IP地址", "MAC地址", "病毒库更新时间", "实时防护", "最后在线时间"])
    sheet.append(
        [
            "x-01",
            "10.9.0.1",
            "00-1A-2B-00-0A-01",
            datetime(2025, 6, 29, 6, 10),
            "开启",
            datetime(2025, 6, 30, 8, 0),
        ]
    )
    sheet.append(["x-02", "10.9.0.2", "00-1A-2B-00-0A-02", 45831, 1, 45838.5])  # Excel serial days
    book.save(tmp_path / "export.xlsx")
    one, two = load_path(catalogue, tmp_path / "export.xlsx", "qianxin")
    assert one.sig_date == date(2025, 6, 29) and one.last_seen == datetime(
        2025, 6, 30, 8, 0, tzinfo=CHINA
    )
    assert two.sig_date == date(2025, 6, 23) and two.realtime_on is True
    assert two.last_seen == datetime(2025, 6, 30, 12, 0, tzinfo=CHINA)


def load_path(catalogue: Catalogue, path: Path, source: str) -> list:  # type: ignore[type-arg]
    return parse_export(path, catalogue.source(source)).records


def messages(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [str(d) for d in exc.value.diagnostics]


def test_missing_column_names_the_file_and_the_column(catalogue: Catalogue) -> None:
    with pytest.raises(InputError) as exc:
        load(catalogue, "rising-missing-version.csv", "rising")
    (msg,) = messages(exc)
    assert msg.startswith(
        f"{FIXTURES / 'rising-missing-version.csv'}:1: missing column 病毒库版本 (signature_version)"
    )
    assert "the header has: 计算机名称, IP地址, MAC地址, 产品版本, 实时监控" in msg


def test_bad_values_are_all_reported_with_line_and_column(catalogue: Catalogue) -> None:
    with pytest.raises(InputError) as exc:
        load(catalogue, "qianxin-bad-values.csv", "qianxin")
    f = FIXTURES / "qianxin-bad-values.csv"
    assert messages(exc) == [
        f"{f}:2:2: IP地址: not an IP address '10.1.1.300'",
        f"{f}:3:3: MAC地址: not a MAC address '00-1A-2B-00-00-0Z'",
        f"{f}:3:4: 病毒库更新时间: not a valid date/time '2025-13-45': month must be in 1..12",
        f"{f}:3:5: 实时防护: expected yes/no, got '也许' (known: 1, true, yes, 是, 开, 开启, 0, false, no, 否, 关, 关闭, …)",
        f"{f}:4: no host name, IP or MAC: cannot tell which endpoint",
    ]


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (b"", "x.csv", "empty file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "x.xls", "an old .xls workbook"),
        (b"PK\x03\x04garbage", "x.xlsx", "not a readable .xlsx workbook"),
        (b'{"data": [1, 2', "x.json", "bad JSON"),
        (b"[1, 2, 3]", "x.json", "expected a JSON list of objects"),
        (b"name,owner\npc,me\n", "x.csv", "no header row of source 'qianxin'"),
        (b"\x00\x01\x02binary\x00", "x.csv", "binary data, not CSV text"),
        (
            "终端名称,IP地址,病毒库更新时间\n".encode("gbk"),
            "x.csv",
            "no endpoint rows under the header",
        ),
    ],
)
def test_bad_files_end_in_one_clear_error(
    catalogue: Catalogue, tmp_path: Path, content: bytes, name: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as exc:
        load_path(catalogue, path, "qianxin")
    text = " ".join(messages(exc))
    assert expected in text and str(path) in text


def test_unknown_source_suggests(catalogue: Catalogue) -> None:
    with pytest.raises(InputError) as exc:
        catalogue.source("huorng")
    assert "did you mean 'huorong'?" in messages(exc)[0]


def test_sources_file_is_validated_with_locations(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text(
        "products:\n  a: {label: {zh: A, en: A}, installed: '('}\n"
        "sources:\n  x: {label: {zh: X, en: X}, product: b, columns: {ip: [IP]}, required: [mac], colour: red}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        load_catalogue(bad)
    text = "\n".join(messages(exc))
    assert f"{bad}:2:" in text and "bad regular expression '('" in text
    assert f"{bad}:4:" in text and "unknown key" in text


def test_minute_precision_chinese_dates_and_huorong_builds(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    """Issue 18: one `10时30分` cell used to reject a whole 天擎 export; 火绒's 病毒库版本 may be
    its dated build `2025.04.06.1`."""
    qax = tmp_path / "tianqing.csv"
    qax.write_text(
        "终端名称,IP地址,MAC地址,病毒库更新时间,最后在线时间\n"
        "PC-1,10.1.1.1,00:1a:2b:00:00:01,2025年6月29日 10时30分,2026年11月29日 07时15分\n",
        encoding="utf-8",
    )
    (rec,) = parse_export(qax, catalogue.source("qianxin")).records
    assert rec.sig_date == date(2025, 6, 29)
    assert rec.last_seen == datetime(2026, 11, 29, 7, 15, tzinfo=CHINA)
    hr = tmp_path / "huorong.csv"
    hr.write_text(
        "终端名称,IP地址,病毒库版本\nhr-1,10.2.0.1,2025.04.06.1\nhr-2,10.2.0.2,2025-04-01 18:37\n",
        encoding="utf-8",
    )
    one, two = parse_export(hr, catalogue.source("huorong")).records
    assert (one.sig_date, two.sig_date) == (date(2025, 4, 6), date(2025, 4, 1))
    bad = tmp_path / "huorong-bad.csv"
    bad.write_text("终端名称,IP地址,病毒库版本\nhr-1,10.2.0.1,2025.13.06.1\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        parse_export(bad, catalogue.source("huorong"))
    assert "names no real date" in messages(exc)[0]
