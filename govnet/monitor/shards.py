"""Sharded pollers: which shard a device is in, and how many shards a poller should hold.

Several ``govnetd --shards N`` share one PostgreSQL store. Devices fall into ``N`` shards by a
stable hash of their name (:func:`shard_of`: the first 8 bytes of SHA-1 of the UTF-8 name, big
endian, modulo ``N``), the same on every host and every Python. Each process leases shards
with PostgreSQL session advisory locks (:mod:`govnet.store.cluster`); this module is the pure
part: the hash, the fair share and the balancing decision (:func:`plan`), tested without a
database.

Balancing: every live member (a fresh heartbeat in the cluster table) aims at
``ceil(N / live members)`` shards. A member above its share releases its surplus (highest
shard numbers first, keeping shard 0, whose holder runs the store maintenance and the
notification delivery, where it is); a member below it tries free shards (lowest first). A
member joining therefore gets shards within a lease period or two: the others shed, it takes.

``--shards auto`` takes N from the cluster: the N of the pollers running on the store, else the
N it last ran with (``monitor_meta`` ``shards``, written by every poller that starts), else
:data:`DEFAULT_SHARDS` (16: four pollers hold four shards each, and up to sixteen can share the
work); see :func:`govnet.monitor.sharding.resolve_shards`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass

MAX_SHARDS = 4096
AUTO_SHARDS = -1  # ``--shards auto``: the cluster's N (see sharding.resolve_shards)
DEFAULT_SHARDS = 16  # ``--shards auto`` on a store no poller has sharded yet


def shard_of(name: str, shards: int) -> int:
    """The shard of a device: ``int(sha1(name)[:8]) mod shards`` (stable everywhere)."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    digest = hashlib.sha1(name.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % shards


def fair_share(shards: int, live: int) -> int:
    """How many shards one of ``live`` members should hold at most: ceil(N / live)."""
    return math.ceil(shards / max(1, live))


@dataclass(frozen=True)
class Plan:
    """One balancing step: shards to release (surplus) and shards to try to lock (free)."""

    release: tuple[int, ...]
    take: tuple[int, ...]


def plan(shards: int, held: Collection[int], taken: Collection[int], live: int) -> Plan:
    """What a member holding ``held`` does when ``taken`` (by anyone, itself included) are
    locked and ``live`` members (itself included) have a fresh heartbeat."""
    share = fair_share(shards, live)
    mine = sorted(held)
    if len(mine) > share:
        # release the highest first, shard 0 last (its holder does the cluster-wide work)
        order = sorted(mine, key=lambda s: (s == 0, -s))
        return Plan(tuple(order[: len(mine) - share]), ())
    want = share - len(mine)
    free = [s for s in range(shards) if s not in taken and s not in held]
    return Plan((), tuple(free[:want]))


def split(names: Iterable[str], shards: int) -> dict[int, list[str]]:
    """Device names by shard (every shard present, empty or not)."""
    out: dict[int, list[str]] = {s: [] for s in range(shards)}
    for name in names:
        out[shard_of(name, shards)].append(name)
    return out
