"""Samples to VictoriaMetrics or any Prometheus remote-write receiver, through a disk buffer.

At province scale years of samples for 50,000 devices do not belong in the SQL store: it keeps
state, alerts and the rollups reports read, and a time-series database keeps the samples
(issue 17). This daemon extension sends every sample the poller takes, as Prometheus remote
write 1.0 (a protobuf ``WriteRequest``, snappy-compressed, ``POST`` to the receiver's URL).

Like vmagent and unlike Zabbix's time-limited proxy buffer, nothing is dropped while the
receiver is down or slow, until the buffer reaches its configured size:

- every ``flush_every`` the samples taken are encoded into segment files in the buffer folder
  (written whole, then renamed; fsync'd), so a killed daemon loses at most the last few
  seconds and a restarted one sends what it left;
- segments are sent oldest first; one is removed only once the receiver answered 2xx;
  429 and 5xx answers and connection errors keep it and back off (up to ``max_backoff``);
  any other 4xx means the receiver will never take that segment (bad data): it is logged
  and removed, as Prometheus does, so one bad segment cannot block the rest;
- over ``max_buffer`` bytes the oldest segments are removed, logged with the number of
  samples lost and counted in ``dropped_samples`` — loudly, never silently.

Series: ``govnet_<metric>`` with labels ``device``, ``zone``, ``site``, ``role``, the sample's
``instance`` as ``component`` (Prometheus's own ``instance`` label is the scrape target's and
must not be reused) and the configured static labels; plus ``govnet_device_up`` per poll.

The wire format is written here (three small protobuf messages, ~30 lines) rather than with
protobuf's generated code: the message is fixed by the remote-write 1.0 spec and hand
encoding avoids a code generation step and a second protobuf runtime; snappy comes from
cramjam (its raw block format, which remote write requires).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cramjam
import httpx

from govnet.inventory.model import Inventory
from govnet.monitor.extension import DaemonContext, DaemonExtension
from govnet.monitor.model import DeviceState, DeviceStatus, PollResult
from govnet.settings import RemoteWriteSpec

log = logging.getLogger("govnet.monitor.remote_write")

SUFFIX = ".rw"
_NAME = re.compile(r"[^a-zA-Z0-9_:]")
Labels = tuple[tuple[str, str], ...]


# -- the wire format (remote write 1.0) -------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def encode(series: Iterable[tuple[Labels, list[tuple[float, int]]]]) -> bytes:
    """``WriteRequest{timeseries: [TimeSeries{labels, samples}]}``; labels sorted by name."""
    out = bytearray()
    for labels, samples in series:
        body = bytearray()
        for name, text in sorted(labels):
            body += _field(1, _field(1, name.encode()) + _field(2, text.encode()))
        for value, ts_ms in samples:
            # Sample{double value = 1 (fixed64); int64 timestamp = 2 (varint)}
            body += _field(2, b"\x09" + struct.pack("<d", value) + b"\x10" + _varint(ts_ms))
        out += _field(1, bytes(body))
    return bytes(out)


def metric_name(metric: str) -> str:
    return "govnet_" + _NAME.sub("_", metric)


# -- the disk buffer --------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    path: Path
    seq: int
    samples: int
    size: int


class Buffer:
    """Segment files ``<seq>-<samples>.rw`` (snappy-compressed WriteRequests), oldest first."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.dropped_samples = 0
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for stale in folder.glob(".*.tmp"):  # a write cut short by a kill
            stale.unlink(missing_ok=True)
        self.segments = sorted(
            (s for s in map(self._parse, folder.glob(f"*{SUFFIX}")) if s is not None),
            key=lambda s: s.seq,
        )
        self._next = self.segments[-1].seq + 1 if self.segments else 1

    @staticmethod
    def _parse(path: Path) -> Segment | None:
        seq, _, samples = path.name.removesuffix(SUFFIX).partition("-")
        if not (seq.isdigit() and samples.isdigit()):
            return None
        return Segment(path, int(seq), int(samples), path.stat().st_size)

    @property
    def size(self) -> int:
        return sum(s.size for s in self.segments)

    @property
    def samples(self) -> int:
        return sum(s.samples for s in self.segments)

    def append(self, body: bytes, samples: int) -> None:
        name = f"{self._next:012d}-{samples}{SUFFIX}"
        self._next += 1
        tmp = self.folder / f".{name}.tmp"
        with tmp.open("wb") as stream:
            stream.write(body)
            stream.flush()
            os.fsync(stream.fileno())
        final = self.folder / name
        tmp.rename(final)
        self.segments.append(Segment(final, self._next - 1, samples, len(body)))
        self._trim()

    def _trim(self) -> None:
        while len(self.segments) > 1 and self.size > self.max_bytes:
            oldest = self.segments.pop(0)
            oldest.path.unlink(missing_ok=True)
            self.dropped_samples += oldest.samples
            log.error(
                "remote write: buffer over %d bytes: dropped the oldest %d samples (%s); "
                "the receiver has been unreachable too long or max_buffer is too small",
                self.max_bytes,
                oldest.samples,
                oldest.path.name,
            )

    def oldest(self) -> Segment | None:
        return self.segments[0] if self.segments else None

    def remove(self, segment: Segment) -> None:
        segment.path.unlink(missing_ok=True)
        self.segments = [s for s in self.segments if s.seq != segment.seq]


# -- the extension ----------------------------------------------------------------------


def default_buffer(db_url: str | None) -> Path:
    """``remote-write/`` beside the SQLite store, else in ``$XDG_DATA_HOME/govnet``."""
    url = db_url or os.environ.get("GOVNET_DB") or ""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url[len("sqlite:///") :]).expanduser().parent / "remote-write"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "govnet" / "remote-write"


