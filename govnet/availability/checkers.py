"""The service checkers: one coroutine per kind of check (the entries under a service's
``probes:`` in the inventory), each returning a :class:`CheckOutcome` (never raising).

- ``http``: GET with httpx (one shared client per TLS setting, no keep-alive so every check
  opens a fresh connection as a user would); status in ``expect_status``, ``expect_text`` in
  the body (first 1 MiB), response time to the last byte, and for https the days left on the
  server certificate (read from the connection's TLS object, parsed with ``cryptography``);
- ``tcp``: a TCP connect;
- ``dns``: one query with dnspython to the given server; every ``expect`` value must be among
  the answers;
- ``icmp``: one echo with icmplib (unprivileged ICMP sockets where ``ping_group_range``
  allows, else raw sockets, which need CAP_NET_RAW); without either the result is an error
  saying so, never a false "down".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from govnet.inventory.model import (
    DnsProbeSpec,
    HttpProbeSpec,
    IcmpProbeSpec,
    Probe,
    TcpProbeSpec,
)

MAX_BODY = 1 << 20


@dataclass(frozen=True)
class CheckOutcome:
    probe: str  # the probe's name in its service ("http", "tcp-2", …)
    kind: str
    ok: bool
    ms: float | None = None  # response time
    cert_days: float | None = None  # https: days until the certificate expires
    error: str = ""
    error_kind: str = ""  # timeout | connect | protocol | mismatch | permission | internal

    def to_dict(self) -> dict[str, Any]:
        return {
            "probe": self.probe,
            "kind": self.kind,
            "ok": self.ok,
            "ms": self.ms,
            "cert_days": self.cert_days,
            "error": self.error,
            "error_kind": self.error_kind,
        }


class Checkers:
    """Runs a service's checks; holds the shared HTTP clients (call :meth:`close` when done)."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._clients: dict[bool, httpx.AsyncClient] = {}
        self.now = now

    def _client(self, verify: bool) -> httpx.AsyncClient:
        client = self._clients.get(verify)
        if client is None:
            client = httpx.AsyncClient(
                verify=verify,
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_keepalive_connections=0, max_connections=None),
                headers={"User-Agent": "govnet-service-check"},
            )
            self._clients[verify] = client
        return client

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def run(self, probe: Probe) -> CheckOutcome:
        """Run one probe under its own timeout; every failure becomes a result."""
        runner: Callable[[Probe], Awaitable[CheckOutcome]] = {
            "http": self._http,
            "tcp": self._tcp,
            "dns": self._dns,
            "icmp": self._icmp,
        }[probe.kind]
        try:
            return await asyncio.wait_for(runner(probe), probe.timeout + 0.5)
        except TimeoutError:
            return _fail(probe, f"no answer within {probe.timeout:g} s", "timeout")
        except Exception as exc:  # a bug costs one probe, never the scheduler
            return _fail(probe, f"internal error: {type(exc).__name__}: {exc}", "internal")

    # -- kinds -----------------------------------------------------------------------

    async def _http(self, probe: Probe) -> CheckOutcome:
        spec = probe.spec
        assert isinstance(spec, HttpProbeSpec)
        start = time.perf_counter()
        cert_days: float | None = None
        try:
            async with self._client(spec.verify_tls).stream(
                "GET", spec.url, timeout=spec.timeout
            ) as response:
                if spec.url.startswith("https://"):
                    cert_days = _cert_days(response, self.now())
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) >= MAX_BODY:
                        break
                status = response.status_code
                encoding = response.encoding or "utf-8"
        except httpx.TimeoutException:
            return _fail(probe, f"no answer within {spec.timeout:g} s", "timeout")
        except httpx.ConnectError as exc:
            return _fail(probe, _reason(exc), "connect", cert_days)
        except httpx.HTTPError as exc:
            return _fail(probe, _reason(exc), "protocol", cert_days)
        ms = (time.perf_counter() - start) * 1000
        if status not in spec.expect_status:
            want = ", ".join(str(s) for s in spec.expect_status)
            return _fail(probe, f"HTTP {status} (expected {want})", "mismatch", cert_days, ms)
        if spec.expect_text is not None:
            text = body.decode(encoding, errors="replace")
            if spec.expect_text not in text:
                return _fail(
                    probe, f"text {spec.expect_text!r} not in the page", "mismatch", cert_days, ms
                )
        return CheckOutcome(probe.name, probe.kind, True, ms, cert_days)

    async def _tcp(self, probe: Probe) -> CheckOutcome:
        spec = probe.spec
        assert isinstance(spec, TcpProbeSpec)
        start = time.perf_counter()
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(spec.host, spec.port), spec.timeout
            )
        except TimeoutError:
            return _fail(probe, f"no answer within {spec.timeout:g} s", "timeout")
        except OSError as exc:
            return _fail(probe, f"{spec.host}:{spec.port}: {exc.strerror or exc}", "connect")
        ms = (time.perf_counter() - start) * 1000
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return CheckOutcome(probe.name, probe.kind, True, ms)

    async def _dns(self, probe: Probe) -> CheckOutcome:
        import dns.asyncresolver
        import dns.exception
        import dns.resolver

        spec = probe.spec
        assert isinstance(spec, DnsProbeSpec)
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [str(spec.server)]
        resolver.port = spec.port
        start = time.perf_counter()
        try:
            answer = await resolver.resolve(
                spec.name, spec.type, lifetime=spec.timeout, raise_on_no_answer=False
            )
        except dns.resolver.LifetimeTimeout:
            return _fail(probe, f"no answer within {spec.timeout:g} s", "timeout")
        except dns.resolver.NXDOMAIN:
            return _fail(probe, f"{spec.name}: no such name (NXDOMAIN)", "mismatch")
        except (dns.resolver.NoNameservers, dns.exception.DNSException) as exc:
            return _fail(probe, f"{spec.name}: {exc}", "protocol")
        ms = (time.perf_counter() - start) * 1000
        got = {r.to_text().rstrip(".").lower() for r in (answer.rrset or [])}
        if not got:
            return _fail(probe, f"{spec.name} {spec.type}: empty answer", "mismatch", ms=ms)
        missing = [e for e in spec.expect if e.rstrip(".").lower() not in got]
        if missing:
            return _fail(
                probe,
                f"{spec.name} {spec.type}: {', '.join(sorted(got))} "
                f"(expected {', '.join(missing)})",
                "mismatch",
                ms=ms,
            )
        return CheckOutcome(probe.name, probe.kind, True, ms)

    async def _icmp(self, probe: Probe) -> CheckOutcome:
        import icmplib

        spec = probe.spec
        assert isinstance(spec, IcmpProbeSpec)
        host = None
        for privileged in (False, True):
            try:
                host = await icmplib.async_ping(
                    str(spec.address), count=1, timeout=spec.timeout, privileged=privileged
                )
                break
            except icmplib.SocketPermissionError:
                continue
            except icmplib.ICMPLibError as exc:
                return _fail(probe, f"{spec.address}: {exc}", "protocol")
        if host is None:
            return _fail(
                probe,
                "ICMP needs CAP_NET_RAW (setcap cap_net_raw+ep on the interpreter) or "
                "net.ipv4.ping_group_range covering this user",
                "permission",
            )
        if not host.is_alive:
            return _fail(probe, f"{spec.address}: no echo reply", "timeout")
        return CheckOutcome(probe.name, probe.kind, True, float(host.avg_rtt))


def _fail(
    probe: Probe,
    error: str,
    kind: str,
    cert_days: float | None = None,
    ms: float | None = None,
) -> CheckOutcome:
    return CheckOutcome(probe.name, probe.kind, False, ms, cert_days, error, kind)


def _reason(exc: BaseException) -> str:
    """The innermost cause's message (httpx wraps the OS error)."""
    text = str(exc)
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        if str(cause):
            text = str(cause)
        cause = cause.__cause__ or cause.__context__
    return text or type(exc).__name__


def _cert_days(response: httpx.Response, now: float) -> float | None:
    """Days until the peer certificate expires (None if it cannot be read)."""
    from cryptography import x509

    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    cert = x509.load_der_x509_certificate(der)
    return round((cert.not_valid_after_utc.timestamp() - now) / 86400, 2)


def certificate_days_from_der(der: bytes, now: float) -> float:
    """Days left on a DER certificate (tests and tools)."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return (cert.not_valid_after_utc.timestamp() - now) / 86400
