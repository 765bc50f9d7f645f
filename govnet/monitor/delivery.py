"""Delivery of alert messages to people's channels (DingTalk, WeCom, e-mail) from the outbox.

The alert engine only *queues* (``Delivery.queue``: one committed row per alert and channel);
a dispatcher thread sends, so a slow or dead channel never delays polling. Per channel:

- **grouping**: alerts queued within ``group_window`` of the oldest pending one go out as one
  message (a power cut that takes down ten devices is one message, not ten);
- **rate limit**: at most ``rate_per_minute`` messages in any 60 s (DingTalk and WeCom robots
  refuse more than 20 a minute);
- **retries**: a failed message is tried again after ``retry_initial``, doubling up to
  ``retry_max``, for as long as it takes; pending rows survive a restart, are sent oldest
  first, and a message that waited more than a minute says it is late;
- **repeats**: with ``repeat_critical``, a critical alert nobody acknowledged is sent again at
  that interval (``govnet alerts ack`` stops it).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from govnet import i18n
from govnet.core.vocabulary import Severity
from govnet.monitor.channels import DeliveryError, DingTalk, Email, Item, Message, WeCom
from govnet.monitor.model import Clock, SystemClock
from govnet.monitor.rules import CHANNEL_KINDS, NotifierSpec
from govnet.secrets import REDACTOR
from govnet.store.outbox import Outbox, OutboxRow

log = logging.getLogger("govnet.monitor.delivery")

MAX_ITEMS = 20  # alerts in one message; more go in the next one
LATE_AFTER = 60.0


class Sender(Protocol):
    def send(self, message: Message) -> None: ...


def build_sender(spec: NotifierSpec) -> Sender:
    """The sender for a channel spec; secrets resolved here (SecretError if one is missing)."""
    if spec.kind == "dingtalk":
        assert spec.token is not None
        base = spec.url or "https://oapi.dingtalk.com/robot/send"
        token = spec.token.resolve(f"notifier {spec.channel} token")
        secret = spec.secret.resolve(f"notifier {spec.channel} secret") if spec.secret else ""
        return DingTalk(_add(base, "access_token", token), secret, spec.keyword, spec.timeout)
    if spec.kind == "wecom":
        assert spec.token is not None
        base = spec.url or "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
        key = spec.token.resolve(f"notifier {spec.channel} key")
        return WeCom(_add(base, "key", key), spec.timeout)
    if spec.kind == "email":
        assert spec.smtp is not None and spec.sender is not None
        host, _, port = spec.smtp.rpartition(":")
        password = (
            spec.password.resolve(f"notifier {spec.channel} password") if spec.password else ""
        )
        return Email(
            host,
            int(port),
            spec.sender,
            tuple(spec.to),
            spec.security,
            spec.username,
            password,
            spec.timeout,
            spec.cafile,
        )
    raise ValueError(i18n._("{kind} is not a delivery channel", kind=spec.kind))


def _add(url: str, name: str, value: str) -> str:
    from urllib.parse import quote_plus

    return f"{url}{'&' if '?' in url else '?'}{name}={quote_plus(value)}"


@dataclass
class Channel:
    spec: NotifierSpec
    sender: Sender
    sent_at: deque[float] = field(default_factory=deque)  # message times in the last minute

    @property
    def name(self) -> str:
        return self.spec.channel

    def allowed(self, now: float) -> bool:
        while self.sent_at and now - self.sent_at[0] >= 60.0:
            self.sent_at.popleft()
        return len(self.sent_at) < self.spec.rate_per_minute

    def backoff(self, attempts: int) -> float:
        return float(min(self.spec.retry_initial * 2 ** max(0, attempts), self.spec.retry_max))


class Delivery:
    """Queues alert items per channel and sends them (``step``; ``start`` runs it in a thread)."""

    def __init__(
        self,
        outbox: Outbox,
        specs: Sequence[NotifierSpec],
        clock: Clock | None = None,
        senders: Mapping[str, Sender] | None = None,
        on_failure: Callable[[str, str], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.clock: Clock = clock or SystemClock()
        self.on_failure = on_failure
        self.channels: dict[str, Channel] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.configure(specs, senders)

    def configure(
        self, specs: Sequence[NotifierSpec], senders: Mapping[str, Sender] | None = None
    ) -> None:
        """(Re)build the channels from the notifier specs (on start and on SIGHUP). A channel
        whose secret cannot be resolved is reported and left out; its rows wait."""
        channels: dict[str, Channel] = {}
        for spec in specs:
            if spec.kind not in CHANNEL_KINDS:
                continue
            try:
                sender = (senders or {}).get(spec.channel) or build_sender(spec)
            except Exception as exc:
                log.error("channel %s: %s; its messages wait in the outbox", spec.channel, exc)
                continue
            old = self.channels.get(spec.channel)
            channels[spec.channel] = Channel(spec, sender, old.sent_at if old else deque())
        with self._lock:
            self.channels = channels

    # ------------------------------------------------------------------------- queueing

    def wants(self, spec: NotifierSpec, severity: str) -> bool:
        return Severity(severity) >= Severity(spec.min_severity)

    def queue(self, channel: str, kind: str, item: Mapping[str, Any]) -> int:
        """Commit one alert for one channel; returns the outbox row id."""
        row = self.outbox.enqueue(channel, kind, dict(item), self.clock.time())
        self._wake.set()
        return row

    def queue_repeats(self, firing: Iterable[Mapping[str, Any]]) -> int:
        """Queue again every critical, unacknowledged, unsuppressed firing alert whose last
        message to a channel with ``repeat_critical`` is at least that old."""
        now, queued = self.clock.time(), 0
        rows = [
            r
            for r in firing
            if r.get("severity") == "critical"
            and not r.get("acked")
            and not r.get("suppressed")
            and r.get("status", "firing") == "firing"
        ]
        for channel in list(self.channels.values()):
            every = channel.spec.repeat_critical
            if not every:
                continue
            for row in rows:
                last = self.outbox.last_notified(str(row["key"]), channel.name)
                if last is not None and now - last < every:
                    continue
                item = {k: row.get(k) for k in Item.__dataclass_fields__ if k in row}
                item["status"] = "repeat"
                self.queue(channel.name, "repeat", item)
                queued += 1
        return queued

    # ------------------------------------------------------------------------- sending

    def step(self, flush: bool = False) -> int:
        """One pass over the channels: send what is due (``flush``: without waiting for the
        group window, as on shutdown). Returns the messages sent."""
        sent = 0
        with self._lock:
            channels = list(self.channels.values())
        for channel in channels:
            while True:
                now = self.clock.time()
                if not channel.allowed(now):
                    break
                batch = self._batch(channel, now, flush)
                if not batch:
                    break
                if self._send(channel, batch):
                    sent += 1
                else:
                    break
        return sent

    def _batch(self, channel: Channel, now: float, flush: bool = False) -> list[OutboxRow]:
        """The next message: the oldest pending alert and what queued with it. A channel in
        back-off (its oldest alert not due again yet) sends nothing, so nothing overtakes it;
        once it is back, everything that queued meanwhile goes out oldest first."""
        rows = self.outbox.pending(channel.name, float("inf"), limit=MAX_ITEMS * 5)
        if not rows:
            return []
        oldest = rows[0]
        if oldest.due > now:
            return []
        if oldest.attempts > 0 or now - oldest.created >= LATE_AFTER:  # a backlog: together
            return rows[:MAX_ITEMS]
        window = channel.spec.group_window
        if now < oldest.created + window and not flush:
            return []  # wait for what fires together with it
        return [r for r in rows if r.created <= oldest.created + window][:MAX_ITEMS]

    def _send(self, channel: Channel, batch: list[OutboxRow]) -> bool:
        now = self.clock.time()
        late_by = now - min(r.created for r in batch)
        message = Message(
            tuple(
                Item.from_dict({**r.item, "status": r.item.get("status", r.kind)}) for r in batch
            ),
            lang=channel.spec.lang,
            timezone=channel.spec.timezone,
            late_by=late_by if late_by >= LATE_AFTER else 0.0,
        )
        ids = [r.id for r in batch]
        try:
            channel.sender.send(message)
        except DeliveryError as exc:
            attempts = max(r.attempts for r in batch)
            wait = channel.backoff(attempts)
            detail = REDACTOR(str(exc))
            self.outbox.mark_failed(ids, detail, now + wait)
            log.warning(
                "channel %s: %s; %d alert(s) kept, next try in %.0f s",
                channel.name,
                detail,
                len(ids),
                wait,
            )
            if self.on_failure is not None:
                self.on_failure(channel.name, detail)
            return False
        except Exception as exc:  # a bug in a sender must not lose the rows either
            detail = REDACTOR(f"{type(exc).__name__}: {exc}")
            self.outbox.mark_failed(
                ids, detail, now + channel.backoff(max(r.attempts for r in batch))
            )
            log.error("channel %s: unexpected failure: %s", channel.name, detail)
            return False
        channel.sent_at.append(now)
        self.outbox.mark_sent(ids, now, late=late_by >= LATE_AFTER)
        log.info(
            "channel %s: sent %d alert(s)%s",
            channel.name,
            len(ids),
            " (late)" if late_by >= LATE_AFTER else "",
        )
        return True

    def send_now(self, channel: str, message: Message) -> None:
        """Send one message at once, bypassing the queue (``govnet notify test``)."""
        with self._lock:
            target = self.channels.get(channel)
        if target is None:
            known = ", ".join(sorted(self.channels)) or "none"
            raise KeyError(f"no channel named {channel!r} (channels: {known})")
        target.sender.send(message)

    # ------------------------------------------------------------------------- thread

    def start(self, every: float = 1.0) -> None:
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.step()
                except Exception as exc:  # the store may be briefly unavailable
                    log.error("delivery: %s", REDACTOR(str(exc)))
                self._wake.wait(every)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="govnet-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread after one last pass (what is still pending stays in the outbox)."""
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self._thread = None
