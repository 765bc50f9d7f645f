"""The loader's fast paths give what the general paths give (issue 21).

An unquoted terminals CSV is checked a chunk of rows at a time, column by column; a quoted one
row by row through the csv module and the model. Both must give the same terminals, warnings
and errors (file:line:column) — here on a CSV long enough for several chunks, with bad rows
spread through it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govnet.errors import InventoryError
from govnet.inventory import load_inventory, loader
from govnet.inventory.model import Device, DeviceSpec
from tests.conftest import LAB_INVENTORY, MINIMAL

HEADER = ["名称", "MAC地址", "IP地址", "单位", "所属网络", "类型", "使用人"]


def rows(bad: bool) -> list[list[str]]:
    out = []
    for i in range(4000):  # four chunks: the last without anything unusual
        ip = f"10.1.{i >> 8}.{i & 255}" if i % 7 else ""
        out.append(
            [
                f"pc-{i:05d}",
                f"00-1A-2B-00-{i >> 8:02X}-{i & 255:02X}",
                ip,
                "office",
                "internal",
                "laptop" if i % 5 == 0 else "",
                f"用户{i}" if i % 3 else "",
            ]
        )
    out[1500][1] = "00:1a:2b:99:00:01"  # another notation in the middle of a chunk
    out[2100][2] = "2001:db8::1"  # IPv6: outside internal's (IPv4) pools, a warning
    out[2200][1] = "001a.2b99.0002"
    out[700].append("")  # a cell too many here, one too few next: the same count of commas
    out[701].pop()
    if bad:
        out[10][1] = "not-a-mac"
        out[1200][0] = "pc-00003"  # a name twice
        out[1800][3] = "nowhere"
        out[2500][2] = "172.16.0.9"  # outside internal's pools: a warning
        out[2600][5] = "toaster"
        out[2999][2] = "10.1.300.1"
    return out


def write(folder: Path, data: list[list[str]], quoted: bool) -> Path:
    folder.mkdir()
    cell = (lambda v: f'"{v}"') if quoted else (lambda v: v)
    lines = [",".join(map(cell, row)) for row in [HEADER, *data]]
    (folder / "t.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    yaml = MINIMAL + "terminals_csv: [t.csv]\n"
    (folder / "inv.yaml").write_text(yaml, encoding="utf-8")
    return folder / "inv.yaml"


def outcome(path: Path) -> tuple[list[str], list[str], list[tuple[str, ...]]]:
    folder = str(path.parent)
    try:
        inv = load_inventory(path)
    except InventoryError as exc:
        return [str(d).replace(folder, "") for d in exc.diagnostics], [], []
    terminals = [dataclasses.astuple(t) for t in inv.terminals.values()]
    shown = [tuple(str(v).replace(folder, "") for v in t) for t in terminals]
    return [], [str(w).replace(folder, "") for w in inv.warnings], shown


@pytest.mark.parametrize("bad", [False, True])
def test_unquoted_csv_loads_as_the_quoted_one(
    tmp_path: Path, bad: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk = loader._bulk_columns
    chunks: list[bool] = []

    def counted(*args: Any) -> bool:
        chunks.append(bulk(*args))
        return chunks[-1]

    monkeypatch.setattr(loader, "_bulk_columns", counted)
    data = rows(bad)
    fast = outcome(write(tmp_path / "plain", data, quoted=False))
    assert len(chunks) > 2 and (bad or any(chunks))  # several chunks, column by column
    slow = outcome(write(tmp_path / "quoted", data, quoted=True))
    assert fast == slow
    errors, warnings, terminals = fast
    if bad:
        assert [e.split("t.csv:")[1].split(":")[:2] for e in errors] == [
            ["12", "2"],
            ["1202", "1"],
            ["1802", "4"],
            ["2102", "3"],
            ["2502", "3"],
            ["2602", "6"],
            ["3001", "3"],
        ]
    else:
        assert not errors and len(terminals) == 4000
        assert [w.split("t.csv:")[1].split(":")[:2] for w in warnings] == [["2102", "3"]]


def test_devices_carry_every_field() -> None:
    inv = load_inventory(LAB_INVENTORY)
    names = {f.name for f in dataclasses.fields(Device)}
    for device in inv.devices.values():
        assert set(vars(device)) == names
        assert Device(**vars(device)) == device


def test_a_bad_device_is_still_located(write_inventory: Callable[..., Path]) -> None:
    text = MINIMAL + "  extra-1: {address: 10.0.0.9, port: 70000}\n"
    with pytest.raises(InventoryError) as info:
        load_inventory(write_inventory(text))
    messages = [str(d) for d in info.value.diagnostics if d.severity == "error"]
    assert any("devices.extra-1.port" in m and "inv.yaml:" in m for m in messages), messages


# A device's fields without the model (loader._plain_device) must be exactly what DeviceSpec
# makes of the same mapping, or left to the model: never a value the model would change or refuse.
_device_values = st.one_of(
    st.sampled_from(
        [
            "core-1",
            "internal",
            " internal",
            "internal\n",
            "bad name",
            "-x",
            "access",
            "Access",
            "10.0.0.1",
            "10.0.0.01",
            "10.0.0.1 ",
            "2001:db8::1",
            "300.1.1.1",
            "huawei",
            " huawei ",
            "",
            "描述",
            "aa:bb:cc:dd:ee:ff",
        ]
    ),
    st.none(),
    st.booleans(),
    st.integers(-2, 70000),
    st.lists(st.sampled_from(["g1", "g-2", " g", "g\n", "", "组"]), max_size=3),
    st.dictionaries(st.sampled_from(["a", "key"]), st.integers(), max_size=2),
)
_device_keys = st.sampled_from(
    [
        "address",
        "zone",
        "site",
        "unit",
        "groups",
        "tags",
        "role",
        "platform",
        "description",
        "credentials",
        "snmp_profile",
        "host",
        "port",
        "vars",
        "mac",
        "jump",
        "nonsense",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_device_keys, _device_values, max_size=6))
def test_a_plain_device_is_what_the_model_makes_of_it(raw: dict[str, Any]) -> None:
    fields = loader._plain_device(raw)
    if fields is loader._UNCHECKED:
        return
    spec = DeviceSpec.model_validate(raw)  # accepted by the model too …
    defaults = {
        k: f.get_default(call_default_factory=True) for k, f in DeviceSpec.model_fields.items()
    }
    assert {**defaults, **fields} == spec.__dict__  # … with the same values
    assert {k: type(v) for k, v in fields.items()} == {k: type(vars(spec)[k]) for k in fields}


def test_the_province_s_devices_are_plain() -> None:
    raw = {"address": "10.1.2.3", "zone": "internal", "site": "county-001", "unit": "unit-001"}
    assert loader._plain_device({**raw, "groups": ["huawei-access"]}) is not loader._UNCHECKED
