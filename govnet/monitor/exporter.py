"""Prometheus ``/metrics`` and ``/healthz``: the latest value of every metric, device states,
alerts, and the poller's own figures, from a dedicated registry (a custom collector, read at
scrape time).

Conventions (``promtool check metrics`` passes on a live daemon):

- base units: seconds (``govnet_rtt_seconds``, ``govnet_uptime_seconds``,
  ``govnet_ups_runtime_seconds``), ratios 0–1 instead of percent (``govnet_if_util_ratio``),
  ``_celsius``, ``_volts``, ``_bytes_per_second``; the store keeps its own names and units
  (``rtt_ms`` …) and ``prom_name()`` maps them, by the metric's unit, so metric sets added
  later (device health) export the same way without a table entry;
- labels that do not collide with Prometheus's target labels: ``device``, and ``interface``
  (``if_*``) or ``component`` (sensors, ENTITY-MIB components) for the store's instance;
- a device whose state is still unknown has no ``govnet_device_up`` sample (absent, not 0);
  ``govnet_device_state{state=…}`` is 1 for its current state and 0 for the others;
- the poll lag and poll duration are histograms, the poller's figures ``_total`` counters;
- ``/metrics`` answers only on ``/metrics``; ``/healthz`` says whether the poller keeps up
  (200 ``ok …`` or 503 with why); every other path is a 404.

Larger sites shard pollers (each with its own store and ``--limit``/``--zone`` selection) and
aggregate them in Prometheus. The server listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import ThreadingWSGIServer

from govnet import i18n
from govnet.errors import GovnetError
from govnet.monitor.histogram import Histogram
from govnet.monitor.metrics import METRICS
from govnet.monitor.model import DeviceState, DeviceStatus
from govnet.monitor.poller import PollerStats

# unit of the store's metric → (suffix it drops from the name, Prometheus suffix, factor)
UNIT_RULES: dict[str, tuple[str, str, float]] = {
    "ms": ("_ms", "_seconds", 0.001),
    "s": ("_s", "_seconds", 1.0),
    "min": ("_minutes", "_seconds", 60.0),
    "%": ("_pct", "_ratio", 0.01),
    "%RH": ("_pct", "_ratio", 0.01),
    "°C": ("_c", "_celsius", 1.0),
    "V": ("_voltage", "_volts", 1.0),
    "W": ("_w", "_watts", 1.0),
    "bit/s": ("_bps", "_bytes_per_second", 0.125),
    "/s": ("_ps", "_per_second", 1.0),
    "rpm": ("_rpm", "_rpm", 1.0),
}
# names the unit rule alone would get wrong
NAME_OVERRIDES: dict[str, tuple[str, float]] = {
    "ups_minutes_left": ("ups_runtime_seconds", 60.0),
    "ups_seconds_on_battery": ("ups_time_on_battery_seconds", 1.0),
    "ups_input_voltage": ("ups_input_volts", 1.0),
}
# the store's writer figures: counters (get ``_total``) and gauges
WRITER_COUNTERS = {"write_errors", "dropped_batches", "writer_cpu_seconds"}


def prom_name(metric: str) -> tuple[str, float]:
    """The store's metric name → (Prometheus name without ``govnet_``, factor to base unit)."""
    if metric in NAME_OVERRIDES:
        return NAME_OVERRIDES[metric]
    meta = METRICS.get(metric)
    rule = UNIT_RULES.get(meta.unit) if meta else None
    if rule is None:
        return metric, 1.0
    drop, suffix, factor = rule
    base = metric[: -len(drop)] if metric.endswith(drop) else metric
    return base + suffix, factor


def instance_label(metric: str) -> str:
    return "interface" if metric.startswith("if_") else "component"


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str  # one line for people and probes


@dataclass
class ExporterView:
    """What the collector reads; the daemon keeps these up to date."""

    statuses: Callable[[], Mapping[str, DeviceStatus]]
    latest: Callable[[], Mapping[tuple[str, str, str], float | None]]
    stats: Callable[[], PollerStats]
    alerts: Callable[[], Mapping[str, int]]  # severity → firing (unsuppressed) count
    writer: Callable[[], Mapping[str, float]]  # queue depth, write errors, …
    health: Callable[[], Health] = field(default=lambda: Health(True, "ok"))
    # whether an interface is watched for link-down (inventory links, vars.watch_interfaces)
    watched: Callable[[str, str], bool] = field(default=lambda device, interface: False)
    # govnet's own firing, unsuppressed alerts: (rule, device, instance, severity)
    firing: Callable[[], Iterable[tuple[str, str, str, str]]] = field(default=lambda: ())


def _histogram(name: str, doc: str, hist: Histogram) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, doc, buckets=hist.cumulative(), sum_value=hist.total)


