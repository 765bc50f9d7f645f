"""The isolation lab on real kernels: network namespaces joined by veth pairs (root only).

``govnet lab netns up`` builds, from the lab inventory's zones::

    <p>-int  (internal vantage host)  eth0 10.10.255.253/16, default via the leaky host
       │ veth
    <p>-leak (dual-homed PC, 一机两用)  int0 10.10.255.254/16   ext0 172.20.255.254/16
       │ veth                          forwards only with 'govnet lab netns leak on'
    <p>-ext  (external zone + canary) eth0 172.20.255.250/16 (the inventory's canary)
       │ veth
    <p>-inet (internet zone)          eth0 198.51.100.253/24   (ext side inet0 .254)

Addresses come from the zones' pools (the last addresses of the first IPv4 prefix, far from
the devices the inventory lists) and the canary from ``zones.external.canaries``; a zone
without pools (the lab's internet) gets TEST-NET-2, 198.51.100.0/24, which is never routed.
No namespace has a link to the host's own network, so no probe can leave them.

``down`` ends the processes still inside the namespaces (a canary left running) and deletes
the namespaces, which deletes their veths: nothing is left. Everything is done with
iproute2's ``ip`` in batch mode (one process per namespace, ~0.05 s in all).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from govnet.errors import LabError
from govnet.i18n import _
from govnet.inventory.model import Inventory

ROLES = ("int", "leak", "ext", "inet")
PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,11}$")
DEFAULT_PREFIX = "govnet"
INTERNET_FALLBACK = ipaddress.IPv4Network("198.51.100.0/24")  # TEST-NET-2 (RFC 5737)
TIMEOUT = 20.0


@dataclass(frozen=True)
class Address:
    ns: str
    iface: str
    cidr: str  # 10.10.255.253/16

    @property
    def ip(self) -> str:
        return self.cidr.split("/", 1)[0]


@dataclass(frozen=True)
class NetnsPlan:
    prefix: str
    zones: dict[str, str]  # role → zone name (int, ext, inet)
    links: tuple[tuple[str, str, str, str], ...]  # (ns a, iface a, ns b, iface b)
    addresses: tuple[Address, ...]
    routes: tuple[tuple[str, str, str], ...]  # (ns, destination, via)
    canary: str
    dns_port: int = 53

    def ns(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    @property
    def namespaces(self) -> list[str]:
        return [self.ns(r) for r in ROLES]

    def address_of(self, role: str, iface: str = "eth0") -> str:
        ns = self.ns(role)
        return next(a.ip for a in self.addresses if a.ns == ns and a.iface == iface)

    @property
    def vantage(self) -> str:
        return self.address_of("int")


def _first_v4(inv: Inventory, zone: str) -> ipaddress.IPv4Network | None:
    z = inv.zones.get(zone)
    if z is None:
        return None
    return next((p for p in z.pools.prefixes if isinstance(p, ipaddress.IPv4Network)), None)


def _from_top(net: ipaddress.IPv4Network, count: int, avoid: set[str]) -> list[str]:
    """``count`` host addresses from the top of ``net``, skipping ``avoid``."""
    out: list[str] = []
    candidate = int(net.broadcast_address) - 1
    while len(out) < count and candidate > int(net.network_address):
        text = str(ipaddress.IPv4Address(candidate))
        if text not in avoid:
            out.append(text)
        candidate -= 1
    if len(out) < count:
        raise LabError(_("netns lab: prefix {net} is too small", net=net))
    return out


def check_prefix(prefix: str) -> str:
    if not PREFIX_RE.match(prefix):
        raise LabError(
            _(
                "--prefix {prefix!r}: use 1-12 lower-case letters and digits, starting with a "
                "letter",
                prefix=prefix,
            )
        )
    return prefix


def plan(
    inv: Inventory,
    prefix: str = DEFAULT_PREFIX,
    inside: str = "internal",
    outside: str = "external",
    internet: str = "internet",
) -> NetnsPlan:
    """The namespaces, veths, addresses and routes for the inventory's zones."""
    check_prefix(prefix)
    for zone in (inside, outside, internet):
        if zone not in inv.zones:
            raise LabError(_("netns lab: the inventory has no zone {zone!r}", zone=zone))
    int_net, ext_net = _first_v4(inv, inside), _first_v4(inv, outside)
    if int_net is None or ext_net is None:
        raise LabError(
            _(
                "netns lab: zones {inside} and {outside} need an IPv4 pool prefix",
                inside=inside,
                outside=outside,
            )
        )
    canary = next(
        (c for c in inv.zones[outside].canaries if c.address.version == 4 and c.address in ext_net),
        None,
    )
    if canary is None:
        raise LabError(
            _(
                "netns lab: zone {outside} declares no IPv4 canary inside {ext_net} "
                "(zones.{outside}.canaries)",
                outside=outside,
                ext_net=ext_net,
            )
        )
    inet_net = _first_v4(inv, internet) or INTERNET_FALLBACK
    vantage, gw_int = _from_top(int_net, 2, set())[::-1]
    (gw_ext,) = _from_top(ext_net, 1, {str(canary.address)})
    inet_host, ext_inet = _from_top(inet_net, 2, set())[::-1]
    ns = {r: f"{prefix}-{r}" for r in ROLES}
    i, e, n = int_net.prefixlen, ext_net.prefixlen, inet_net.prefixlen
    return NetnsPlan(
        prefix=prefix,
        zones={"int": inside, "ext": outside, "inet": internet},
        links=(
            (ns["int"], "eth0", ns["leak"], "int0"),
            (ns["leak"], "ext0", ns["ext"], "eth0"),
            (ns["ext"], "inet0", ns["inet"], "eth0"),
        ),
        addresses=(
            Address(ns["int"], "eth0", f"{vantage}/{i}"),
            Address(ns["leak"], "int0", f"{gw_int}/{i}"),
            Address(ns["leak"], "ext0", f"{gw_ext}/{e}"),
            Address(ns["ext"], "eth0", f"{canary.address}/{e}"),
            Address(ns["ext"], "inet0", f"{ext_inet}/{n}"),
            Address(ns["inet"], "eth0", f"{inet_host}/{n}"),
        ),
        routes=((ns["int"], "default", gw_int),),
        canary=str(canary.address),
        dns_port=canary.port,
    )


