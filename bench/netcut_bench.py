"""A sharded poller cut off from PostgreSQL by the network: how soon each side lets go (#17).

Prints figures; the checks are the test's (``tests/integration/test_shards_netcut.py``, whose
``scenario`` this runs): PostgreSQL in a network namespace behind a router namespace, poller A
(the real ``ShardMember``) reaching it over TCP through the router, poller B through the Unix
socket; the router drops everything (``drop``) or its links go down (``link``), later the path
comes back. Root and iproute2 needed; every address is inside the namespaces it makes.

For each lease period ``e`` (``GOVNET_BENCH_EVERY``, default ``0.5 2 5``: poll intervals of
2 s, 8 s and 20 s or more) and each cut (``GOVNET_BENCH_CUTS``, default ``drop link``), seconds
from the cut until A stopped polling (its lease ``L``), until the server freed A's locks (its
``server_drop`` ``S``), until B held every shard and until B polled the last of A's shards
(after the guard), and from the restore until A polled its half again.

    python bench/netcut_bench.py
    GOVNET_BENCH_EVERY=5 GOVNET_BENCH_CUTS=drop python bench/netcut_bench.py
    GOVNET_BENCH_MODE=govnetd python bench/netcut_bench.py

``GOVNET_BENCH_MODE=govnetd``: the same cut between two real ``govnetd --shards 4`` (the lab's
inventory polled every 2 s, e = 0.5; no lab runs, so every device is down: each daemon polls
its own namespace's loopback and finds nothing), from their logs: seconds from the cut until A
logged the lost session, until B took A's shards, from the restore until A took shards again,
and both daemons' exit codes after SIGTERM.

Measured on the shared 2-core machine (one run each, drop / link; seconds):

=====  ==  ==  =====  ===========  ===========  ===========  ===========  ==========
e      L   S   guard  fenced       locks gone   B held all   B polls      rejoined
=====  ==  ==  =====  ===========  ===========  ===========  ===========  ==========
0.5    3   3   1.5    2.38 / 2.42  2.95 / 3.06  3.25 / 3.26  4.77 / 4.73  1.1 / 1.5
2      5   5   4.5    4.48 / 4.45  4.59 / 4.60  6.22 / 6.44  10.8 / 11.0  3.0 / 2.7
5      11  11  10.5   10.4 / 10.5  10.8 / 10.8  15.0 / 15.1  25.4 / 25.6  6.5 / 10.2
=====  ==  ==  =====  ===========  ===========  ===========  ===========  ==========

Before #17's fix the locks of the cut poller were still held 30 s after the cut (the test's
limit; the kernel's keepalive would free them after 2 h 11 min).

``govnetd`` (drop / link): A lost its session and stopped polling 2.29 / 2.45 s after the cut,
B took A's shards 3.10 / 3.21 s after it, A took shards again 0.86 / 1.23 s after the restore;
both daemons exited 0 on SIGTERM.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from govnet.lab import netns
from govnet.monitor.sharding import guard
from govnet.store.cluster import SessionTimeouts
from tests.conftest import LAB_INVENTORY
from tests.integration.test_shards_netcut import SERVER, network, scenario
from tests.pgserver import PostgresServer, private_server

ROOT = Path(__file__).resolve().parents[1]
DAEMON = [sys.executable, "-c", "from govnet.cli.daemon import main; main()"]


def inventory(dest: Path) -> Path:
    """The lab's inventory polled every 2 s with a 1 s SNMP timeout (nothing answers)."""
    data = yaml.safe_load(LAB_INVENTORY.read_text(encoding="utf-8"))
    data["defaults"].setdefault("vars", {})["poll_interval"] = "2s"
    for profile in data["snmp_profiles"].values():
        profile.update(timeout=1, retries=0)
    for name in ("lab-data", "lab-secrets", "lab-terminals.csv"):
        if (LAB_INVENTORY.parent / name).exists():
            os.symlink((LAB_INVENTORY.parent / name).resolve(), dest / name)
    path = dest / "lab.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def daemon(inv: Path, url: str, log: Path, inside: str | None = None) -> subprocess.Popen[bytes]:
    argv = [*DAEMON, "-i", str(inv), "--db", url, "--rules", str(ROOT / "playbooks/alerts.yaml")]
    argv += ["--listen", "127.0.0.1:0", "--log-format", "json", "--shards", "4"]
    if inside:
        argv = ["ip", "netns", "exec", inside, *argv]
    with log.open("wb") as err:
        return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)


