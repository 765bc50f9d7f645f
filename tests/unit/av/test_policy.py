"""Joins (MAC, then IP, then host name), the newest record winning, and the verdicts: boundary
ages per zone, ages as of the snapshot, stale snapshots, coverage, approval, editions."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from govnet.av.join import current, host_key, join
from govnet.av.parse import CHINA
from govnet.av.policy import AvPolicy, assess
from govnet.core.vocabulary import Status
from govnet.inventory.model import Device
from govnet.store.avrecords import AvRecord

TAKEN = datetime(2025, 6, 30, 9, 0, tzinfo=CHINA)
NOW = TAKEN + timedelta(days=1)
POLICY = AvPolicy.model_validate(
    {
        "approved": [
            {"name": "天擎", "pattern": "天擎|qianxin"},
            {"name": "ClamAV", "pattern": "clamav"},
        ]
    }
)


def terminal(
    name: str,
    zone: str = "internal",
    mac: str | None = None,
    ip: str | None = None,
    kind: str = "pc",
) -> Device:
    return Device(
        name=name,
        host=ip or "",
        platform="terminal",
        role="terminal",
        zone=zone,
        site="town",
        unit="office",
        address=ipaddress.ip_address(ip) if ip else None,
        mac=mac,
        description=kind,
    )


def record(**kw: object) -> AvRecord:
    base: dict[str, object] = {
        "source": "x.csv:2",
        "vendor": "qianxin",
        "product": "奇安信天擎",
        "edition": "network",
        "sig_date": TAKEN.date() - timedelta(days=1),
        "realtime_on": True,
        "last_seen": TAKEN,
        "as_of": TAKEN,
    }
    base.update(kw)
    return AvRecord(**base)  # type: ignore[arg-type]


def judge(endpoint: Device, *records: AvRecord, policy: AvPolicy = POLICY, now: datetime = NOW):  # type: ignore[no-untyped-def]
    joined = join([endpoint], records)
    return assess(endpoint, joined.of(endpoint.name), policy, now)


# ----------------------------------------------------------------------------- joins

A = terminal("pc-a", mac="00:1a:2b:00:00:01", ip="10.0.0.1")
B = terminal("pc-b", mac="00:1a:2b:00:00:02", ip="10.0.0.2")
C = terminal("pc-c", mac="00:1a:2b:00:00:03", ip="10.0.0.3")


def test_join_precedence_mac_then_ip_then_host() -> None:
    records = [
        record(mac="00:1a:2b:00:00:01", ip="10.0.0.2", host="pc-c"),  # MAC says A
        record(mac="00:1a:2b:99:99:99", ip="10.0.0.2", host="pc-c"),  # no such MAC: IP says B
        record(ip="10.9.9.9", host="PC-C.lab.local"),  # only the name: C
        record(mac="00:1a:2b:77:77:77", ip="10.7.7.7", host="stranger"),  # unknown endpoint
    ]
    joined = join([A, B, C], records)
    assert [m.by for m in joined.of("pc-a")] == ["mac"]
    ((b,),) = [joined.of("pc-b")]
    assert b.by == "ip" and "MAC 00:1a:2b:99:99:99 in the record" in b.note
    assert [m.by for m in joined.of("pc-c")] == ["host"]
    assert [r.host for r in joined.unknown] == ["stranger"]
    assert host_key("PC-C.lab.local") == "pc-c"


def test_records_of_known_devices_are_not_unknown() -> None:
    server = Device(
        name="srv-1",
        host="127.0.0.1",
        platform="linux",
        role="server",
        zone="internal",
        site="city",
        mac="00:16:3e:00:00:01",
    )
    joined = join([A], [record(mac="00:16:3e:00:00:01")], known=[server])
    assert joined.unknown == [] and joined.matches == {}


def test_newest_record_wins_and_older_ones_fill_in() -> None:
    old = record(
        source="old.csv:2",
        mac=A.mac,
        sig_date=date(2025, 5, 1),
        client_version="1.0",
        last_seen=TAKEN - timedelta(days=20),
        as_of=TAKEN - timedelta(days=20),
    )
    new = record(source="new.csv:2", mac=A.mac, sig_date=date(2025, 6, 28), client_version=None)
    (cur,) = current(join([A], [old, new]).of("pc-a"))
    assert cur.record.sig_date == date(2025, 6, 28) and cur.record.client_version == "1.0"
    assert [r.source for r in cur.sources] == ["new.csv:2", "old.csv:2"]
    # another product seen earlier is gone (uninstalled, or moved to the newer console)
    other = record(vendor="huorong", product="火绒", mac=A.mac, last_seen=TAKEN - timedelta(days=3))
    assert [c.record.vendor for c in current(join([A], [other, new]).of("pc-a"))] == ["qianxin"]


def test_products_seen_at_the_same_moment_all_count() -> None:
    live = TAKEN
    snmp = record(
        source="snmp:srv",
        vendor="clamav",
        product="clamav-1.0.7",
        sig_date=None,
        running=True,
        realtime_on=None,
        mac=A.mac,
    )
    ssh = record(
        source="ssh:srv",
        vendor="clamav",
        product="ClamAV 1.0.7",
        sig_date=date(2025, 6, 29),
        running=True,
        realtime_on=None,
        mac=A.mac,
    )
    tq = record(source="snmp:srv", mac=A.mac, sig_date=None, last_seen=live)
    got = current(join([A], [snmp, ssh, tq]).of("pc-a"))
    assert {c.record.vendor for c in got} == {"clamav", "qianxin"}
    clam = next(c for c in got if c.record.vendor == "clamav")
    assert clam.record.sig_date == date(2025, 6, 29) and clam.sig_record is not None
    assert clam.sig_record.source == "ssh:srv"


# ----------------------------------------------------------------------------- ages


@pytest.mark.parametrize(
    ("zone", "limit"),
    [("internet", 7), ("external", 7), ("internal", 30), ("classified", 30), ("lab", 30)],
)
def test_boundary_ages_per_zone(zone: str, limit: int) -> None:
    endpoint = terminal("pc-a", zone, mac=A.mac)
    at_limit = judge(endpoint, record(mac=A.mac, sig_date=TAKEN.date() - timedelta(days=limit)))
    assert at_limit.verdicts["signatures-fresh"].status is Status.PASS
    assert at_limit.age_days == limit and at_limit.limit == limit
    over = judge(endpoint, record(mac=A.mac, sig_date=TAKEN.date() - timedelta(days=limit + 1)))
    fresh = over.verdicts["signatures-fresh"]
    assert fresh.status is Status.FAIL and over.state == "stale"
    assert (
        fresh.message.startswith(f"signatures {limit + 1} days old")
        and f"{zone} allows {limit}" in fresh.message
    )


def test_age_is_counted_as_of_the_snapshot_not_now() -> None:
    endpoint = terminal("pc-a", "external", mac=A.mac)
    rec = record(mac=A.mac, sig_date=TAKEN.date() - timedelta(days=5))
    assert (
        judge(endpoint, rec, now=TAKEN + timedelta(days=5)).verdicts["signatures-fresh"].status
        is Status.PASS
    )
    # the console's local day counts: 23:30 UTC on the 29th is the 30th in Beijing
    late = replace(rec, as_of=datetime(2025, 6, 29, 23, 30, tzinfo=UTC), last_seen=None)
    assert judge(endpoint, late).age_days == 5


def test_a_snapshot_older_than_the_limit_is_named_but_judged_as_of_its_date() -> None:
    endpoint = terminal("pc-a", "external", mac=A.mac)
    a = judge(endpoint, record(mac=A.mac), now=TAKEN + timedelta(days=8))
    v = a.verdicts["signatures-fresh"]
    assert v.status is Status.PASS and a.data_age_days == 8
    assert "the data is 8 day(s) old, older than the 7-day limit itself" in v.message
    assert "import a newer export" in v.evidence[0].note


# ----------------------------------------------------------------------------- coverage


def test_not_covered_fails_installed_only() -> None:
    a = judge(terminal("pc-a", mac=A.mac, ip="10.0.0.1"))
    assert a.state == "not-covered"
    assert a.verdicts["installed"].status is Status.FAIL
    assert (
        "no antivirus record matches pc-a (00:1a:2b:00:00:01, 10.0.0.1)"
        in a.verdicts["installed"].message
    )
    assert {a.verdicts[t].status for t in ("signatures-fresh", "centrally-managed")} == {
        Status.SKIP
    }


def test_no_data_and_live_errors_are_errors_not_failures() -> None:
    endpoint = terminal("pc-a", mac=A.mac)
    a = assess(endpoint, [], POLICY, NOW, no_data="no snapshot")
    assert a.state == "no-data" and {v.status for v in a.verdicts.values()} == {Status.ERROR}
    b = assess(endpoint, [], POLICY, NOW, errors=["snmp: no response"])
    assert b.state == "unreadable" and b.verdicts["installed"].message == "snmp: no response"
    # with a record from elsewhere (a snapshot) the verdict stands, and says what was not read
    c = assess(
        endpoint,
        join([endpoint], [record(mac=A.mac)]).of("pc-a"),
        POLICY,
        NOW,
        errors=["snmp: no response"],
    )
    assert c.state == "ok" and c.verdicts["installed"].message.endswith(
        "(not read now: snmp: no response)"
    )


def test_printers_are_exempt() -> None:
    a = judge(terminal("prn-1", mac=A.mac, kind="printer"))
    assert a.state == "exempt" and {v.status for v in a.verdicts.values()} == {Status.SKIP}


@pytest.mark.parametrize(
    ("change", "state", "message"),
    [
        ({"vendor": "x", "product": "某杀毒"}, "unapproved", "not an approved product: 某杀毒"),
        ({"running": False}, "not-running", "is installed but not running"),
        ({"realtime_on": False}, "not-running", "real-time protection is off"),
        ({"edition": "standalone"}, "standalone", None),
        ({"sig_date": None}, "unknown-age", None),
    ],
)
def test_installed_but_wrong(change: dict[str, object], state: str, message: str | None) -> None:
    a = judge(A, record(mac=A.mac, **change))
    assert a.state == state
    if message:
        assert message in a.verdicts["installed"].message


def test_realtime_not_required_and_unknown_realtime() -> None:
    lax = POLICY.model_copy(update={"realtime_required": False})
    assert judge(A, record(mac=A.mac, realtime_on=False), policy=lax).state == "ok"
    unknown = judge(A, record(mac=A.mac, realtime_on=None))
    assert unknown.verdicts["installed"].status is Status.PASS
    assert "does not report real-time protection" in unknown.verdicts["installed"].message


def test_editions() -> None:
    standalone = judge(A, record(mac=A.mac, edition="standalone"))
    v = standalone.verdicts["centrally-managed"]
    assert v.status is Status.FAIL and "standalone edition" in v.message
    unknown = judge(A, record(mac=A.mac, edition=None))
    assert unknown.verdicts["centrally-managed"].status is Status.ERROR
    lax = POLICY.model_copy(update={"network_edition_required": False})
    assert judge(A, record(mac=A.mac, edition="standalone"), policy=lax).state == "ok"


def test_every_approved_product_must_be_fresh() -> None:
    tq = record(mac=A.mac)
    clam = record(vendor="clamav", product="ClamAV 1.0.7", mac=A.mac, sig_date=date(2024, 11, 21))
    a = judge(A, tq, clam)
    assert (
        a.verdicts["signatures-fresh"].status is Status.FAIL
        and "2024-11-21" in a.verdicts["signatures-fresh"].message
    )
    assert a.verdicts["installed"].status is Status.PASS
