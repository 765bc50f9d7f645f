"""Shared fixtures: paths of the shipped data, and a writer for throw-away inventories."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAB_INVENTORY = ROOT / "inventory" / "lab.yaml"

MINIMAL = """
zones:
  internal: {isolated_from: [external], pools: {prefixes: [10.0.0.0/8], vlans: [100-199]}}
  external: {pools: {prefixes: [172.16.0.0/12]}}
sites:
  city: {level: city}
  county: {level: county, parent: city}
  town: {level: town, parent: county}
units:
  office: {site: town, zones: [internal]}
credentials:
  ops: {username: admin, password: env:GOVNET_TEST_PASSWORD}
snmp_profiles:
  v2: {version: "2c", community: env:GOVNET_TEST_COMMUNITY}
defaults:
  credentials: ops
  snmp_profile: v2
groups:
  huawei-access: {platform: huawei, role: access, tags: [a]}
  internal: {zone: internal, tags: [b], port: 2222}
devices:
  sw1: {host: 127.0.0.1, address: 10.1.1.1, site: town, unit: office, groups: [huawei-access, internal]}
  sw2: {host: 127.0.0.2, address: 172.16.1.1, site: county, zone: external, platform: cisco_ios, role: core}
"""


@pytest.fixture(autouse=True)
def _no_machine_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """A govnet.yaml in /etc/govnet or ~/.config must not change what the tests see."""
    monkeypatch.setenv("GOVNET_CONFIG", os.devnull)


@pytest.fixture
def write_inventory(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML text (dedented) to tmp_path/name and return its path."""

    def write(text: str, name: str = "inv.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
