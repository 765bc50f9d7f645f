"""Notifiers: tell people once per problem (when it fires, and when it resolves).

``log``      a log record (the daemon's structured log)
``syslog``   RFC 3164 over ``/dev/log`` or UDP ``host:port`` (facility configurable)
``webhook``  an HTTP POST of the alert as JSON (``Content-Type: application/json``)
``dingtalk``, ``wecom``, ``email``  channels to people: queued in the store's outbox and
             sent by :mod:`govnet.monitor.delivery` (grouped, rate-limited, retried)
``command``  a program run with ``argv`` (``{device}``, ``{severity}``, ``{rule}``,
             ``{status}``, ``{instance}``, ``{message}`` filled in), the alert as JSON on stdin
             and as ``GOVNET_ALERT_*`` environment variables

Each notifier runs in its own task with a timeout: a slow webhook never delays polling, and
a failure is logged and recorded in the alert's history, never raised.
"""

from __future__ import annotations

import asyncio
import json
import logging
import logging.handlers
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from govnet import i18n
from govnet.core.vocabulary import Severity
from govnet.monitor.rules import CHANNEL_KINDS, NotifierSpec
from govnet.secrets import REDACTOR

if TYPE_CHECKING:
    from govnet.monitor.delivery import Delivery

log = logging.getLogger("govnet.monitor.alerts")


@dataclass(frozen=True)
class Notice:
    """What a notifier is told about one alert."""

    status: str  # firing | resolved
    key: str
    rule: str
    device: str
    instance: str
    severity: str
    title_en: str
    title_zh: str
    message: str
    value: float | None
    opened: float
    resolved: float | None = None
    control: str = ""
    zone: str = ""
    site: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"schema": 1, **asdict(self)}

    def line(self) -> str:
        where = f"{self.device}:{self.instance}" if self.instance else self.device
        return f"[{self.status.upper()}] {self.severity} {self.rule} {where}: {self.message}"


Failed = Callable[[Notice, str], None]


class Notifier:
    """Runs every configured notifier for a notice, in the background."""

    def __init__(
        self,
        specs: Sequence[NotifierSpec],
        on_failure: Failed | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        self.specs = list(specs)
        self.on_failure = on_failure
        self.delivery = delivery
        self._tasks: set[asyncio.Task[None]] = set()
        self._syslog: dict[tuple[str, str], logging.handlers.SysLogHandler] = {}

    def notify(self, notice: Notice) -> None:
        for spec in self.specs:
            if Severity(notice.severity) < Severity(spec.min_severity):
                continue
            if spec.kind in CHANNEL_KINDS:
                self._queue(spec, notice)
                continue
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (tests, tools): run it here
                asyncio.run(self._send(spec, notice))
                continue
            task = loop.create_task(self._send(spec, notice))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _queue(self, spec: NotifierSpec, notice: Notice) -> None:
        if self.delivery is None:
            log.warning(
                "%s channel %s: no outbox here; not sent: %s",
                spec.kind,
                spec.channel,
                notice.line(),
            )
            return
        try:
            self.delivery.queue(spec.channel, notice.status, notice.to_dict())
        except Exception as exc:  # the store refused: say so where people look
            detail = f"{spec.channel}: cannot queue: {type(exc).__name__}: {exc}"
            log.error("%s (%s)", REDACTOR(detail), notice.key)
            if self.on_failure is not None:
                self.on_failure(notice, REDACTOR(detail))

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for notifications in flight (on shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _send(self, spec: NotifierSpec, notice: Notice) -> None:
        try:
            if spec.kind == "log":
                level = logging.WARNING if notice.status == "firing" else logging.INFO
                log.log(level, notice.line(), extra={"alert": notice.key, "status": notice.status})
            elif spec.kind == "syslog":
                await asyncio.get_running_loop().run_in_executor(
                    None, self._syslog_send, spec, notice
                )
            elif spec.kind == "webhook":
                await asyncio.wait_for(
                    asyncio.get_running_loop().run_in_executor(None, _post, spec, notice),
                    spec.timeout + 1,
                )
            elif spec.kind == "command":
                await _run_command(spec, notice)
        except Exception as exc:  # a notifier must never take the daemon down
            detail = f"{spec.kind} notifier failed: {type(exc).__name__}: {exc}"
            log.error("%s (%s)", detail, notice.key)
            if self.on_failure is not None:
                self.on_failure(notice, REDACTOR(detail))

    def _syslog_send(self, spec: NotifierSpec, notice: Notice) -> None:
        address_text = spec.address or "/dev/log"
        key = (address_text, spec.facility)
        handler = self._syslog.get(key)
        if handler is None:
            address: str | tuple[str, int] = address_text
            if ":" in address_text and not address_text.startswith("/"):
                host, _, port = address_text.rpartition(":")
                address = (host, int(port))
            facility = logging.handlers.SysLogHandler.facility_names.get(spec.facility)
            if facility is None:
                raise ValueError(
                    i18n._("unknown syslog facility {facility!r}", facility=spec.facility)
                )
            handler = logging.handlers.SysLogHandler(address=address, facility=facility)
            handler.ident = "govnetd: "
            self._syslog[key] = handler
        priority = {"critical": logging.CRITICAL, "high": logging.ERROR}.get(
            notice.severity, logging.WARNING
        )
        if notice.status != "firing":
            priority = logging.INFO
        record = logging.LogRecord("govnetd", priority, "", 0, REDACTOR(notice.line()), None, None)
        handler.emit(record)

    def close(self) -> None:
        for handler in self._syslog.values():
            handler.close()
        self._syslog.clear()


def _post(spec: NotifierSpec, notice: Notice) -> None:
    assert spec.url is not None
    body = REDACTOR(json.dumps(notice.to_dict(), ensure_ascii=False)).encode("utf-8")
    request = urllib.request.Request(  # the URL scheme is checked at load
        spec.url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **spec.headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=spec.timeout) as response:
            response.read(1024)
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"HTTP {exc.code} from {spec.url}") from exc


async def _run_command(spec: NotifierSpec, notice: Notice) -> None:
    assert spec.argv is not None
    fields = {
        "device": notice.device,
        "severity": notice.severity,
        "rule": notice.rule,
        "status": notice.status,
        "instance": notice.instance,
        "message": notice.message,
    }
    argv = [REDACTOR(arg.format_map(fields)) for arg in spec.argv]
    env = dict(os.environ)
    for key, value in notice.to_dict().items():
        env[f"GOVNET_ALERT_{key.upper()}"] = "" if value is None else str(value)
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    payload = json.dumps(notice.to_dict(), ensure_ascii=False).encode("utf-8")
    try:
        _, err = await asyncio.wait_for(proc.communicate(payload), spec.timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"{argv[0]} did not finish within {spec.timeout:g} s") from None
    if proc.returncode:
        tail = err.decode("utf-8", errors="replace").strip().splitlines()[-1:] if err else []
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}" + (f": {tail[0]}" if tail else ""))
