"""Isolation probe figures: token sign/verify rate, canary packets judged per second, and (as
root) the netns lab's build and teardown time.

Prints figures; asserts nothing. Targets from the issue: veth namespaces build in ~0.05 s.

    python bench/probe_bench.py
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scapy.layers.l2 import Ether

from govnet.inventory import load_inventory
from govnet.isolation.probe.canary import CanaryService, Listen
from govnet.isolation.probe.packets import build
from govnet.isolation.probe.token import MemoryReplayCache, ProbeProtocol, TokenCodec, Verifier
from govnet.lab import netns
from govnet.store.db import Store
from govnet.store.probe import StoreReplayCache

ROOT = Path(__file__).resolve().parent.parent
N = 20_000
PACKETS = 2_000


def tokens() -> None:
    codec = TokenCodec(secrets.token_bytes(32))
    now = datetime.now(UTC)
    start = time.perf_counter()
    texts = [
        codec.encode(codec.issue("00" * 8, ProbeProtocol.DNS, now, host="pc")) for _ in range(N)
    ]
    signed = time.perf_counter() - start
    verifier = Verifier(codec, MemoryReplayCache())
    start = time.perf_counter()
    for text in texts:
        verifier.verify(text, now)
    verified = time.perf_counter() - start
    print(
        f"tokens: {N / signed:,.0f} signed/s, {N / verified:,.0f} verified/s "
        f"(signature, age, replay in memory); {len(texts[0])} characters each"
    )


def canary() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.sqlite")
        codec = TokenCodec(secrets.token_bytes(32))
        now = datetime.now(UTC)
        listens = [Listen("172.20.255.250", 53, "external", "eth0", "canary.ext.lab.govnet")]
        service = CanaryService(
            listens, Verifier(codec, StoreReplayCache(store)), store, on_event=lambda *_: None
        )
        frames = []
        for i in range(PACKETS):
            proto = (ProbeProtocol.ICMP, ProbeProtocol.TCP, ProbeProtocol.DNS)[i % 3]
            text = codec.encode(codec.issue("11" * 8, proto, now, host="pc"))
            pkt = build(proto, "172.20.255.250", 53, text, "canary.ext.lab.govnet", "10.10.0.9")
            frames.append(Ether(bytes(Ether() / pkt)))
        noise = [Ether(bytes(Ether() / build(ProbeProtocol.ICMP, "172.20.0.1", 53, "x")))] * PACKETS
        start = time.perf_counter()
        for f in noise:
            service.handle(f)
        ignored = time.perf_counter() - start
        start = time.perf_counter()
        outcomes = [service.handle(f) for f in frames]
        judged = time.perf_counter() - start
        assert outcomes.count("accepted") == PACKETS
        print(
            f"canary: {PACKETS / judged:,.0f} probes/s verified and stored (SQLite WAL, one "
            f"transaction each); {PACKETS / ignored:,.0f} other packets/s ignored "
            "(Python filter; with libpcap the kernel drops them)"
        )


def lab() -> None:
    reason = netns.unavailable()
    if reason:
        print(f"netns lab: skipped ({reason})")
        return
    plan = netns.plan(load_inventory(ROOT / "inventory" / "lab.yaml"), f"gvb{os.getpid() % 10**6}")
    times_up, times_down = [], []
    for _ in range(5):
        start = time.perf_counter()
        netns.up(plan)
        times_up.append(time.perf_counter() - start)
        start = time.perf_counter()
        netns.down(plan.prefix)
        times_down.append(time.perf_counter() - start)
    up = sorted(times_up)[2]
    down = sorted(times_down)[2]
    print(
        f"netns lab: up {up:.3f} s (4 namespaces, 3 veth pairs, addresses, routes), "
        f"down {down:.3f} s (median of 5); left behind: {netns.list_namespaces(plan.prefix)}"
    )


if __name__ == "__main__":
    tokens()
    canary()
    lab()
