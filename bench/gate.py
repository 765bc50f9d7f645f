"""The install gate, measured: README's test command in a fresh clone with a fresh venv.

Clones the current commit into a temporary folder (a fresh HOME too, so nothing from this
machine's caches of govnet leaks in), runs ``make install`` once from the lock, then ``make
test`` RUNS times, and prints the install time, every run's wall time and outcome. A gate that
holds passes every run; ``--runs 5`` is the issue's bar.

    python bench/gate.py [--runs N] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="make test runs (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the clone for a look")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="govnet-gate-"))
    clone, home = base / "govnet", base / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVNET_", "VIRTUAL_ENV"))}
    env["HOME"] = str(home)
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True
        ).stdout.strip()
        print(f"fresh clone of {head} in {clone}")
        t0 = time.monotonic()
        subprocess.run(["make", "install"], cwd=clone, env=env, check=True, capture_output=True)
        print(f"make install (from the lock, fresh venv): {time.monotonic() - t0:.1f} s")
        failures = 0
        for n in range(1, args.runs + 1):
            t0 = time.monotonic()
            proc = subprocess.run(
                ["make", "test"], cwd=clone, env=env, capture_output=True, text=True
            )
            wall = time.monotonic() - t0
            lines = proc.stdout.splitlines()
            summary = [ln for ln in lines if re.search(r"\d+ (passed|failed)", ln)]
            outcome = summary[-1].strip("= ") if summary else f"exit {proc.returncode}"
            failures += proc.returncode != 0
            print(f"make test run {n}: {wall:.0f} s, exit {proc.returncode}: {outcome}")
            if proc.returncode:
                tail = "\n".join(proc.stdout.splitlines()[-30:])
                print(tail, file=sys.stderr)
        print(f"gate: {args.runs - failures}/{args.runs} runs passed")
        return 1 if failures else 0
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
