"""Firewall policy figures: a Huawei USG and an H3C SecPath configuration with N security-policy
rules (default 2,000 each; address sets/object groups, zones, a few cross-zone permits seeded)
read and judged by the four fw.* checks and the isolation check's policy analysis.

Prints figures; asserts only that the seeded cross-zone permits are found (a wrong answer fast
is no figure).

    python bench/firewall_bench.py
    GOVNET_BENCH_RULES=10000 python bench/firewall_bench.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govnet.checks.engine import DeviceFacts
from govnet.checks.kinds.firewall import FirewallParams, FirewallPolicyKind
from govnet.collect.interfaces import read_config
from govnet.core.configtext import parse_config
from govnet.inventory import load_inventory
from govnet.inventory.model import Device, Inventory
from govnet.isolation.firewall import read_policy
from govnet.isolation.static import ZoneMap, policy_leaks

ROOT = Path(__file__).resolve().parent.parent
SEEDED_EVERY = 500  # one permit into the other zone per this many rules


def usg(rules: int) -> str:
    out = [" sysname fw", "#"]
    out += ["interface GigabitEthernet1/0/1", " ip address 10.10.8.1 255.255.255.0", "#"]
    out += ["interface GigabitEthernet1/0/2", " ip address 10.10.9.1 255.255.255.0", "#"]
    out += ["firewall zone trust", " add interface GigabitEthernet1/0/1", "#"]
    out += ["firewall zone dmz", " add interface GigabitEthernet1/0/2", "#"]
    for i in range(rules // 10):
        out += [f"ip address-set SET{i} type object", f" address 0 10.10.{i % 250}.0 mask 24", "#"]
    out += ["security-policy", " default policy logging"]
    for i in range(rules):
        dst = "172.20.0.20 32" if i % SEEDED_EVERY == 7 else f"10.10.9.{i % 250} 32"
        out += [
            f" rule name r{i}",
            "  source-zone trust",
            "  destination-zone dmz",
            f"  source-address address-set SET{i // 10}",
            f"  destination-address {dst}",
            "  service https",
            "  action permit",
            "  session logging",
        ]
    return "\n".join([*out, "#", "return", ""])


def secpath(rules: int) -> str:
    out = [" sysname fw", "#"]
    out += ["interface GigabitEthernet1/0/1", " ip address 172.20.8.1 255.255.255.0", "#"]
    out += ["interface GigabitEthernet1/0/2", " ip address 202.96.134.2 255.255.255.252", "#"]
    out += ["security-zone name Trust", " import interface GigabitEthernet1/0/1", "#"]
    out += ["security-zone name Untrust", " import interface GigabitEthernet1/0/2", "#"]
    for i in range(rules // 10):
        out += [
            f"object-group ip address G{i}",
            f" 0 network subnet 172.20.{i % 250}.0 255.255.255.0",
        ]
    out += ["#", "security-policy ip"]
    for i in range(rules):
        dst = "10.10.9.0 255.255.255.0" if i % SEEDED_EVERY == 7 else "202.96.1.0 255.255.255.0"
        out += [
            f" rule {i} name r{i}",
            "  action pass",
            "  logging enable",
            "  source-zone Trust",
            "  destination-zone Untrust",
            f"  source-ip G{i // 10}",
            f"  destination-ip-subnet {dst}",
        ]
    return "\n".join([*out, "#", "return", ""])


def run(inventory: Inventory, device: Device, text: str) -> None:
    t0 = time.perf_counter()
    cfg = parse_config(text)
    t1 = time.perf_counter()
    policy = read_policy(cfg, device.platform)
    t2 = time.perf_counter()
    kind = FirewallPolicyKind()
    facts = DeviceFacts(device.name, text)
    facts.cache["config.parsed"] = cfg
    for require in ("default-deny", "no-any-any-permit", "deny-logging", "policy-log-syslog"):
        kind.evaluate(device, facts, FirewallParams(require=require))  # type: ignore[arg-type]
    t3 = time.perf_counter()
    leaks = policy_leaks(policy, read_config(cfg, device.platform), inventory, ZoneMap(inventory))
    t4 = time.perf_counter()
    rules = len(policy.rules)
    expected = len(range(7, rules, SEEDED_EVERY))
    assert len(leaks) == expected, (len(leaks), expected)
    print(
        f"{device.platform:12} {rules:6d} rules, {len(text.splitlines()):7d} lines: "
        f"parse {1000 * (t1 - t0):7.1f} ms, read policy {1000 * (t2 - t1):7.1f} ms, "
        f"4 fw checks {1000 * (t3 - t2):7.1f} ms, isolation {1000 * (t4 - t3):7.1f} ms "
        f"({rules / (t4 - t0):,.0f} rules/s end to end; {len(leaks)} cross-zone permits found)"
    )


def main() -> None:
    rules = int(os.environ.get("GOVNET_BENCH_RULES", "2000"))
    inventory = load_inventory(ROOT / "tests" / "fixtures" / "isolation" / "firewalls.yaml")
    run(inventory, inventory.devices["int-fw"], usg(rules))
    run(inventory, inventory.devices["ext-fw"], secpath(rules))


if __name__ == "__main__":
    main()
