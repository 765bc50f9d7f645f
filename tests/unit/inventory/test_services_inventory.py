"""Inventory ``services:`` and ``maintenance:`` (issue 8): models, cross-references, windows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from govnet.errors import InventoryError
from govnet.inventory import load_inventory
from tests.conftest import MINIMAL

Writer = Callable[..., Path]

SERVICES = """
services:
  portal:
    label: {zh: 门户网站, en: Government portal}
    zone: external
    unit: office
    host: sw2
    interval: 30s
    probes:
      - {kind: http, url: "https://127.0.0.1:8443/", expect_text: 欢迎, timeout: 5s}
      - {kind: tcp, host: 127.0.0.1, port: 8443}
      - {kind: tcp, host: 127.0.0.1, port: 8444}
      - {kind: dns, server: 127.0.0.1, name: portal.gov.test, expect: 127.0.0.1}
      - {kind: icmp, address: 127.0.0.1}
maintenance:
  - name: patch-tuesday
    services: [portal]
    weekly: {days: [tue], at: "02:00", duration: 2h}
  - {devices: [sw1], start: "2027-01-01T00:00:00+08:00", end: "2027-01-01T04:00:00+08:00"}
"""


def errors_of(path: Path) -> list[str]:
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    return [str(d) for d in info.value.diagnostics if d.severity == "error"]


def test_services_and_windows_load(write_inventory: Writer) -> None:
    inv = load_inventory(write_inventory(MINIMAL + SERVICES))
    portal = inv.services["portal"]
    assert (portal.zone, portal.unit, portal.site, portal.host) == (
        "external",
        "office",
        "town",
        "sw2",
    )
    assert portal.interval == 30.0
    assert [p.name for p in portal.probes] == ["http", "tcp", "tcp-2", "dns", "icmp"]
    assert portal.label.get("zh") == "门户网站"
    assert [w.name for w in inv.maintenance] == ["patch-tuesday", "maintenance[1]"]
    assert inv.maintenance[0].covers("service", "portal", "office", "town")
    assert inv.maintenance[1].covers("device", "sw1", None, None)
    assert not inv.maintenance[1].covers("service", "sw1", None, None)


def test_unknown_references_are_located_errors(write_inventory: Writer) -> None:
    text = (MINIMAL + SERVICES).replace(
        "zone: external\n    unit: office\n    host: sw2",
        "zone: extrnal\n    unit: ofice\n    host: sw9",
    )
    text = text.replace("devices: [sw1]", "devices: [sw7]")
    errs = errors_of(write_inventory(text))
    assert any(
        "services.portal.zone: unknown zone 'extrnal'" in e and "external" in e for e in errs
    ), errs
    assert any("services.portal.unit: unknown unit 'ofice'" in e for e in errs), errs
    assert any("services.portal.host: unknown device 'sw9'" in e for e in errs), errs
    assert any("maintenance[1].devices[0]: unknown device 'sw7'" in e for e in errs), errs
    assert all(e.startswith(str(Path(e.split(":")[0]))) and ":" in e for e in errs)


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ("kind: tcp, host: 127.0.0.1, port: 8443", "port"),
        ('url: "https://127.0.0.1:8443/"', "must start with http"),
        ("interval: 30s", "bad duration"),
        ("weekly: {days: [tue]", "weekly"),
        (
            'start: "2027-01-01T00:00:00+08:00", end: "2027-01-01T04:00:00+08:00"',
            "needs start and end",
        ),
    ],
)
def test_bad_values(write_inventory: Writer, replace: str, message: str) -> None:
    broken = {
        "kind: tcp, host: 127.0.0.1, port: 8443": "kind: tcp, host: 127.0.0.1, port: 70000",
        'url: "https://127.0.0.1:8443/"': 'url: "ftp://127.0.0.1/"',
        "interval: 30s": "interval: soon",
        "weekly: {days: [tue]": "weekly: {days: [tuesday]",
        'start: "2027-01-01T00:00:00+08:00", end: "2027-01-01T04:00:00+08:00"': 'start: "2027-01-01T00:00:00+08:00"',
    }[replace]
    errs = errors_of(write_inventory((MINIMAL + SERVICES).replace(replace, broken)))
    assert any(message in e for e in errs), errs
    assert all(":" in e.split(" ")[0] for e in errs)


def test_unknown_probe_kind_and_key(write_inventory: Writer) -> None:
    text = (MINIMAL + SERVICES).replace("kind: icmp, address", "kind: smtp, address")
    text = text.replace("interval: 30s", "interval: 30s\n    colour: red")
    errs = errors_of(write_inventory(text))
    assert any("services.portal.probes[4]" in e and "smtp" in e for e in errs), errs
    assert any("services.portal.colour: unknown key" in e for e in errs), errs


def test_weekly_window_intervals_in_its_time_zone(write_inventory: Writer) -> None:
    inv = load_inventory(write_inventory(MINIMAL + SERVICES))
    weekly, absolute = inv.maintenance
    # 2027-01-04 is a Monday; Tuesday 02:00 Asia/Shanghai = Monday 18:00 UTC
    start = datetime(2027, 1, 4, tzinfo=UTC).timestamp()
    spans = weekly.intervals(start, start + 14 * 86400)
    assert [datetime.fromtimestamp(a, UTC).isoformat() for a, _ in spans] == [
        "2027-01-04T18:00:00+00:00",
        "2027-01-11T18:00:00+00:00",
    ]
    assert all(b - a == 7200 for a, b in spans)
    # clipped to the asked range
    mid = datetime(2027, 1, 4, 19, tzinfo=UTC).timestamp()
    assert weekly.intervals(mid, mid + 600) == [(mid, mid + 600)]
    a, b = absolute.intervals(0, 4e9)[0]
    assert b - a == 4 * 3600
