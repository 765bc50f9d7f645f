"""``govnet isolation probe --from ZONE``: probe every canary of the zones ZONE must not reach.

Safety: the only destinations are the canary addresses the inventory declares for the zones
``ZONE`` is isolated from (``zones.<z>.canaries``); :func:`plan_probes` is the single place
that chooses them and :func:`run_probe` sends nothing else.

The prober must run inside the isolated zone (on a vantage host there, or under
``ip netns exec`` in the lab) with root or CAP_NET_RAW. It sends each protocol to each canary,
waits, then reads from the store which probes the canaries recorded; the canaries must write
to the same store (see README, "Active probes").
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from govnet import i18n
from govnet.core.ids import new_run_id
from govnet.durations import utcnow
from govnet.inventory.model import Canary, Inventory
from govnet.isolation.probe.results import NO_ROUTE, ProbeRun, verdicts
from govnet.isolation.probe.token import PROTOCOLS, ProbeError, ProbeProtocol, TokenCodec, new_id
from govnet.store.db import Store
from govnet.store.probe import SentProbe, arrivals_for, canary_sessions, save_probe_run

CAP_NET_RAW = 13


@dataclass(frozen=True)
class Target:
    from_zone: str
    to_zone: str
    canary: Canary
    protocol: ProbeProtocol


@dataclass(frozen=True)
class ProbePlan:
    from_zone: str
    targets: tuple[Target, ...]
    untested: tuple[str, ...]  # forbidden zones that declare no canary

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset(str(t.canary.address) for t in self.targets)


def plan_probes(
    inv: Inventory, from_zone: str, protocols: Sequence[ProbeProtocol] = PROTOCOLS
) -> ProbePlan:
    """Every (canary, protocol) of the zones ``from_zone`` must be isolated from."""
    if from_zone not in inv.zones:
        known = ", ".join(sorted(inv.zones))
        raise ProbeError(
            i18n._(
                "--from {from_zone!r}: no such zone in the inventory (known: {known})",
                from_zone=from_zone,
                known=known,
            )
        )
    forbidden = sorted(inv.zones[from_zone].isolated_from)
    if not forbidden:
        raise ProbeError(
            i18n._(
                "zone {from_zone} is isolated from no zone (zones.{from_zone}.isolated_from is "
                "empty): nothing to probe",
                from_zone=from_zone,
            )
        )
    targets: list[Target] = []
    untested: list[str] = []
    for zone in forbidden:
        canaries = inv.zones[zone].canaries if zone in inv.zones else ()
        if not canaries:
            untested.append(zone)
        for canary in canaries:
            targets.extend(Target(from_zone, zone, canary, p) for p in protocols)
    if not targets:
        raise ProbeError(
            i18n._(
                "none of the zones {from_zone} must be isolated from ({forbidden}) declares a "
                "canary: add zones.<zone>.canaries to the inventory",
                from_zone=from_zone,
                forbidden=", ".join(forbidden),
            )
        )
    return ProbePlan(from_zone, tuple(targets), tuple(untested))


def has_raw_privilege(status: Path = Path("/proc/self/status")) -> bool:
    """CAP_NET_RAW in the effective set (root normally has it; a container may not)."""
    try:
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> CAP_NET_RAW & 1)
    except (OSError, ValueError, IndexError):
        pass
    return os.geteuid() == 0


def require_raw_privilege(what: str, check: Callable[[], bool] = has_raw_privilege) -> None:
    if not check():
        raise ProbeError(
            i18n._(
                "{what} needs root or CAP_NET_RAW to send and capture raw packets: run it with "
                "sudo, or grant the capability to the interpreter ('setcap cap_net_raw+ep "
                '"$(readlink -f .venv/bin/python)"\')',
                what=what,
            )
        )


class Network(Protocol):
    """What the prober needs from the host's network (scapy here, a fake in unit tests)."""

    def route(self, dst: str) -> tuple[str, str] | None:
        """(interface, source address) towards ``dst``, or None without a route."""
        ...

    def mac(self, iface: str) -> str | None: ...

    def send(
        self,
        protocol: ProbeProtocol,
        dst: str,
        port: int,
        token_text: str,
        dns_name: str | None,
        src: str,
    ) -> None: ...


