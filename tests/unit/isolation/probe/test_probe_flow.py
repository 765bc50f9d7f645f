"""Prober → canary → store → verdicts, in one process: the network is a fake that either
delivers each built packet (as wire bytes) to a real CanaryService, or drops it."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from govnet.inventory import Inventory, load_inventory
from govnet.isolation.probe.canary import listen_plan
from govnet.isolation.probe.packets import build, payload
from govnet.isolation.probe.prober import has_raw_privilege, plan_probes, require_raw_privilege
from govnet.isolation.probe.results import Verdict, find_run, newest_runs
from govnet.isolation.probe.token import ProbeError, ProbeProtocol, TokenCodec
from govnet.store.db import Store
from govnet.store.probe import arrivals_since, canary_sessions
from tests.conftest import LAB_INVENTORY
from tests.unit.isolation.probe.probe_support import (
    CANARY,
    SECRET,
    Clock,
    FakeNetwork,
    canary_for,
    probe,
)


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_inventory(LAB_INVENTORY)


@pytest.fixture
def store(store_url: str) -> Store:
    return Store.open(store_url)


def test_the_plan_covers_every_canary_of_every_forbidden_zone_and_nothing_else(
    inv: Inventory,
) -> None:
    plan = plan_probes(inv, "internal")
    assert plan.addresses == {CANARY}
    assert [(t.to_zone, t.protocol.value) for t in plan.targets] == [
        ("external", "icmp"),
        ("external", "tcp"),
        ("external", "dns"),
    ]
    assert plan.untested == ("internet",)
    with pytest.raises(ProbeError, match="no such zone"):
        plan_probes(inv, "intranet")
    with pytest.raises(ProbeError, match="declares a canary"):
        plan_probes(inv, "external")  # internal declares no canary


def test_isolated_when_nothing_arrives_while_the_canary_listens(
    inv: Inventory, store: Store
) -> None:
    clock = Clock()
    canary = canary_for(store, clock)
    canary.beat()
    net = FakeNetwork()
    run = probe(inv, store, net, clock, canary)
    assert {d for _p, d, _port in net.sent} == {CANARY}  # only the declared canary
    verdicts = {(r.to_zone, r.protocol): r.verdict for r in run.results}
    assert verdicts == {
        ("external", "icmp"): Verdict.ISOLATED,
        ("external", "tcp"): Verdict.ISOLATED,
        ("external", "dns"): Verdict.ISOLATED,
        ("internet", None): Verdict.UNTESTED,
    }
    assert run.exit_code == 0


def test_leak_names_protocol_source_and_time(inv: Inventory, store: Store) -> None:
    clock = Clock()
    canary = canary_for(store, clock)
    canary.beat()
    net = FakeNetwork(deliver_to=canary)
    run = probe(inv, store, net, clock, canary)
    assert net.outcomes == ["accepted"] * 3
    leaks = run.leaks
    assert sorted(str(r.protocol) for r in leaks) == ["dns", "icmp", "tcp"]
    assert {(r.source, r.source_mac, r.host) for r in leaks} == {
        ("10.10.255.253", "02:00:ac:14:ff:fe", "vantage")
    }
    assert all(r.received is not None for r in leaks)
    assert run.exit_code == 1
    stored = newest_runs(store)["internal"]
    assert [r.verdict for r in stored.results] == [r.verdict for r in run.results]
    assert len(arrivals_since(store, clock.now - timedelta(hours=1))) == 3


def test_a_late_arrival_turns_a_stored_result_into_a_leak(inv: Inventory, store: Store) -> None:
    clock = Clock()
    canary = canary_for(store, clock)
    canary.beat()
    held: list[Ether] = []

    class Holding(FakeNetwork):
        def send(
            self,
            protocol: ProbeProtocol,
            dst: str,
            port: int,
            token_text: str,
            dns_name: str | None,
            src: str,
        ) -> None:
            if protocol is ProbeProtocol.DNS:  # a slow resolver path
                held.append(
                    Ether(bytes(Ether() / build(protocol, dst, port, token_text, dns_name, src)))
                )

    run = probe(inv, store, Holding(), clock, canary)
    assert not run.leaks
    assert canary.handle(held[0]) == "accepted"
    again = find_run(store, run.id)
    assert again is not None and [r.protocol for r in again.leaks] == ["dns"]


def test_rejected_probes_are_not_evidence(inv: Inventory, store: Store) -> None:
    clock = Clock()
    canary = canary_for(store, clock)
    canary.beat()
    forged = FakeNetwork(deliver_to=canary)
    run = probe(inv, store, forged, clock, canary, secret=b"not-the-canary-secret-at-all")
    assert forged.outcomes == ["forged"] * 3
    assert {r.verdict for r in run.results if r.protocol} == {Verdict.ERROR}
    assert "different probe secret" in run.results[0].note
    # a replayed capture of a good probe is counted once
    text = TokenCodec(SECRET).encode(
        TokenCodec(SECRET).issue(
            "00112233aabbccdd", ProbeProtocol.ICMP, clock.now, ipaddress.ip_address("10.10.0.9")
        )
    )
    frame = Ether(bytes(Ether() / IP(src="10.10.0.9", dst=CANARY) / ICMP() / Raw(payload(text))))
    assert [canary.handle(frame) for _ in range(3)] == ["accepted", "replayed", "replayed"]
    # an old capture is expired; a plain ping is unsigned; a token moved to another protocol is forged
    old = TokenCodec(SECRET).encode(
        TokenCodec(SECRET).issue(
            "00112233aabbccdd", ProbeProtocol.ICMP, clock.now - timedelta(hours=1)
        )
    )
    assert (
        canary.handle(Ether(bytes(Ether() / IP(dst=CANARY) / ICMP() / Raw(payload(old)))))
        == "expired"
    )
    assert (
        canary.handle(Ether(bytes(Ether() / IP(dst=CANARY) / ICMP() / Raw(b"x" * 56))))
        == "unsigned"
    )
    moved = Ether(
        bytes(
            Ether()
            / build(
                ProbeProtocol.DNS,
                CANARY,
                53,
                TokenCodec(SECRET).encode(
                    TokenCodec(SECRET).issue("00112233aabbccdd", ProbeProtocol.ICMP, clock.now)
                ),
            )
        )
    )
    assert canary.handle(moved) == "forged"
    assert len(arrivals_since(store, clock.now - timedelta(hours=2))) == 1
    assert canary.snapshot() == {
        "accepted": 1,
        "expired": 1,
        "forged": 4,
        "replayed": 2,
        "unsigned": 1,
    }


def test_a_deaf_canary_never_reads_as_isolated(inv: Inventory, store: Store) -> None:
    clock = Clock()
    run = probe(inv, store, FakeNetwork(), clock, None)  # no canary session at all
    results = [r for r in run.results if r.protocol]
    assert {r.verdict for r in results} == {Verdict.ERROR}
    assert "was not listening" in results[0].note
    assert run.exit_code == 3


def test_no_route_at_all_is_isolation(inv: Inventory, store: Store) -> None:
    clock = Clock()
    net = FakeNetwork(routes=False)
    run = probe(inv, store, net, clock, None)
    assert net.sent == []
    assert {r.verdict for r in run.results if r.protocol} == {Verdict.ISOLATED}
    assert run.results[0].note.startswith("no route")


def test_canary_sessions_record_heartbeats(store: Store) -> None:
    clock = Clock()
    canary = canary_for(store, clock)
    canary.beat()
    canary.beat()
    (session,) = canary_sessions(store, [CANARY])
    assert session.started < session.last_seen and session.key_id == TokenCodec(SECRET).key_id


def test_the_canary_listens_only_on_declared_local_canaries(inv: Inventory) -> None:
    local = {CANARY: "eth0", "127.0.0.1": "lo"}
    (listen,) = listen_plan(inv, (), local)
    assert (listen.address, listen.zone, listen.iface, listen.port) == (
        CANARY,
        "external",
        "eth0",
        53,
    )
    assert listen_plan(inv, [CANARY], local) == [listen]
    with pytest.raises(ProbeError, match="not a canary declared"):
        listen_plan(inv, ["127.0.0.1"], local)
    with pytest.raises(ProbeError, match="not an address of this host"):
        listen_plan(inv, [CANARY], {"127.0.0.1": "lo"})
    with pytest.raises(ProbeError, match="none of the inventory's canaries"):
        listen_plan(inv, (), {"127.0.0.1": "lo"})
    with pytest.raises(ProbeError, match="not an IP address"):
        listen_plan(inv, ["canary"], local)


def test_raw_sockets_need_cap_net_raw(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nCapEff:\t0000000000002000\n")  # bit 13 only
    assert has_raw_privilege(status)
    status.write_text("Name:\tpython\nCapEff:\t00000000a80405fb\n")  # docker defaults minus NET_RAW
    assert not has_raw_privilege(status)
    with pytest.raises(ProbeError, match="needs root or CAP_NET_RAW") as err:
        require_raw_privilege("govnet isolation probe", lambda: False)
    assert err.value.exit_code == 2
