"""``govnet isolation canary``: the receiver on the forbidden side.

It listens on canary addresses the inventory declares (``zones.<z>.canaries``) that belong to
this host, captures ICMP echo requests, TCP SYNs and UDP DNS queries sent to them (scapy; a
kernel BPF filter when libpcap is installed, a Python filter otherwise), and counts a probe
only if its token verifies: signed with the shared secret, not expired, never seen before.
Each counted probe is evidence, stored with the protocol, the source address and MAC as seen
here, the time, and the token's id and claims. Rejected probes are counted and logged, not
stored. A heartbeat row per canary address tells probers the canary was listening.

DNS queries get an NXDOMAIN answer so a resolver on a leaking path stops retrying; ICMP and
TCP are left to the kernel (echo reply, RST).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from govnet.durations import utcnow
from govnet.i18n import _
from govnet.inventory.model import Inventory
from govnet.isolation.probe.token import ForgedToken, ProbeError, Token, TokenRejected, Verifier
from govnet.store.db import Store
from govnet.store.probe import Arrival, CanaryBeat, heartbeat, prune_nonces

log = logging.getLogger(__name__)

HEARTBEAT = 1.0  # seconds between heartbeats (probers wait for one after their last send)
SNIFFER_SETTLE = 0.3  # a sniffer misses packets for about this long after start
PRUNE_EVERY = timedelta(minutes=10)


@dataclass(frozen=True)
class Listen:
    address: str
    port: int  # the DNS port (TCP SYNs are taken on any port)
    zone: str
    iface: str
    dns_name: str | None = None


def local_addresses() -> dict[str, str]:
    """Address → interface, for every IPv4/IPv6 address of this host (or namespace)."""
    import psutil

    out: dict[str, str] = {}
    for iface, addrs in psutil.net_if_addrs().items():
        for a in addrs:
            if a.family in (socket.AF_INET, socket.AF_INET6):
                out.setdefault(a.address.split("%", 1)[0], iface)
    return out


def listen_plan(
    inv: Inventory, listen: Sequence[str] = (), local: Mapping[str, str] | None = None
) -> list[Listen]:
    """The canaries to listen on: ``listen`` (each must be declared and local), else every
    declared canary that is an address of this host."""
    declared = {
        str(c.address): (zone.name, c) for zone in inv.zones.values() for c in zone.canaries
    }
    if not declared:
        raise ProbeError(
            _(
                "the inventory declares no canary: add zones.<zone>.canaries (address, port, "
                "dns_name) for the zones isolated networks must never reach"
            )
        )
    here = dict(local) if local is not None else local_addresses()
    listing = ", ".join(sorted(declared))
    wanted: list[str] = []
    for text in listen:
        try:
            address = str(ipaddress.ip_address(text.strip()))
        except ValueError:
            raise ProbeError(_("--listen {text!r}: not an IP address", text=text)) from None
        if address not in declared:
            raise ProbeError(
                _(
                    "--listen {address}: not a canary declared in the inventory (declared: "
                    "{listing}); a canary listens only where the inventory says",
                    address=address,
                    listing=listing,
                )
            )
        if address not in here:
            raise ProbeError(
                _(
                    "--listen {address}: not an address of this host; add it to an interface "
                    "('ip addr add {address}/32 dev IFACE') or run the canary where it lives",
                    address=address,
                )
            )
        wanted.append(address)
    if not listen:
        wanted = sorted(a for a in declared if a in here)
        if not wanted:
            raise ProbeError(
                _(
                    "none of the inventory's canaries ({listing}) is an address of this host: "
                    "run the canary on the host that owns one (in the lab: 'ip netns exec "
                    "<prefix>-ext govnet isolation canary')",
                    listing=listing,
                )
            )
    out = []
    for address in dict.fromkeys(wanted):
        zone, canary = declared[address]
        out.append(Listen(address, canary.port, zone, here[address], canary.dns_name))
    return out


Event = Callable[[str, Any, "Token | None", str], None]  # outcome, observation, token, message


@dataclass
class CanaryService:
    """Judges captured packets and records evidence; :meth:`run` drives the capture."""

    listens: Sequence[Listen]
    verifier: Verifier
    store: Store
    clock: Callable[[], datetime] = utcnow
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    on_event: Event | None = None
    counts: Counter[str] = field(default_factory=Counter)
    started: datetime | None = None
    _last_prune: datetime | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.addresses = frozenset(x.address for x in self.listens)
        self.dns_ports = frozenset(x.port for x in self.listens)

    # -- judging one packet -------------------------------------------------------------

    def handle(self, pkt: Any) -> str:
        """``accepted``, ``ignored`` (not a probe) or the rejection reason."""
        from govnet.isolation.probe.packets import observe

        obs = observe(pkt, self.addresses, self.dns_ports)
        if obs is None:
            self._count("ignored")
            return "ignored"
        now = self.clock()
        token: Token | None = None
        try:
            token = self.verifier.authenticate(obs.token, now)
            if token.protocol != obs.protocol:
                raise ForgedToken(f"token for {token.protocol} arrived over {obs.protocol}", token)
            arrival = Arrival(
                token_id=token.id,
                probe_id=token.probe_id,
                protocol=obs.protocol.value,
                canary=obs.dst,
                dport=obs.dport,
                src=obs.src,
                src_mac=obs.src_mac,
                claimed_src=str(token.src_ip) if token.src_ip else None,
                claimed_mac=token.src_mac,
                host=token.host,
                issued=token.issued_at,
                received=now,
            )
            self.verifier.claim(token, arrival)
        except TokenRejected as exc:
            reason = exc.reason
            self._count(reason)
            quiet = reason == "unsigned" or self.on_event is not None
            log.log(
                logging.DEBUG if quiet else logging.WARNING,
                "%s %s probe from %s to %s rejected: %s",
                reason,
                obs.protocol,
                obs.src,
                obs.dst,
                exc,
            )
            self._emit(reason, obs, exc.token, str(exc))
            return reason
        self._count("accepted")
        message = (
            f"LEAK: {obs.protocol} probe from {obs.src} (token says {token.src_ip}, host "
            f"{token.host or '?'}) reached canary {obs.dst}"
        )
        if self.on_event is None:
            log.warning("%s", message)
        self._emit("accepted", obs, token, message)
        return "accepted"

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {k: int(v) for k, v in sorted(self.counts.items())}

    def _emit(self, outcome: str, obs: Any, token: Token | None, message: str) -> None:
        if self.on_event is not None:
            self.on_event(outcome, obs, token, message)

    def safe_handle(self, pkt: Any) -> None:
        """For the sniffer thread: one bad packet or a store hiccup never stops the canary."""
        try:
            self.handle(pkt)
        except Exception as exc:  # recorded as data: counted and logged with its cause
            self._count("errors")
            log.error("canary: could not process a packet: %s: %s", type(exc).__name__, exc)

    # -- liveness -----------------------------------------------------------------------

    def beat(self) -> None:
        now = self.clock()
        if self.started is None:
            self.started = now
        counts = self.snapshot()
        key = self.verifier.codec.key_id
        for x in self.listens:
            heartbeat(
                self.store,
                CanaryBeat(x.address, x.zone, self.host, self.pid, key, self.started, now, counts),
            )
        if self._last_prune is None or now - self._last_prune >= PRUNE_EVERY:
            prune_nonces(self.store, now)
            self._last_prune = now

    # -- capture ------------------------------------------------------------------------

    def run(self, stop: threading.Event, duration: float | None = None) -> dict[str, int]:
        """Capture until ``stop`` is set (or ``duration`` seconds passed). Needs CAP_NET_RAW."""
        from govnet.isolation.probe.packets import Sniffer

        ifaces = sorted({x.iface for x in self.listens})
        sniffer = Sniffer(ifaces, self.addresses, self.dns_ports, self.safe_handle)
        sniffer.start()
        responders = [_DnsResponder(x.address, x.port, stop) for x in self.listens]
        try:
            time.sleep(SNIFFER_SETTLE)
            self.beat()  # the session starts once the sniffer really captures
            until = None if duration is None else time.monotonic() + duration
            while not stop.wait(HEARTBEAT):
                self.beat()
                if until is not None and time.monotonic() >= until:
                    break
        finally:
            stop.set()
            sniffer.stop()
            for r in responders:
                r.close()
            self.beat()
        return self.snapshot()


def listening_on(listens: Sequence[Listen]) -> str:
    """``ADDR (zone, iface, dns :PORT), …``: what a starting canary tells the operator."""
    return ", ".join(f"{x.address} ({x.zone}, {x.iface}, dns :{x.port})" for x in listens)


def summary(counts: Mapping[str, int]) -> str:
    """``accepted=1 replayed=2`` (packets that were not probes left out) or ``nothing``."""
    return " ".join(f"{k}={v}" for k, v in counts.items() if k != "ignored") or "nothing"


@dataclass(frozen=True)
class EventLine:
    """One event as a person reads it: the text and how loud (``bold red`` for a leak)."""

    outcome: str
    text: str
    style: str

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"


def event_line(outcome: str, message: str) -> EventLine | None:
    """How an event is shown; None for unsigned packets (pings and scans, not probes)."""
    if outcome == "unsigned":
        return None
    if outcome == "accepted":
        return EventLine(outcome, message, "bold red")
    return EventLine(outcome, f"rejected ({outcome}): {message}", "yellow")


def run_until_signalled(service: CanaryService, duration: float | None = None) -> dict[str, int]:
    """Run the canary until SIGTERM or SIGINT (or ``duration`` seconds); the handlers in place
    before are restored afterwards. Call from the main thread."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return service.run(stop, duration)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class _DnsResponder:
    """Answers DNS queries to a canary with NXDOMAIN, so resolvers stop retrying.

    Optional: when the port is taken (a real DNS server), the canary still captures."""

    def __init__(self, address: str, port: int, stop: threading.Event) -> None:
        self._stop = stop
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self._sock: socket.socket | None = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._sock.bind((address, port))
        except OSError as exc:
            log.warning(
                "%s",
                _(
                    "canary: not answering DNS on {address}:{port} ({exc})",
                    address=address,
                    port=port,
                    exc=exc,
                ),
            )
            self._sock.close()
            self._sock = None
            return
        self._sock.settimeout(0.5)
        self._thread = threading.Thread(target=self._serve, name=f"dns-{address}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        from govnet.isolation.probe.packets import dns_refusal

        sock = self._sock
        assert sock is not None
        while not self._stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            answer = dns_refusal(data)
            if answer is not None:
                # no route back is fine: one-way leaks are still recorded by the sniffer
                with contextlib.suppress(OSError):
                    sock.sendto(answer, peer)

    def close(self) -> None:
        if self._sock is not None:
            self._thread.join(timeout=2)
            self._sock.close()
