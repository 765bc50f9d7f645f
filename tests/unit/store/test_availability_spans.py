"""Availability spans written from batches of observations (one statement for the spans a
batch extends), on SQLite and PostgreSQL."""

from __future__ import annotations

from govnet.store.availability import Observation, ServiceBatch, ServiceStore, Span
from govnet.store.db import Store


def _spans(store: Store) -> list[Span]:
    return ServiceStore(store).spans(0.0, 10_000.0)


def test_a_batch_extends_opens_and_ends_spans_as_observation_by_observation(
    store_url: str,
) -> None:
    with Store.open(store_url) as store:
        sstore = ServiceStore(store)
        sstore.write(ServiceBatch(observations=[Observation("device", "sw-1", "up", 100.0, 90)]))
        obs = [
            Observation("device", "sw-1", "up", 160.0, 90),  # extends the stored span
            Observation("device", "sw-2", "up", 160.0, 90),  # a new device: a new span
            Observation("device", "sw-1", "down", 220.0, 90),  # ends it at 220, opens one
            Observation("device", "sw-1", "down", 280.0, 90),  # extends the new one
            Observation("device", "sw-2", "up", 220.0, 90),
            Observation("device", "sw-2", "up", 400.0, 90),  # 180 s later: unknown between
        ]
        sstore.write(ServiceBatch(observations=obs))
        later = [
            Observation("device", "sw-1", "up", 250.0, 90),  # older than what is stored
            Observation("device", "sw-1", "down", 330.0, 90),  # the ids learned at insert
            Observation("device", "sw-2", "up", 450.0, 90),
        ]
        sstore.write(ServiceBatch(observations=later))
        got = _spans(store)  # a fresh reader: what is stored, not what was remembered
    assert got == [
        Span("device", "sw-1", "up", 100.0, 220.0, 90),
        Span("device", "sw-1", "down", 220.0, 330.0, 90),
        Span("device", "sw-2", "up", 160.0, 220.0, 90),
        Span("device", "sw-2", "up", 400.0, 450.0, 90),
    ]
