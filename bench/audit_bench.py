"""Audit speed: N lab devices over real SSH, govnet vs plain Nornir + nornir-netmiko.

Both collect the running config of the same devices with the same worker count; govnet then
also evaluates the 等保 baseline and stores the run. Prints devices/s, CPU seconds and peak RSS
of this process for each, and the ratio (target ≥ 1.5× the peer). Figures only, no asserts.

    python bench/audit_bench.py            # N = 50 and 200
    GOVNET_BENCH_SIZES=20 python bench/audit_bench.py
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab_bench import write_inventory

from govnet.checks.audit import AuditOptions, run_audit
from govnet.collect.fetch import CollectOptions
from govnet.inventory import load_inventory
from govnet.lab import launcher
from govnet.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
WORKERS = int(os.environ.get("GOVNET_BENCH_WORKERS", "16"))
SIZES = [int(x) for x in os.environ.get("GOVNET_BENCH_SIZES", "50,200").split(",")]


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_govnet(inv_path: Path, folder: Path) -> tuple[float, float, int]:
    inv = load_inventory(inv_path)
    store = Store.open(f"sqlite:///{folder / 'bench.sqlite'}")
    options = AuditOptions(
        (ROOT / "playbooks" / "mlps2-baseline.yaml",), collect=CollectOptions(workers=WORKERS)
    )
    c0, t0 = cpu(), time.perf_counter()
    report = run_audit(list(inv.devices.values()), options, store)
    elapsed, used = time.perf_counter() - t0, cpu() - c0
    errors = report.run.counts()["error"]
    return elapsed, used, errors


def bench_nornir(inv_path: Path, folder: Path) -> tuple[float, float, int]:
    from nornir import InitNornir
    from nornir_netmiko.tasks import netmiko_send_command

    inv = load_inventory(inv_path)
    password = next(iter(inv.devices.values())).credentials.password.resolve()  # type: ignore[union-attr]
    show = "display current-configuration"
    commands = {"huawei": show, "hp_comware": show, "cisco_ios": "show running-config"}
    hosts = {
        d.name: {
            "hostname": d.host,
            "port": d.port,
            "username": "govnet",
            "password": password,
            "platform": d.platform,
            "data": {"cmd": commands[d.platform]},
        }
        for d in inv.devices.values()
    }
    (folder / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (folder / "groups.yaml").write_text("{}")
    nr = InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": WORKERS}},
        inventory={
            "plugin": "SimpleInventory",
            "options": {
                "host_file": str(folder / "hosts.yaml"),
                "group_file": str(folder / "groups.yaml"),
            },
        },
        logging={"enabled": False},
    )
    c0, t0 = cpu(), time.perf_counter()
    result = nr.run(task=lambda task: netmiko_send_command(task, command_string=task.host["cmd"]))
    nr.close_connections()  # govnet closes its sessions too: same work on both sides
    elapsed, used = time.perf_counter() - t0, cpu() - c0
    return elapsed, used, len(result.failed_hosts)


def main() -> int:
    print(f"workers = {WORKERS}; both tools fetch the running config of every device over SSH")
    for n in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            path = write_inventory(folder, n)
            os.environ["GOVNET_KNOWN_HOSTS"] = str(folder / "known_hosts")  # a throwaway lab's
            launcher.up(path, folder / "state", wait=60)
            try:
                gc.collect()
                g_t, g_cpu, g_err = bench_govnet(path, folder)
                g_rss = peak_rss_mib()
                n_t, n_cpu, n_err = bench_nornir(path, folder)
                n_rss = peak_rss_mib()
            finally:
                launcher.down(folder / "state")
        print(
            f"N={n:4d} govnet audit : {n / g_t:7.1f} devices/s  {g_t:6.2f} s  "
            f"CPU {g_cpu:6.2f} s  peak RSS {g_rss:6.1f} MiB  errors {g_err}"
        )
        print(
            f"N={n:4d} nornir fetch : {n / n_t:7.1f} devices/s  {n_t:6.2f} s  "
            f"CPU {n_cpu:6.2f} s  peak RSS {n_rss:6.1f} MiB (cumulative)  failed {n_err}"
        )
        print(f"N={n:4d} ratio govnet/nornir devices/s: {n_t / g_t:.2f}x  (target >= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
