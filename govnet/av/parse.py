"""Values as antivirus consoles write them: dates, signature versions, yes/no words.

Written by hand on purpose: exports must be read exactly, with the formats each vendor uses
and nothing guessed (a general date guesser reads ``03/04/2025`` either way and accepts ``7`` as
a date). Every parser returns ``None`` for an empty cell and raises :class:`ValueProblem`
(a one-line message) for a value it cannot read.

Dates and times understood by :func:`parse_datetime`, besides a source's own ``strptime``
formats: ``2025-06-29``, ``2025/6/29``, ``2025.06.29``, ``2025年6月29日`` (each optionally with
``10:30``/``10:30:15``/``10时30分15秒`` and ``T``), ISO 8601 with ``Z`` or an offset,
``20250629``/``20250629103015``, Unix time in seconds (10 digits) or milliseconds (13),
PowerShell 5's ``/Date(1751200000000)/``, ClamAV's ``Sun Jun 29 10:30:15 2025`` and, for
numeric spreadsheet cells only, Excel serial days. Times without an offset are local time of
the console (``utc_offset`` in av-sources.yaml, +08:00 by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

from govnet.i18n import _
from govnet.store.avrecords import Edition

MIN_YEAR, MAX_YEAR = 1990, 2100
EXCEL_EPOCH = datetime(1899, 12, 30)
DEFAULT_EMPTY = ("", "-", "--", "—", "n/a", "na", "none", "null", "nil", "未知", "无", "暂无")


class ValueProblem(ValueError):
    """A cell that cannot be read; the message says what was expected."""


def parse_offset(text: str) -> timezone:
    """``+08:00`` / ``-0530`` / ``Z`` → a fixed-offset timezone."""
    m = re.fullmatch(r"\s*(?:(Z|UTC)|([+-])(\d{2}):?(\d{2}))\s*", text, re.I)
    if not m:
        raise ValueProblem(f"bad UTC offset {text!r} (expected +HH:MM)")
    if m[1]:
        return UTC
    minutes = int(m[3]) * 60 + int(m[4])
    if minutes > 14 * 60:
        raise ValueProblem(f"bad UTC offset {text!r} (more than 14 hours)")
    return timezone(timedelta(minutes=minutes if m[2] == "+" else -minutes))


CHINA = parse_offset("+08:00")


def _fold(words: Iterable[str]) -> frozenset[str]:
    return frozenset(w.strip().casefold() for w in words)


@lru_cache(maxsize=64)
def _folded(words: tuple[str, ...]) -> frozenset[str]:
    return _fold(words)


def is_empty(value: Any, empty: Iterable[str] = DEFAULT_EMPTY) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().casefold() in _folded(tuple(empty))
    return False


def text(value: Any) -> str | None:
    """A cell as text: numbers without a spurious ``.0``; empty → None."""
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# ----------------------------------------------------------------------------- dates

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_YMD = re.compile(
    r"(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:T|\s+|(?<=日))(?P<H>\d{1,2})\s*[:时点]\s*(?P<M>\d{1,2})"
    r"(?:\s*[:分]\s*(?P<S>\d{1,2})(?:[.,](?P<f>\d{1,9}))?\s*秒?|\s*分)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?",
    re.I,
)
_CTIME = re.compile(
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?(?P<b>[a-z]{3})[a-z]*\s+(?P<d>\d{1,2})\s+"
    r"(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})\s+(?:(?P<zone>[A-Z]{3,5})\s+)?(?P<y>\d{4})",
    re.I,
)
_MS_DATE = re.compile(r"/?Date\((?P<ms>-?\d{1,15})(?P<tz>[+-]\d{4})?\)/?")


def _check_year(year: int, raw: Any) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueProblem(f"date {raw!r} is out of range ({MIN_YEAR}-{MAX_YEAR})")


def _build(
    raw: Any,
    y: int,
    m: int,
    d: int,
    hh: int = 0,
    mm: int = 0,
    ss: int = 0,
    us: int = 0,
    tz: timezone | None = None,
) -> datetime:
    _check_year(y, raw)
    try:
        return datetime(y, m, d, hh, mm, ss, us, tzinfo=tz)
    except ValueError as exc:
        raise ValueProblem(f"not a valid date/time {raw!r}: {exc}") from None


def _from_epoch(seconds: float, raw: Any) -> datetime:
    try:
        out = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueProblem(f"time {raw!r} is out of range") from None
    _check_year(out.year, raw)
    return out


def _digits(s: str, raw: Any, tz: timezone) -> datetime | None:
    if len(s) == 10:
        return _from_epoch(int(s), raw)
    if len(s) == 13:
        return _from_epoch(int(s) / 1000, raw)
    if len(s) == 8:
        return _build(raw, int(s[:4]), int(s[4:6]), int(s[6:8]), tz=tz)
    if len(s) == 14:
        return _build(
            raw,
            int(s[:4]),
            int(s[4:6]),
            int(s[6:8]),
            int(s[8:10]),
            int(s[10:12]),
            int(s[12:14]),
            tz=tz,
        )
    return None


def _excel(serial: float, raw: Any, tz: timezone) -> datetime:
    if not 20000 <= serial <= 80000:  # 1954-2119: anything else is not a date cell
        raise ValueProblem(f"number {raw!r} is not a date")
    return (EXCEL_EPOCH + timedelta(seconds=round(serial * 86400))).replace(tzinfo=tz)


@lru_cache(maxsize=256)
def _offset(text: str) -> timezone:
    return parse_offset(text)


def parse_datetime(
    value: Any, tz: timezone = CHINA, formats: Sequence[str] = ()
) -> datetime | None:
    """A cell → an aware datetime (local times in ``tz``); None when empty."""
    if is_empty(value):
        return None
    if isinstance(value, datetime):
        out = value if value.tzinfo else value.replace(tzinfo=tz)
        _check_year(out.year, value)
        return out
    if isinstance(value, date):
        return _build(value, value.year, value.month, value.day, tz=tz)
    if isinstance(value, bool):
        raise ValueProblem(f"expected a date, got {value!r}")
    if isinstance(value, int | float):
        digits = str(int(value)) if float(value).is_integer() else ""
        if len(digits) in (10, 13, 8, 14):
            found = _digits(digits, value, tz)
            if found is not None:
                return found
        return _excel(float(value), value, tz)
    s = str(value).strip()
    for fmt in formats:
        try:
            parsed = datetime.strptime(s, fmt)
        except ValueError:
            continue
        return parse_datetime(parsed, tz)
    if s.isdigit():
        found = _digits(s, value, tz)
        if found is None:
            raise ValueProblem(f"number {value!r} is not a date")
        return found
    m = _MS_DATE.fullmatch(s)
    if m:
        out = _from_epoch(int(m["ms"]) / 1000, value)
        return out.astimezone(_offset(m["tz"])) if m["tz"] else out
    m = _YMD.fullmatch(s)
    if m:
        frac = (m["f"] or "0")[:6].ljust(6, "0")
        zone = _offset(m["tz"]) if m["tz"] else tz
        return _build(
            value,
            int(m["y"]),
            int(m["m"]),
            int(m["d"]),
            int(m["H"] or 0),
            int(m["M"] or 0),
            int(m["S"] or 0),
            int(frac),
            zone,
        )
    m = _CTIME.fullmatch(s)
    if m and m["b"].lower() in _MONTHS:
        zone = UTC if (m["zone"] or "").upper() in ("UTC", "GMT") else tz
        return _build(
            value,
            int(m["y"]),
            _MONTHS[m["b"].lower()],
            int(m["d"]),
            int(m["H"]),
            int(m["M"]),
            int(m["S"]),
            tz=zone,
        )
    raise ValueProblem(f"not a date/time {value!r}")


def parse_date(value: Any, tz: timezone = CHINA, formats: Sequence[str] = ()) -> date | None:
    """A cell → the calendar date in ``tz`` (a UTC instant is shown as the console's day)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        _check_year(value.year, value)
        return value
    when = parse_datetime(value, tz, formats)
    return None if when is None else when.astimezone(tz).date()


def local_date(when: datetime, tz: timezone = CHINA) -> date:
    return when.astimezone(tz).date()


def start_of(day: date, tz: timezone = CHINA) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


# ----------------------------------------------------------------------------- versions


def check_version_pattern(pattern: str) -> re.Pattern[str]:
    """A signature-version regex must name ``y`` (4 digits) or ``yy`` (2), ``m`` and ``d``."""
    compiled = re.compile(pattern)
    groups = set(compiled.groupindex)
    if not ({"y", "yy"} & groups and {"m", "d"} <= groups):
        raise ValueError(_("needs named groups (?P<y>…) or (?P<yy>…), (?P<m>…) and (?P<d>…)"))
    return compiled


def date_from_version(version: Any, pattern: re.Pattern[str]) -> date | None:
    """The date a vendor encodes in its signature version (``25.0629.1503``, ``2025.06.29.3``).

    None when the version does not have the vendor's shape; a shape with an impossible date
    (month 13) is a :class:`ValueProblem`.
    """
    s = text(version)
    if s is None:
        return None
    m = pattern.fullmatch(s)
    if not m:
        return None
    groups = m.groupdict()
    year = int(groups["y"]) if groups.get("y") else 2000 + int(groups["yy"])
    _check_year(year, version)
    try:
        return date(year, int(groups["m"]), int(groups["d"]))
    except ValueError as exc:
        raise ValueProblem(f"signature version {version!r} names no real date: {exc}") from None


def version_key(version: str | None) -> tuple[int, ...]:
    """Numeric parts of a dotted version for ordering (``5.0.75.4`` → (5, 0, 75, 4))."""
    if not version:
        return ()
    return tuple(int(p) for p in re.findall(r"\d+", version))


# ----------------------------------------------------------------------------- words

DEFAULT_TRUE = (
    "1",
    "true",
    "yes",
    "y",
    "on",
    "enabled",
    "enable",
    "active",
    "running",
    "online",
    "是",
    "开",
    "开启",
    "已开启",
    "启用",
    "已启用",
    "打开",
    "在线",
    "正常",
    "运行",
    "运行中",
    "已运行",
)
DEFAULT_FALSE = (
    "0",
    "false",
    "no",
    "n",
    "off",
    "disabled",
    "disable",
    "inactive",
    "stopped",
    "offline",
    "failed",
    "否",
    "关",
    "关闭",
    "已关闭",
    "未开启",
    "禁用",
    "已禁用",
    "离线",
    "停止",
    "已停止",
    "未运行",
    "异常",
)
DEFAULT_NETWORK = (
    "network",
    "enterprise",
    "managed",
    "网络版",
    "企业版",
    "政企版",
    "终端安全管理",
    "集中管理",
)
DEFAULT_STANDALONE = (
    "standalone",
    "personal",
    "home",
    "free",
    "单机版",
    "个人版",
    "免费版",
    "家庭版",
)


def _some(words: Sequence[str]) -> list[str]:
    """A few words of each script, for messages."""
    return [*[w for w in words if w.isascii()][:3], *[w for w in words if not w.isascii()][:3]]


def parse_bool(
    value: Any, true: Sequence[str] = DEFAULT_TRUE, false: Sequence[str] = DEFAULT_FALSE
) -> bool | None:
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise ValueProblem(f"expected yes/no, got {value!r}")
    word = str(value).strip().casefold()
    if word in _folded(tuple(true)):
        return True
    if word in _folded(tuple(false)):
        return False
    known = ", ".join([*_some(true), *_some(false)])
    raise ValueProblem(f"expected yes/no, got {value!r} (known: {known}, …)")


def parse_edition(
    value: Any,
    network: Sequence[str] = DEFAULT_NETWORK,
    standalone: Sequence[str] = DEFAULT_STANDALONE,
) -> Edition | None:
    """``网络版`` → network, ``单机版`` → standalone; a product name containing one of the
    words counts too (``火绒终端安全管理系统`` → network)."""
    s = text(value)
    if s is None:
        return None
    word = s.casefold()
    if word in _folded(tuple(network)):
        return "network"
    if word in _folded(tuple(standalone)):
        return "standalone"
    if any(w in word for w in _folded(tuple(standalone)) if len(w) > 1):
        return "standalone"
    if any(w in word for w in _folded(tuple(network)) if len(w) > 1):
        return "network"
    raise ValueProblem(
        f"expected an edition, got {value!r} (network: {', '.join(network[:4])}; "
        f"standalone: {', '.join(standalone[:4])})"
    )
