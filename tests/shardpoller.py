"""A sharded poller without devices, for the network-cut test (issue 17).

``python tests/shardpoller.py URL SHARDS EVERY HOLDER LOG [ROW]`` runs the real
:class:`~govnet.monitor.sharding.ShardMember` on the store at URL and a host that "polls" each
shard it holds every 0.1 s, as govnetd would poll the shard's devices: a shard taken from a
session that died starts only :func:`~govnet.monitor.sharding.guard` later (the daemon polls
it on the first slot past the guard), one released cleanly at once. Every poll, gain and loss
is a JSON line in LOG (wall-clock ``t``), so the test can tell who polled what when. With ROW
it also keeps a transaction open on another store session holding that ``monitor_meta`` row's
lock, as a poller cut off in the middle of a write would. SIGTERM stops it cleanly (shards
handed over).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import text

from govnet.monitor.sharding import ShardMember, ShardOptions, guard
from govnet.store.db import Store

TICK = 0.1


class PollingHost:
    def __init__(self, log: TextIO, every: float) -> None:
        self.log = log
        self.every = every
        self.start: dict[int, float] = {}  # shard → when its polling starts

    def write(self, **event: Any) -> None:
        self.log.write(json.dumps({"t": time.time(), **event}) + "\n")
        self.log.flush()

    async def gain(self, shards: set[int], clean: set[int]) -> None:
        now = time.time()
        for s in shards:
            self.start[s] = now if s in clean else now + guard(self.every)
        self.write(gain=sorted(shards), clean=sorted(clean))

    async def lose(self, shards: set[int], failed: bool) -> None:
        for s in shards:
            self.start.pop(s, None)
        self.write(lose=sorted(shards), failed=failed)

    def beat(self) -> dict[str, Any]:
        return {"shards": {s: 0.0 for s in self.start}, "devices": len(self.start)}

    async def poll(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            now = time.time()
            due = sorted(s for s, start in self.start.items() if start <= now)
            if due:
                self.write(poll=due)
            await asyncio.sleep(TICK)


async def main(url: str, shards: int, every: float, holder: str, log_path: Path, row: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    with (
        log_path.open("a", encoding="utf-8") as log,
        Store.open(url) as store,
        contextlib.ExitStack() as held,
    ):
        host = PollingHost(log, every)
        member = ShardMember(store, ShardOptions(shards, every), host, holder=holder)
        if row:  # a write in flight: its transaction and row lock stay open
            conn = held.enter_context(store.engine.connect())
            lock = "SELECT value FROM monitor_meta WHERE key = :k FOR UPDATE"
            conn.execute(text(lock), {"k": row})
            host.write(row_locked=row)
        await member.start()
        host.write(started=holder)
        polling = asyncio.create_task(host.poll(stop))
        await member.run(stop)
        await member.stop()
        await polling
        host.write(stopped=holder)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    url, n, every, holder, path = sys.argv[1:6]
    row = sys.argv[6] if len(sys.argv) > 6 else ""
    asyncio.run(main(url, int(n), float(every), holder, Path(path), row))
