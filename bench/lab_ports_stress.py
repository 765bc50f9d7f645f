"""Stress the test labs' port choice: private labs started concurrently, round after round, on a
machine whose ephemeral ports are busy, counting labs that fail to bind a port.

Each round starts ``--labs`` copies of the lab inventory at once (``relocate_lab`` +
``launcher.up``), one per worker process like pytest-xdist workers, then stops them. Meanwhile this
process keeps ``--churn`` client sockets (UDP and TCP, bound by the kernel to ephemeral ports)
open and replaces them continuously, like the SNMP polls and SSH sessions of a loaded test run.

    .venv/bin/python bench/lab_ports_stress.py                      # the suite's port reservation
    .venv/bin/python bench/lab_ports_stress.py --picker ephemeral   # the old bind-0-and-close

Prints the labs started, bind failures and seconds per round; exits 1 on any bind failure.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govnet.errors import LabError
from govnet.lab import launcher


def _ephemeral_port() -> int:
    """The picker the tests used before tests/ports.py: a port the kernel just freed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _init(picker: str) -> None:
    if picker == "ephemeral":
        import tests.integration.conftest as conftest

        conftest.reserve_port = _ephemeral_port  # type: ignore[attr-defined]


def start_and_stop(base: str) -> str:
    """Start one private lab in ``base``; '' when it came up, else the error."""
    from tests.integration.conftest import relocate_lab

    folder = Path(base)
    path = relocate_lab(folder / "inv")
    state = folder / "state"
    try:
        launcher.up(path, state, wait=120)
    except LabError as exc:
        return str(exc)
    finally:
        launcher.down(state)
    return ""


class Churn:
    """``n`` client sockets on ephemeral ports, a tenth of them replaced every 10 ms."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.stop = threading.Event()
        self.socks: list[socket.socket] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def one(self) -> socket.socket:
        kind = random.choice((socket.SOCK_DGRAM, socket.SOCK_STREAM))
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        return s

    def run(self) -> None:
        self.socks = [self.one() for _ in range(self.n)]
        while not self.stop.wait(0.01):
            for _ in range(max(1, self.n // 10)):
                i = random.randrange(len(self.socks))
                self.socks[i].close()
                self.socks[i] = self.one()
        for s in self.socks:
            s.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labs", type=int, default=4, help="labs started at once (default 4)")
    ap.add_argument("--rounds", type=int, default=5, help="default 5")
    ap.add_argument("--churn", type=int, default=3000, help="client sockets kept open")
    ap.add_argument("--picker", choices=("reserved", "ephemeral"), default="reserved")
    args = ap.parse_args()
    churn = Churn(args.churn)
    if args.churn:
        churn.thread.start()
    started = failed = 0
    errors: list[str] = []
    t0 = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="govnet-ports-") as tmp,
        ProcessPoolExecutor(
            args.labs, mp_context=get_context("spawn"), initializer=_init, initargs=(args.picker,)
        ) as pool,
    ):
        for r in range(args.rounds):
            t = time.monotonic()
            bases = [os.path.join(tmp, f"r{r}-l{i}") for i in range(args.labs)]
            for err in pool.map(start_and_stop, bases):
                if err:
                    failed += 1
                    errors.append(err)
                else:
                    started += 1
            print(
                f"round {r + 1}/{args.rounds}: {started} labs up, {failed} failed "
                f"({time.monotonic() - t:.1f} s)",
                flush=True,
            )
    churn.stop.set()
    if churn.thread.is_alive():
        churn.thread.join()
    print(
        f"picker={args.picker} labs={args.labs} rounds={args.rounds} churn={args.churn}: "
        f"{started} started, {failed} failed to bind, {time.monotonic() - t0:.1f} s"
    )
    for err in errors[:5]:
        print("  " + err[:300])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
