"""Probe packets: built by the prober, read back by the canary from the wire bytes."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from govnet.isolation.probe.packets import (
    DNS_LABEL,
    bpf_filter,
    build,
    dns_refusal,
    observe,
    qname,
    token_in_payload,
    token_in_qname,
)
from govnet.isolation.probe.token import PROTOCOLS, ProbeProtocol, TokenCodec

CODEC = TokenCodec(b"0123456789abcdef-test-secret")
CANARY = "172.20.255.250"
ADDRESSES = frozenset({CANARY})
PORTS = frozenset({53})
NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


def text_for(protocol: ProbeProtocol) -> str:
    t = CODEC.issue(
        "00112233aabbccdd",
        protocol,
        NOW,
        ipaddress.ip_address("10.10.255.253"),
        "02:00:0a:0a:ff:fd",
        "vantage",
    )
    return CODEC.encode(t)


def on_wire(pkt: Packet) -> Packet:
    """What a sniffer sees: an Ethernet frame parsed back from bytes."""
    return Ether(bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / pkt))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_each_probe_carries_its_token_across_the_wire(protocol: ProbeProtocol) -> None:
    text = text_for(protocol)
    pkt = build(protocol, CANARY, 53, text, "canary.ext.lab.govnet", "10.10.255.253")
    obs = observe(on_wire(pkt), ADDRESSES, PORTS)
    assert obs is not None
    assert (obs.protocol, obs.src, obs.dst, obs.src_mac) == (
        protocol,
        "10.10.255.253",
        CANARY,
        "02:00:00:00:00:01",
    )
    assert obs.token == text
    assert CODEC.decode(obs.token).protocol is protocol


def test_the_probe_shapes() -> None:
    text = text_for(ProbeProtocol.TCP)
    syn = build(ProbeProtocol.TCP, CANARY, 53, text)
    assert syn[TCP].flags == "S" and syn[TCP].dport == 53
    query = build(ProbeProtocol.DNS, CANARY, 5353, text, None)
    assert query[UDP].dport == 5353
    assert query[DNS].qd[0].qname.decode().endswith(f".{DNS_LABEL}.canary.invalid.")
    echo = build(ProbeProtocol.ICMP, CANARY, 53, text)
    assert echo[ICMP].type == 8
    with pytest.raises(ValueError, match="IPv6"):
        build(ProbeProtocol.ICMP, "2001:db8::1", 53, text)


def test_a_dns_probe_on_another_port_is_still_read() -> None:
    text = text_for(ProbeProtocol.DNS)
    obs = observe(
        on_wire(build(ProbeProtocol.DNS, CANARY, 5300, text)), ADDRESSES, frozenset({5300})
    )
    assert obs is not None and obs.token == text


@pytest.mark.parametrize(
    "pkt",
    [
        IP(src="10.0.0.1", dst=CANARY) / ICMP(type=0) / Raw(b"gvnp1:abc"),  # echo reply
        IP(src="10.0.0.1", dst=CANARY) / TCP(flags="SA") / Raw(b"gvnp1:abc"),  # SYN-ACK
        IP(src="10.0.0.1", dst=CANARY) / TCP(flags="A"),
        IP(src="10.0.0.1", dst=CANARY) / UDP(dport=123) / Raw(b"gvnp1:abc"),  # not DNS
        IP(src="10.0.0.1", dst="172.20.0.1") / ICMP(type=8) / Raw(b"gvnp1:abc"),  # not a canary
        IP(src="10.0.0.1", dst=CANARY) / UDP(dport=53) / Raw(b"\x00\x01garbage"),
        IP(src="10.0.0.1", dst=CANARY) / UDP(sport=53, dport=53) / DNS(qr=1),  # an answer
    ],
)
def test_what_is_not_a_probe_is_ignored(pkt: Packet) -> None:
    assert observe(on_wire(pkt), ADDRESSES, PORTS) is None


def test_a_plain_ping_is_a_probe_without_token() -> None:
    obs = observe(
        on_wire(IP(src="10.0.0.1", dst=CANARY) / ICMP() / Raw(b"abcdefgh")), ADDRESSES, PORTS
    )
    assert obs is not None and obs.token is None


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # shared machines
@given(st.binary(max_size=200))
def test_payload_parsing_never_raises(data: bytes) -> None:
    found = token_in_payload(data)
    assert found is None or set(found) <= set("abcdefghijklmnopqrstuvwxyz234567")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # shared machines
@given(st.randoms(use_true_random=False))
def test_dns_names_survive_case_randomisation(rnd: random.Random) -> None:
    text = text_for(ProbeProtocol.DNS)
    name = qname(text, "Canary.Ext.Lab.Govnet")
    mixed = "".join(c.upper() if rnd.random() < 0.5 else c for c in name)  # DNS 0x20
    assert token_in_qname(mixed + ".") == text
    assert token_in_qname(b"www.example.com.") is None
    assert token_in_qname(f"{DNS_LABEL}.x.") is None


def test_overlong_dns_names_are_refused() -> None:
    with pytest.raises(ValueError, match="253"):
        qname("a" * 150, "x" * 60 + "." + "y" * 60)


def test_dns_queries_are_answered_nxdomain() -> None:
    query = DNS(id=4242, rd=1, qd=DNSQR(qname="abc.gvnp1.canary.invalid"))
    reply = dns_refusal(bytes(query))
    assert reply is not None
    answer = DNS(reply)
    assert (answer.id, answer.qr, answer.rcode) == (4242, 1, 3)
    assert dns_refusal(b"\x00") is None
    assert dns_refusal(bytes(DNS(qr=1))) is None


def test_the_kernel_filter_compiles_where_libpcap_is_installed() -> None:
    from scapy.arch.common import compile_filter
    from scapy.data import DLT_EN10MB

    bpf = bpf_filter(ADDRESSES, frozenset({53, 5353}))
    try:
        compile_filter(bpf, linktype=DLT_EN10MB)
    except ImportError:
        pytest.skip("libpcap is not installed (Debian: libpcap0.8); the canary filters in Python")


def test_without_a_compilable_filter_the_canary_filters_in_python() -> None:
    from govnet.isolation.probe.packets import compiled_or_none

    assert compiled_or_none("no such ((( filter", "lo") is None
