"""Bounded inputs (issue 12 item 2): alias bombs, huge or endless files, deep nesting.

Each case must end as an exit-2 input error naming file:line, quickly and in little memory.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.errors import InventoryError
from govnet.inventory import load_inventory
from govnet.yamlsrc import load_yaml
from tests.conftest import MINIMAL

Writer = Callable[..., Path]

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def errors_of(path: Path) -> list[str]:
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    return [str(d) for d in info.value.diagnostics if d.severity == "error"]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_billion_laughs_stops_at_the_alias_budget(write_inventory: Writer) -> None:
    before = rss_mib()
    errors = errors_of(write_inventory(BILLION_LAUGHS))
    assert len(errors) == 1
    where, path, message = errors[0].split(": ", 2)
    assert where.endswith("inv.yaml:7:1") and path.startswith("g[")  # 9**7 nodes: over the cap
    assert message.startswith("aliases expand to more than 1,000,000 nodes")
    assert rss_mib() - before < 400  # the old builder grew to 8.5 GB


def test_alias_budget_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "a: &a [1, 2, 3]\nb: [*a, *a]\n"
    doc, diags = load_yaml(text, "x.yaml")
    assert diags == [] and doc is not None and doc.data["b"] == [[1, 2, 3], [1, 2, 3]]
    monkeypatch.setenv("GOVNET_LIMITS", "yaml_alias_nodes=5")
    doc, diags = load_yaml(text, "x.yaml")
    assert doc is None
    assert [str(d) for d in diags] == [
        "x.yaml:2:1: b[1]: aliases expand to more than 5 nodes (an alias bomb?); "
        "raise it with GOVNET_LIMITS=yaml_alias_nodes=… if this is meant"
    ]
    monkeypatch.delenv("GOVNET_LIMITS")
    monkeypatch.setenv("GOVNET_MAX_YAML_ALIAS_NODES", "5")  # deprecated, still honoured
    doc, diags = load_yaml(text, "x.yaml")
    assert doc is None and "more than 5 nodes" in str(diags[0])


def test_anchors_and_merge_keys_still_work(write_inventory: Writer) -> None:
    text = MINIMAL.replace(
        "  huawei-access: {platform: huawei, role: access, tags: [a]}",
        "  huawei-access: &acc {platform: huawei, role: access, tags: [a]}\n"
        "  huawei-core: {<<: *acc, role: core}",
    )
    inv = load_inventory(write_inventory(text))
    assert inv.devices["sw1"].role == "access"


def test_recursive_alias_is_a_depth_error(write_inventory: Writer) -> None:
    errors = errors_of(write_inventory("devices: &x {a: [*x]}\n"))
    assert len(errors) == 1 and "nested more than 64 levels deep" in errors[0]
    assert errors[0].split(": ", 1)[0].endswith("inv.yaml:1:14")  # devices.a[0].a[0]…: key a


def test_deep_nesting_names_the_line(write_inventory: Writer) -> None:
    deep = "[" * 80 + "]" * 80
    text = MINIMAL.replace("office,", f"office, vars: {{x: {deep}}},", 1)
    errors = errors_of(write_inventory(text))
    assert len(errors) == 1
    assert (
        ":22:142: devices.sw1.vars.x[0][0]…: " in errors[0]
        and "nested more than 64 levels deep" in errors[0]
    )


def test_inventory_over_its_size_cap(
    write_inventory: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_inventory(MINIMAL + "# " + "x" * (2 << 20) + "\n")
    monkeypatch.setenv("GOVNET_LIMITS", "inventory_bytes=1M")
    (error,) = errors_of(path)
    assert error == (
        f"{path}: 2 MiB is larger than the 1 MiB limit for this kind of file "
        "(raise it with GOVNET_LIMITS=inventory_bytes=…)"
    )
    monkeypatch.setenv("GOVNET_LIMITS", "inventory_bytes=3M")
    monkeypatch.setenv("GOVNET_MAX_INVENTORY_MB", "1")  # deprecated; GOVNET_LIMITS wins
    assert load_inventory(path).devices


def test_terminals_csv_over_its_size_cap(
    write_inventory: Writer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "t.csv").write_text("name,mac,unit,zone\n" + "x" * (2 << 20) + "\n")
    monkeypatch.setenv("GOVNET_MAX_TERMINALS_MB", "1")
    (error,) = errors_of(write_inventory(MINIMAL + "terminals_csv: [t.csv]\n"))
    assert ":24:" in error and "larger than the 1 MiB limit" in error


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused_at_once(write_inventory: Writer) -> None:
    (error,) = errors_of(Path("/dev/zero"))
    assert error == "/dev/zero: a device, not a regular file: give a file"
    (error,) = errors_of(write_inventory(MINIMAL + "terminals_csv: [/dev/zero]\n"))
    assert "terminals_csv[0]: terminals CSV /dev/zero: a device, not a regular file" in error
    result = CliRunner().invoke(cli, ["-i", "/dev/zero", "inventory", "validate"])
    assert result.exit_code == 2 and "not a regular file" in result.output


def test_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "inv.yaml"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer exists: open() does not block
    try:
        (error,) = errors_of(fifo)
    finally:
        os.close(fd)
    assert "not a regular file" in error


def test_csv_cell_over_the_field_limit_names_the_row(
    write_inventory: Writer, tmp_path: Path
) -> None:
    (tmp_path / "t.csv").write_text(
        "name,mac,unit,zone,owner\n"
        "pc-1,00:11:22:33:44:55,office,internal,a\n"
        f'pc-2,00:11:22:33:44:56,office,internal,"{"x" * 200_000}"\n'
    )
    (error,) = errors_of(write_inventory(MINIMAL + "terminals_csv: [t.csv]\n"))
    assert error.split("t.csv:", 1)[1].startswith("3:1: bad CSV: field larger than field limit")
