"""Audit 100 lab switches of which 30 are faulty (issue 12, item 8); prints figures only.

10 % hung (no SSH banner), 5 % wrong password, 5 % garbled, 5 % dropping mid-command, 5 %
slow (half within the read timeout, half beyond). Prints the verdict per fault class, the
message each class got, the exit code, the run's wall time, the slowest device and the
per-device budget it must stay under (connect timeout + banner peek + read timeouts).

    python bench/faults_bench.py
    GOVNET_BENCH_DEVICES=40 GOVNET_BENCH_READ_TIMEOUT=3 python bench/faults_bench.py
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govnet.checks.audit import AuditOptions, run_audit  # noqa: E402
from govnet.collect.fetch import CollectOptions  # noqa: E402
from govnet.collect.fleet import DeviceResult  # noqa: E402
from govnet.inventory import load_inventory  # noqa: E402
from govnet.lab import launcher  # noqa: E402
from govnet.store.db import Store  # noqa: E402
from govnet.transport.ssh import SshOptions  # noqa: E402
from tests.integration.faultlab import write_fleet  # noqa: E402

N = int(os.environ.get("GOVNET_BENCH_DEVICES", "100"))
READ_TIMEOUT = float(os.environ.get("GOVNET_BENCH_READ_TIMEOUT", "5"))
CONNECT_TIMEOUT = float(os.environ.get("GOVNET_BENCH_CONNECT_TIMEOUT", "5"))
WORKERS = int(os.environ.get("GOVNET_BENCH_WORKERS", "16"))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fleet = write_fleet(folder, N, read_timeout=READ_TIMEOUT, connect_timeout=CONNECT_TIMEOUT)
        inv = load_inventory(fleet.inventory)
        launcher.up(fleet.inventory, folder / "state", wait=120)
        elapsed: dict[str, float] = {}

        def done(res: DeviceResult[object]) -> None:
            elapsed[res.device] = res.elapsed

        try:
            store = Store.open(f"sqlite:///{folder / 'bench.sqlite'}")
            options = AuditOptions(
                (ROOT / "playbooks" / "mlps2-baseline.yaml",),
                collect=CollectOptions(
                    workers=WORKERS,
                    ssh=SshOptions(timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT),
                ),
            )
            t0 = time.perf_counter()
            report = run_audit(list(inv.devices.values()), options, store, done)
            wall = time.perf_counter() - t0
        finally:
            launcher.down(folder / "state")
        row = store.run(report.run.id)
        stored = len(store.findings(report.run.id))

    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    messages: dict[str, set[str]] = defaultdict(set)
    named: Counter[str] = Counter()
    for name, fault in fleet.faults.items():
        mine = [f for f in report.run.findings if f.device == name]
        errors = [f for f in mine if f.status.value == "error"]
        verdict = "error" if errors else "audited"
        verdicts[fault or "healthy"][verdict] += 1
        for f in errors:
            text = re.sub(r"127\.0\.0\.1:\d+", "<addr>", f.message.replace(name, "<dev>"))
            messages[fault].add(text[:90])
        if errors and fleet.expect[name] and all(fleet.expect[name] in f.message for f in errors):
            named[fault] += 1

    print(
        f"{N} lab switches (huawei/hp_comware/cisco_ios), {WORKERS} workers, connect timeout "
        f"{CONNECT_TIMEOUT:g} s, read timeout {READ_TIMEOUT:g} s"
    )
    for fault in (
        "healthy",
        "slow-ok",
        "slow-timeout",
        "silent",
        "wrong_password",
        "garbled",
        "drop",
    ):
        v = verdicts.get(fault, Counter())
        total = sum(v.values())
        line = f"  {fault:15s} {total:3d} devices: {v['audited']:3d} audited, {v['error']:3d} error"
        if fault in named or (fault not in ("healthy", "slow-ok") and total):
            line += f", message names the fault: {named[fault]}/{total}"
        print(line)
        for m in sorted(messages.get(fault, ())):
            print(f"      “{m}…”")
    counts = report.run.counts()
    print(
        f"findings: {counts}   exit code: {report.exit_code} "
        f"(1 = a failure at --fail-on high wins over 3 = unreadable devices)"
    )
    slowest = max(elapsed, key=lambda k: elapsed[k])
    # Worst case of one device: connect + banner peek, then session preparation and the
    # config command each waiting up to the read timeout (garbled lines hit two of them).
    budget = CONNECT_TIMEOUT + min(2.0, CONNECT_TIMEOUT) + 2 * READ_TIMEOUT
    print(f"run wall time:          {wall:6.2f} s")
    print(
        f"max per-device elapsed: {elapsed[slowest]:6.2f} s ({slowest}, "
        f"{fleet.faults[slowest] or 'healthy'}); budget {budget:g} s + margin"
    )
    by_fault: dict[str, float] = defaultdict(float)
    for name, secs in elapsed.items():
        key = fleet.faults[name] or "healthy"
        by_fault[key] = max(by_fault[key], secs)
    print(
        "max elapsed per class:  "
        + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(by_fault.items()))
    )
    status = row["meta"].get("status") if row else None
    print(
        f"store: run row status={status}, finished={'yes' if row and row['finished'] else 'no'}"
        f", findings stored {stored}/{len(report.run.findings)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
