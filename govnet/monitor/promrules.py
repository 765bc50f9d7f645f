"""Prometheus recording and alerting rules equivalent to govnet's alert rules (alerts.yaml).

``contrib/prometheus/govnet-rules.yml`` is this module's output for the shipped rules
(``python -m govnet.monitor.promrules > contrib/prometheus/govnet-rules.yml``; a test keeps
them in step). For a site's own rules file: ``python -m govnet.monitor.promrules RULES.yaml``.

How govnet's rule kinds translate:

- threshold rules (``metric`` with ``above``/``below``, ``clear``, ``for``): the exported metric
  in base units (thresholds scaled the same way), hysteresis as Prometheus does it — the alert
  keeps firing while the value has not crossed ``clear``, through its own ``ALERTS`` series;
- ``applies_to`` role/zone/devices: joined on ``govnet_device_info``; ``instance`` globs become
  regex matchers on ``interface``/``component``;
- state rules: ``device_down`` is ``govnet_device_state{state="down"}``, ``link_down`` an
  administratively up, operationally not up interface that ``govnet_if_watched`` marks,
  ``device_rebooted`` an uptime below ``clear_after``; UPS, leak and sensor states their
  metrics. ``latch`` (a leak stays until acknowledged) has no Prometheus equivalent: there
  Alertmanager's silences and acknowledgements do that job;
- anything else (a state kind without a translation here, ``applies_to`` platform or tags,
  which /metrics does not carry): govnet's own verdict, ``govnet_alert_firing{rule="ID"}``.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from govnet.errors import GovnetError
from govnet.monitor.exporter import instance_label, prom_name
from govnet.monitor.rules import AlertRule, AlertRules, default_rules, load_rules

# state rule → (expression, extra "for"); {sel} is the applies_to selector on device
STATE_EXPRS: dict[str, str] = {
    "device_down": 'govnet_device_state{{state="down"{sel}}} == 1',
    "link_down": (
        "(govnet_if_admin{{{sel0}}} == 1 and govnet_if_oper{{{sel0}}} != 1)"
        " and on(device, interface) govnet_if_watched == 1"
    ),
    "ups_on_battery": "govnet_ups_on_battery{{{sel0}}} == 1",
    "ups_battery_low": "govnet_ups_battery_status{{{sel0}}} >= 3",
    "leak": "govnet_leak{{{sel0}}} == 1",
    "sensor_failed": "govnet_sensor_ok{{{sel0}}} == 0",
    "device_rebooted": "govnet_uptime_seconds{{{sel0}}} < {clear_after}",
}

RECORDING_RULES: list[dict[str, str]] = [
    {"record": "zone:govnet_device_up:ratio", "expr": "avg by (zone) (govnet_device_up)"},
    {
        "record": "zone_state:govnet_devices:count",
        "expr": "sum by (zone, state) (govnet_device_state"
        " * on(device) group_left(zone) govnet_device_info)",
    },
    {"record": "device:govnet_if_util_ratio:max", "expr": "max by (device) (govnet_if_util_ratio)"},
    {
        "record": "device:govnet_if_traffic_bytes_per_second:sum",
        "expr": "sum by (device) (govnet_if_in_bytes_per_second + govnet_if_out_bytes_per_second)",
    },
    {
        "record": "job:govnet_poll_lag_seconds:p90_5m",
        "expr": "histogram_quantile(0.9,"
        " sum by (job, le) (rate(govnet_poll_lag_seconds_bucket[5m])))",
    },
    {
        "record": "job:govnet_poll_failures:ratio_5m",
        "expr": "sum by (job) (rate(govnet_poll_failures_total[5m]))"
        " / sum by (job) (rate(govnet_polls_total[5m]))",
    },
]


def alert_name(rule_id: str) -> str:
    return "Govnet" + "".join(part.capitalize() for part in re.split(r"[-_.]", rule_id) if part)


def _regex(globs: list[str]) -> str:
    parts = []
    for g in globs:
        rx = fnmatch.translate(g)  # '(?s:…)\\Z'
        parts.append(rx[len("(?s:") : -len(")\\Z")] if rx.startswith("(?s:") else rx)
    return "|".join(parts).replace("\\", "\\\\").replace('"', '\\"')


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60}m" if s and s % 60 == 0 else f"{s}s"


class _Untranslatable(Exception):
    """The rule needs what /metrics does not carry: use govnet's own verdict."""


