"""Probe packets (scapy): built by the prober, read back by the canary.

The one module that imports scapy: packets, the capture (:func:`sniffer`, the BPF filter),
and the host's network as the prober sees it (:class:`ScapyNetwork`: routes, MACs, sending).

- ICMP echo request, payload ``gvnp1:<token>``;
- TCP SYN to the canary's port, the same payload (data on a SYN is legal; the canary reads it
  from the captured packet, no connection is ever made);
- UDP DNS query to the canary's port for ``<token in 63-char labels>.gvnp1.<dns_name>``: the
  name is unique per probe, so a leak through an internal resolver that forwards to the
  canary's authoritative server is caught too (the source is then the resolver).

IPv4 only for now: an IPv6 canary is reported as not probed.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from govnet.i18n import _
from govnet.isolation.probe.token import ProbeError, ProbeProtocol

# scapy logs "No route found" and similar as WARNING on import and use; govnet reports those
# conditions itself, per canary and protocol.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
logging.getLogger("scapy").setLevel(logging.ERROR)
log = logging.getLogger("govnet.probe.canary")  # the capture's messages are the canary's

from scapy.layers.dns import DNS, DNSQR  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.packet import Packet, Raw  # noqa: E402

MARKER = b"gvnp1:"
DNS_LABEL = "gvnp1"
DEFAULT_DNS_NAME = "canary.invalid"  # RFC 6761: never resolves on the Internet
TCP_SPORT = 40000  # fixed base; the nonce varies the actual port
_TOKEN_CHARS = re.compile(rb"[a-z2-7]+")


@dataclass(frozen=True, slots=True)
class Observation:
    """A probe-shaped packet seen by the canary, before its token is judged."""

    protocol: ProbeProtocol
    src: str  # source address as seen on the wire (the last NAT, if any)
    src_mac: str | None  # L2 source: the last hop (router or leaking host)
    dst: str
    dport: int | None
    token: str | None  # the token text, or None when the packet carries none


def payload(token_text: str) -> bytes:
    return MARKER + token_text.encode("ascii")


def qname(token_text: str, dns_name: str | None) -> str:
    """``<token in labels of ≤ 63>.gvnp1.<dns_name>``; ValueError if over DNS's 253 limit."""
    labels = [token_text[i : i + 63] for i in range(0, len(token_text), 63)]
    name = ".".join([*labels, DNS_LABEL, (dns_name or DEFAULT_DNS_NAME).strip(".")])
    if len(name) > 253:
        raise ValueError(f"DNS name too long for a probe ({len(name)} > 253): shorten dns_name")
    return name


def _sport(token_text: str) -> int:
    return TCP_SPORT + sum(token_text.encode("ascii")) % 20000


def build(
    protocol: ProbeProtocol,
    dst: str,
    port: int,
    token_text: str,
    dns_name: str | None = None,
    src: str | None = None,
) -> Packet:
    """One IPv4 probe packet towards ``dst`` carrying ``token_text``."""
    if ipaddress.ip_address(dst).version != 4:
        raise ValueError(f"{dst}: IPv6 canaries are not supported yet")
    ip = IP(dst=dst) if src is None else IP(dst=dst, src=src)
    if protocol is ProbeProtocol.ICMP:
        return ip / ICMP(type=8, id=0x6776, seq=1) / Raw(payload(token_text))
    if protocol is ProbeProtocol.TCP:
        seq = int.from_bytes(token_text.encode("ascii")[-4:], "big")
        tcp = TCP(sport=_sport(token_text), dport=port, flags="S", seq=seq, window=64240)
        return ip / tcp / Raw(payload(token_text))
    query = DNS(id=seq16(token_text), rd=1, qd=DNSQR(qname=qname(token_text, dns_name), qtype="A"))
    return ip / UDP(sport=_sport(token_text), dport=port) / query


def seq16(token_text: str) -> int:
    return sum(token_text.encode("ascii")) & 0xFFFF


def token_in_payload(data: bytes) -> str | None:
    """The token text after the marker, or None."""
    at = data.find(MARKER)
    if at < 0:
        return None
    m = _TOKEN_CHARS.match(data, at + len(MARKER))
    return m.group(0).decode("ascii") if m else None


def token_in_qname(name: str | bytes) -> str | None:
    """The token labels before ``gvnp1`` in a query name (case-insensitive), or None."""
    text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
    labels = text.lower().strip(".").split(".")
    if DNS_LABEL not in labels:
        return None
    joined = "".join(labels[: labels.index(DNS_LABEL)])
    return joined if joined and _TOKEN_CHARS.fullmatch(joined.encode("ascii", "replace")) else None


def _dns_query(udp: Any) -> Any | None:
    """The DNS query in a UDP packet, whatever port scapy bound DNS to (or None)."""
    layer = udp.getlayer(DNS)
    if layer is None:
        try:
            layer = DNS(bytes(udp.payload))
        except Exception:  # arbitrary bytes to a DNS port: not a probe
            return None
    if layer.qr != 0 or not layer.qd:
        return None
    return layer