def extension(spec: RemoteWriteSpec, db_url: str | None) -> RemoteWrite:
    folder = Path(spec.buffer).expanduser() if spec.buffer else default_buffer(db_url)
    return RemoteWrite(spec, folder)


class RemoteWrite(DaemonExtension):
    """Send every sample to ``spec.url`` through the disk buffer in ``folder``."""

    name = "remote-write"

    def __init__(self, spec: RemoteWriteSpec, folder: Path) -> None:
        self.spec = spec
        self.buffer = Buffer(folder, spec.max_buffer_bytes)
        self.pending: dict[Labels, list[tuple[float, int]]] = {}
        self.pending_count = 0
        self.sent_samples = 0
        self.failures = 0
        self.last_error = ""
        self._labels: dict[str, Labels] = {}
        self._static: Labels = tuple(sorted(spec.labels.items()))
        self._backoff = 0.0
        self._retry_at = 0.0

    def setup(self, ctx: DaemonContext, inventory: Inventory) -> None:
        self.reload(inventory)

    def reload(self, inventory: Inventory) -> None:
        self._labels = {
            d.name: (
                ("device", d.name),
                ("zone", d.zone),
                ("site", d.site),
                ("role", d.role),
                *self._static,
            )
            for d in inventory.devices.values()
        }

    def on_device_poll(self, result: PollResult, status: DeviceStatus) -> None:
        base = self._labels.get(result.device) or (("device", result.device), *self._static)
        ts_ms = int(result.started * 1000)
        add = self.pending.setdefault
        for sample in result.samples:
            labels = (("__name__", metric_name(sample.metric)), *base)
            if sample.instance:
                labels = (*labels, ("component", sample.instance))
            add(labels, []).append((sample.value, ts_ms))
        if status.state is not DeviceState.UNKNOWN:
            up = 1.0 if status.state is DeviceState.UP else 0.0
            add((("__name__", "govnet_device_up"), *base), []).append((up, ts_ms))
        self.pending_count += len(result.samples) + 1

    def spill(self) -> None:
        """What was taken since the last flush into segment files (at most max_samples each)."""
        if not self.pending:
            return
        chunk: list[tuple[Labels, list[tuple[float, int]]]] = []
        count = 0
        for labels, samples in self.pending.items():
            chunk.append((labels, samples))
            count += len(samples)
            if count >= self.spec.max_samples_per_send:
                self.buffer.append(bytes(cramjam.snappy.compress_raw(encode(chunk))), count)
                chunk, count = [], 0
        if chunk:
            self.buffer.append(bytes(cramjam.snappy.compress_raw(encode(chunk))), count)
        self.pending = {}
        self.pending_count = 0

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Encoding": "snappy",
            "Content-Type": "application/x-protobuf",
            "X-Prometheus-Remote-Write-Version": "0.1.0",
            "User-Agent": "govnet",
        }
        if self.spec.bearer_token is not None:
            headers["Authorization"] = "Bearer " + self.spec.bearer_token.resolve("bearer_token")
        return headers

    def _auth(self) -> httpx.BasicAuth | None:
        if self.spec.username and self.spec.password is not None:
            return httpx.BasicAuth(self.spec.username, self.spec.password.resolve("password"))
        return None

    async def send(self, client: httpx.AsyncClient, now: float | None = None) -> int:
        """Send segments oldest first until the buffer is empty or the receiver fails."""
        now = time.monotonic() if now is None else now
        if now < self._retry_at:
            return 0
        sent = 0
        while (segment := self.buffer.oldest()) is not None:
            try:
                body = await asyncio.to_thread(segment.path.read_bytes)
            except FileNotFoundError:
                self.buffer.remove(segment)
                continue
            try:
                reply = await client.post(self.spec.url, content=body, headers=self._headers())
            except httpx.HTTPError as exc:
                self._fail(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
                return sent
            if 200 <= reply.status_code < 300:
                self.buffer.remove(segment)
                self.sent_samples += segment.samples
                sent += segment.samples
                self._backoff, self._retry_at, self.last_error = 0.0, 0.0, ""
                continue
            text = reply.text[:200].strip()
            if reply.status_code == 429 or reply.status_code >= 500:
                self._fail(f"HTTP {reply.status_code} {text}")
                return sent
            log.error(
                "remote write: %s refused segment %s (%d samples) with HTTP %d: %s; dropped",
                self.spec.url,
                segment.path.name,
                segment.samples,
                reply.status_code,
                text,
            )
            self.buffer.dropped_samples += segment.samples
            self.buffer.remove(segment)
        return sent

    def _fail(self, why: str) -> None:
        self.failures += 1
        self._backoff = min(self.spec.max_backoff_seconds, max(1.0, self._backoff * 2))
        self._retry_at = time.monotonic() + self._backoff
        if why != self.last_error:
            log.warning(
                "remote write: %s: %s; %d samples kept on disk, retrying in %.0fs",
                self.spec.url,
                why,
                self.buffer.samples,
                self._backoff,
            )
        self.last_error = why

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.spec.timeout_seconds, auth=self._auth())

    async def run(self, stop: asyncio.Event) -> None:
        async with self.client() as client:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.spec.flush_seconds)
                await asyncio.to_thread(self.spill)
                await self.send(client)
            await asyncio.to_thread(self.spill)  # what came in during the last send
            await self.send(client, now=float("inf"))  # one last try on the way out

    def status(self) -> dict[str, object]:
        return {
            "url": self.spec.url,
            "buffered_samples": self.buffer.samples + self.pending_count,
            "buffered_bytes": self.buffer.size,
            "sent_samples": self.sent_samples,
            "dropped_samples": self.buffer.dropped_samples,
            "last_error": self.last_error,
        }
