"""Every platform's facts are complete wherever they live (DESIGN: where a platform's facts live).

A platform is one row of ``govnet/data/platforms.yaml``; its other facts sit in tables, rules
and the lab, keyed by the same name. These tests name the platform and the table that misses
a row, so adding a platform (or a table) cannot silently leave a hole: collection falling back
to Cisco-style port names, a provisioning task without rules, a lab that refuses a command
govnet sends.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from govnet.inventory import load_inventory
from govnet.lab.shell import DEFAULTS, exec_command
from govnet.lab.vendors import VENDORS
from govnet.platforms import platforms
from govnet.provision.templates import TemplateSet

ROOT = Path(__file__).resolve().parents[2]
LAB_INVENTORY = ROOT / "inventory" / "lab.yaml"
SHIPPED_TEMPLATES = Path(str(resources.files("govnet").joinpath("data/playbooks/templates")))


def _rows(name: str) -> dict[str, Any]:
    text = resources.files("govnet").joinpath(f"data/{name}").read_text(encoding="utf-8")
    rows: dict[str, Any] = yaml.safe_load(text)["platforms"]
    return rows


def _missing(what: str, names: set[str]) -> list[str]:
    return [f"platform {n!r}: no row in {what}" for n in sorted(names)]


def test_every_table_row_names_a_known_platform() -> None:
    known = set(platforms())
    problems = [
        f"{table}: row {name!r} is not a platform of govnet/data/platforms.yaml"
        for table in ("tables.yaml", "provision.yaml")
        for name in sorted(set(_rows(table)) - known)
    ]
    problems += [
        f"govnet/lab/vendors.py: vendor {name!r} is not a platform of govnet/data/platforms.yaml"
        for name in sorted(set(VENDORS) - known)
    ]
    assert not problems, "\n".join(problems)


def test_platforms_that_print_mac_tables_have_a_tables_row() -> None:
    """Switch tables name ports in the vendor's short form: tables.yaml maps them back."""
    need = {name for name, p in platforms().items() if p.command("mac")}
    missing = need - set(_rows("tables.yaml"))
    assert not missing, "\n".join(
        _missing("govnet/data/tables.yaml (interfaces, own_arp)", missing)
    )


def test_platforms_with_templates_have_provisioning_rules() -> None:
    """A platform with shipped provisioning templates needs provision.yaml and the platform
    table's configuration-mode fields; a provision.yaml row needs templates to push."""
    shipped = set(TemplateSet(SHIPPED_TEMPLATES).platforms("baseline"))
    rules = set(_rows("provision.yaml"))
    problems = _missing("govnet/data/provision.yaml", shipped - rules)
    problems += [
        f"platform {n!r}: provision.yaml has a row but there is no "
        f"govnet/data/playbooks/templates/{n}/baseline.j2"
        for n in sorted(rules - shipped)
    ]
    for name in sorted(rules & set(platforms())):
        p = platforms()[name]
        for attr in ("hier_config", "config_enter", "config_exit", "save"):
            if getattr(p, attr) is None:
                problems.append(f"platform {name!r}: provisioned, but platforms.yaml has no {attr}")
    assert not problems, "\n".join(problems)


def test_provisionable_platforms_ship_every_task_template() -> None:
    rules = sorted(_rows("provision.yaml"))
    tasks = sorted({p.stem for p in SHIPPED_TEMPLATES.glob("*/*.j2")})
    problems = [
        f"platform {name!r}: no govnet/data/playbooks/templates/{name}/{task}.j2"
        for name in rules
        for task in tasks
        if not (SHIPPED_TEMPLATES / name / f"{task}.j2").is_file()
    ]
    assert not problems, "\n".join(problems)


def test_the_lab_serves_every_ssh_platform_of_its_inventory() -> None:
    inv = load_inventory(LAB_INVENTORY)
    served = {d.platform for d in inv.devices.values() if platforms()[d.platform].netmiko}
    problems = _missing("govnet/lab/vendors.py VENDORS", served - set(VENDORS))
    problems += [
        f"platform {name!r}: no seed configuration govnet/lab/seeds/defaults/{name}.cfg"
        for name in sorted(VENDORS)
        if not (DEFAULTS / f"{name}.cfg").is_file()
    ]
    problems += [
        f"platform {name!r}: a lab vendor, but platforms.yaml has no netmiko device type"
        for name in sorted(VENDORS)
        if name in platforms() and not platforms()[name].netmiko
    ]
    assert not problems, "\n".join(problems)


def test_the_lab_answers_every_command_govnet_sends() -> None:
    """Every command of a platform's row (and its save and config-mode words) is one the
    simulated device accepts: otherwise collection against the lab fails on that command."""
    problems = []
    for name, vendor in sorted(VENDORS.items()):
        if name not in platforms():
            continue
        p = platforms()[name]
        sent = {f"commands.{k}": v for k, v in p.commands.items()}
        sent.update({k: v for k in ("config_enter", "save") if (v := getattr(p, k))})
        for key, line in sorted(sent.items()):
            if exec_command(vendor, line) is None:
                problems.append(
                    f"platform {name!r}: the lab's vendor refuses {key} {line!r} "
                    "(add a Command to govnet/lab/vendors.py)"
                )
    assert not problems, "\n".join(problems)


# Known holes, each a real one (the test fails once one is filled, so the entry is removed with
# the fix). ntc-templates has no ruijie_os templates: govnet ships its own (govnet/data/textfsm).
NTC_GAPS: set[tuple[str, str]] = set()


def test_table_commands_have_an_ntc_template() -> None:
    """ARP and MAC tables are parsed with TextFSM (ntc-templates, else govnet's own
    templates): an index must have a template for the command the platform's row sends."""
    from govnet.collect.ntc import has_template

    gaps = {
        (name, what)
        for name, p in platforms().items()
        if p.templates and p.command("mac")
        for what in ("arp", "mac")
        if (cmd := p.command(what)) and not has_template(p.templates, cmd)
    }
    problems = [
        f"platform {n!r}: ntc-templates ({platforms()[n].templates}) has no template for "
        f"{w} {platforms()[n].command(w)!r}"
        for n, w in sorted(gaps - NTC_GAPS)
    ]
    problems += [
        f"platform {n!r}: {w} now parses: remove it from NTC_GAPS"
        for n, w in sorted(NTC_GAPS - gaps)
    ]
    assert not problems, "\n".join(problems)


def test_lldp_commands_have_a_template() -> None:
    """Discovery over SSH parses the platform's ``lldp`` (and ``cdp``) command with TextFSM:
    a platform that names one must have a template for it, or discovery skips its devices."""
    from govnet.collect.ntc import has_template

    problems = [
        f"platform {n!r}: no TextFSM template ({p.templates}) for {what} {p.command(what)!r}"
        for n, p in sorted(platforms().items())
        for what in ("lldp", "cdp")
        if (cmd := p.command(what)) and not (p.templates and has_template(p.templates, cmd))
    ]
    assert not problems, "\n".join(problems)
