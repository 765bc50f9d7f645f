"""The metrics govnet's poller produces: names, units, labels, and whether they are kept as
time series (``samples``) or only as the latest value (names, statuses, speeds).

Names are stable identifiers (alert rules, the store, Prometheus use them); labels are zh/en.
"""

from __future__ import annotations

from dataclasses import dataclass

from govnet.i18n import pick


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    en: str
    zh: str
    series: bool = True  # False: latest value only

    def label(self, lang: str) -> str:
        return pick(lang, self.en, self.zh)


_METRICS = (
    # system
    Metric("up", "", "Reachable", "可达"),
    Metric("rtt_ms", "ms", "SNMP response time", "SNMP响应时间"),
    Metric("uptime_s", "s", "Uptime", "运行时间", series=False),
    # interfaces
    Metric("if_in_bps", "bit/s", "Inbound traffic", "入流量"),
    Metric("if_out_bps", "bit/s", "Outbound traffic", "出流量"),
    Metric("if_errors_ps", "/s", "Interface errors", "接口错包"),
    Metric("if_util_pct", "%", "Interface utilisation", "接口利用率", series=False),
    Metric("if_oper", "", "Operational status (1 up)", "运行状态（1为up）", series=False),
    Metric("if_admin", "", "Administrative status (1 up)", "管理状态（1为up）", series=False),
    Metric("if_speed_bps", "bit/s", "Interface speed", "接口速率", series=False),
    Metric("if_alias", "", "Interface description (text)", "接口描述（文本）", series=False),
    # hosts
    Metric("cpu_pct", "%", "CPU load", "CPU负载"),
    Metric("mem_used_pct", "%", "Memory used", "内存使用率"),
    Metric("storage_used_pct", "%", "Storage used", "存储使用率"),
    # network devices' health (health.py; instance = the component's name)
    Metric("fan_ok", "", "Fan working (1 ok)", "风扇正常（1为正常）", series=False),
    Metric("psu_ok", "", "Power supply working (1 ok)", "电源正常（1为正常）", series=False),
    Metric("hw_ok", "", "Hardware without fault (1 ok)", "硬件无故障（1为正常）", series=False),
    # UPS (RFC 1628)
    Metric("ups_on_battery", "", "UPS on battery", "UPS电池供电"),
    Metric(
        "ups_output_source",
        "",
        "UPS output source (3 normal, 5 battery)",
        "UPS输出来源（3市电，5电池）",
        series=False,
    ),
    Metric(
        "ups_battery_status",
        "",
        "UPS battery status (2 normal, 3 low, 4 depleted)",
        "UPS电池状态（2正常，3低，4耗尽）",
        series=False,
    ),
    Metric("ups_charge_pct", "%", "UPS charge", "UPS电量"),
    Metric("ups_minutes_left", "min", "UPS runtime left", "UPS剩余时间"),
    Metric("ups_seconds_on_battery", "s", "Time on battery", "电池供电时长", series=False),
    Metric("ups_load_pct", "%", "UPS load", "UPS负载"),
    Metric("ups_input_voltage", "V", "UPS input voltage", "UPS输入电压"),
    Metric("ups_alarms", "", "UPS alarms present", "UPS告警数", series=False),
    # environment
    Metric("temperature_c", "°C", "Temperature", "温度"),
    Metric("humidity_pct", "%RH", "Humidity", "湿度"),
    Metric("leak", "", "Water leak (1 detected)", "漏水（1为检测到）"),
    Metric("contact", "", "Dry contact (1 active)", "干接点（1为动作）", series=False),
    Metric("sensor_ok", "", "Sensor working (1 ok)", "传感器正常（1为正常）", series=False),
)

METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}


LATEST_ONLY = frozenset(m.name for m in _METRICS if not m.series)
"""The metrics kept as the latest value only (any other name, known or not, is a series)."""


def is_series(name: str) -> bool:
    metric = METRICS.get(name)
    return metric.series if metric else True