# ----------------------------------------------------------------------------- running ip


def unavailable(try_create: bool = False) -> str | None:
    """Why the netns lab cannot run here, or None. ``try_create`` also adds and deletes a
    throw-away namespace (a container may list namespaces yet refuse to create one)."""
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs the tests as root)"
    if shutil.which("ip") is None:
        return "iproute2's 'ip' is not installed (apt-get install iproute2)"
    try:
        _ip(["netns", "list"])
        if try_create:
            name = f"govnet-check-{os.getpid()}"
            _ip(["netns", "add", name])
            _ip(["netns", "del", name])
    except LabError as exc:
        return f"'ip netns' does not work here: {exc}"
    return None


def _run(argv: Sequence[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(
            list(argv), input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except FileNotFoundError as exc:
        raise LabError(_("{argv}: not found (apt-get install iproute2)", argv=argv[0])) from exc
    except subprocess.TimeoutExpired as exc:
        raise LabError(
            _("{argv}: timed out after {timeout:.0f}s", argv=" ".join(argv), timeout=TIMEOUT)
        ) from exc
    if done.returncode != 0:
        what = (done.stderr or done.stdout).strip().replace("\n", "; ")
        raise LabError(f"{' '.join(argv)}: {what or f'exit {done.returncode}'}")
    return done.stdout


def _ip(args: Sequence[str], stdin: str | None = None) -> str:
    return _run(["ip", *args], stdin)


def _batch(lines: Sequence[str], ns: str | None = None) -> None:
    _ip([*(["-n", ns] if ns else []), "-batch", "-"], "\n".join(lines) + "\n")


def exec_argv(ns: str, argv: Sequence[str]) -> list[str]:
    """The command line that runs ``argv`` inside namespace ``ns``."""
    return ["ip", "netns", "exec", ns, *argv]


def list_namespaces(prefix: str) -> list[str]:
    """This lab's namespaces that exist now, in ROLES order."""
    present = set()
    for line in _ip(["netns", "list"]).splitlines():
        if line.strip():
            present.add(line.split()[0])
    return [f"{prefix}-{r}" for r in ROLES if f"{prefix}-{r}" in present]


def _sysctl(ns: str, key: str, value: str | None = None) -> str:
    path = "/proc/sys/" + key.replace(".", "/")
    if value is None:
        return _run(exec_argv(ns, ["cat", path])).strip()
    _run(exec_argv(ns, ["sh", "-c", f"echo {int(value)} > {path}"]))
    return value


# ----------------------------------------------------------------------------- lifecycle


@dataclass
class NetnsStatus:
    prefix: str
    namespaces: dict[str, dict[str, Any]] = field(default_factory=dict)  # ns → details
    leak: bool | None = None
    canary: str | None = None

    @property
    def up(self) -> bool:
        return len(self.namespaces) == len(ROLES)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "up": self.up,
            "leak": self.leak,
            "canary": self.canary,
            "namespaces": self.namespaces,
        }


def up(p: NetnsPlan, leak: bool = False) -> None:
    """Build the namespaces; on any failure remove what was built and raise LabError."""
    reason = unavailable()
    if reason:
        raise LabError(_("netns lab: {reason}", reason=reason))
    existing = list_namespaces(p.prefix)
    if existing:
        raise LabError(
            _(
                "netns lab {prefix!r} is already up ({existing}); 'govnet lab netns down "
                "--prefix {prefix}' first",
                prefix=p.prefix,
                existing=", ".join(existing),
            )
        )
    root = [f"netns add {ns}" for ns in p.namespaces]
    root += [
        f"link add {ia} netns {a} type veth peer name {ib} netns {b}" for a, ia, b, ib in p.links
    ]
    try:
        _batch(root)
        for ns in p.namespaces:
            lines = [f"addr add {a.cidr} dev {a.iface}" for a in p.addresses if a.ns == ns]
            lines.append("link set lo up")
            lines += [f"link set {a.iface} up" for a in p.addresses if a.ns == ns]
            lines += [f"route add {dst} via {via}" for n, dst, via in p.routes if n == ns]
            _batch(lines, ns)
        # the namespaces with two links must not forward unless told to (a new namespace may
        # inherit the host's setting: net.core.devconf_inherit_init_net)
        _sysctl(p.ns("leak"), "net.ipv4.ip_forward", "1" if leak else "0")
        _sysctl(p.ns("ext"), "net.ipv4.ip_forward", "0")
    except LabError:
        down(p.prefix)
        raise


def set_leak(prefix: str, on: bool) -> None:
    """Let the dual-homed host forward between internal and external (on) or not (off)."""
    check_prefix(prefix)
    ns = f"{prefix}-leak"
    if ns not in list_namespaces(prefix):
        raise LabError(
            _("netns lab {prefix!r} is not up; 'govnet lab netns up' first", prefix=prefix)
        )
    _sysctl(ns, "net.ipv4.ip_forward", "1" if on else "0")


def _pids(ns: str) -> list[int]:
    try:
        out = _ip(["netns", "pids", ns])
    except LabError:
        return []
    return [int(x) for x in out.split() if x.isdigit()]


def down(prefix: str, grace: float = 3.0) -> list[str]:
    """End the processes inside the lab's namespaces, then delete the namespaces.

    Returns the namespaces removed; nothing of the lab is left afterwards."""
    check_prefix(prefix)
    present = list_namespaces(prefix)
    pids = sorted({pid for ns in present for pid in _pids(ns)})
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if _alive(pid)]
        if pids:
            time.sleep(0.05)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    errors = []
    for ns in present:
        try:
            _ip(["netns", "del", ns])
        except LabError as exc:
            errors.append(str(exc))
    left = list_namespaces(prefix)
    if left:
        raise LabError(
            _(
                "netns lab: could not remove {left}: {errors}",
                left=", ".join(left),
                errors="; ".join(errors),
            )
        )
    return present


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        if fh.read().split(") ", 1)[1].startswith("Z"):
            return False  # a zombie: ended, waiting for its parent
    return True


def status(prefix: str, p: NetnsPlan | None = None) -> NetnsStatus:
    check_prefix(prefix)
    st = NetnsStatus(prefix, canary=p.canary if p else None)
    for ns in list_namespaces(prefix):
        addrs: list[str] = []
        try:
            for link in json.loads(_ip(["-n", ns, "-j", "-4", "addr", "show"]) or "[]"):
                for info in link.get("addr_info", []):
                    if link.get("ifname") != "lo":
                        addrs.append(f"{link['ifname']} {info['local']}/{info['prefixlen']}")
        except (LabError, ValueError, KeyError):
            addrs = ["?"]
        st.namespaces[ns] = {"addresses": addrs, "processes": len(_pids(ns))}
    leak_ns = f"{prefix}-leak"
    if leak_ns in st.namespaces:
        try:
            st.leak = _sysctl(leak_ns, "net.ipv4.ip_forward") == "1"
        except LabError:
            st.leak = None
    return st
