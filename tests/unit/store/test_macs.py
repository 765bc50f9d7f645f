"""MAC sightings in the store, on SQLite and PostgreSQL: one row per device/port/MAC/VLAN
however many collections saw it, last_seen only ever moving forward, pruned by age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from govnet.store import macs
from govnet.store.db import Store

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
A = macs.Sighting("GigabitEthernet0/0/1", "00:1a:2b:00:00:01", 10)
B = macs.Sighting("GigabitEthernet0/0/2", "00:1a:2b:00:00:02", None)


@pytest.fixture
def store(store_url: str) -> Store:
    return Store.open(store_url)


def rows(store: Store) -> list[tuple[str, str, str, int, datetime, datetime]]:
    c = macs.mac_sightings.c
    query = select(c.device, c.port, c.mac, c.vlan, c.first_seen, c.last_seen).order_by(c.id)
    with store.begin() as conn:
        return [
            (d, p, m, v, f.replace(tzinfo=UTC), last.replace(tzinfo=UTC))
            for d, p, m, v, f, last in conn.execute(query).all()
        ]


def test_repeated_collections_keep_one_row_per_sighting(store: Store) -> None:
    for day in range(5):
        assert macs.record(store, "sw1", [A, B, A], T0 + timedelta(days=day), "ssh") == 2
    assert rows(store) == [
        ("sw1", A.port, A.mac, 10, T0, T0 + timedelta(days=4)),
        ("sw1", B.port, B.mac, 0, T0, T0 + timedelta(days=4)),  # VLAN not known: 0
    ]
    assert macs.collections(store, "sw1") == [T0 + timedelta(days=d) for d in range(5)]
    # the same MAC in another VLAN, or on another device, is another row
    macs.record(store, "sw1", [macs.Sighting(A.port, A.mac, 20)], T0, "snmp")
    macs.record(store, "sw2", [A], T0, "snmp")
    assert len(rows(store)) == 4


def test_an_older_collection_never_moves_last_seen_back(store: Store) -> None:
    macs.record(store, "sw1", [A], T0 + timedelta(days=3), "ssh")
    macs.record(store, "sw1", [A], T0, "ssh")  # a late, older batch (an audit finishing late)
    [row] = rows(store)
    assert row[5] == T0 + timedelta(days=3)


def test_last_seen_per_port(store: Store) -> None:
    macs.record(store, "sw1", [A, B], T0, "ssh")
    other = macs.Sighting(A.port, "00:1a:2b:00:00:09", 10)
    macs.record(store, "sw1", [other], T0 + timedelta(days=2), "ssh")
    assert macs.last_seen_by_port(store, "sw1") == {
        A.port: T0 + timedelta(days=2),
        B.port: T0,
    }
    assert macs.last_seen_by_port(store, "sw9") == {}


def test_prune_drops_what_is_older_than_the_retention(store: Store) -> None:
    macs.record(store, "sw1", [A, B], T0, "ssh")
    macs.record(store, "sw1", [A], T0 + timedelta(days=200), "ssh")
    assert macs.prune(store, T0 + timedelta(days=20)) == (1, 1)  # B and the first collection
    assert [(r[1], r[5]) for r in rows(store)] == [(A.port, T0 + timedelta(days=200))]
    assert macs.collections(store, "sw1") == [T0 + timedelta(days=200)]
    with store.begin() as conn:
        assert conn.execute(select(func.count()).select_from(macs.mac_watches)).scalar() == 1
