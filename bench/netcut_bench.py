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
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from govnet.lab import netns
from govnet.monitor.sharding import guard
from govnet.store.cluster import SessionTimeouts
from tests.integration.test_shards_netcut import network, scenario


def main() -> int:
    reason = netns.unavailable(try_create=True)
    if reason:
        print(f"netcut bench cannot run here: {reason}", file=sys.stderr)
        return 2
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
