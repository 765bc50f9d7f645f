"""What topology suppression across sharded pollers costs one poller per housekeeping tick (#17).

A city of 10,000 devices: 200 aggregation switches with 52 ports each, 49 access switches
behind each; ``--shards 16`` with four pollers, so this poller holds 4 shards (~2,500
devices) and reads the rows of the aggregation switches it does not hold. On a private
PostgreSQL (``tests/pgserver.py``, fsync off) it prints, as medians of ``GOVNET_BENCH_ROUNDS``
ticks (default 20):

- the set of parents to read (from the topology and the devices held);
- the read itself (``MonitorStore.dependency_rows``: their rows and port statuses);
- building the view (``RemoteStates.from_rows``);
- re-judging the firing alerts (``AlertEngine.set_remote``) with the access switches behind
  40 failed aggregation switches down (about 500 of them held here).

    python bench/suppression_bench.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govnet.inventory.model import Device, Link, SnmpProfileSpec  # noqa: E402
from govnet.monitor.alerts import AlertEngine  # noqa: E402
from govnet.monitor.config import MonitorConfig  # noqa: E402
from govnet.monitor.daemon import batch_of, merge  # noqa: E402
from govnet.monitor.model import DeviceState, DeviceStatus, PollResult  # noqa: E402
from govnet.monitor.rules import load_rules  # noqa: E402
from govnet.monitor.shards import shard_of  # noqa: E402
from govnet.monitor.topology import RemoteStates, Topology  # noqa: E402
from govnet.secrets import SecretRef  # noqa: E402
from govnet.store.db import Store  # noqa: E402
from govnet.store.monitor import MonitorStore  # noqa: E402
from tests.pgserver import PostgresServer, private_server  # noqa: E402

ROUNDS = int(os.environ.get("GOVNET_BENCH_ROUNDS", "20"))
AGGS, PER_AGG, SHARDS, HELD = 200, 49, 16, {0, 1, 2, 3}
PROFILE = SnmpProfileSpec(version="2c", community=SecretRef.parse("env:GOVNET_BENCH_COMMUNITY"))


class NullSink:
    def open(self, row: dict[str, Any]) -> None:
        pass

    def update(
        self, key: str, fields: dict[str, Any], event: str | None, detail: str, ts: float
    ) -> None:
        pass


def device(name: str, role: str) -> Device:
    return Device(
        name=name,
        host="127.0.0.1",
        platform="huawei",
        role=role,
        zone="internal",
        site="city",
        snmp=PROFILE,
    )


def fleet() -> tuple[dict[str, Device], list[Link]]:
    devices: dict[str, Device] = {}
    links: list[Link] = []
    for a in range(AGGS):
        agg = f"agg-{a:03d}"
        devices[agg] = device(agg, "aggregation")
        for i in range(PER_AGG):
            acc = f"acc-{a:03d}-{i:02d}"
            devices[acc] = device(acc, "access")
            links.append(Link(agg, f"GigabitEthernet0/0/{i + 1}", acc, "GigabitEthernet0/0/52"))
    return devices, links


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.2f} ms"


def main() -> None:
    os.environ.setdefault("GOVNET_BENCH_COMMUNITY", "public")
    devices, links = fleet()
    topology = Topology.build(devices, links)
    config = MonitorConfig()
    held = [n for n in devices if shard_of(n, SHARDS) in HELD]
    now = time.time()
    failed = {f"agg-{a:03d}" for a in range(0, AGGS, 5)}  # 40 aggregation switches down
    batches = []  # each aggregation switch's last poll, as the daemon's writer commits it
    for a in range(AGGS):
        agg = f"agg-{a:03d}"
        state = DeviceState.DOWN if agg in failed else DeviceState.UP
        result = PollResult(agg, now, now, ok=True)
        result.latest = [("if_oper", f"GigabitEthernet0/0/{p}", 1.0, "") for p in range(1, 53)]
        status = DeviceStatus(agg, role="aggregation", state=state, last_poll=now)
        batches.append(batch_of(result, status))
    base = Path(tempfile.mkdtemp(prefix="govnet-bench-supp-"))
    with private_server(Path(tempfile.mkdtemp(prefix="govnet-bench-pg-"))) as admin:
        server = PostgresServer(admin)
        with server.database() as url, Store.open(url) as store:
            ms = MonitorStore(store)
            ms.write(merge(batches), now)
            (base / "alerts.yaml").write_text(
                textwrap.dedent("""
                rules:
                  - {id: down, title: {en: Down, zh: 宕机}, severity: critical,
                     state: device_down}
                """),
                encoding="utf-8",
            )
            engine = AlertEngine(load_rules(base / "alerts.yaml"), devices, topology, NullSink())
            engine.remote = RemoteStates()
            engine.settle = None
            down = [n for n in held if n.startswith("acc-") and n[4:7] in {f[4:] for f in failed}]
            for name in held:  # the rest polled here: up, or down as the store says
                if name not in down:
                    engine.states[name] = DeviceState.DOWN if name in failed else DeviceState.UP
            for name in down:
                status = DeviceStatus(name, state=DeviceState.DOWN, since=now)
                engine.on_poll(PollResult(name, now, now, ok=False), status)
            wanted_t, read_t, build_t, judge_t = [], [], [], []
            for _ in range(ROUNDS):
                t0 = time.perf_counter()
                local = engine.states.keys()  # as the daemon's _refresh_remote
                wanted_set: set[str] = set()
                keys: set[tuple[str, str, str]] = set()
                for name in held:
                    wanted_set.update(d for d in topology.dependencies(name) if d not in local)
                    keys.update(k for k in topology.dependency_keys(name) if k[0] not in local)
                wanted = sorted(wanted_set)
                t1 = time.perf_counter()
                got_rows, values = ms.dependency_rows(wanted, sorted(keys))
                t2 = time.perf_counter()
                view = RemoteStates.from_rows(
                    got_rows, values, time.time(), devices, config, wanted
                )
                t3 = time.perf_counter()
                engine.set_remote(view)
                t4 = time.perf_counter()
                wanted_t.append(t1 - t0)
                read_t.append(t2 - t1)
                build_t.append(t3 - t2)
                judge_t.append(t4 - t3)
            suppressed = sum(1 for p in engine.firing() if p.suppressed.startswith("behind"))
            print(f"devices {len(devices)}, held here {len(held)} ({len(HELD)} of {SHARDS} shards)")
            print(f"parents read from the store: {len(wanted)} ({len(values)} port values)")
            print(f"firing alerts here: {len(engine.firing())}, suppressed behind: {suppressed}")
            print(f"parents to read:  {median_ms(wanted_t)}")
            print(f"store read:       {median_ms(read_t)}")
            print(f"view built:       {median_ms(build_t)}")
            print(f"alerts re-judged: {median_ms(judge_t)}")
            total = sum(map(statistics.median, (wanted_t, read_t, build_t, judge_t)))
            print(f"per 5 s tick:     {total * 1000:.1f} ms ({total / 5 * 100:.2f} % of a core)")
        server.engine.dispose()


if __name__ == "__main__":
    main()
