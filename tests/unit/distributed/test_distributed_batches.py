"""The worker's batch (govnet/distributed/worker.py) and the result codec, on a real SQLite
store with a fake device session: results kept once per (run, device), whatever the number of
deliveries; errors come back to the submitter as a local collection would have raised them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import pytest

from govnet.collect.fetch import Collected
from govnet.collect.fleet import DeviceResult
from govnet.distributed.app import broker_url, queue_for, queues_for, safe_broker
from govnet.distributed.codec import decode, encode
from govnet.distributed.worker import WorkerContext, run_batch
from govnet.errors import AuthError, DeviceTimeout, GovnetError, TransportError
from govnet.inventory import load_inventory
from govnet.secrets import SecretRef
from govnet.store import distributed as dist
from govnet.store.db import Store

INVENTORY = """
credentials:
  lab: {username: admin, password: env:GOVNET_TEST_PW}
defaults: {platform: huawei, role: access, credentials: lab, site: town, unit: office}
zones:
  internal: {isolated_from: [external]}
  external: {}
sites: {town: {level: town}}
units: {office: {site: town}}
devices:
  sw1: {host: 127.0.0.1, zone: internal}
  sw2: {host: 127.0.0.2, zone: external}
  sw3: {host: 127.0.0.3, zone: internal}
"""


class FakeSession:
    opened: ClassVar[list[str]] = []

    def __init__(self, device: Any, _options: Any) -> None:
        self.device = device

    def __enter__(self) -> FakeSession:
        FakeSession.opened.append(self.device.name)
        if self.device.name == "sw3":
            raise DeviceTimeout("sw3", "no SSH banner within 3s")
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def fetch(self, what: str) -> str:
        return f"sysname {self.device.name}\n#\n"

    def send(self, command: str, read_timeout: float | None = None) -> str:
        return f"{self.device.name}: {command}"


@pytest.fixture
def ctx(
    write_inventory: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> WorkerContext:
    monkeypatch.setenv("GOVNET_TEST_PW", "secret")
    inv = load_inventory(write_inventory(INVENTORY), cache=False)
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
    FakeSession.opened = []
    return WorkerContext(inv, store, "w1", 4, session=FakeSession)  # type: ignore[arg-type]


def message(*devices: str) -> dict[str, Any]:
    return {
        "run_id": "audit-1",
        "devices": list(devices),
        "queue": "govnet.zone.internal",
        "commands": {d: ["display version"] for d in devices},
        "with_config": True,
        "ssh": {"timeout": 3, "read_timeout": 5, "retries": 0},
    }


def test_a_batch_delivered_twice_keeps_each_device_once(ctx: WorkerContext) -> None:
    assert run_batch(ctx, message("sw1", "sw3")) == 2
    assert run_batch(ctx, message("sw1", "sw3")) == 0  # redelivered: nothing collected again
    assert sorted(FakeSession.opened) == ["sw1", "sw3"]  # once each
    rows = {r["device"]: r for r in dist.results(ctx.store, "audit-1")}
    ok = decode("sw1", rows["sw1"]["payload"])
    assert ok.result is not None and ok.result.config == "sysname sw1\n#\n"
    assert ok.result.outputs == {"display version": "sw1: display version"}
    failed = decode("sw3", rows["sw3"]["payload"])
    assert failed.error_kind == "timeout" and str(failed.error) == "sw3: no SSH banner within 3s"
    assert [(a["device"], a["worker"]) for a in dist.attempts(ctx.store, "audit-1")] == [
        ("sw1", "w1"),
        ("sw3", "w1"),
    ]


def test_a_second_worker_loses_the_race_without_counting(ctx: WorkerContext) -> None:
    payload = encode(DeviceResult("sw1", Collected("x", {}, datetime.now(UTC))))
    when = datetime.now(UTC)
    assert dist.save_result(ctx.store, "audit-1", "sw1", "w0", when, payload) is True
    assert dist.save_result(ctx.store, "audit-1", "sw1", "w1", when, payload) is False
    assert run_batch(ctx, message("sw1")) == 0 and FakeSession.opened == []
    dist.consume(ctx.store, "audit-1")
    (row,) = dist.results(ctx.store, "audit-1")
    assert row["worker"] == "w0" and "config" not in row["payload"] and row["payload"]["consumed"]


def test_a_device_the_worker_does_not_know_is_an_error_not_a_hang(ctx: WorkerContext) -> None:
    assert run_batch(ctx, message("nosuch")) == 1
    (row,) = dist.results(ctx.store, "audit-1")
    res = decode("nosuch", row["payload"])
    assert "not in the inventory of worker w1" in str(res.error)


def test_a_secret_missing_on_the_worker_fails_that_device_only(
    ctx: WorkerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVNET_TEST_PW")
    assert run_batch(ctx, message("sw1")) == 1
    (row,) = dist.results(ctx.store, "audit-1")
    assert "GOVNET_TEST_PW" in str(decode("sw1", row["payload"]).error)


@pytest.mark.parametrize(
    "error",
    [
        AuthError("sw1", "authentication failed"),
        DeviceTimeout("sw1", "timed out after 3s"),
        GovnetError("sw1: platform huawei has no SSH"),
    ],
)
def test_errors_travel_with_their_text_and_kind(error: GovnetError) -> None:
    res: DeviceResult[Collected] = DeviceResult("sw1", None, error, 1.5)
    back = decode("sw1", encode(res))
    assert str(back.error) == str(error) and back.error_kind == res.error_kind
    assert back.elapsed == 1.5
    if isinstance(error, TransportError):
        assert isinstance(back.error, TransportError) and back.error.message == error.message


def test_queues_and_broker_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    assert queue_for("internal") == "govnet.zone.internal"
    assert queues_for(["external", "internal", None, "internal"]) == [
        "govnet.zone._none",
        "govnet.zone.external",
        "govnet.zone.internal",
    ]
    monkeypatch.setenv("REDIS_PW", "p@ss/word")
    url = broker_url("redis://10.0.0.5:6379/0", SecretRef.parse("env:REDIS_PW"))
    assert url == "redis://:p%40ss%2Fword@10.0.0.5:6379/0"
    assert safe_broker(url) == "redis://:***@10.0.0.5:6379/0"
    with pytest.raises(GovnetError, match="no broker"):
        broker_url(None)
    with pytest.raises(GovnetError, match="redis://"):
        broker_url("amqp://x")


def test_a_multi_line_command_is_refused_before_any_session(ctx: WorkerContext) -> None:
    msg = message("sw1")
    msg["commands"] = {"sw1": ["display version\nsystem-view"]}
    assert run_batch(ctx, msg) == 1 and FakeSession.opened == []
    (row,) = dist.results(ctx.store, "audit-1")
    assert "refused a task with a multi-line command" in str(decode("sw1", row["payload"]).error)


def test_results_are_kept_once_on_postgresql(postgres_server: Any) -> None:
    with postgres_server.database() as url, Store.open(url) as store:
        when = datetime.now(UTC)
        assert dist.save_result(store, "audit-1", "sw1", "w0", when, {"ok": True}) is True
        assert dist.save_result(store, "audit-1", "sw1", "w1", when, {"ok": True}) is False
        assert dist.done_devices(store, "audit-1") == {"sw1"}
