"""Fuzzing the readers (issue 12 item 3): inventory YAML, terminals CSV and playbook YAML.

Whatever the bytes, ``govnet inventory validate`` and ``govnet audit`` end with exit 0 or 2
and a one-line message, never 4 (an internal error) and never a traceback. Inputs mix YAML
and CSV syntax (anchors, aliases, merge keys, tags, flow collections, quotes, NUL bytes, BOMs,
GBK bytes) so that the parsers' error paths are reached, not only the loader's checks.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govnet import yamlsrc
from govnet.checks.playbook import load_playbooks
from govnet.cli.main import cli
from govnet.errors import PlaybookError
from tests.conftest import MINIMAL

YAML_BITS = st.sampled_from(
    [
        "&a ",
        "*a",
        "<<: *a",
        "<<: [*a, *b]",
        "&b {x: 1}",
        "!!str ",
        "!!int ",
        "!!map ",
        "!!omap ",
        "!!set ",
        "!!binary ",
        "!foo ",
        "? ",
        ": ",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "'",
        '"',
        "\\x00",
        "\t",
        "\n",
        "\n  ",
        "\n    ",
        "#",
        "---\n",
        "...\n",
        "%YAML 1.1\n",
        "devices:",
        "zones:",
        "sites:",
        "terminals_csv:",
        "terminals:",
        "vars:",
        "groups:",
        "sw1:",
        "host:",
        "10.1.1.1",
        "~",
        "null",
        "yes",
        "0x1F",
        "1e400",
        "2024-13-45",
        "-.inf",
        "é",
        "政务内网",
        "\ufeff",
        "|\n  x",
        ">-\n  y",
        "=",
        "\\",
    ]
)
yaml_text = st.lists(YAML_BITS | st.text(max_size=6), max_size=40).map("".join)
raw_bytes = st.binary(max_size=300)
CSV_BITS = st.sampled_from(
    [
        "name,mac,unit,zone",
        "名称,MAC地址,单位,所属网络",
        "\n",
        "\r\n",
        ",",
        '"',
        '""',
        "\x00",
        "pc-1",
        "00:11:22:33:44:55",
        "0011.2233.4455",
        "office",
        "internal",
        "10.1.1.300",
        "::1",
        "ip",
        "kind",
        "printer",
        "robot",
        "\ufeff",
        " ",
    ]
)
csv_text = st.lists(CSV_BITS | st.text(max_size=5), max_size=40).map("".join)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def validate(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--lang", "en", "-i", str(path), "inventory", "validate"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.output


@FUZZ
@given(st.one_of(yaml_text.map(lambda t: t.encode("utf-8")), raw_bytes))
def test_any_inventory_file_exits_0_or_2(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "inv.yaml").write_bytes(data)
    code, output = validate(tmp_path / "inv.yaml")
    assert code in (0, 2), output
    assert "Traceback" not in output and "internal error" not in output


@FUZZ
@given(yaml_text)
def test_fragments_inside_a_valid_inventory_exit_0_or_2(tmp_path: Path, text: str) -> None:
    base = textwrap.dedent(MINIMAL)
    (tmp_path / "inv.yaml").write_text(base + text, encoding="utf-8")
    code, output = validate(tmp_path / "inv.yaml")
    assert code in (0, 2), output


@FUZZ
@given(
    st.one_of(
        csv_text.map(lambda t: t.encode("utf-8")),
        csv_text.map(lambda t: t.encode("gb18030")),
        raw_bytes,
    )
)
def test_any_terminals_csv_exits_0_or_2(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "t.csv").write_bytes(data)
    path = tmp_path / "inv.yaml"
    path.write_text(textwrap.dedent(MINIMAL) + "terminals_csv: [t.csv]\n", encoding="utf-8")
    code, output = validate(path)
    assert code in (0, 2), output
    if code == 2:
        assert "t.csv" in output  # every error names the file


@FUZZ
@given(st.one_of(yaml_text.map(lambda t: t.encode("utf-8")), raw_bytes))
def test_any_playbook_is_a_playbook_error_or_loads(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(data)
    try:
        load_playbooks(path)
    except PlaybookError as exc:
        assert exc.diagnostics and all(d.file == str(path) for d in exc.diagnostics)


def _composed(text: str) -> tuple[Any, ...]:
    node = yaml.compose(text, Loader=yamlsrc._Loader)
    if node is None:
        return (False, None, {})
    builder = yamlsrc._Builder("x.yaml")
    data = builder.build(node, ())
    return (True, data, builder.positions, builder.diagnostics)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(yaml_text, st.just(textwrap.dedent(MINIMAL)).map(lambda t: t + "x: [1, {a: b}]\n"))
)
def test_streaming_builder_equals_the_node_builder(text: str) -> None:
    """Where the streaming YAML builder takes a document, it gives what composing gives."""
    stream = yamlsrc._StreamBuilder(text)
    try:
        found, data = stream.document()
    except (yamlsrc._Unusual, yaml.YAMLError, RecursionError):
        return  # left to the node builder
    composed = _composed(text)
    assert composed[0] == found
    if found:
        assert (data, stream.positions) == composed[1:3] and composed[3] == []
