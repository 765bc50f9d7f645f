"""Each probe kind against real servers on 127.0.0.1: HTTPS with a certificate expiring soon
(trustme), a TCP listener, a DNS responder (dnslib), and the scheduler's states."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme
from dnslib import QTYPE, RR, A
from dnslib.server import BaseResolver, DNSServer

from govnet.availability.checkers import Checkers
from govnet.availability.runner import ServiceRunner
from govnet.inventory.model import DnsProbeSpec, HttpProbeSpec, Label, Probe, Service, TcpProbeSpec
from govnet.monitor.config import MonitorConfig
from govnet.monitor.model import DeviceState
from govnet.testing import FakeClock


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = "欢迎访问门户网站".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def https_port() -> Iterator[int]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=10))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _probe(spec: Any) -> Probe:
    return Probe(spec.kind, spec)


async def _run(spec: Any) -> Any:
    checkers = Checkers()
    try:
        return await checkers.run(_probe(spec))
    finally:
        await checkers.close()


def test_https_status_text_and_certificate_days(https_port: int) -> None:
    spec = HttpProbeSpec(
        kind="http", url=f"https://127.0.0.1:{https_port}/", expect_text="门户", verify_tls=False
    )
    result = asyncio.run(_run(spec))
    assert result.ok, result.error
    assert result.cert_days is not None and 9 < result.cert_days <= 10
    assert result.ms is not None and result.ms > 0
    bad = spec.model_copy(update={"expect_text": "维护中"})
    result = asyncio.run(_run(bad))
    assert not result.ok and result.error_kind == "mismatch" and "维护中" in result.error


def test_https_untrusted_certificate_is_a_connect_error(https_port: int) -> None:
    result = asyncio.run(_run(HttpProbeSpec(kind="http", url=f"https://127.0.0.1:{https_port}/")))
    assert not result.ok and result.error_kind == "connect"
    assert "certificate" in result.error.lower()


def test_tcp_open_and_closed_port() -> None:
    async def go() -> tuple[Any, Any]:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        ok = await _run(TcpProbeSpec(kind="tcp", host="127.0.0.1", port=port))
        server.close()
        await server.wait_closed()
        closed = await _run(TcpProbeSpec(kind="tcp", host="127.0.0.1", port=port))
        return ok, closed

    ok, closed = asyncio.run(go())
    assert ok.ok and ok.ms is not None
    assert not closed.ok and closed.error_kind == "connect"


class _Resolver(BaseResolver):  # type: ignore[misc]
    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        if str(request.q.qname).rstrip(".") == "portal.gov.test":
            reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A("10.10.1.80"), ttl=60))
        return reply


@pytest.fixture
def dns_port() -> Iterator[int]:
    server = DNSServer(_Resolver(), port=0, address="127.0.0.1")
    server.start_thread()
    try:
        yield server.server.server_address[1]
    finally:
        server.stop()
        server.server.server_close()


def test_dns_expected_answer(dns_port: int) -> None:
    # Every case gets its answer (or an empty one) at once: the timeout only bounds a loaded
    # machine's wait for dnslib's server thread (2 s was once too short under CI load).
    def spec(name: str, expect: list[str]) -> DnsProbeSpec:
        return DnsProbeSpec.model_validate(
            {
                "kind": "dns",
                "server": "127.0.0.1",
                "port": dns_port,
                "name": name,
                "expect": expect,
                "timeout": 10,
            }
        )

    assert asyncio.run(_run(spec("portal.gov.test", ["10.10.1.80"]))).ok
    wrong = asyncio.run(_run(spec("portal.gov.test", ["10.10.1.81"])))
    assert not wrong.ok and wrong.error_kind == "mismatch" and "10.10.1.80" in wrong.error
    assert not asyncio.run(_run(spec("oa.gov.test", []))).ok


def test_states_up_unreachable_down() -> None:
    async def go() -> list[DeviceState]:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        probe = _probe(TcpProbeSpec(kind="tcp", host="127.0.0.1", port=port, timeout=5))
        svc = Service("portal", Label(), "external", "office", "town", None, 30.0, (probe,))
        clock = FakeClock()
        runner = ServiceRunner([svc], MonitorConfig(down_after=45, retry_delay=15), clock)
        seen = []
        await runner.check("portal")
        seen.append(runner.statuses["portal"].state)
        server.close()
        await server.wait_closed()
        for _ in range(5):
            await runner.check("portal")
            seen.append(runner.statuses["portal"].state)
            clock.advance(15)
        await runner.close()
        return seen

    seen = asyncio.run(go())
    assert seen[0] is DeviceState.UP
    assert seen[1] is DeviceState.UNREACHABLE
    assert seen[-1] is DeviceState.DOWN