@dataclass(frozen=True)
class ProbeOptions:
    wait: float = 3.0  # seconds to wait for the canaries after the last probe
    count: int = 1  # probes per canary and protocol (each with its own token)
    protocols: tuple[ProbeProtocol, ...] = PROTOCOLS
    poll: float = 0.2
    host: str = field(default_factory=socket.gethostname)


def _send_one(
    network: Network, codec: TokenCodec, target: Target, probe_id: str, host: str, now: datetime
) -> SentProbe:
    canary = target.canary
    dst = str(canary.address)
    base: dict[str, Any] = {
        "probe_id": probe_id,
        "from_zone": target.from_zone,
        "to_zone": target.to_zone,
        "canary": dst,
        "port": canary.port,
        "protocol": target.protocol.value,
        "sent_at": now,
    }
    if canary.address.version != 4:
        return SentProbe(
            **base,
            token_id=f"{probe_id}-{new_id()}",
            sent=False,
            note="IPv6 canaries are not supported yet",
        )
    route = network.route(dst)
    if route is None:
        return SentProbe(
            **base,
            token_id=f"{probe_id}-{new_id()}",
            sent=False,
            note=f"{NO_ROUTE} from this host to {dst}",
        )
    iface, src = route
    mac = network.mac(iface)
    token = codec.issue(probe_id, target.protocol, now, ipaddress.ip_address(src), mac, host)
    sent = SentProbe(
        **base, token_id=token.id, sent=True, src=src, src_mac=mac, key_id=codec.key_id
    )
    try:
        network.send(target.protocol, dst, canary.port, codec.encode(token), canary.dns_name, src)
    except (OSError, ValueError) as exc:
        return dataclasses.replace(sent, sent=False, note=f"send failed: {exc}")
    return sent


def run_probe(
    inv: Inventory,
    from_zone: str,
    codec: TokenCodec,
    store: Store,
    options: ProbeOptions | None = None,
    network: Network | None = None,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
) -> ProbeRun:
    """Send, wait for the canaries, store the run; the run's results carry the verdicts."""
    opts = options or ProbeOptions()
    plan = plan_probes(inv, from_zone, opts.protocols)
    if network is None:
        from govnet.isolation.probe.packets import ScapyNetwork

        network = ScapyNetwork()
    net = network
    started = clock()
    run_id = new_run_id("probe", started)
    probe_id = new_id()
    sent = [
        _send_one(net, codec, target, probe_id, opts.host, clock())
        for target in plan.targets
        for _ in range(opts.count)
    ]
    _wait(store, sent, opts, sleep)
    finished = clock()
    arrivals = arrivals_for(store, [probe_id])
    sessions = canary_sessions(store, sorted(plan.addresses))
    results = verdicts(sent, arrivals, sessions, [(from_zone, z) for z in plan.untested])
    run = ProbeRun(run_id, from_zone, opts.host, started, finished, results)
    meta = {
        "from_zone": from_zone,
        "host": opts.host,
        "probe_id": probe_id,
        "untested": list(plan.untested),
        "canaries": sorted(plan.addresses),
        "protocols": [p.value for p in opts.protocols],
        "count": opts.count,
        "wait": opts.wait,
        "counts": run.counts(),
    }
    save_probe_run(store, run_id, started, finished, meta, sent, run.exit_code)
    return run


def _wait(
    store: Store, sent: Sequence[SentProbe], opts: ProbeOptions, sleep: Callable[[float], None]
) -> None:
    """Until every probe arrived, or ``wait`` seconds passed and every canary's heartbeat is
    past the last send (so "nothing arrived" means something). A canary that never beats is
    given ``2 × wait`` more; its results then read ``error``."""
    went = [s for s in sent if s.sent]
    if not went:
        return
    tokens = {s.token_id for s in went}
    last = max(s.sent_at for s in went)
    canaries = sorted({s.canary for s in went})
    deadline = time.monotonic() + opts.wait
    while True:
        arrived = {a.token_id for a in arrivals_for(store, [went[0].probe_id])}
        if tokens <= arrived:
            return
        now = time.monotonic()
        if now >= deadline:
            beats = canary_sessions(store, canaries)
            if all(any(b.address == c and b.last_seen >= last for b in beats) for c in canaries):
                return
            if now >= deadline + 2 * opts.wait:
                return
        sleep(opts.poll)
