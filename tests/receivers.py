"""Real local servers standing in for DingTalk and WeCom group robots and an SMTP relay.

``RobotReceiver`` is an HTTP server on 127.0.0.1 that checks what a robot checks: DingTalk's
加签 (timestamp within an hour, HMAC-SHA256 signature), its keyword, the access token; WeCom's
``msgtype: markdown`` body and key. It answers like the robot (``errcode``), and can be told to
fail (HTTP 500), answer an errcode, or hang. ``MailReceiver`` is aiosmtpd with STARTTLS
(a trustme certificate) and a login, keeping every message it accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.ports import reserve_port


@dataclass
class Received:
    path: str
    query: dict[str, str]
    body: dict[str, Any]


@dataclass
class RobotReceiver:
    kind: str  # dingtalk | wecom
    token: str = "robot-token-0001"
    secret: str = ""  # DingTalk 加签
    keyword: str = ""
    mode: str = "ok"  # ok | down (HTTP 500) | errcode | hang
    errcode: int = 0
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                status, reply = receiver._handle(self.path, raw)
                if status == 0:  # hang: hold the connection, answer nothing
                    time.sleep(3)
                    return
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)
        path = "/robot/send" if self.kind == "dingtalk" else "/cgi-bin/webhook/send"
        return f"http://{host}:{port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _reject(self, why: str, code: int) -> tuple[int, dict[str, Any]]:
        self.rejected.append(why)
        return 200, {"errcode": code, "errmsg": why}

    def _handle(self, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        if self.mode == "down":
            return 500, {"error": "down"}
        if self.mode == "hang":
            return 0, {}
        parts = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return self._reject("body is not JSON", 40035)
        if self.kind == "dingtalk":
            if query.get("access_token") != self.token:
                return self._reject("token is not exist", 300001)
            if self.secret:
                stamp = query.get("timestamp", "")
                if not stamp.isdigit() or abs(time.time() * 1000 - int(stamp)) > 3600_000:
                    return self._reject("invalid timestamp", 310000)
                digest = hmac.new(
                    self.secret.encode(), f"{stamp}\n{self.secret}".encode(), hashlib.sha256
                ).digest()
                if query.get("sign") != base64.b64encode(digest).decode():
                    return self._reject("sign not match", 310000)
            md = body.get("markdown") or {}
            if body.get("msgtype") != "markdown" or not md.get("title") or not md.get("text"):
                return self._reject("bad markdown message", 40035)
            if self.keyword and self.keyword not in md["text"]:
                return self._reject("keywords not in content", 310000)
        else:
            if query.get("key") != self.token:
                return self._reject("invalid webhook url", 93000)
            md = body.get("markdown") or {}
            if body.get("msgtype") != "markdown" or not isinstance(md.get("content"), str):
                return self._reject("bad markdown message", 40008)
        if self.mode == "errcode":
            return 200, {"errcode": self.errcode, "errmsg": "refused on purpose"}
        self.received.append(Received(parts.path, query, body))
        return 200, {"errcode": 0, "errmsg": "ok"}

    def texts(self) -> list[str]:
        key = "text" if self.kind == "dingtalk" else "content"
        return [r.body["markdown"][key] for r in self.received]


class MailReceiver:
    """aiosmtpd on 127.0.0.1 with STARTTLS required and one login; keeps accepted mails."""

    def __init__(self, cert_pem: str, key_pem: str, user: str, password: str) -> None:
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.mails: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.down = False
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                if receiver.down:
                    return "451 4.3.0 try again later"
                mail = message_from_bytes(envelope.content, policy=policy.default)
                receiver.mails.append(mail)
                receiver.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                return "250 OK"

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
        ) -> AuthResult:
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode() == user and auth_data.password.decode() == password
            )
            return AuthResult(success=ok, handled=False)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as c:
            c.write(cert_pem)
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as k:
            k.write(key_pem)
        context.load_cert_chain(c.name, k.name)
        free = reserve_port()  # not a just-closed ephemeral port: a client could take it
        self.controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=free,
            tls_context=context,
            require_starttls=True,
            authenticator=authenticator,
            auth_require_tls=True,
        )
        self.controller.start()
        self.port = free

    def close(self) -> None:
        self.controller.stop()


@contextmanager
def tls_mail_receiver(
    user: str = "duty", password: str = "mail-pass-77"
) -> Iterator[tuple[MailReceiver, Path]]:
    """A MailReceiver with a trustme certificate for 127.0.0.1, and the CA file to trust."""
    import tempfile

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    receiver = MailReceiver(
        cert.cert_chain_pems[0].bytes().decode(),
        cert.private_key_pem.bytes().decode(),
        user,
        password,
    )
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as f:
        f.write(ca.cert_pem.bytes())
    try:
        yield receiver, Path(f.name)
    finally:
        receiver.close()
        Path(f.name).unlink(missing_ok=True)
