"""Shell completion on a 2,000-device city: how long a <TAB> takes (issue 18).

    python bench/completion_bench.py            # ~2,000 devices, 1,000 sites, 21k terminals

Prints the inventory's full load, the names-only read completion uses, and the wall and CPU
time of the `govnet` process answering `govnet backup diff int-acc-county-12-t<TAB>` through
the fast path and through click on the full CLI. Figures only, no asserts.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inventory_bench import generate

FAST = "from govnet.cli.entry import main; main()"
FULL = "from govnet.cli.main import main; main()"


def tab(code: str, inventory: Path, runs: int = 5) -> tuple[float, float, int]:
    """Median wall and CPU seconds of one completion process, and how many names it offered."""
    words = f"govnet -i {inventory} backup diff int-acc-county-12-t"
    env = {
        **os.environ,
        "_GOVNET_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": "5",
    }
    walls, cpus, count = [], [], 0
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        count = len(out.splitlines())
    return statistics.median(walls), statistics.median(cpus), count


def main() -> int:
    from govnet.inventory import load_inventory
    from govnet.inventory_names import inventory_names

    with tempfile.TemporaryDirectory() as tmp:
        city = Path(tmp)
        n_dev, n_term = generate(city, 12, 82, 20)
        t0 = time.perf_counter()
        load_inventory(city)
        full_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        names = inventory_names(city)
        names_read = time.perf_counter() - t0
        print(
            f"inventory: {n_dev} devices, {len(names['sites'])} sites, "
            f"{len(names['units'])} units, {n_term} terminals"
        )
        print(
            f"full load (validated): {full_load * 1000:.0f} ms; names only: "
            f"{names_read * 1000:.1f} ms"
        )
        for label, code in (("fast path", FAST), ("click on the full CLI", FULL)):
            wall, cpu, count = tab(code, city)
            print(
                f"<TAB> via {label}: {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU "
                f"({count} names)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
