"""The monitor's stored rows as the CLI reads them (govnet.monitor.query), on the dashboard's
machine-room store: ordering, labels, staleness, the --fail-on decision."""

from __future__ import annotations

from pathlib import Path

import pytest

from govnet.core.vocabulary import Severity
from govnet.errors import GovnetError
from govnet.monitor import query
from govnet.store.db import Store
from tests.unit.dashboard.test_dashboard import NOW, machine_room


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(machine_room(tmp_path / "store.sqlite"))


def test_alerts_newest_first_with_their_state_and_labels(store: Store) -> None:
    alerts = query.list_alerts(store)
    assert [a.id for a in alerts] == [5, 4, 3, 2, 1]
    suppressed, link = alerts[0], alerts[1]
    assert (suppressed.state, link.state) == ("suppressed", "firing")
    assert link.where == "int-agg-east:GigabitEthernet0/0/1"
    cells = link.cells("zh")
    assert (cells["severity"], cells["state"], cells["title"]) == ("高", "告警中", "链路中断")
    assert link.cells("en")["severity"] == "high"
    assert suppressed.to_json()["state"] == "suppressed"
    assert suppressed.to_json()["opened"].endswith("+00:00")  # ISO 8601, UTC


def test_fail_on_ignores_suppressed_alerts(store: Store) -> None:
    alerts = query.list_alerts(store)
    assert query.any_at_least(alerts, Severity.CRITICAL)
    only_suppressed = [a for a in alerts if a.state == "suppressed"]
    assert not query.any_at_least(only_suppressed, Severity.LOW)


def test_alert_history_and_a_missing_alert(store: Store) -> None:
    alert, events = query.alert_history(store, 2)
    assert alert.title("en") == "UPS on battery"
    assert [e.cells()["event"] for e in events] == ["opened"]
    with pytest.raises(GovnetError, match="alert 99: no such alert"):
        query.alert_history(store, 99)


def test_device_states_worst_first_and_their_age(store: Store) -> None:
    states = query.device_status(store, now=NOW)
    assert [s.device for s in states[:2]] == ["ext-acc-town", "int-acc-town"]
    assert [s.state for s in states[:2]] == ["down", "unreachable"]
    assert all(s.age_s == 10.0 and not s.stale for s in states)
    assert states[0].cells("zh", NOW)["state"] == "宕机" and states[0].bad
    assert states[0].cells("en", NOW)["seen"] == "10s ago"
    assert query.device_status(store, {"ups-1"}, NOW)[0].device == "ups-1"
    later = query.device_status(store, now=NOW + 3600)
    last = query.newest(later)
    assert last is not None and last.stale and last.interval == 60.0


def test_latest_values_sorted_for_the_table(store: Store) -> None:
    values = query.latest_values(store, "env-1")
    rows = [v.cells("en", NOW) for v in query.by_metric(values)]
    assert [(r["metric"], r["instance"]) for r in rows][:2] == [
        ("humidity_pct", "Humidity"),
        ("leak", "Water leak"),
    ]
    assert rows[0]["value"] == "45" and rows[0]["age"] == "10s"
    with pytest.raises(GovnetError, match="nosuch: no values stored"):
        query.latest_values(store, "nosuch")
