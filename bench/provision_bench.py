"""Provisioning figures: the 等保 baseline planned and applied to 50 lab devices.

A generated fleet (bench/lab_bench.py's ``write_inventory``: Huawei, H3C and Cisco switches in
turn, each with the platform's default configuration) gets the vars the baseline templates
need, then: plan (fetch + remediation), apply (back up, push, verify, save), apply again
(nothing to change). Prints wall time and devices per second; asserts nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab_bench import write_inventory

from govnet.inventory import load_inventory
from govnet.lab import launcher
from govnet.provision.service import ProvisionOptions, apply_devices, plan_devices
from govnet.provision.tasks import Job, get_task, parse_args
from govnet.provision.templates import TemplateSet
from govnet.store.db import Store

N = int(os.environ.get("GOVNET_BENCH_DEVICES", "50"))
WORKERS = int(os.environ.get("GOVNET_BENCH_WORKERS", "16"))
TEMPLATES = Path(__file__).resolve().parent.parent / "playbooks" / "templates"


def provisioning_inventory(folder: Path, n: int) -> Path:
    path = write_inventory(folder, n)
    (folder / "snmp-auth").write_text("Bench-Auth-Key-2026\n")
    (folder / "snmp-priv").write_text("Bench-Priv-Key-2026\n")
    inv = yaml.safe_load(path.read_text())
    inv["defaults"]["vars"] = {
        "syslog": "10.0.0.10",
        "ntp": "10.0.0.10",
        "mgmt_net": "10.0.0.0/24",
        "snmp_v3": {
            "user": "govnet-v3",
            "group": "govnet-ro",
            "auth_key": "file:snmp-auth",
            "priv_key": "file:snmp-priv",
        },
    }
    path.write_text(yaml.safe_dump(inv))
    return path


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = provisioning_inventory(folder, N)
        inv = load_inventory(path)
        store = Store.open(f"sqlite:///{folder / 'store.sqlite'}")
        os.environ["GOVNET_KNOWN_HOSTS"] = str(folder / "known_hosts")  # a throwaway lab's keys
        task = get_task("baseline")
        job = Job(task, parse_args(task, []), inv, TemplateSet(TEMPLATES))
        targets = job.select(list(inv.devices.values()), filtered=True)
        options = ProvisionOptions(workers=WORKERS)
        state = folder / "state"
        launcher.up(path, state, wait=60)
        try:
            t0 = time.perf_counter()
            plans = plan_devices(job, targets, options)
            plan_s = time.perf_counter() - t0
            lines = sum(len(p.commands) for p in plans)
            print(
                f"plan baseline, {N} devices:      {plan_s:6.2f} s  {N / plan_s:6.1f} devices/s  "
                f"({lines} lines to send, {Counter(p.status for p in plans)})"
            )

            t1 = time.perf_counter()
            _, results = apply_devices(job, targets, store, options)
            apply_s = time.perf_counter() - t1
            rate = N / apply_s
            print(
                f"apply baseline, {N} devices:     {apply_s:6.2f} s  {rate:6.1f} devices/s  "
                f"({Counter(r.status for r in results)})"
            )
            for r in results:
                if r.status != "changed":
                    print(f"  {r.device}: {r.status}: {r.message}")

            t2 = time.perf_counter()
            _, again = apply_devices(job, targets, store, options)
            again_s = time.perf_counter() - t2
            rate = N / again_s
            print(
                f"apply again (idempotent):         {again_s:6.2f} s  {rate:6.1f} devices/s  "
                f"({Counter(r.status for r in again)})"
            )
            print(
                f"workers: {WORKERS}; per device: plan {plan_s / N * WORKERS:5.2f} s, "
                f"apply {apply_s / N * WORKERS:5.2f} s of one worker's time"
            )
        finally:
            launcher.down(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
