"""A sharded poller's membership: lease shards, balance them, hand them over, heartbeat.

One :class:`ShardMember` runs beside the poller of ``govnetd --shards N``. Every ``every``
seconds (a quarter of the shortest poll interval, 0.5–5 s) it:

1. pings its lock session: if that failed, the daemon stops polling every shard **at once**
   (``ShardHost.lose(…, failed=True)``) and the member opens a new session holding nothing
   (a network cut included: the session's timeouts and the fence are in
   :mod:`govnet.store.cluster`; :meth:`ShardMember.run` fences the member once its lock
   session has not answered for the lease ``L``, even while a step is blocked);
2. reads who holds which shard (``pg_locks``) and which members are live (a heartbeat younger
   than ``stale_after`` and their lock session still connected);
3. releases its surplus above ``ceil(N / live)`` (the daemon stops polling those devices,
   waits for their polls in flight and commits everything before the lock goes, so the next
   holder sees the last poll and the alerts as they are) or tries free shards below it;
4. writes its row in ``monitor_cluster`` (holder, host, pid, shards with their lag).

Device hand-over (the daemon's side, :class:`ShardHost`): a device taken over keeps its phase:
it is polled on the previous holder's slots (its last poll plus whole intervals). A shard its
holder released cleanly (``monitor_meta`` ``shard:N`` = ``released``, written after its polls
were committed and before the unlock) continues at the next slot; a shard whose holder died
or lost its session continues at the first slot at least :func:`guard` from now: a holder whose
session died but who has not noticed yet (it pings every lease period) polls no more than
that, so no slot is polled twice. (A holder cut off by the network stops within its lease, and
the server frees its locks no sooner: :mod:`govnet.store.cluster` has the arithmetic.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from govnet import __version__
from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.monitor.model import Clock, SystemClock
from govnet.monitor.shards import DEFAULT_SHARDS, MAX_SHARDS, plan
from govnet.store.cluster import (
    LeaseLost,
    ShardLeases,
    bound_store_sessions,
    forget_members,
    live_sessions,
    lock_owners,
    members,
)
from govnet.store.db import Store
from govnet.store.monitor import MonitorStore

log = logging.getLogger("govnet.monitor.sharding")

T = TypeVar("T")

FORGET_AFTER = 3600.0  # rows of members dead this long leave the cluster table
SHARDS_META = "shards"  # monitor_meta: the N the pollers of this store last started with


def lease_period(min_interval: float) -> float:
    """How often a member checks its session and balances: a quarter of the shortest poll
    interval, between 0.5 s and 5 s (takeover then fits well within two intervals)."""
    return max(0.5, min(5.0, min_interval / 4))


def guard(every: float) -> float:
    """How long a holder whose lock session died may still poll before it notices."""
    return 2 * every + 0.5


def resolve_shards(store: Store, now: float, stale_after: float = 20.0) -> tuple[int, str]:
    """``--shards auto``: (N, where it came from: ``running``, ``recorded`` or ``default``).

    The N of the pollers running on this store (a live lock session and a heartbeat younger
    than ``stale_after``); if none runs, the N recorded by the last poller that started; on a
    store never sharded, :data:`~govnet.monitor.shards.DEFAULT_SHARDS`. Running pollers that
    disagree are an error: no N would be right."""
    alive = live_sessions(store)
    running: dict[int, list[str]] = {}
    for m in members(store):
        if m.backend_pid in alive and m.live(now, stale_after) and m.shards_total:
            running.setdefault(m.shards_total, []).append(m.holder)
    if len(running) > 1:
        counts = "; ".join(f"{n} ({', '.join(sorted(who))})" for n, who in sorted(running.items()))
        raise GovnetError(
            _(
                "--shards auto: the pollers running on this store use different shard counts "
                "({counts}); stop them and start every poller with the same --shards N",
                counts=counts,
            )
        )
    if running:
        return next(iter(running)), "running"
    recorded = MonitorStore(store).get_meta(SHARDS_META) or ""
    if recorded.isdigit() and 1 <= int(recorded) <= MAX_SHARDS:
        return int(recorded), "recorded"
    return DEFAULT_SHARDS, "default"


class ShardHost(Protocol):
    """What the daemon does when shards come and go."""

    async def gain(self, shards: set[int], clean: set[int]) -> None:
        """``clean``: those of ``shards`` their last holder released cleanly."""
        ...

    async def lose(self, shards: set[int], failed: bool) -> None: ...

    def beat(self) -> dict[str, Any]:
        """``shards`` ({shard: lag}), ``devices``, ``lag_p99`` for the cluster row."""
        ...


@dataclass(frozen=True)
class ShardOptions:
    shards: int
    every: float = 5.0  # lease period
    stale_after: float = 0.0  # 0: 3 periods + 5 s

    @property
    def stale(self) -> float:
        return self.stale_after or 3 * self.every + 5.0


def member_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ShardMember:
    def __init__(
        self,
        store: Store,
        options: ShardOptions,
        host: ShardHost,
        clock: Clock | None = None,
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.options = options
        self.host = host
        self.clock: Clock = clock or SystemClock()
        self.holder = holder or member_id()
        self.leases = ShardLeases(store, self.holder, options.every)
        bound_store_sessions(store, self.leases.timeouts)  # a cut frees its row locks too
        self.held: set[int] = set()
        self.started = self.clock.time()
        self._session_ok = False
        self._losses = 0  # how many times the shards were dropped for a failed session
        self.takeovers = 0

    # ------------------------------------------------------------------ blocking calls

    async def _db(self, fn: Callable[[], T], what: str) -> T:
        """A store call off the event loop, bounded: a hung connection counts as failed."""
        limit = max(5.0, 2 * self.options.every)
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn), limit)
        except TimeoutError:
            raise LeaseLost(
                _(
                    "{what}: no answer from PostgreSQL within {limit}s",
                    what=what,
                    limit=f"{limit:.0f}",
                )
            ) from None

    # ------------------------------------------------------------------ start / stop

    async def start(self) -> None:
        """Open the lock session and check the cluster agrees on N (an error otherwise)."""
        await self._db(self.leases.open, "open the lock session")
        now = self.clock.time()
        alive = await self._db(lambda: live_sessions(self.store), "read sessions")
        for m in await self._db(lambda: members(self.store), "read members"):
            running = m.backend_pid in alive and m.live(now, self.options.stale)
            if running and m.shards_total and m.shards_total != self.options.shards:
                self.leases.close()
                raise GovnetError(
                    _(
                        "--shards {n}: the pollers already running on this store use --shards "
                        "{theirs} ({holder}); use the same number on every poller",
                        n=self.options.shards,
                        theirs=m.shards_total,
                        holder=m.holder,
                    )
                )
        self._session_ok = True
        await self._beat()
        n = str(self.options.shards)  # what the next `--shards auto` starts with
        await self._db(lambda: MonitorStore(self.store).set_meta(SHARDS_META, n), "record N")

    async def stop(self) -> None:
        """Hand every shard over cleanly, leave the cluster table, end the session."""
        if self.held:
            shards, self.held = set(self.held), set()
            await self.host.lose(shards, failed=False)
            try:
                await self._mark(shards, "released")
                await self._unlock(shards)
            except LeaseLost:
                pass  # the session is gone: so are its locks
        try:
            await self._db(self.leases.leave, "leave")
        except GovnetError as exc:
            log.warning("could not remove this poller from the cluster table: %s", exc)
        await asyncio.to_thread(self.leases.dispose)

    async def run(self, stop: asyncio.Event) -> None:
        fence = asyncio.create_task(self._fence_watch(stop), name="shard fence")
        try:
            while not stop.is_set():
                await self.step()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.options.every)
        finally:
            fence.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fence

    # ------------------------------------------------------------------ the fence

    def lease_left(self) -> float:
        """Seconds this member may still poll its shards without a new answer from its lock
        session (negative: it must have stopped)."""
        return self.leases.alive_at + self.leases.timeouts.lease - time.monotonic()

    async def _fence_watch(self, stop: asyncio.Event) -> None:
        """Beside the steps: once the lock session has not answered for the lease (a network
        cut: a step may be blocked on a dead connection), stop polling every shard at once."""
        while not stop.is_set():
            left = self.lease_left()
            if self.held and left <= 0:
                lease = f"{self.leases.timeouts.lease:g}"
                why = _("no answer from the shard lock session for {lease}s", lease=lease)
                await self._lost(why, sever=True)
                continue
            idle = min(0.25, self.options.every)  # holding nothing: only notice a take soon
            await asyncio.sleep(min(max(left, 0.05), self.options.every) if self.held else idle)

    # ------------------------------------------------------------------ one step

    async def step(self) -> None:
        try:
            if not self._session_ok:
                await self._db(self.leases.open, "open the lock session")
                self._session_ok = True
                log.warning("shard lock session open again; taking shards")
            await self._db(self.leases.ping, "ping")
            await self._balance()
            await self._beat()
        except LeaseLost as exc:
            await self._lost(str(exc))
        except GovnetError as exc:  # the store (not the lock session) failed: try again
            log.error("shard balancing: %s", exc)

    async def _lost(self, why: str, sever: bool = False) -> None:
        """Stop polling every shard at once; ``sever``: from beside a step that may be blocked
        on the lock session (end it now: the step then fails and calls this again)."""
        if self._session_ok or self.held:
            log.error(
                "shard lock session lost (%s): stopped polling shards %s at once",
                why,
                sorted(self.held),
            )
        shards, self.held = set(self.held), set()
        self._session_ok = False
        self._losses += 1
        if sever:
            self.leases.sever()
        if shards:
            await self.host.lose(shards, failed=True)
        if not sever:
            with contextlib.suppress(TimeoutError):  # bounded by the session's own timeouts
                await asyncio.wait_for(asyncio.to_thread(self.leases.close), 5.0)

    async def _balance(self) -> None:
        n = self.options.shards
        losses = self._losses  # the fence may drop every shard while this step waits
        owners = await self._db(lambda: lock_owners(self.store), "read locks")
        mine = {s for s, pid in owners.items() if pid == self.leases.backend_pid}
        vanished = self.held - mine
        if vanished:  # should not happen while the session lives; never poll what is not ours
            self.held -= vanished
            await self.host.lose(vanished, failed=True)
        now = self.clock.time()
        alive = await self._db(lambda: live_sessions(self.store), "read sessions")
        rows = await self._db(lambda: members(self.store), "read members")
        live = {self.holder}
        dead: list[str] = []
        for m in rows:
            if m.backend_pid in alive and m.live(now, self.options.stale):
                live.add(m.holder)
            elif m.holder != self.holder and now - m.heartbeat > FORGET_AFTER:
                dead.append(m.holder)
        if dead:
            await self._db(lambda: forget_members(self.store, dead), "forget members")
        step = plan(n, self.held & set(range(n)), set(owners), len(live))
        if step.release:
            release = set(step.release)
            self.held -= release
            await self.host.lose(release, failed=False)
            await self._mark(release, "released")
            await self._unlock(release)
            log.info("released shards %s (%d live pollers)", sorted(release), len(live))
        gained: set[int] = set()
        for s in step.take:
            if await self._db(lambda s=s: self.leases.try_lock(s), "lock"):  # type: ignore[misc]
                gained.add(s)
        if gained and self._losses != losses:
            raise LeaseLost(_("the shard lock session was lost while taking shards"))
        if gained:
            self.held |= gained
            self.takeovers += len(gained)
            try:
                clean = await self._db(lambda: self.leases.released_cleanly(gained), "hand-over")
                await self._mark(gained, f"held by {self.holder}")
                await self.host.gain(gained, clean)
                if self._losses != losses:  # fenced meanwhile: they are not ours to poll
                    await self.host.lose(gained, failed=True)
                    raise LeaseLost(_("the shard lock session was lost while taking shards"))
            except LeaseLost:
                raise
            except GovnetError as exc:  # not set up: let them go, nobody would poll them
                log.error("could not take shards %s (%s); released", sorted(gained), exc)
                self.held -= gained
                await self._unlock(gained)
                return
            log.info("took shards %s (%d live pollers)", sorted(gained), len(live))

    async def _mark(self, shards: set[int], state: str) -> None:
        """Record the hand-over state; a store error is logged (the unlock must still go)."""
        try:
            await self._db(lambda: self.leases.mark(shards, state), "mark")
        except LeaseLost:
            raise
        except GovnetError as exc:
            log.warning("could not record shards %s as %s: %s", sorted(shards), state, exc)

    async def _unlock(self, shards: set[int]) -> None:
        for s in sorted(shards):
            await self._db(lambda s=s: self.leases.unlock(s), "unlock")  # type: ignore[misc]

    async def _beat(self) -> None:
        info = self.host.beat()
        row = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "shards_total": self.options.shards,
            "started": self.started,
            "heartbeat": self.clock.time(),
            "version": __version__,
            "shards": {s: float(info.get("shards", {}).get(s, 0.0)) for s in self.held},
            "devices": int(info.get("devices", 0)),
            "lag_p99": float(info.get("lag_p99", 0.0)),
        }
        await self._db(lambda: self.leases.beat(row), "heartbeat")


# ------------------------------------------------------------------ govnet monitor cluster


@dataclass(frozen=True)
class ShardRow:
    shard: int
    holder: str  # "" when no live session holds it
    host: str
    pid: int
    lag: float | None  # the worst poll lag (s) of the shard in the holder's last heartbeat
    heartbeat_age: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "shard": self.shard,
            "holder": self.holder or None,
            "host": self.host or None,
            "pid": self.pid or None,
            "lag_s": self.lag,
            "heartbeat_age_s": self.heartbeat_age,
        }


@dataclass(frozen=True)
class ClusterView:
    shards: int
    rows: list[ShardRow]
    members: list[dict[str, Any]]

    @property
    def unheld(self) -> list[int]:
        return [r.shard for r in self.rows if not r.holder]

    def to_json(self) -> dict[str, Any]:
        return {
            "shards": self.shards,
            "unheld": self.unheld,
            "members": self.members,
            "shard_list": [r.to_json() for r in self.rows],
        }


def cluster_view(store: Store, now: float, stale_after: float = 60.0) -> ClusterView:
    """Who holds which shard (PostgreSQL's locks, not what members claim), each shard's lag
    and every member with its heartbeat."""
    owners = lock_owners(store)
    alive = live_sessions(store)
    rows = members(store)
    by_pid = {m.backend_pid: m for m in rows if m.backend_pid in alive}
    n = max((m.shards_total for m in by_pid.values()), default=0)
    n = max(n, max(owners, default=-1) + 1)
    out: list[ShardRow] = []
    for s in range(n):
        pid = owners.get(s)
        m = by_pid.get(pid) if pid is not None else None
        if m is None:
            holder = f"session {pid} (no cluster row)" if pid is not None else ""
            out.append(ShardRow(s, holder, "", 0, None, None))
            continue
        out.append(
            ShardRow(s, m.holder, m.host, m.pid, m.shards.get(s), round(now - m.heartbeat, 1))
        )
    listed = [
        {
            "holder": m.holder,
            "host": m.host,
            "pid": m.pid,
            "live": m.backend_pid in alive and m.live(now, stale_after),
            "shards": sorted(s for s, p in owners.items() if p == m.backend_pid),
            "devices": m.devices,
            "lag_p99_s": round(m.lag_p99, 3),
            "heartbeat_age_s": round(now - m.heartbeat, 1),
            "version": m.version,
        }
        for m in rows
    ]
    return ClusterView(n, out, listed)
