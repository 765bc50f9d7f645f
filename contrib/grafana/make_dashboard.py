"""Writes govnet-dashboard.json (Grafana 9/10, schemaVersion 38): the machine room, zones,
device health, links and the poller itself, from govnetd's /metrics through Prometheus.

    python contrib/grafana/make_dashboard.py > contrib/grafana/govnet-dashboard.json

Every panel's datasource is the ``${datasource}`` variable (pick the Prometheus on import);
``zone`` and ``device`` variables come from ``govnet_device_info``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

DS = {"type": "prometheus", "uid": "${datasource}"}
_ids = iter(range(1, 1000))


def target(expr: str, legend: str = "", ref: str = "A") -> dict[str, Any]:
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}


def panel(
    kind: str,
    title: str,
    x: int,
    y: int,
    w: int,
    h: int,
    targets: list[dict[str, Any]],
    unit: str = "",
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": next(_ids),
        "type": kind,
        "title": title,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit} if unit else {}, "overrides": []},
        "options": {},
    }
    out.update(extra)
    return out


def row(title: str, y: int) -> dict[str, Any]:
    return {
        "id": next(_ids),
        "type": "row",
        "title": title,
        "collapsed": False,
        "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
        "panels": [],
    }


Z = '{zone=~"$zone"}'
ON_ZONE = f" and on(device) govnet_device_info{Z}"
DEV = '{device=~"$device"}'


def dashboard() -> dict[str, Any]:
    panels = [
        row("Machine room 机房", 0),
        panel(
            "stat",
            "UPS on battery 电池供电",
            0,
            1,
            4,
            4,
            [target("max(govnet_ups_on_battery)", "on battery")],
            mappings=[
                {"type": "value", "options": {"0": {"text": "mains"}, "1": {"text": "BATTERY"}}}
            ],
        ),
        panel(
            "stat",
            "UPS runtime left 剩余时间",
            4,
            1,
            4,
            4,
            [target("min by (device) (govnet_ups_runtime_seconds)", "{{device}}")],
            "s",
        ),
        panel(
            "timeseries",
            "UPS charge 电量",
            8,
            1,
            8,
            8,
            [target("govnet_ups_charge_ratio", "{{device}}")],
            "percentunit",
        ),
        panel(
            "timeseries",
            "Inlet temperature 温度",
            16,
            1,
            8,
            8,
            [
                target(
                    'govnet_temperature_celsius and on(device) govnet_device_info{role="env"}',
                    "{{device}} {{component}}",
                )
            ],
            "celsius",
        ),
        panel("stat", "Water leak 漏水", 0, 5, 4, 4, [target("max(govnet_leak)", "leak")]),
        panel(
            "stat",
            "Humidity 湿度",
            4,
            5,
            4,
            4,
            [target("avg(govnet_humidity_ratio)", "humidity")],
            "percentunit",
        ),
        row("Zones 分区", 9),
        panel(
            "stat",
            "Devices up per zone 在线率",
            0,
            10,
            8,
            6,
            [
                target(
                    f"avg by (zone) (govnet_device_up * on(device) group_left() "
                    f"govnet_device_info{Z})",
                    "{{zone}}",
                )
            ],
            "percentunit",
        ),
        panel(
            "timeseries",
            "Devices per state 设备状态",
            8,
            10,
            8,
            6,
            [
                target(
                    f"sum by (zone, state) (govnet_device_state * on(device) "
                    f"group_left(zone) govnet_device_info{Z})",
                    "{{zone}} {{state}}",
                )
            ],
        ),
        panel(
            "table",
            "Devices not up 异常设备",
            16,
            10,
            8,
            6,
            [
                target(
                    f'govnet_device_state{{state=~"down|unreachable|unknown"}} == 1{ON_ZONE}',
                    "{{device}} {{state}}",
                )
            ],
        ),
        row("Device health 设备健康", 16),
        panel(
            "timeseries",
            "CPU",
            0,
            17,
            8,
            8,
            [target(f"govnet_cpu_ratio{DEV}", "{{device}} {{component}}")],
            "percentunit",
        ),
        panel(
            "timeseries",
            "Memory 内存",
            8,
            17,
            8,
            8,
            [target(f"govnet_mem_used_ratio{DEV}", "{{device}} {{component}}")],
            "percentunit",
        ),
        panel(
            "timeseries",
            "SNMP response time 响应时间",
            16,
            17,
            8,
            8,
            [target(f"govnet_rtt_seconds{DEV}", "{{device}}")],
            "s",
        ),
        panel(
            "timeseries",
            "Uptime 运行时间",
            0,
            25,
            12,
            6,
            [target(f"govnet_uptime_seconds{DEV}", "{{device}}")],
            "s",
        ),
        panel(
            "timeseries",
            "Component temperature 部件温度",
            12,
            25,
            12,
            6,
            [
                target(
                    f"govnet_temperature_celsius{DEV} unless on(device) "
                    f'govnet_device_info{{role="env"}}',
                    "{{device}} {{component}}",
                )
            ],
            "celsius",
        ),
        row("Links 链路", 31),
        panel(
            "bargauge",
            "Busiest links 链路利用率",
            0,
            32,
            8,
            10,
            [target("topk(10, govnet_if_util_ratio)", "{{device}} {{interface}}")],
            "percentunit",
        ),
        panel(
            "timeseries",
            "Traffic in/out 流量",
            8,
            32,
            16,
            10,
            [
                target(f"govnet_if_in_bytes_per_second{DEV}", "{{device}} {{interface}} in"),
                target(
                    f"-govnet_if_out_bytes_per_second{DEV}", "{{device}} {{interface}} out", "B"
                ),
            ],
            "Bps",
        ),
        panel(
            "timeseries",
            "Interface errors 错包",
            0,
            42,
            12,
            6,
            [target(f"govnet_if_errors_per_second{DEV} > 0", "{{device}} {{interface}}")],
        ),
        panel(
            "timeseries",
            "Poller lag p90 轮询延迟",
            12,
            42,
            12,
            6,
            [
                target(
                    "histogram_quantile(0.9, sum by (job, le) "
                    "(rate(govnet_poll_lag_seconds_bucket[5m])))",
                    "{{job}}",
                )
            ],
            "s",
        ),
    ]
    variables = [
        {
            "name": "datasource",
            "type": "datasource",
            "query": "prometheus",
            "label": "Prometheus",
            "current": {},
            "hide": 0,
        },
        {
            "name": "zone",
            "type": "query",
            "datasource": DS,
            "label": "zone",
            "query": {"query": "label_values(govnet_device_info, zone)", "refId": "zone"},
            "definition": "label_values(govnet_device_info, zone)",
            "includeAll": True,
            "multi": True,
            "refresh": 2,
            "current": {},
            "hide": 0,
        },
        {
            "name": "device",
            "type": "query",
            "datasource": DS,
            "label": "device",
            "query": {"query": f"label_values(govnet_device_info{Z}, device)", "refId": "device"},
            "definition": f"label_values(govnet_device_info{Z}, device)",
            "includeAll": True,
            "multi": True,
            "refresh": 2,
            "current": {},
            "hide": 0,
        },
    ]
    return {
        "__inputs": [],
        "uid": "govnet-machine-room",
        "title": "govnet machine room 机房监控",
        "tags": ["govnet"],
        "timezone": "browser",
        "schemaVersion": 38,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": variables},
        "annotations": {"list": []},
        "panels": panels,
    }


if __name__ == "__main__":
    json.dump(dashboard(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
