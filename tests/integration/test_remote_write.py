"""govnetd's samples into a real VictoriaMetrics (Debian's package) over remote write, through
the disk buffer: delivered once, kept while the receiver is down and across a restart of the
sender, the oldest dropped (and counted) only past max_buffer (issue 17 item 3)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from govnet.inventory import load_inventory
from govnet.monitor.model import DeviceState, DeviceStatus, PollResult, Sample
from govnet.monitor.remote_write import Buffer, RemoteWrite, encode, metric_name
from govnet.settings import RemoteWriteSpec
from tests import vmserver
from tests.integration.conftest import Lab
from tests.integration.test_monitor_daemon import Daemon, daemons, fast_inventory, wait_for

__all__ = ["daemons"]  # the fixture, shared with the daemon tests

INVENTORY = Path(__file__).resolve().parents[2] / "inventory" / "lab.yaml"


@pytest.fixture
def vm() -> Iterator[vmserver.VictoriaMetrics]:
    vmserver.require()
    server = vmserver.VictoriaMetrics()
    yield server
    server.close()


def _poll(device: str, started: float, octets: float) -> tuple[PollResult, DeviceStatus]:
    result = PollResult(device=device, started=started, scheduled=started, ok=True)
    result.samples = [
        Sample("if_in_octets", "GigabitEthernet0/0/1", octets),
        Sample("if_out_octets", "GigabitEthernet0/0/1", octets * 2),
        Sample("rtt_ms", "", 1.5),
    ]
    return result, DeviceStatus(device=device, state=DeviceState.UP)


def _sink(url: str, folder: Path, **extra: object) -> RemoteWrite:
    spec = RemoteWriteSpec.model_validate(
        {"url": url, "labels": {"region": "county-1"}, "max_backoff": "1s", **extra}
    )
    sink = RemoteWrite(spec, folder)
    sink.reload(load_inventory(INVENTORY))
    return sink


async def _send(sink: RemoteWrite) -> int:
    async with sink.client() as client:
        return await sink.send(client, now=float("inf"))


def test_samples_arrive_with_their_labels(vm: vmserver.VictoriaMetrics, tmp_path: Path) -> None:
    vm.start()
    sink = _sink(vm.write_url, tmp_path / "buffer")
    device = next(iter(sink._labels))
    now = time.time() - 600
    for k in range(5):
        sink.on_device_poll(*_poll(device, now + 60 * k, 1000.0 * k))
    sink.spill()
    assert asyncio.run(_send(sink)) == 20
    assert sink.buffer.oldest() is None
    [series] = vm.export(f'{metric_name("if_in_octets")}{{device="{device}"}}')
    labels = series["metric"]
    assert labels["component"] == "GigabitEthernet0/0/1" and labels["region"] == "county-1"
    assert labels["zone"] and labels["role"] and "instance" not in labels
    assert series["values"] == [0, 1000, 2000, 3000, 4000]
    assert series["timestamps"] == [int((now + 60 * k) * 1000) for k in range(5)]
    [up] = vm.export(f'govnet_device_up{{device="{device}"}}')
    assert up["values"] == [1] * 5


def test_down_receiver_restart_and_resend_loses_nothing(
    vm: vmserver.VictoriaMetrics, tmp_path: Path
) -> None:
    folder = tmp_path / "buffer"
    sink = _sink(vm.write_url, folder)  # the receiver is not running yet
    device = next(iter(sink._labels))
    start = time.time() - 3600
    for k in range(30):
        sink.on_device_poll(*_poll(device, start + 60 * k, float(k)))
        if k % 10 == 9:
            sink.spill()  # three flushes while it is down
    assert asyncio.run(_send(sink)) == 0
    assert sink.failures == 1 and "ConnectError" in sink.last_error
    assert len(list(folder.glob("*.rw"))) == 3 and sink.buffer.samples == 120
    del sink  # the daemon is killed; a new one finds the segments on disk
    vm.start()
    again = _sink(vm.write_url, folder)
    assert again.buffer.samples == 120
    assert asyncio.run(_send(again)) == 120
    assert not list(folder.glob("*.rw"))
    [series] = vm.export(f'{metric_name("if_in_octets")}{{device="{device}"}}')
    assert series["values"] == list(range(30))  # each once, in order


def test_full_buffer_drops_oldest_loudly_and_a_refused_segment_does_not_block(
    vm: vmserver.VictoriaMetrics, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "buffer"
    sink = _sink(vm.write_url, folder, max_buffer="4K")
    device = next(iter(sink._labels))
    start = time.time() - 7200
    with caplog.at_level(logging.ERROR, "govnet.monitor.remote_write"):
        for k in range(40):
            sink.on_device_poll(*_poll(device, start + 60 * k, float(k)))
            sink.spill()
    assert sink.buffer.size <= 4096
    assert sink.buffer.dropped_samples > 0
    assert any("dropped the oldest" in r.getMessage() for r in caplog.records)
    kept = sink.buffer.samples
    # a segment the receiver can never take (not snappy): refused with 4xx, dropped, logged
    Buffer(folder, 1 << 30)  # (re)reads the folder as a restarted daemon would
    first = sink.buffer.oldest()
    assert first is not None
    first.path.write_bytes(b"not a snappy block")
    vm.start()
    with caplog.at_level(logging.ERROR, "govnet.monitor.remote_write"):
        sent = asyncio.run(_send(sink))
    assert sent == kept - first.samples
    assert any("refused segment" in r.getMessage() for r in caplog.records)
    assert sink.buffer.oldest() is None


def test_run_loop_flushes_and_stops(vm: vmserver.VictoriaMetrics, tmp_path: Path) -> None:
    vm.start()
    sink = _sink(vm.write_url, tmp_path / "buffer", flush_every="0.2s")
    device = next(iter(sink._labels))

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(sink.run(stop))
        for k in range(3):
            sink.on_device_poll(*_poll(device, time.time() - 100 + k, float(k)))
            await asyncio.sleep(0.3)
        stop.set()
        await task

    asyncio.run(main())
    assert sink.sent_samples == 12 and sink.status()["buffered_samples"] == 0


def test_wire_format_is_what_a_protobuf_reader_reads() -> None:
    """The hand-written WriteRequest against the varint/fixed64 layout of remote write 1.0."""
    body = encode([((("__name__", "m"), ("a", "b")), [(1.0, 300)])])
    # field 1 (timeseries), then labels (field 1) and one sample (field 2)
    assert body[0] == 0x0A
    assert b"\x0a\x08__name__\x12\x01m" in body and b"\x0a\x01a\x12\x01b" in body
    assert body.endswith(b"\x12\x0c\x09\x00\x00\x00\x00\x00\x00\xf0\x3f\x10\xac\x02")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        RemoteWriteSpec.model_validate({"url": "ftp://x"})
    with pytest.raises(ValueError, match="label"):
        RemoteWriteSpec.model_validate({"url": "http://127.0.0.1:1/w", "labels": {"device": "x"}})
    with pytest.raises(ValueError, match="size"):
        RemoteWriteSpec.model_validate({"url": "http://127.0.0.1:1/w", "max_buffer": "lots"})


@pytest.mark.integration
def test_govnetd_on_the_lab_writes_to_victoriametrics(
    lab: Lab, vm: vmserver.VictoriaMetrics, tmp_path: Path, daemons: Callable[..., Daemon]
) -> None:
    """The daemon's real poll results (the lab's UPS on battery) reach VictoriaMetrics; the
    buffer lives beside the store."""
    vm.start()
    inventory = fast_inventory(lab, tmp_path / "inv")
    daemons(inventory, tmp_path / "m.sqlite", tmp_path / "d.log", "--remote-write", vm.write_url)

    def arrived() -> list[dict[str, Any]]:
        try:
            return vm.export('govnet_ups_on_battery{device="ups-1"}')
        except OSError:
            return []

    [series] = wait_for("the UPS's samples in VictoriaMetrics", arrived, timeout=60)
    assert series["metric"]["zone"] and set(series["values"]) == {1}
    assert (tmp_path / "remote-write").is_dir()
    ups = vm.export('govnet_device_up{device="ups-1"}')
    assert ups and set(ups[0]["values"]) == {1}
