"""Notifiers against real endpoints on 127.0.0.1: a webhook server, a command, syslog over UDP."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from govnet.monitor.notify import Notice, Notifier
from govnet.monitor.rules import NotifierSpec

NOTICE = Notice(
    status="firing",
    key="ups-on-battery|ups-1|",
    rule="ups-on-battery",
    device="ups-1",
    instance="",
    severity="critical",
    title_en="UPS on battery",
    title_zh="UPS电池供电",
    message="on battery (mains failed), 64% charge, 18 min left",
    value=5.0,
    opened=1.8e9,
)


def test_webhook_posts_json() -> None:
    received: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Content-Type"], json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"

        async def go() -> None:
            n = Notifier([NotifierSpec(kind="webhook", url=url)])
            n.notify(NOTICE)
            await n.drain()

        asyncio.run(go())
    finally:
        server.shutdown()
        server.server_close()
    content_type, body = received[0]
    assert content_type.startswith("application/json")
    assert body["schema"] == 1 and body["key"] == "ups-on-battery|ups-1|"
    assert body["title_zh"] == "UPS电池供电" and body["status"] == "firing"


def test_failures_are_reported_not_raised() -> None:
    failures: list[str] = []

    async def go() -> None:
        n = Notifier(
            [
                NotifierSpec(kind="webhook", url="http://127.0.0.1:9/none", timeout=1),
                NotifierSpec(kind="command", argv=[sys.executable, "-c", "raise SystemExit(3)"]),
            ],
            on_failure=lambda notice, detail: failures.append(detail),
        )
        n.notify(NOTICE)
        await n.drain()

    asyncio.run(go())
    assert sorted(f.split(":")[0] for f in failures) == [
        "command notifier failed",
        "webhook notifier failed",
    ]
    assert any("exited 3" in f for f in failures)


def test_command_gets_arguments_stdin_and_environment(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    script = (
        "import json, os, sys; data = json.load(sys.stdin); "
        f"open({str(out)!r}, 'w').write(json.dumps([sys.argv[1:], data['device'], "
        "os.environ['GOVNET_ALERT_SEVERITY']]))"
    )

    async def go() -> None:
        n = Notifier(
            [
                NotifierSpec(
                    kind="command", argv=[sys.executable, "-c", script, "{severity}", "{device}"]
                )
            ]
        )
        n.notify(NOTICE)
        await n.drain()

    asyncio.run(go())
    assert json.loads(out.read_text()) == [["critical", "ups-1"], "ups-1", "critical"]


def test_syslog_over_udp_and_min_severity() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    port = sock.getsockname()[1]
    try:

        async def go() -> None:
            n = Notifier(
                [
                    NotifierSpec(
                        kind="syslog",
                        address=f"127.0.0.1:{port}",
                        facility="local3",
                        min_severity="high",
                    )
                ]
            )
            n.notify(NOTICE)
            n.notify(Notice(**{**NOTICE.__dict__, "severity": "low", "key": "quiet"}))
            await n.drain()
            n.close()

        asyncio.run(go())
        data = sock.recv(4096).decode()
    finally:
        sock.close()
    # <PRI> = facility local3 (19) * 8 + critical (2)
    assert data.startswith("<154>govnetd: [FIRING] critical ups-on-battery ups-1: on battery")