def _device_filter(rule: AlertRule) -> tuple[str, str]:
    """(matchers on the metric itself, ``and on(device) govnet_device_info{…}`` or "")."""
    a = rule.applies_to
    if a.platform or a.tags:
        raise _Untranslatable
    own = f'device=~"{_regex(a.devices)}"' if a.devices else ""
    info = []
    if a.role:
        info.append(f'role=~"{"|".join(a.role)}"')
    if a.zone:
        info.append(f'zone=~"{"|".join(a.zone)}"')
    join = f" and on(device) govnet_device_info{{{', '.join(info)}}}" if info else ""
    return own, join


def _threshold(rule: AlertRule) -> str:
    assert rule.metric is not None
    name, factor = prom_name(rule.metric)
    own, join = _device_filter(rule)
    matchers = [own] if own else []
    if rule.instance != "*":
        matchers.append(f'{instance_label(rule.metric)}=~"{_regex([rule.instance])}"')
    series = f"govnet_{name}{{{', '.join(matchers)}}}"
    op, limit = (">", rule.above) if rule.above is not None else ("<", rule.below)
    assert limit is not None
    expr = f"{series} {op} {_num(limit * factor)}"
    if rule.clear is not None and rule.clear != limit:
        keep = ">" if op == ">" else "<"
        expr = (
            f"({expr}) or ({series} {keep} {_num(rule.clear * factor)}"
            f" and on(device, {instance_label(rule.metric)})"
            f' ALERTS{{alertname="{alert_name(rule.id)}", alertstate="firing"}})'
        )
    return f"({expr}){join}" if join else expr


def _num(value: float) -> str:
    return f"{value:.6g}"


def _state(rule: AlertRule) -> str:
    assert rule.state is not None
    template = STATE_EXPRS.get(rule.state)
    if template is None:
        raise _Untranslatable
    own, join = _device_filter(rule)
    expr = template.format(
        sel=(", " + own) if own else "",
        sel0=own,
        clear_after=_num(rule.clear_after or 900.0),
    )
    return f"({expr}){join}" if join else expr


def prometheus_rules(rules: AlertRules) -> dict[str, Any]:
    alerts: list[dict[str, Any]] = []
    for rule in rules.rules:
        try:
            expr = (_threshold(rule) if rule.metric else _state(rule)).replace("{}", "")
        except _Untranslatable:
            expr = f'govnet_alert_firing{{rule="{rule.id}"}} == 1'
        labels = {"severity": rule.severity.value, "govnet_rule": rule.id}
        if rule.control:
            labels["control"] = rule.control
        entry: dict[str, Any] = {"alert": alert_name(rule.id), "expr": expr}
        if rule.for_:
            entry["for"] = _duration(rule.for_)
        elif rule.state == "device_down":
            pass  # govnet's own down state already waited (monitor run --down-after)
        entry["labels"] = labels
        where = "{{ $labels.device }} {{ $labels.interface }}{{ $labels.component }}"
        entry["annotations"] = {
            "summary": f"{rule.title.en}: {where}",
            "summary_zh": f"{rule.title.zh}：{where}",
            "description": "value {{ $value }} (govnet rule " + rule.id + ")",
        }
        alerts.append(entry)
    return {
        "groups": [
            {"name": "govnet.records", "rules": RECORDING_RULES},
            {"name": "govnet.alerts", "rules": alerts},
        ]
    }


def render(rules: AlertRules) -> str:
    head = (
        "# Generated from govnet's alert rules (govnet/data/playbooks/alerts.yaml) by\n"
        "#   python -m govnet.monitor.promrules > contrib/prometheus/govnet-rules.yml\n"
        "# Check: promtool check rules contrib/prometheus/govnet-rules.yml\n"
    )
    body = yaml.safe_dump(prometheus_rules(rules), sort_keys=False, allow_unicode=True, width=200)
    return head + body


def main(argv: list[str]) -> int:
    try:
        path = Path(argv[0]) if argv else default_rules()
        sys.stdout.write(render(load_rules(path)))
    except GovnetError as exc:
        sys.stderr.write(f"govnet: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
