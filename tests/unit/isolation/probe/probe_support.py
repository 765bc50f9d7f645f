"""Helpers for the probe tests: a stepping clock, an in-process canary, a fake network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from scapy.layers.l2 import Ether

from govnet.inventory import Inventory
from govnet.isolation.probe.canary import CanaryService, Listen
from govnet.isolation.probe.packets import build
from govnet.isolation.probe.prober import ProbeOptions, run_probe
from govnet.isolation.probe.results import ProbeRun
from govnet.isolation.probe.token import ProbeProtocol, TokenCodec, Verifier
from govnet.store.db import Store
from govnet.store.probe import StoreReplayCache

SECRET = b"0123456789abcdef-test-secret"
CANARY = "172.20.255.250"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=10)
        return self.now


def canary_for(store: Store, clock: Clock, secret: bytes = SECRET) -> CanaryService:
    listens = [Listen(CANARY, 53, "external", "eth0", "canary.ext.lab.govnet")]
    verifier = Verifier(TokenCodec(secret), StoreReplayCache(store))
    return CanaryService(listens, verifier, store, clock=clock, host="canary-host", pid=4242)


@dataclass
class FakeNetwork:
    """Routes every IPv4 destination via eth0 unless told otherwise; delivers or drops."""

    deliver_to: CanaryService | None = None
    routes: bool = True
    sent: list[tuple[str, str, int]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)

    def route(self, dst: str) -> tuple[str, str] | None:
        return ("eth0", "10.10.255.253") if self.routes else None

    def mac(self, iface: str) -> str | None:
        return "02:00:0a:0a:ff:fd"

    def send(
        self,
        protocol: ProbeProtocol,
        dst: str,
        port: int,
        token_text: str,
        dns_name: str | None,
        src: str,
    ) -> None:
        self.sent.append((protocol.value, dst, port))
        if self.deliver_to is not None:
            frame = Ether(src="02:00:ac:14:ff:fe") / build(
                protocol, dst, port, token_text, dns_name, src
            )
            self.outcomes.append(self.deliver_to.handle(Ether(bytes(frame))))


def probe(
    inv: Inventory,
    store: Store,
    net: FakeNetwork,
    clock: Clock,
    canary: CanaryService | None,
    secret: bytes = SECRET,
) -> ProbeRun:
    beat: Callable[[float], None] = (lambda _s: canary.beat()) if canary else (lambda _s: None)
    opts = ProbeOptions(wait=0.05, poll=0.01, host="vantage")
    return run_probe(inv, "internal", TokenCodec(secret), store, opts, net, clock, beat)
