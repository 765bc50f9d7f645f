"""The metrics govnet's poller produces: names, units, labels, and whether they are kept as
time series (``samples``) or only as the latest value (names, statuses, speeds).

Names are stable identifiers (alert rules, the store, Prometheus use them); labels are zh/en.
"""

from __future__ import annotations

from dataclasses import dataclass

from govnet.i18n import tr


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    en: str  # msgid (babel.cfg: Metric:3)
    series: bool = True  # False: latest value only

    def label(self, lang: str) -> str:
        return tr(lang, self.en)


_METRICS = (
    # system
    Metric("up", "", "Reachable"),
    Metric("rtt_ms", "ms", "SNMP response time"),
    Metric("uptime_s", "s", "Uptime", series=False),
    # interfaces
    Metric("if_in_bps", "bit/s", "Inbound traffic"),
    Metric("if_out_bps", "bit/s", "Outbound traffic"),
    Metric("if_errors_ps", "/s", "Interface errors"),
    Metric("if_util_pct", "%", "Interface utilisation", series=False),
    Metric("if_oper", "", "Operational status (1 up)", series=False),
    Metric("if_admin", "", "Administrative status (1 up)", series=False),
    Metric("if_speed_bps", "bit/s", "Interface speed", series=False),
    Metric("if_alias", "", "Interface description (text)", series=False),
    # hosts
    Metric("cpu_pct", "%", "CPU load"),
    Metric("mem_used_pct", "%", "Memory used"),
    Metric("storage_used_pct", "%", "Storage used"),
    # network devices' health (health.py; instance = the component's name)
    Metric("fan_ok", "", "Fan working (1 ok)", series=False),
    Metric("psu_ok", "", "Power supply working (1 ok)", series=False),
    Metric("hw_ok", "", "Hardware without fault (1 ok)", series=False),
    # UPS (RFC 1628)
    Metric("ups_on_battery", "", "UPS on battery"),
    Metric(
        "ups_output_source",
        "",
        "UPS output source (3 normal, 5 battery)",
        series=False,
    ),
    Metric(
        "ups_battery_status",
        "",
        "UPS battery status (2 normal, 3 low, 4 depleted)",
        series=False,
    ),
    Metric("ups_charge_pct", "%", "UPS charge"),
    Metric("ups_minutes_left", "min", "UPS runtime left"),
    Metric("ups_seconds_on_battery", "s", "Time on battery", series=False),
    Metric("ups_load_pct", "%", "UPS load"),
    Metric("ups_input_voltage", "V", "UPS input voltage"),
    Metric("ups_alarms", "", "UPS alarms present", series=False),
    # environment
    Metric("temperature_c", "°C", "Temperature"),
    Metric("humidity_pct", "%RH", "Humidity"),
    Metric("leak", "", "Water leak (1 detected)"),
    Metric("contact", "", "Dry contact (1 active)", series=False),
    Metric("sensor_ok", "", "Sensor working (1 ok)", series=False),
)

METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}


LATEST_ONLY = frozenset(m.name for m in _METRICS if not m.series)
"""The metrics kept as the latest value only (any other name, known or not, is a series)."""


def is_series(name: str) -> bool:
    metric = METRICS.get(name)
    return metric.series if metric else True
