"""The lab's web services: the portal, OA… that govnetd's http probes check.

Every inventory service with an ``http://`` probe on a loopback address gets a tiny HTTP/1.1
server in the lab process (asyncio streams; one page, ``Connection: close``). A service can
be made to fail on purpose: ``govnet lab service down NAME`` creates the switch file
``<state dir>/services/NAME.down`` and the server then answers 503 until ``govnet lab service
up NAME`` removes it. The switch is read on every request, so it takes effect at once and
survives a lab restart.

Hand-written rather than aiohttp: the lab needs a status line, a page and a switch, and
adding a web framework to the install for that is not worth it.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from govnet.errors import LabError
from govnet.i18n import _
from govnet.inventory.model import HttpProbeSpec, Inventory, Service

log = logging.getLogger("govnet.lab.http")

SWITCH_DIR = "services"
WELCOME = "欢迎访问"  # on every page: lab services may ``expect_text`` it
READ_TIMEOUT = 5.0
MAX_HEADER = 16 * 1024


@dataclass(frozen=True)
class HttpSpec:
    """One lab web service: where it listens and what its page says."""

    service: str
    host: str
    port: int
    title: str


def _loopback(host: str) -> bool:
    from govnet.lab.launcher import is_loopback

    return is_loopback(host)


def http_specs(inv: Inventory) -> list[HttpSpec]:
    """One spec per (host, port) of the services' loopback ``http://`` probes, name order."""
    specs: dict[tuple[str, int], HttpSpec] = {}
    for service in sorted(inv.services.values(), key=lambda s: s.name):
        for probe in service.probes:
            spec = probe.spec
            if not isinstance(spec, HttpProbeSpec) or not spec.url.startswith("http://"):
                continue
            url = urlsplit(spec.url)
            if url.hostname is None or not _loopback(url.hostname):
                continue
            key = (url.hostname, url.port or 80)
            title = service.label.zh or service.label.en or service.name
            specs.setdefault(key, HttpSpec(service.name, key[0], key[1], title))
    return list(specs.values())


def lab_services(inv: Inventory) -> dict[str, Service]:
    """The services the lab serves (at least one loopback http probe)."""
    names = {s.service for s in http_specs(inv)}
    return {n: s for n, s in inv.services.items() if n in names}


# ------------------------------------------------------------------------------ the switch


def switch_path(state_dir: Path, service: str) -> Path:
    return state_dir / SWITCH_DIR / f"{service}.down"


def is_down(state_dir: Path, service: str) -> bool:
    return switch_path(state_dir, service).exists()


def set_down(inv: Inventory, state_dir: Path, service: str, down: bool) -> bool:
    """Make ``service`` fail (503) or answer again; True if its state changed."""
    served = lab_services(inv)
    if service not in served:
        known = ", ".join(sorted(served)) or "none"
        raise LabError(
            _(
                "service {service!r} is not served by the lab (lab services: {known}); declare "
                "it in the inventory with an http:// probe on 127.0.0.1",
                service=service,
                known=known,
            )
        )
    path = switch_path(state_dir, service)
    if down == path.exists():
        return False
    if down:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("down\n", encoding="utf-8")
    else:
        path.unlink(missing_ok=True)
    return True


# ------------------------------------------------------------------------------ the servers


def _response(status: int, reason: str, body: str) -> bytes:
    payload = body.encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "Connection: close\r\n"
        "Server: govnet-lab\r\n\r\n"
    )
    return head.encode("ascii") + payload


def page(spec: HttpSpec, down: bool) -> bytes:
    title = html.escape(spec.title)
    if down:
        body = f"<html><body><h1>503</h1><p>{title} 维护中 (service down)</p></body></html>\n"
        return _response(503, "Service Unavailable", body)
    body = (
        f'<html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{WELCOME}{title}</h1><p>{html.escape(spec.service)}</p></body></html>\n"
    )
    return _response(200, "OK", body)


class HttpLab:
    """Every lab web service in the lab's event loop."""

    def __init__(self, specs: list[HttpSpec], state_dir: Path) -> None:
        self.specs = specs
        self.state_dir = state_dir
        self.servers: list[asyncio.Server] = []
        self.errors: dict[str, str] = {}  # service → why it is not served

    async def start(self) -> None:
        """Listen for every spec; a port already taken is logged and reported, never fatal
        (the devices matter more than one web page)."""
        for spec in self.specs:
            try:
                server = await asyncio.start_server(
                    partial(self._handle, spec), spec.host, spec.port
                )
            except OSError as exc:
                self.errors[spec.service] = f"{spec.host}:{spec.port}: {exc.strerror or exc}"
                log.error("lab service %s not served: %s", spec.service, self.errors[spec.service])
                continue
            self.servers.append(server)

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        self.servers.clear()

    async def _handle(
        self, spec: HttpSpec, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            if len(head) > MAX_HEADER:
                return
            writer.write(page(spec, is_down(self.state_dir, spec.service)))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
