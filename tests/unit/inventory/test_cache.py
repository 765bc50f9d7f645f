"""The validated-inventory cache and lazy terminals (issue 21)."""

from __future__ import annotations

import os
import pickle
import stat
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.errors import InventoryError
from govnet.inventory import cache as inv_cache
from govnet.inventory import load_inventory
from govnet.inventory.model import LazyTerminals, PackedTerminals
from tests.conftest import MINIMAL

CSV = "name,mac,ip,unit,zone,kind\npc-1,00-11-22-33-44-55,10.2.0.1,office,internal,printer\n"


@pytest.fixture
def inv_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GOVNET_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "inv"
    folder.mkdir()
    (folder / "inv.yaml").write_text(
        textwrap.dedent(MINIMAL) + "terminals_csv: [t.csv]\n", encoding="utf-8"
    )
    (folder / "t.csv").write_text(CSV, encoding="utf-8")
    return folder


def entries(tmp_path: Path) -> list[str]:
    return sorted(p.suffix for p in (tmp_path / "cache").iterdir() if p.name != "key")


def test_second_load_comes_from_the_cache_and_equals_a_full_load(
    inv_dir: Path, tmp_path: Path
) -> None:
    full = load_inventory(inv_dir)
    first = load_inventory(inv_dir, lazy_terminals=True, cache=True)
    assert len(first.terminals) == 1
    assert entries(tmp_path) == [".core", ".terminals"]
    warm = load_inventory(inv_dir, lazy_terminals=True, cache=True)
    assert isinstance(warm.terminals, LazyTerminals)
    assert warm.devices == full.devices and warm.zones == full.zones
    assert warm.devices["sw1"].credentials == full.devices["sw1"].credentials
    assert dict(warm.terminals) == dict(full.terminals)
    t = warm.terminals["pc-1"]
    assert (t.mac, str(t.ip), t.kind, t.source) == (
        "00:11:22:33:44:55",
        "10.2.0.1",
        "printer",
        f"{inv_dir / 't.csv'}:2",
    )


def test_cache_is_private(inv_dir: Path, tmp_path: Path) -> None:
    load_inventory(inv_dir, lazy_terminals=True, cache=True)
    folder = tmp_path / "cache"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_change_to_the_yaml_or_the_csv_is_seen(inv_dir: Path) -> None:
    load_inventory(inv_dir, lazy_terminals=True, cache=True).terminals.keys()
    yaml_path = inv_dir / "inv.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("role: core", "role: router"))
    inv = load_inventory(inv_dir, lazy_terminals=True, cache=True)
    assert inv.devices["sw2"].role == "router"
    (inv_dir / "t.csv").write_text(CSV.replace("printer", "camera"))
    inv = load_inventory(inv_dir, lazy_terminals=True, cache=True)
    assert inv.terminals["pc-1"].kind == "camera"


def test_an_error_in_a_changed_csv_is_reported_not_hidden_by_the_cache(inv_dir: Path) -> None:
    len(load_inventory(inv_dir, lazy_terminals=True, cache=True).terminals)
    (inv_dir / "t.csv").write_text(CSV.replace("00-11-22-33-44-55", "not-a-mac"))
    inv = load_inventory(inv_dir, lazy_terminals=True, cache=True)
    with pytest.raises(InventoryError) as info:
        len(inv.terminals)
    assert [str(d).split("t.csv:", 1)[1] for d in info.value.diagnostics] == [
        "2:2: mac: bad MAC address 'not-a-mac'"
    ]


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign-key"])
def test_a_corrupt_cache_falls_back_to_a_full_load(
    inv_dir: Path, tmp_path: Path, damage: str
) -> None:
    len(load_inventory(inv_dir, lazy_terminals=True, cache=True).terminals)
    folder = tmp_path / "cache"
    for entry in folder.iterdir():
        if damage == "foreign-key" and entry.name == "key":
            entry.write_bytes(os.urandom(32))
        elif damage == "truncate" and entry.name != "key":
            entry.write_bytes(entry.read_bytes()[:100])
        elif damage == "flip" and entry.name != "key":
            raw = bytearray(entry.read_bytes())
            raw[-10] ^= 0xFF
            entry.write_bytes(bytes(raw))
    inv = load_inventory(inv_dir, lazy_terminals=True, cache=True)
    assert inv.devices["sw1"].port == 2222 and inv.terminals["pc-1"].kind == "printer"


