"""Writes govnet-dashboard.json: the machine room, zones, device health, links and the poller
itself, from govnetd's /metrics through Prometheus.

    python contrib/grafana/make_dashboard.py > contrib/grafana/govnet-dashboard.json

Built with grafana-foundation-sdk's builders (`pip install -e '.[dev]'`; the version is pinned
in setup.cfg), whose types Grafana generates from its own dashboard schema, so the JSON is the
dashboard model of that schema (`schemaVersion` is the SDK's, Grafana 12) with every field the
panels' plugins require; tests/unit/monitor/test_grafana_dashboard.py checks it against the
schema key by key.

Every panel's datasource is the ``${datasource}`` variable (pick the Prometheus on import);
``zone`` and ``device`` variables come from ``govnet_device_info``.
"""

from __future__ import annotations

import itertools
import sys
import warnings
from typing import Any

with warnings.catch_warnings():
    # the SDK prefers its v2 dashboard (Grafana's experimental schema v2); the import/provisioning
    # format every Grafana reads is this one
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries
    from grafana_foundation_sdk.builders import dashboard as db
    from grafana_foundation_sdk.builders import prometheus as prom
    from grafana_foundation_sdk.builders.common import ReduceDataOptions, VizLegendOptions
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.common import (
        DataSourceRef,
        LegendDisplayMode,
        LegendPlacement,
    )
    from grafana_foundation_sdk.models.dashboard import (
        Dashboard,
        GridPos,
        ValueMap,
        ValueMappingResult,
        VariableOption,
        VariableRefresh,
    )
    from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DS = DataSourceRef(type_val="prometheus", uid="${datasource}")
Z = '{zone=~"$zone"}'
ON_ZONE = f" and on(device) govnet_device_info{Z}"
DEV = '{device=~"$device"}'
ALL = VariableOption(text="All", value="$__all")

PanelBuilder = stat.Panel | timeseries.Panel | table.Panel | bargauge.Panel


def target(expr: str, legend: str = "", ref: str = "A") -> prom.Dataquery:
    return prom.Dataquery().datasource(DS).expr(expr).legend_format(legend).ref_id(ref)


