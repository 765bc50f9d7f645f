"""Random mutations of a valid inventory give an InventoryError or a valid model, nothing else."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govnet.errors import InventoryError
from govnet.inventory import Inventory, load_inventory
from tests.conftest import MINIMAL

BASE: dict[str, Any] = yaml.safe_load(textwrap.dedent(MINIMAL))

junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "env:X",
            "file:/nonexistent",
            "10.1.1.1",
            "300.1.1.1",
            "00:11:22:33:44:55",
            "internal",
            "town",
            "huawei",
            "1-4095",
            "0",
            "a:b",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*prefix, i))
    return out


ALL_PATHS = paths(BASE)[1:]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent: Any = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(junk)
            elif action == "delete" and isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=8))] = draw(junk)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    return data


def check(path: Path) -> None:
    try:
        result = load_inventory(path)
    except InventoryError as exc:
        assert exc.diagnostics, "an InventoryError must carry at least one diagnostic"
        assert all(d.file for d in exc.diagnostics)
    else:
        assert isinstance(result, Inventory)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutated())
def test_structural_mutations(tmp_path: Path, data: dict[str, Any]) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    check(path)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pos=st.integers(0, len(MINIMAL)), cut=st.integers(0, 5), insert=st.text(max_size=6))
def test_text_mutations(tmp_path: Path, pos: int, cut: int, insert: str) -> None:
    text = MINIMAL[:pos] + insert + MINIMAL[pos + cut :]
    path = tmp_path / "inv.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check(path)


def test_an_entry_that_does_not_parse_alone(tmp_path: Path) -> None:
    """Found by test_structural_mutations: a key of one line break makes the entry's text fail
    to parse on its own; the diagnostic's position then comes from the whole file (it raised
    UnboundLocalError)."""
    data = copy.deepcopy(BASE)
    data["snmp_profiles"]["\n"] = None
    data["groups"]["internal"]["port"] = 2222
    path = tmp_path / "inv.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    check(path)