class GovnetCollector:
    def __init__(self, view: ExporterView) -> None:
        self.view = view

    def collect(self) -> Iterator[Metric]:
        yield from self._devices(dict(self.view.statuses()))
        yield from self._values(self.view.latest().items())
        alerts = GaugeMetricFamily(
            "govnet_alerts_firing", "Firing, unsuppressed alerts", labels=["severity"]
        )
        counts = self.view.alerts()
        for severity in ("critical", "high", "medium", "low"):
            alerts.add_metric([severity], float(counts.get(severity, 0)))
        yield alerts
        firing = GaugeMetricFamily(
            "govnet_alert_firing",
            "1 for each of govnet's firing, unsuppressed alerts (object: interface, component)",
            labels=["rule", "device", "object", "severity"],
        )
        for rule, device, instance, severity in sorted(self.view.firing()):
            firing.add_metric([rule, device, instance, severity], 1.0)
        yield firing
        stats = self.view.stats()
        yield CounterMetricFamily("govnet_polls", "Polls done", value=stats.polls)
        yield CounterMetricFamily(
            "govnet_poll_failures", "Polls without an answer", value=stats.failures
        )
        yield CounterMetricFamily(
            "govnet_poll_timeouts", "Polls that timed out", value=stats.timeouts
        )
        yield CounterMetricFamily("govnet_varbinds", "Varbinds received", value=stats.varbinds)
        yield _histogram(
            "govnet_poll_lag_seconds", "Poll start minus its due time", stats.lag_histogram
        )
        yield _histogram(
            "govnet_poll_duration_seconds", "Time one device's poll took", stats.duration_histogram
        )
        for key, value in sorted(self.view.writer().items()):
            if key in WRITER_COUNTERS:
                yield CounterMetricFamily(f"govnet_store_{key}", f"Store writer: {key}", value)
            else:
                yield GaugeMetricFamily(f"govnet_store_{key}", f"Store writer: {key}", value)

    def _devices(self, statuses: Mapping[str, DeviceStatus]) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "govnet_device_up",
            "1 if the device answered its last poll, 0 if not; absent while its state is unknown",
            labels=["device", "zone", "role"],
        )
        info = GaugeMetricFamily(
            "govnet_device_info",
            "Always 1: the device's zone, site, role and rack (join on device)",
            labels=["device", "zone", "site", "role", "rack"],
        )
        state = GaugeMetricFamily(
            "govnet_device_state",
            "1 for the device's current state (unknown, up, unreachable, down), 0 for the others",
            labels=["device", "state"],
        )
        by_state = GaugeMetricFamily("govnet_devices", "Devices per state", labels=["state"])
        counts = {s.value: 0 for s in DeviceState}
        for name, st in sorted(statuses.items()):
            if st.state is not DeviceState.UNKNOWN:
                up.add_metric([name, st.zone, st.role], 1.0 if st.state is DeviceState.UP else 0.0)
            info.add_metric([name, st.zone, st.site, st.role, st.rack], 1.0)
            for s in DeviceState:
                state.add_metric([name, s.value], 1.0 if st.state is s else 0.0)
            counts[st.state.value] += 1
        for key, n in counts.items():
            by_state.add_metric([key], float(n))
        yield from (up, info, state, by_state)

    def _values(
        self, items: Iterable[tuple[tuple[str, str, str], float | None]]
    ) -> Iterator[Metric]:
        grouped: dict[str, list[tuple[str, str, float]]] = {}
        for (device, metric, instance), value in items:
            if value is None or metric not in METRICS:
                continue
            grouped.setdefault(metric, []).append((device, instance, float(value)))
        watched = GaugeMetricFamily(
            "govnet_if_watched",
            "1 for interfaces in inventory links (or vars.watch_interfaces): link-down applies",
            labels=["device", "interface"],
        )
        for device, interface, _ in sorted(grouped.get("if_oper", [])):
            if self.view.watched(device, interface):
                watched.add_metric([device, interface], 1.0)
        yield watched
        for metric, rows in sorted(grouped.items()):
            meta = METRICS[metric]
            name, factor = prom_name(metric)
            labels = ["device"]
            if any(instance for _, instance, _ in rows):
                labels.append(instance_label(metric))
            family = GaugeMetricFamily(f"govnet_{name}", meta.en, labels=labels)
            for device, instance, value in sorted(rows):
                family.add_metric([device, instance][: len(labels)], value * factor)
            yield family


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
        raise GovnetError(
            i18n._("--listen {text!r}: expected ADDRESS:PORT, e.g. 127.0.0.1:9163", text=text)
        )
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every 15 s are not news; the daemon's log has what matters."""


def make_app(view: ExporterView) -> Callable[..., Iterable[bytes]]:
    """The WSGI app: ``/metrics`` (prometheus_client's, with gzip and HEAD), ``/healthz``,
    404 for anything else."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GovnetCollector(view))
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            result: Iterable[bytes] = metrics(environ, start_response)
            return result
        if path == "/healthz":
            health = view.health()
            status = "200 OK" if health.ok else "503 Service Unavailable"
            body = (health.detail + "\n").encode()
            start_response(
                status,
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]
        body = b"not found: govnetd serves /metrics and /healthz\n"
        start_response(
            "404 Not Found",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return app


def serve_metrics(view: ExporterView, listen: str) -> MetricsServer:
    host, port = parse_listen(listen)
    server_class = ThreadingWSGIServer
    if ":" in host:

        class _V6(ThreadingWSGIServer):
            address_family = socket.AF_INET6

        server_class = _V6
    try:
        server = make_server(host, port, make_app(view), server_class, handler_class=_QuietHandler)
    except OSError as exc:
        raise GovnetError(
            i18n._(
                "--listen {listen}: cannot serve /metrics: {reason}; pick another address or port "
                "(or --no-metrics)",
                listen=listen,
                reason=exc.strerror or exc,
            )
        ) from exc
    thread = threading.Thread(target=server.serve_forever, name="govnet-metrics", daemon=True)
    thread.start()
    return MetricsServer(server, thread, host, int(server.server_port))
