"""Cost of masking and of terminal-safe printing (issue 12 items 5 and 6). Figures only.

- REDACTOR over a 1 MB running config with S secrets registered (each in ~15 renderings);
- visible() over the same text; SafeConsole vs rich's Console printing a 2,000-row table.

    python bench/redact_bench.py
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from secrets import token_urlsafe

from rich.console import Console

from govnet.report.tabular import Column, rich_table
from govnet.secrets import REDACTOR
from govnet.textsafe import SafeConsole, visible

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    seed = (ROOT / "inventory/lab-data/int-core-1/running.cfg").read_text(encoding="utf-8")
    text = (seed * (1_000_000 // len(seed) + 1))[:1_000_000]
    for secrets in (0, 10, 100):
        for i in range(len(REDACTOR.values()), secrets):
            REDACTOR.add(token_urlsafe(9 + i % 7))  # random: no shared literal prefix
        s = timed(lambda: REDACTOR(text))
        print(
            f"REDACTOR, 1 MB config, {secrets:3d} secrets: {s * 1000:7.1f} ms ({1 / s:6.1f} MB/s)"
        )
    s = timed(lambda: visible(text))
    print(f"visible(), 1 MB config:                {s * 1000:7.1f} ms ({1 / s:6.1f} MB/s)")
    cols = [Column("name", "Device"), Column("description", "Description")]
    rows = [
        {"name": f"sw-{i:04d}", "description": f"port {i} \x1b[2J :x: [b]x[/b]"}
        for i in range(2000)
    ]
    for label, cls in (("rich Console", Console), ("SafeConsole ", SafeConsole)):

        def run(cls: type[Console] = cls) -> None:
            cls(file=io.StringIO(), width=120).print(rich_table(rows, cols, "en"))

        print(f"{label} 2,000-row table: {timed(run, 3) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