class Layout:
    """Panel ids in order and each panel's place on Grafana's 24-column grid."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)

    def row(self, title: str, y: int) -> db.Row:
        return db.Row(title).id(next(self.ids)).grid_pos(GridPos(x=0, y=y, w=24, h=1))

    def panel(
        self,
        builder: PanelBuilder,
        title: str,
        at: tuple[int, int, int, int],
        targets: list[prom.Dataquery],
        unit: str = "",
    ) -> Any:
        x, y, w, h = at
        out = (
            builder.id(next(self.ids))
            .title(title)
            .datasource(DS)
            .grid_pos(GridPos(x=x, y=y, w=w, h=h))
            .targets(list(targets))
        )
        return out.unit(unit) if unit else out


def last_value() -> ReduceDataOptions:
    return ReduceDataOptions().calcs(["lastNotNull"])


def stat_panel() -> stat.Panel:
    return stat.Panel().reduce_options(last_value())


def graph() -> timeseries.Panel:
    """A time series with its legend shown (the SDK's default hides it)."""
    legend = (
        VizLegendOptions()
        .show_legend(True)
        .display_mode(LegendDisplayMode.LIST)
        .placement(LegendPlacement.BOTTOM)
    )
    return timeseries.Panel().legend(legend)


def dashboard() -> Dashboard:
    lay = Layout()
    p = lay.panel
    panels: list[Any] = [
        lay.row("Machine room 机房", 0),
        p(
            stat_panel().mappings(
                [
                    ValueMap(
                        options={
                            "0": ValueMappingResult(text="mains"),
                            "1": ValueMappingResult(text="BATTERY"),
                        }
                    )
                ]
            ),
            "UPS on battery 电池供电",
            (0, 1, 4, 4),
            [target("max(govnet_ups_on_battery)", "on battery")],
        ),
        p(
            stat_panel(),
            "UPS runtime left 剩余时间",
            (4, 1, 4, 4),
            [target("min by (device) (govnet_ups_runtime_seconds)", "{{device}}")],
            "s",
        ),
        p(
            graph(),
            "UPS charge 电量",
            (8, 1, 8, 8),
            [target("govnet_ups_charge_ratio", "{{device}}")],
            "percentunit",
        ),
        p(
            graph(),
            "Inlet temperature 温度",
            (16, 1, 8, 8),
            [
                target(
                    'govnet_temperature_celsius and on(device) govnet_device_info{role="env"}',
                    "{{device}} {{component}}",
                )
            ],
            "celsius",
        ),
        p(stat_panel(), "Water leak 漏水", (0, 5, 4, 4), [target("max(govnet_leak)", "leak")]),
        p(
            stat_panel(),
            "Humidity 湿度",
            (4, 5, 4, 4),
            [target("avg(govnet_humidity_ratio)", "humidity")],
            "percentunit",
        ),
        lay.row("Zones 分区", 9),
        p(
            stat_panel(),
            "Devices up per zone 在线率",
            (0, 10, 8, 6),
            [
                target(
                    f"avg by (zone) (govnet_device_up * on(device) group_left() "
                    f"govnet_device_info{Z})",
                    "{{zone}}",
                )
            ],
            "percentunit",
        ),
        p(
            graph(),
            "Devices per state 设备状态",
            (8, 10, 8, 6),
            [
                target(
                    f"sum by (zone, state) (govnet_device_state * on(device) "
                    f"group_left(zone) govnet_device_info{Z})",
                    "{{zone}} {{state}}",
                )
            ],
        ),
        p(
            table.Panel(),
            "Devices not up 异常设备",
            (16, 10, 8, 6),
            [
                target(
                    f'govnet_device_state{{state=~"down|unreachable|unknown"}} == 1{ON_ZONE}',
                    "{{device}} {{state}}",
                )
                .instant()
                .format(PromQueryFormat.TABLE)
            ],
        ),
        lay.row("Device health 设备健康", 16),
        p(
            graph(),
            "CPU",
            (0, 17, 8, 8),
            [target(f"govnet_cpu_ratio{DEV}", "{{device}} {{component}}")],
            "percentunit",
        ),
        p(
            graph(),
            "Memory 内存",
            (8, 17, 8, 8),
            [target(f"govnet_mem_used_ratio{DEV}", "{{device}} {{component}}")],
            "percentunit",
        ),
        p(
            graph(),
            "SNMP response time 响应时间",
            (16, 17, 8, 8),
            [target(f"govnet_rtt_seconds{DEV}", "{{device}}")],
            "s",
        ),
        p(
            graph(),
            "Uptime 运行时间",
            (0, 25, 12, 6),
            [target(f"govnet_uptime_seconds{DEV}", "{{device}}")],
            "s",
        ),
        p(
            graph(),
            "Component temperature 部件温度",
            (12, 25, 12, 6),
            [
                target(
                    f"govnet_temperature_celsius{DEV} unless on(device) "
                    f'govnet_device_info{{role="env"}}',
                    "{{device}} {{component}}",
                )
            ],
            "celsius",
        ),
        lay.row("Links 链路", 31),
        p(
            bargauge.Panel().reduce_options(last_value()),
            "Busiest links 链路利用率",
            (0, 32, 8, 10),
            [target("topk(10, govnet_if_util_ratio)", "{{device}} {{interface}}")],
            "percentunit",
        ),
        p(
            graph(),
            "Traffic in/out 流量",
            (8, 32, 16, 10),
            [
                target(f"govnet_if_in_bytes_per_second{DEV}", "{{device}} {{interface}} in"),
                target(
                    f"-govnet_if_out_bytes_per_second{DEV}", "{{device}} {{interface}} out", "B"
                ),
            ],
            "Bps",
        ),
        p(
            graph(),
            "Interface errors 错包",
            (0, 42, 12, 6),
            [target(f"govnet_if_errors_per_second{DEV} > 0", "{{device}} {{interface}}")],
        ),
        p(
            graph(),
            "Poller lag p90 轮询延迟",
            (12, 42, 12, 6),
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

    def label_values(name: str, query: str) -> db.QueryVariable:
        return (
            db.QueryVariable(name)
            .label(name)
            .datasource(DS)
            .query({"query": query, "refId": name})
            .definition(query)
            .include_all(True)
            .multi(True)
            .current(ALL)
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        )

    board = (
        db.Dashboard("govnet machine room 机房监控")
        .uid("govnet-machine-room")
        .tags(["govnet"])
        .timezone("browser")
        .version(1)
        .editable()
        .refresh("30s")
        .time("now-6h", "now")
        .with_variable(db.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
        .with_variable(label_values("zone", "label_values(govnet_device_info, zone)"))
        .with_variable(label_values("device", f"label_values(govnet_device_info{Z}, device)"))
    ).build()
    # each panel has its place already (Dashboard.with_panel would lay them out itself)
    board.panels = [panel.build() for panel in panels]
    return board


def render() -> str:
    return JSONEncoder(ensure_ascii=False, indent=2).encode(dashboard()) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