def test_a_cache_folder_open_to_others_is_closed_or_not_used(inv_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    load_inventory(inv_dir, lazy_terminals=True, cache=True)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_lazy_terminals_are_not_read_until_used(inv_dir: Path) -> None:
    inv = load_inventory(inv_dir, lazy_terminals=True)
    (inv_dir / "t.csv").unlink()  # gone after the load: only a use of terminals notices
    assert inv.devices["sw1"].zone == "internal"
    with pytest.raises(InventoryError, match="error"):
        len(inv.terminals)


def test_yaml_errors_report_the_csv_errors_too(inv_dir: Path) -> None:
    (inv_dir / "t.csv").write_text(CSV.replace("office", "nowhere"))
    yaml_path = inv_dir / "inv.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("role: core", "role: kernel"))
    with pytest.raises(InventoryError) as info:
        load_inventory(inv_dir, lazy_terminals=True)
    messages = [str(d) for d in info.value.diagnostics]
    assert any("devices.sw2.role" in m for m in messages)
    assert any("t.csv:2:4: unit: unknown unit 'nowhere'" in m for m in messages)


def test_packed_terminals_round_trip(inv_dir: Path) -> None:
    full = load_inventory(inv_dir)
    assert isinstance(full.terminals, PackedTerminals)
    columns = PackedTerminals.pack(full.terminals)
    assert dict(PackedTerminals(columns)) == dict(full.terminals)
    with pytest.raises(ValueError):
        PackedTerminals(columns[:3])


@pytest.mark.parametrize("kind", ["plain", "unusual"])
def test_encoded_terminals_decode_to_the_same_terminals(kind: str) -> None:
    n = 5
    columns: tuple[list[Any], ...] = (
        [f"pc-{i}" for i in range(n)],
        [f"00:11:22:33:44:{i:02x}" for i in range(n)],
        ["office", "office", "lab", "office", "lab"],
        ["internal"] * n,
        [167772161 + i for i in range(n)],
        ["pc", "printer", "pc", "pc", "pc"],
        [f"用户{i}" for i in range(n)],
        ["win10"] * n,
        [f"/x/t.csv:{i + 2}" for i in range(n)],
    )
    if kind == "unusual":  # a missing IP, an IPv6 one, no owner, a line break in a cell
        columns[4][1], columns[4][2] = None, "2001:db8::1"
        columns[6][3], columns[6][4] = None, "two\nlines"
        columns[7][0] = None
        columns[8][1] = "/y/inv.yaml:7"  # a terminal from another file
    encoded = PackedTerminals.encode(columns)
    assert dict(PackedTerminals.decode(encoded)) == dict(PackedTerminals(columns))
    # what the cache holds is nothing but plain values (pickle needs no govnet class)
    assert "govnet" not in repr(pickle.dumps(encoded))
    empty: tuple[list[Any], ...] = tuple([] for _ in PackedTerminals.FIELDS)
    assert dict(PackedTerminals.decode(PackedTerminals.encode(empty))) == {}


def test_a_cache_of_another_format_or_code_is_not_used(
    inv_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    len(load_inventory(inv_dir, lazy_terminals=True, cache=True).terminals)
    before = {p.name: p.read_bytes() for p in (tmp_path / "cache").iterdir()}
    loads: list[int] = []
    real = pickle.loads

    def counted(data: Any) -> Any:
        loads.append(1)
        return real(data)

    monkeypatch.setattr(pickle, "loads", counted)
    load_inventory(inv_dir, lazy_terminals=True, cache=True)
    assert loads  # the same version reads its own entry
    loads.clear()
    monkeypatch.setattr(inv_cache, "FORMAT", b"govnet-inventory-cache-999\n")
    inv = load_inventory(inv_dir, lazy_terminals=True, cache=True)
    assert not loads and inv.devices["sw1"].port == 2222  # an older layout: refused unread
    monkeypatch.undo()
    monkeypatch.setenv("GOVNET_CACHE_DIR", str(tmp_path / "cache"))
    for name, data in before.items():  # an entry of other code under the same format
        (tmp_path / "cache" / name).write_bytes(data)
    monkeypatch.setattr(inv_cache, "code_fingerprint", lambda: b"another govnet")
    monkeypatch.setattr(pickle, "loads", counted)
    inv = load_inventory(inv_dir, lazy_terminals=True, cache=True)
    assert inv.devices["sw1"].port == 2222 and inv.terminals["pc-1"].kind == "printer"
    assert not loads  # refused unread, and written again for this code:
    core = next(name for name in before if name.endswith(".core"))
    assert (tmp_path / "cache" / core).read_bytes() != before[core]


def test_cli_no_cache_and_audit_without_terminal_rules(inv_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--no-cache", "-i", str(inv_dir), "inventory", "validate"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "cache").exists()
    result = runner.invoke(cli, ["-i", str(inv_dir), "inventory", "validate"])
    assert result.exit_code == 0 and "1 terminals" in result.output
    assert entries(tmp_path) == [".core", ".terminals"]
    (inv_dir / "t.csv").write_text("name,mac\n\x00")  # broken, but audit never reads it
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "sw1.cfg").write_text("sysname sw1\n")
    result = runner.invoke(
        cli,
        [
            "-i",
            str(inv_dir),
            "audit",
            "--limit",
            "sw1",
            "--from-dir",
            str(configs),
            "--no-store",
            "-f",
            "json",
        ],
    )
    assert result.exit_code in (0, 1), result.output
    result = runner.invoke(cli, ["-i", str(inv_dir), "inventory", "validate"])
    assert result.exit_code == 2 and "t.csv" in result.output


def test_packed_terminals_are_whole_terminals(inv_dir: Path) -> None:
    import dataclasses

    from govnet.inventory.model import Terminal

    assert tuple(f.name for f in dataclasses.fields(Terminal)) == PackedTerminals.FIELDS
    for inv in (load_inventory(inv_dir), load_inventory(inv_dir, lazy_terminals=True, cache=True)):
        made = list(inv.terminals.values())
        assert made and [t.name for t in made] == list(inv.terminals)
        assert dict(inv.terminals.items()) == {t.name: t for t in made}
        for t in made:
            assert Terminal(**vars(t)) == t and hash(t) == hash(Terminal(**vars(t)))
            assert inv.terminals[t.name] is t  # one object per terminal
