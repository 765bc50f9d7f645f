"""Prometheus ``/metrics``: the latest value of every metric, device states, alerts, and the
poller's own figures, from a dedicated registry (a custom collector, read at scrape time).

Larger sites shard pollers (each with its own store and ``--limit``/``--zone`` selection) and
aggregate them in Prometheus. The server listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from govnet.errors import GovnetError
from govnet.monitor.metrics import METRICS
from govnet.monitor.model import DeviceState, DeviceStatus
from govnet.monitor.poller import PollerStats


@dataclass
class ExporterView:
    """What the collector reads; the daemon keeps these up to date."""

    statuses: Callable[[], Mapping[str, DeviceStatus]]
    latest: Callable[[], Mapping[tuple[str, str, str], float | None]]
    stats: Callable[[], PollerStats]
    alerts: Callable[[], Mapping[str, int]]  # severity → firing (unsuppressed) count
    writer: Callable[[], Mapping[str, float]]  # queue depth, write errors, …


class GovnetCollector:
    def __init__(self, view: ExporterView) -> None:
        self.view = view

    def collect(self) -> Iterator[Metric]:
        statuses = dict(self.view.statuses())
        up = GaugeMetricFamily(
            "govnet_device_up",
            "1 if the device answered its last poll",
            labels=["device", "zone", "role"],
        )
        state = GaugeMetricFamily(
            "govnet_device_state", "1 for the device's current state", labels=["device", "state"]
        )
        by_state = GaugeMetricFamily("govnet_devices", "Devices per state", labels=["state"])
        counts = {s.value: 0 for s in DeviceState}
        for name, st in sorted(statuses.items()):
            up.add_metric([name, st.zone, st.role], 1.0 if st.state is DeviceState.UP else 0.0)
            state.add_metric([name, st.state.value], 1.0)
            counts[st.state.value] += 1
        for key, n in counts.items():
            by_state.add_metric([key], float(n))
        yield up
        yield state
        yield by_state
        families: dict[str, GaugeMetricFamily] = {}
        for (device, metric, instance), value in sorted(self.view.latest().items()):
            if value is None or metric not in METRICS:
                continue
            family = families.get(metric)
            if family is None:
                meta = METRICS[metric]
                family = families[metric] = GaugeMetricFamily(
                    f"govnet_{metric}",
                    f"{meta.en} ({meta.unit})" if meta.unit else meta.en,
                    labels=["device", "instance"],
                )
            family.add_metric([device, instance], float(value))
        yield from families.values()
        alerts = GaugeMetricFamily(
            "govnet_alerts_firing", "Firing, unsuppressed alerts", labels=["severity"]
        )
        for severity in ("critical", "high", "medium", "low"):
            alerts.add_metric([severity], float(self.view.alerts().get(severity, 0)))
        yield alerts
        stats = self.view.stats()
        yield CounterMetricFamily("govnet_polls", "Polls done", value=stats.polls)
        yield CounterMetricFamily(
            "govnet_poll_failures", "Polls without an answer", value=stats.failures
        )
        yield CounterMetricFamily(
            "govnet_poll_timeouts", "Polls that timed out", value=stats.timeouts
        )
        yield CounterMetricFamily("govnet_varbinds", "Varbinds received", value=stats.varbinds)
        lag = GaugeMetricFamily(
            "govnet_poll_lag_seconds",
            "Poll start minus due time (recent polls)",
            labels=["quantile"],
        )
        for q in (0.5, 0.9, 0.99):
            lag.add_metric([str(q)], stats.lag_quantile(q))
        yield lag
        for key, value in sorted(self.view.writer().items()):
            yield GaugeMetricFamily(f"govnet_store_{key}", f"Store writer: {key}", value=value)


@dataclass
class MetricsServer:
    server: Any
    thread: threading.Thread
    address: str
    port: int

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:9163``, ``:9163`` (loopback), ``[::1]:9163`` → (address, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise GovnetError(f"--listen {text!r}: expected ADDRESS:PORT, e.g. 127.0.0.1:9163")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def serve_metrics(view: ExporterView, listen: str) -> MetricsServer:
    from prometheus_client import start_http_server

    host, port = parse_listen(listen)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GovnetCollector(view))
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise GovnetError(
            f"--listen {listen}: cannot serve /metrics: {exc.strerror or exc}; pick another "
            "address or port (or --no-metrics)"
        ) from exc
    return MetricsServer(server, thread, host, int(server.server_port))