def observe(
    pkt: Packet, addresses: frozenset[str], dns_ports: frozenset[int]
) -> Observation | None:
    """A probe-shaped packet to one of ``addresses``: ICMP echo request, TCP SYN (any port),
    UDP to a DNS port. Anything else → None."""
    if IP not in pkt:
        return None
    ip = pkt[IP]
    if ip.dst not in addresses:
        return None
    mac = pkt[Ether].src if Ether in pkt else None
    if ICMP in pkt:
        icmp = pkt[ICMP]
        if icmp.type != 8:
            return None
        return Observation(
            ProbeProtocol.ICMP, ip.src, mac, ip.dst, None, token_in_payload(bytes(icmp.payload))
        )
    if TCP in pkt:
        tcp = pkt[TCP]
        flags = int(tcp.flags)
        if not flags & 0x02 or flags & 0x10:  # SYN without ACK
            return None
        return Observation(
            ProbeProtocol.TCP,
            ip.src,
            mac,
            ip.dst,
            int(tcp.dport),
            token_in_payload(bytes(tcp.payload)),
        )
    if UDP in pkt:
        udp = pkt[UDP]
        if int(udp.dport) not in dns_ports:
            return None
        query = _dns_query(udp)
        if query is None:
            return None
        return Observation(
            ProbeProtocol.DNS,
            ip.src,
            mac,
            ip.dst,
            int(udp.dport),
            token_in_qname(query.qd[0].qname),
        )
    return None


def bpf_filter(addresses: frozenset[str], dns_ports: frozenset[int]) -> str:
    """The kernel-side filter equivalent of :func:`observe` (needs libpcap to compile)."""
    hosts = " or ".join(f"dst host {a}" for a in sorted(addresses))
    ports = " or ".join(f"dst port {p}" for p in sorted(dns_ports))
    kinds = f"icmp[icmptype] = icmp-echo or (tcp[tcpflags] & tcp-syn != 0) or (udp and ({ports}))"
    return f"ip and ({hosts}) and ({kinds})"


def dns_refusal(query_bytes: bytes) -> bytes | None:
    """An NXDOMAIN answer to a query (so resolvers stop retrying), or None if unparsable."""
    try:
        query = DNS(query_bytes)
    except Exception:
        return None
    if query.qr != 0 or not query.qd:
        return None
    return bytes(DNS(id=query.id, qr=1, aa=1, rd=query.rd, rcode=3, qd=query.qd))


# --------------------------------------------------------------------------- capture


def destination(pkt: Any) -> str | None:
    """The IP destination of a captured packet (None: not IP)."""
    return str(pkt[IP].dst) if IP in pkt else None


def compiled_or_none(bpf: str, iface: str) -> str | None:
    """The BPF filter if libpcap can compile it here, else None (filter in Python)."""
    from scapy.arch.common import compile_filter
    from scapy.error import Scapy_Exception

    try:
        compile_filter(bpf, iface=iface)
    except (ImportError, Scapy_Exception, OSError) as exc:
        log.info("canary: no kernel filter (%s); filtering in Python — install libpcap0.8", exc)
        return None
    return bpf


class Sniffer:
    """A capture on ``ifaces`` handing each packet to ``handle`` on its own thread."""

    def __init__(
        self,
        ifaces: Sequence[str],
        addresses: frozenset[str],
        dns_ports: frozenset[int],
        handle: Callable[[Any], None],
    ) -> None:
        from scapy.sendrecv import AsyncSniffer

        self.ifaces = list(ifaces)
        bpf = compiled_or_none(bpf_filter(addresses, dns_ports), self.ifaces[0])
        self._sniffer = AsyncSniffer(
            iface=self.ifaces if len(self.ifaces) > 1 else self.ifaces[0],
            filter=bpf,
            lfilter=lambda p: destination(p) in addresses,
            prn=handle,
            store=False,
        )

    def start(self) -> None:
        """Start capturing; ProbeError when the kernel refuses (no privilege, no interface)."""
        try:
            self._sniffer.start()
        except (OSError, RuntimeError) as exc:
            raise ProbeError(
                _(
                    "canary: cannot capture on {ifaces}: {exc}",
                    ifaces=", ".join(self.ifaces),
                    exc=exc,
                )
            ) from exc

    def stop(self) -> None:
        if self._sniffer.running:
            self._sniffer.stop()


# --------------------------------------------------------------------------- the network


class ScapyNetwork:
    """Routes from scapy's table (read at import: start the prober inside the namespace)."""

    def __init__(self) -> None:
        import scapy.route  # noqa: F401  (fills conf.route from this namespace's table)
        from scapy.config import conf

        self._conf = conf

    def route(self, dst: str) -> tuple[str, str] | None:
        iface, src, _gw = self._conf.route.route(dst, verbose=0)
        if not src or src == "0.0.0.0":
            return None
        return str(iface), str(src)

    def mac(self, iface: str) -> str | None:
        from scapy.arch import get_if_hwaddr

        try:
            mac = str(get_if_hwaddr(iface)).lower()
        except (OSError, ValueError):
            return None
        return None if mac == "00:00:00:00:00:00" else mac

    def send(
        self,
        protocol: ProbeProtocol,
        dst: str,
        port: int,
        token_text: str,
        dns_name: str | None,
        src: str,
    ) -> None:
        from scapy.sendrecv import send

        send(build(protocol, dst, port, token_text, dns_name, src), verbose=0)
