"""Signed batches across the gap: what Ed25519/SHA-256 and SM2/SM3 (国密) cost per batch.

A store with a county's day of audits (R runs × 40 findings each) is exported into one batch
with each algorithm, then the batch is checked as ``govnet import`` does before storing
anything (signature, every file's digest, row counts). Prints per algorithm: the batch's
size, the time to export it (reading the store + digests + signature), to sign its manifest
alone, to verify its signature alone, and to check the whole batch (``load``). Figures only.

    python bench/transfer_bench.py                 # R = 500 and 5000
    GOVNET_BENCH_SIZES=200 python bench/transfer_bench.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from govnet.durations import utcnow
from govnet.store.db import Store
from govnet.transfer.batch import (
    MANIFEST,
    SIGNATURE,
    generate_key,
    load,
    load_signing_key,
    load_trusted,
)
from govnet.transfer.exchange import export_batch

SIZES = [int(x) for x in os.environ.get("GOVNET_BENCH_SIZES", "500,5000").split(",")]
ROUNDS = 20


def _finding(device: str, k: int) -> dict[str, Any]:
    return dict(
        device=device,
        zone="internal",
        site="city",
        unit="gov",
        rule=f"rule-{k}",
        control=f"control-{k % 12}",
        severity="high",
        status="fail" if k % 5 == 0 else "pass",
        message="第 3 行启用了 Telnet 服务 / telnet server enabled on line 3",
        evidence=["3: telnet server enable"],
        detail={"title_zh": "仅允许 SSH 管理"},
    )


def _fill(store: Store, runs: int) -> None:
    now = utcnow()
    for n in range(runs):
        at = now - timedelta(hours=23) + timedelta(seconds=n)
        device = f"sw-{n:05d}"
        found = [_finding(device, k) for k in range(40)]
        store.save_run(f"audit-{n:05d}", "audit", at, at, {}, found, exit_code=1)


def _ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:8.2f} ms"


def main() -> None:
    for runs in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            store = Store.open(f"sqlite:///{base / 'store.sqlite'}")
            _fill(store, runs)
            print(f"R = {runs} runs, {runs * 40} findings")
            for algorithm in ("ed25519", "sm2"):
                key_path = base / f"{algorithm}.key"
                pub, _ = generate_key(key_path, algorithm)
                key, trusted = load_signing_key(f"file:{key_path}"), load_trusted([pub])
                started = time.perf_counter()
                batch = export_batch(store, base / f"spool-{algorithm}", f"c-{algorithm}", key)
                exported = time.perf_counter() - started
                size = sum(p.stat().st_size for p in batch.path.iterdir())
                raw = (batch.path / MANIFEST).read_bytes()
                signature = (batch.path / SIGNATURE).read_bytes()
                [public] = trusted.values()
                signs, verifies, checks = [], [], []
                for _ in range(ROUNDS):
                    t = time.perf_counter()
                    key.sign(raw)
                    signs.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    assert public.verify(raw, signature)
                    verifies.append(time.perf_counter() - t)
                for _ in range(max(3, ROUNDS // 5)):
                    t = time.perf_counter()
                    load(batch.path, trusted)
                    checks.append(time.perf_counter() - t)
                rate = size / 1e6 / statistics.median(checks)
                print(
                    f"  {algorithm:8s} batch {size / 1e6:6.1f} MB  export {exported:6.2f} s  "
                    f"sign manifest {_ms(signs)}  verify signature {_ms(verifies)}  "
                    f"check whole batch {_ms(checks)} ({rate:.0f} MB/s)"
                )
            store.close()


if __name__ == "__main__":
    main()
