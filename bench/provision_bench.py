"""Provisioning figures: the 等保 baseline planned and applied to 50 lab devices.

A generated fleet (bench/lab_bench.py's ``write_inventory``: Huawei, H3C and Cisco switches in
turn, each with the platform's default configuration) gets the vars the baseline templates
need, then: plan (fetch + remediation), apply (back up, push, verify, save), apply again
(nothing to change). Then the same fleet started from the weak configurations
(tests/fixtures/provision/<platform>/start/weak.cfg): apply time per device and platform over
SSH. Then the generated-config properties (tests/provision_sim) on the lab's shells in
process: examples per second and the rollback success rate with a line refused at a random
place of the push (GOVNET_BENCH_EXAMPLES per platform, default 1000). Prints figures;
asserts nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab_bench import write_inventory

from govnet.inventory import load_inventory
from govnet.lab import launcher
from govnet.provision.operations import ProvisionOptions, apply_devices, plan_devices
from govnet.provision.tasks import Job, get_task, parse_args
from govnet.provision.templates import TemplateSet
from govnet.store.db import Store

N = int(os.environ.get("GOVNET_BENCH_DEVICES", "50"))
EXAMPLES = int(os.environ.get("GOVNET_BENCH_EXAMPLES", "1000"))
ROOT = Path(__file__).resolve().parent.parent
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


def weak_fleet(folder: Path) -> None:
    """Every device of the fleet starts from its platform's weak configuration."""
    inv = yaml.safe_load((folder / "bench.yaml").read_text())
    for name, device in inv["devices"].items():
        seed = ROOT / "tests/fixtures/provision" / device["platform"] / "start" / "weak.cfg"
        (folder / "lab-data" / name).mkdir(parents=True, exist_ok=True)
        text = seed.read_text(encoding="utf-8").replace("{hostname}", name)
        (folder / "lab-data" / name / "running.cfg").write_text(text, encoding="utf-8")


def weak_apply(job: Job, targets: list[Any], options: ProvisionOptions, folder: Path) -> None:
    path = folder / "bench.yaml"
    weak_fleet(folder)
    state = folder / "state-weak"
    store = Store.open(f"sqlite:///{folder / 'store-weak.sqlite'}")
    launcher.up(path, state, wait=60)
    try:
        t0 = time.perf_counter()
        _, results = apply_devices(job, targets, store, options)
        wall = time.perf_counter() - t0
    finally:
        launcher.down(state)
    by: dict[str, list[float]] = {}
    for r in results:
        by.setdefault(r.platform, []).append(r.elapsed)
    counts = Counter(r.status for r in results)
    print(f"apply baseline from weak configs, {N} devices: {wall:6.2f} s ({counts})")
    for platform, times in sorted(by.items()):
        times.sort()
        print(
            f"  {platform:<11} per device: median {times[len(times) // 2]:5.2f} s, "
            f"max {times[-1]:5.2f} s ({len(times)} devices, {WORKERS} workers)"
        )


def generated_properties(examples: int) -> None:
    """Both properties over ``examples`` generated configs per platform, in process."""
    sys.path.insert(0, str(ROOT))
    from tests.provision_sim.grammar import GRAMMARS
    from tests.provision_sim.run import Sim

    sim = Sim.create()
    for platform in GRAMMARS:
        one_platform(sim, platform, examples)


def one_platform(sim: Any, platform: str, examples: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.provision_sim.grammar import configs
    from tests.provision_sim.properties import (
        apply_reaches_baseline,
        pushable_lines,
        rejection_rolls_back,
    )
    from tests.provision_sim.run import DEVICES

    cfg = settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    outcome: Counter[str] = Counter()

    @cfg
    @given(configs(platform, DEVICES[platform]))
    def apply(start: str) -> None:
        try:
            apply_reaches_baseline(sim, platform, start)
            outcome["apply ok"] += 1
        except AssertionError:
            outcome["apply FAILED"] += 1

    @cfg
    @given(configs(platform, DEVICES[platform]), st.data())
    def rollback(start: str, data: st.DataObject) -> None:
        lines = pushable_lines(sim, platform, start)
        if not lines:
            outcome["nothing to push"] += 1
            return
        refused = data.draw(st.sampled_from(lines))
        try:
            rejection_rolls_back(sim, platform, start, refused)
            outcome["rolled back identical"] += 1
        except AssertionError:
            outcome["rollback FAILED"] += 1

    t0 = time.perf_counter()
    apply()
    t1 = time.perf_counter()
    rollback()
    t2 = time.perf_counter()
    applied = outcome["apply ok"] + outcome["apply FAILED"]
    tried = outcome["rolled back identical"] + outcome["rollback FAILED"]
    rate = 100 * outcome["rolled back identical"] / tried if tried else float("nan")
    print(
        f"generated {platform:<11} apply: {applied / (t1 - t0):6.1f} examples/s "
        f"({outcome['apply ok']} ok, {outcome['apply FAILED']} failed); "
        f"refused line: {tried / (t2 - t1):6.1f} examples/s, rollback success "
        f"{rate:5.1f} % of {tried}"
    )


def main() -> int:
    generated_properties(EXAMPLES)
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
        weak_apply(job, targets, options, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
