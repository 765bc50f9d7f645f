"""/metrics and /healthz by the conventions Prometheus's own tools check, and the shipped
Prometheus rules and Grafana dashboard against what govnet exports (contrib/)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest

from govnet.monitor.exporter import (
    ExporterView,
    GovnetCollector,
    Health,
    MetricsServer,
    prom_name,
    serve_metrics,
)
from govnet.monitor.metrics import METRICS
from govnet.monitor.model import DeviceState, DeviceStatus
from govnet.monitor.poller import PollerStats
from govnet.monitor.promrules import render
from govnet.monitor.rules import load_rules

ROOT = Path(__file__).resolve().parents[3]
PROMETHEUS = ROOT / "contrib" / "prometheus"
GRAFANA = ROOT / "contrib" / "grafana" / "govnet-dashboard.json"
SHIPPED_RULES = ROOT / "govnet" / "data" / "playbooks" / "alerts.yaml"


HEALTHY = Health(True, "ok: 3 devices polled on time")


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool missing: .ci/run installs Debian's prometheus")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return path


def view(health: Health = HEALTHY) -> ExporterView:
    stats = PollerStats(polls=10, failures=2, timeouts=1, varbinds=400)
    for lag in (0.001, 0.02, 0.3, 7.0):
        stats.lag_histogram.observe(lag)
        stats.duration_histogram.observe(lag / 2)
    statuses = {
        "core-1": DeviceStatus("core-1", "internal", "city", "core", "A1", DeviceState.UP),
        "sw-2": DeviceStatus("sw-2", "external", "city", "access", "", DeviceState.DOWN),
        "new-3": DeviceStatus("new-3", "internal", "city", "access", "", DeviceState.UNKNOWN),
    }
    latest: dict[tuple[str, str, str], float | None] = {
        ("core-1", "rtt_ms", ""): 12.5,
        ("core-1", "uptime_s", ""): 3600.0,
        ("core-1", "if_in_bps", "GE1/0/1"): 8000.0,
        ("core-1", "if_util_pct", "GE1/0/1"): 50.0,
        ("core-1", "if_oper", "GE1/0/1"): 1.0,
        ("core-1", "if_alias", "GE1/0/1"): None,  # text only
        ("ups-1", "ups_minutes_left", ""): 18.0,
        ("env-1", "temperature_c", "inlet"): 24.5,
        ("core-1", "not_a_metric", ""): 1.0,
    }
    return ExporterView(
        statuses=lambda: statuses,
        latest=lambda: latest,
        stats=lambda: stats,
        alerts=lambda: {"critical": 1},
        writer=lambda: {"queue_depth": 0.0, "write_errors": 2.0},
        health=lambda: health,
        watched=lambda d, i: (d, i) == ("core-1", "GE1/0/1"),
        firing=lambda: [("link-down", "core-1", "GE1/0/1", "high")],
    )


def exposition(v: ExporterView) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GovnetCollector(v))
    return generate_latest(registry).decode()


def test_metrics_in_base_units_with_device_labels_and_unknown_absent() -> None:
    text = exposition(view())
    assert 'govnet_rtt_seconds{device="core-1"} 0.0125' in text
    assert 'govnet_uptime_seconds{device="core-1"} 3600.0' in text
    assert 'govnet_ups_runtime_seconds{device="ups-1"} 1080.0' in text
    assert 'govnet_if_in_bytes_per_second{device="core-1",interface="GE1/0/1"} 1000.0' in text
    assert 'govnet_if_util_ratio{device="core-1",interface="GE1/0/1"} 0.5' in text
    assert 'govnet_temperature_celsius{component="inlet",device="env-1"} 24.5' in text
    assert 'govnet_if_watched{device="core-1",interface="GE1/0/1"} 1.0' in text
    assert (
        'govnet_alert_firing{device="core-1",object="GE1/0/1",rule="link-down",severity="high"} 1.0'
    ) in text
    # up 1, down 0, unknown: no sample at all (not 0), but its own state value
    assert 'govnet_device_up{device="core-1",role="core",zone="internal"} 1.0' in text
    assert 'govnet_device_up{device="sw-2",role="access",zone="external"} 0.0' in text
    assert 'govnet_device_up{device="new-3"' not in text
    assert 'govnet_device_state{device="new-3",state="unknown"} 1.0' in text
    assert 'govnet_device_state{device="new-3",state="up"} 0.0' in text
    # counters end in _total, the lag is a histogram
    assert "govnet_polls_total 10.0" in text and "govnet_store_write_errors_total 2.0" in text
    assert 'govnet_poll_lag_seconds_bucket{le="0.025"} 2.0' in text
    assert 'govnet_poll_lag_seconds_bucket{le="+Inf"} 4.0' in text
    assert "govnet_poll_lag_seconds_count 4.0" in text
    assert 'instance="' not in text and "quantile" not in text and "not_a_metric" not in text


def test_promtool_accepts_the_exposition() -> None:
    lint = subprocess.run(
        [promtool(), "check", "metrics"],
        input=exposition(view()),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.fixture
def served() -> Iterator[tuple[MetricsServer, list[Health]]]:
    health = [Health(True, "ok: 3 devices polled on time")]
    v = view()
    v.health = lambda: health[0]
    server = serve_metrics(v, "127.0.0.1:0")
    yield server, health
    server.stop()


def fetch(server: MetricsServer, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_metrics_only_on_metrics_and_healthz_says_whether_the_poller_keeps_up(
    served: tuple[MetricsServer, list[Health]],
) -> None:
    server, health = served
    status, body = fetch(server, "/metrics")
    assert status == 200 and "govnet_polls_total" in body
    assert fetch(server, "/healthz") == (200, "ok: 3 devices polled on time\n")
    health[0] = Health(False, "behind: 2 of 3 devices more than one poll interval late")
    assert fetch(server, "/healthz") == (
        503,
        "behind: 2 of 3 devices more than one poll interval late\n",
    )
    for path in ("/", "/metricsx", "/favicon.ico"):
        status, body = fetch(server, path)
        assert status == 404 and "govnet_" not in body


# ------------------------------------------------------------------------------ contrib


def exported_names() -> set[str]:
    """Every family name govnet's /metrics can carry (samples' names included)."""
    names = {f"govnet_{prom_name(m)[0]}" for m in METRICS}
    text = exposition(view())
    names |= {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    names |= set(re.findall(r"^(govnet_\w+?)[{ ]", text, re.M))
    return names


def test_shipped_prometheus_rules_are_generated_from_the_alert_rules_and_pass_promtool() -> None:
    shipped = (PROMETHEUS / "govnet-rules.yml").read_text(encoding="utf-8")
    assert shipped == render(load_rules(SHIPPED_RULES)), (
        "contrib/prometheus/govnet-rules.yml is stale: "
        "python -m govnet.monitor.promrules > contrib/prometheus/govnet-rules.yml"
    )
    groups = yaml.safe_load(shipped)["groups"]
    alerts = [r for g in groups for r in g["rules"] if "alert" in r]
    assert {a["labels"]["govnet_rule"] for a in alerts} == {
        r.id for r in load_rules(SHIPPED_RULES).rules
    }
    known = exported_names() | {"ALERTS"}
    for rule in (r for g in groups for r in g["rules"]):
        for name in re.findall(r"\b(govnet_\w+)", rule["expr"]):
            assert name in known or name.removesuffix("_bucket") in known, (rule, name)
    check = subprocess.run(
        [promtool(), "check", "rules", str(PROMETHEUS / "govnet-rules.yml")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    check = subprocess.run(
        [promtool(), "check", "config", str(PROMETHEUS / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_hysteresis_and_scaling_of_a_threshold_rule() -> None:
    rules = yaml.safe_load(render(load_rules(SHIPPED_RULES)))["groups"][1]["rules"]
    by_rule = {r["labels"]["govnet_rule"]: r for r in rules}
    saturated = by_rule["link-saturated"]
    assert saturated["expr"] == (
        "(govnet_if_util_ratio > 0.9) or (govnet_if_util_ratio > 0.8 and on(device, interface)"
        ' ALERTS{alertname="GovnetLinkSaturated", alertstate="firing"})'
    )
    assert saturated["for"] == "5m" and saturated["labels"]["severity"] == "medium"
    assert by_rule["ups-runtime-low"]["expr"].startswith("(govnet_ups_runtime_seconds < 600)")
    assert 'govnet_device_info{role=~"env"}' in by_rule["inlet-temperature-high"]["expr"]


def test_grafana_dashboard_structure() -> None:
    board = json.loads(GRAFANA.read_text(encoding="utf-8"))
    assert board["uid"] and board["title"] and isinstance(board["schemaVersion"], int)
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert {"zone", "device"} <= set(variables)
    panels = board["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    titles = " ".join(p["title"] for p in panels if p["type"] == "row")
    for section in ("Machine room", "Zones", "Device health", "Links"):
        assert section in titles
    known = exported_names()
    for p in panels:
        grid = p["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, p["title"]
        if p["type"] == "row":
            continue
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert t["datasource"]["uid"] == "${datasource}"
            names = re.findall(r"\b(govnet_\w+)", t["expr"])
            assert names, t["expr"]
            for name in names:
                assert name in known or name.removesuffix("_bucket") in known, (p["title"], name)
    for v in variables.values():
        if v["type"] == "query":
            assert v["datasource"]["uid"] == "${datasource}"
            assert re.findall(r"govnet_\w+", v["definition"])[0] in known


def test_grafana_queries_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses every panel query (wrapped as recording rules; $zone/$device are
    inside label matchers' strings, so the expressions are PromQL as they stand)."""
    board = json.loads(GRAFANA.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    rules = {
        "groups": [
            {
                "name": "grafana",
                "rules": [
                    {"record": f"govnet:grafana_panel_{i}", "expr": e} for i, e in enumerate(exprs)
                ],
            }
        ]
    }
    path = tmp_path / "grafana-exprs.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    check = subprocess.run(
        [promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in check.stdout


def test_a_rule_metrics_cannot_express_uses_govnets_own_verdict(tmp_path: Path) -> None:
    rules = tmp_path / "alerts.yaml"
    rules.write_text(
        "rules:\n"
        "  - id: huawei-cpu-high\n"
        "    title: {en: CPU high, zh: CPU高}\n"
        "    severity: medium\n"
        "    applies_to: {platform: [huawei]}\n"
        "    metric: cpu_pct\n"
        "    above: 90\n",
        encoding="utf-8",
    )
    (alert,) = yaml.safe_load(render(load_rules(rules)))["groups"][1]["rules"]
    assert alert["expr"] == 'govnet_alert_firing{rule="huawei-cpu-high"} == 1'
    assert alert["alert"] == "GovnetHuaweiCpuHigh"
