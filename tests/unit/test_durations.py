"""One duration grammar for options, inventory fields and rule files (govnet.durations)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from govnet.durations import (
    DurationParam,
    SinceParam,
    format_age,
    format_duration,
    parse_duration,
    parse_since,
)

GRAMMAR = [
    ("300", 300),
    (300, 300),
    (1.5, 1.5),
    ("90s", 90),
    ("5m", 300),
    ("1.5h", 5400),
    ("24h", 86400),
    ("7d", 604800),
    ("2w", 1209600),
    ("1y", 31536000),
    ("1h30m", 5400),
    ("1d12h", 129600),
    (" 5M ", 300),
    ("0", 0),
    ("0s", 0),
]


@pytest.mark.parametrize(("text", "seconds"), GRAMMAR)
def test_the_grammar(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "5x",
        "-5m",
        "m",
        "1.5.5h",
        "5 m x",
        "1h-30m",
        True,
        None,
        -1,
        float("inf"),
        float("nan"),
        "1e3s",
    ],
)
def test_what_is_not_a_duration(bad: object) -> None:
    with pytest.raises(ValueError, match=r"bad duration"):
        parse_duration(bad)


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from("smhdwy")), min_size=1))
def test_parts_add_up(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{n}{u}" for n, u in parts)
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    assert parse_duration(text) == sum(n * units[u] for n, u in parts)


@given(st.integers(0, 10**9))
def test_formatted_durations_parse_back(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def test_formats() -> None:
    assert [format_duration(s) for s in (0, 0.5, 59, 90, 3600, 90061)] == [
        "0s",
        "0.5s",
        "59s",
        "1m30s",
        "1h",
        "1d1h1m1s",
    ]
    assert [format_age(timedelta(seconds=s)) for s in (5, 300, 3600, 3660, 90000, 86400)] == [
        "5s",
        "5m",
        "1h",
        "1h1m",
        "1d1h",
        "1d",
    ]


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_since_takes_a_duration_a_date_or_an_iso_time() -> None:
    assert parse_since("1.5h", NOW) == NOW - timedelta(hours=1.5)
    assert parse_since("1y", NOW) == NOW - timedelta(days=365)
    assert parse_since("2026-11-01", NOW) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T08:00+08:00", NOW) == datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"a duration .* a date"):
        parse_since("last tuesday", NOW)


def test_options_share_the_grammar_and_refuse_zero() -> None:
    @click.command()
    @click.option("--every", type=DurationParam())
    @click.option("--max-age", type=DurationParam(as_timedelta=True))
    @click.option("--since", type=SinceParam())
    def cmd(every: float | None, max_age: timedelta | None, since: datetime | None) -> None:
        click.echo(f"{every} {max_age} {since is not None}")

    run = CliRunner().invoke
    assert run(cmd, ["--every", "1.5h", "--max-age", "1y", "--since", "1.5h"]).output == (
        "5400.0 365 days, 0:00:00 True\n"
    )
    bad = run(cmd, ["--every", "0"])
    assert bad.exit_code == 2 and "must be longer than 0" in bad.output
    bad = run(cmd, ["--since", "soon"])
    assert bad.exit_code == 2 and "bad --since 'soon'" in bad.output


@pytest.mark.parametrize(
    "args",
    [
        ["backup", "diff", "int-core-1", "--since", "1.5h"],
        ["alerts", "list", "--since", "1y"],
        ["isolation", "evidence", "--since", "1y"],
    ],
)
def test_every_since_option_takes_the_same_forms(
    args: list[str], tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govnet.cli.main import cli
    from govnet.store.db import Store
    from tests.conftest import LAB_INVENTORY

    url = f"sqlite:///{tmp_path}/s.sqlite"
    Store.open(url).close()  # read-only commands refuse a store that does not exist
    monkeypatch.setenv("GOVNET_DB", url)
    result = CliRunner().invoke(cli, ["-i", str(LAB_INVENTORY), "--lang", "en", *args])
    assert "Invalid value" not in result.output  # the option took it; what follows may differ
    assert result.exit_code in (0, 1) or "no backup in the store" in result.output
    bad = CliRunner().invoke(cli, ["-i", str(LAB_INVENTORY), *args[:-1], "1.5.5h"])
    assert bad.exit_code == 2 and "bad --since '1.5.5h'" in bad.output