def events(log: Path) -> list[tuple[float, dict[str, Any]]]:
    out = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            e = json.loads(line)
            t = datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
            out.append((t, e))
    return out


def first(log: Path, after: float, text: str) -> float | None:
    return next((t for t, e in events(log) if t > after and text in e.get("msg", "")), None)


def govnetd(how: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="govnet-bench-netcut-"))
    base = Path(tempfile.mkdtemp(prefix="govnet-bench-netcut-pg-"))  # the server's, postgres'
    inv = inventory(tmp)
    try:
        with (
            network(how) as net,
            private_server(base, netns=net.s, listen=SERVER, trust=["10.77.1.0/24"]) as admin,
        ):
            server = PostgresServer(admin)
            with server.database() as local:
                tcp = make_url(local).set(host=SERVER, port=5432, query={})
                a = daemon(inv, tcp.render_as_string(hide_password=False), tmp / "A", net.c)
                time.sleep(10)
                b = daemon(inv, local, tmp / "B")
                time.sleep(12)
                t_cut = time.time()
                net.cut()
                time.sleep(20)
                t_restore = time.time()
                net.restore()
                time.sleep(15)
                for p in (a, b):
                    p.send_signal(signal.SIGTERM)
                codes = []
                for p in (a, b):
                    try:
                        codes.append(p.wait(30))
                    except subprocess.TimeoutExpired:
                        p.kill()
                        codes.append(f"killed ({p.wait()})")
            server.close()
        fenced = first(tmp / "A", t_cut, "shard lock session lost")
        taken = first(tmp / "B", t_cut, "took shards")
        rejoined = first(tmp / "A", t_restore, "took shards")

        def since(t: float | None, t0: float) -> str:
            return "never" if t is None else f"{t - t0:.2f}s"

        print(
            f"govnetd {how}: cut→A lost its session {since(fenced, t_cut)}, "
            f"cut→B took A's shards {since(taken, t_cut)}, "
            f"restore→A took shards again {since(rejoined, t_restore)}; exit codes {codes}",
            flush=True,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    reason = netns.unavailable(try_create=True)
    if reason:
        print(f"netcut bench cannot run here: {reason}", file=sys.stderr)
        return 2
    if os.environ.get("GOVNET_BENCH_MODE") == "govnetd":
        for how in os.environ.get("GOVNET_BENCH_CUTS", "drop link").split():
            govnetd(how)
        return 0
    everies = [float(e) for e in os.environ.get("GOVNET_BENCH_EVERY", "0.5 2 5").split()]
    cuts = os.environ.get("GOVNET_BENCH_CUTS", "drop link").split()
    print(
        f"{'e':>4} {'cut':>5} {'L':>4} {'S':>3} {'guard':>5} | {'fenced':>7} {'gone':>6} "
        f"{'taken':>6} {'B polls':>8} | {'rejoined':>8}"
    )
    for every in everies:
        t = SessionTimeouts(every)
        for how in cuts:
            with network(how) as net:
                got = scenario(net, every)
            print(
                f"{every:>4g} {how:>5} {t.lease:>4g} {t.server_drop:>3} {guard(every):>5g} | "
                f"{got.fenced:>7.2f} {got.gone:>6.2f} {got.taken:>6.2f} {got.b_polls:>8.2f} | "
                f"{got.rejoined:>8.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
