"""Positions found late give what positions found at once give.

The inventory loader keeps only the positions of sections and their entries while parsing;
a position below an entry (``devices.sw-1.address``) is found when a diagnostic needs it, by
parsing that entry's text alone (or the whole file again when the entry's text does not come
out where it was). Every error and warning must read exactly as with every position kept —
here on a province-like inventory broken in many places, in flow and block style, with
Chinese text before the errors (columns count characters) and CRLF line ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from govnet import yamlsrc
from govnet.errors import InventoryError
from govnet.inventory import load_inventory, loader
from tests.conftest import MINIMAL

BROKEN = """
  sw-block:
    address: 10.2.0.1
    zone: internal
    site: town
    unit: office
    groups:
      - huawei-access
      - no-such-group
    vars: {enable_password: plain-text}
  sw-bad-ip: {address: 10.0.0.256, site: town, zone: internal, platform: huawei, role: access}
  "sw-quoted": {address: 10.0.0.9, site: 镇, zone: internal, platform: huawei, role: access}
  sw-outside: {address: 172.16.9.9, site: town, zone: internal, platform: huawei, role: access}
  sw-extra: {address: 10.0.0.10, site: town, zone: internal, platform: huawei, role: acces,
             colour: blue}
  sw-nested:
    label: {zh: 交换机}
    address: 10.0.0.11
  sw-multi: {
      address: 10.0.0.12, site: town, zone: internal,
      platform: huawei, role: access, port: 70000}
terminals:
  - {name: pc-1, mac: 00:11:22:33:44:55, unit: office, zone: internal, ip: 10.0.0.300}
  - name: pc-2
    mac: 00:11:22:33:44:zz
    unit: 办公室
    zone: internal
services:
  web:
    zone: internal
    unit: office
    probes:
      - {kind: http, url: ftp://x}
      - kind: tcp
        host: 10.0.0.1
        port: 0
"""


def province_like(n: int = 300) -> str:
    lines = [
        f"  sw-{d:04d}: {{address: 10.1.{d >> 8}.{d & 255}, site: town, unit: office, "
        f"groups: [huawei-access, internal]}}\n"
        for d in range(n)
    ]
    return (
        MINIMAL
        + "".join(lines[: n // 2])
        + BROKEN.lstrip("\n").split("terminals:")[0]
        + "".join(lines[n // 2 :])
        + "terminals:"
        + BROKEN.split("terminals:")[1]
    )


def messages(path: Path) -> list[str]:
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    return [str(d) for d in info.value.diagnostics]


def every_position(monkeypatch: pytest.MonkeyPatch) -> None:
    real = yamlsrc.load_yaml_bytes

    def eager(raw: bytes, name: str, lazy: bool = False) -> Any:
        return real(raw, name)

    monkeypatch.setattr(loader, "load_yaml_bytes", eager)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_late_positions_read_as_early_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, newline: str
) -> None:
    path = tmp_path / "province.yaml"
    path.write_bytes(province_like().replace("\n", newline).encode())
    late = messages(path)
    every_position(monkeypatch)
    early = messages(path)
    assert late == early
    assert len(late) >= 12
    # the two-level-deep group in block style, after 150 flow lines
    line = 1 + province_like().split("\n").index("      - no-such-group")
    assert any(f"province.yaml:{line}:9: devices.sw-block.groups[1]" in m for m in late), late


def test_a_fragment_that_does_not_fit_falls_back_to_the_whole_file(tmp_path: Path) -> None:
    text = MINIMAL + "  sw3: {address: 10.0.0.3, site: town, zone: nowhere, role: access}\n"
    doc, _ = yamlsrc.load_yaml(text, "x.yaml", lazy=True)
    full, _ = yamlsrc.load_yaml(text, "x.yaml")
    assert doc is not None and full is not None and doc.lazy is not None
    assert ("devices", "sw3", "zone") not in doc.positions  # not kept while parsing
    doc.lazy.ends[("devices", "sw3")] = (1, 1)  # a wrong end: the fragment cannot match
    assert doc.where(("devices", "sw3", "zone")) == full.where(("devices", "sw3", "zone"))
    assert doc.lazy is None and doc.positions == full.positions


def test_a_lazy_document_found_by_entry(tmp_path: Path) -> None:
    text = MINIMAL + "  sw3: {address: 10.0.0.3, site: town, zone: nowhere, role: access}\n"
    doc, _ = yamlsrc.load_yaml(text, "x.yaml", lazy=True)
    full, _ = yamlsrc.load_yaml(text, "x.yaml")
    assert doc is not None and full is not None and doc.lazy is not None
    assert doc.where(("devices", "sw3", "zone")) == full.where(("devices", "sw3", "zone"))
    assert doc.lazy is not None  # the entry alone was parsed, not the file
    assert all(full.positions[p] == w for p, w in doc.positions.items())


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{1,4}){2,5}\Z"))
def test_dotted_numbers_are_strings_to_the_resolver(text: str) -> None:
    # the parser takes such a scalar as a string without asking the resolver: it must agree
    assert yamlsrc._DOTTED_NUMBERS(text) is not None
    resolved = yamlsrc._Loader("").resolve(yaml.ScalarNode, text, (True, False))
    assert resolved == "tag:yaml.org,2002:str"
    assert yamlsrc.load_yaml(f"a: {text}\n", "x")[0].data == {"a": text}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "tail",
    [
        "  1: {address: 10.0.0.300, site: town}\n",  # a number as the entry's key
        "  sw3:\n    address: 10.0.0.3\n    site: town\n    zone: [internal]\n",
        "  sw3: {address: 10.0.0.3,\n        site: town, zone: nowhere}  # a comment\n",
        'terminals:\n- {name: "pc 1", mac: x}\n-\n  name: pc-2\n  mac: y\n',
    ],
)
def test_late_positions_of_unusual_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tail: str
) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(MINIMAL + tail, encoding="utf-8")
    late = messages(path)
    every_position(monkeypatch)
    assert late == messages(path) and late
