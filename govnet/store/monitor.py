"""The monitor's tables: series and samples with rollups, latest values, device states, alerts.

Times are UNIX seconds (float, UTC). Layout:

``monitor_series``        one row per (device, metric, instance); samples refer to its id
``monitor_samples``       raw values, kept ``retention.raw`` (48 h by default)
``monitor_rollups``       count/sum/min/max per series per 5-minute (``step`` 300) and hourly
                          (3600) bucket, kept 30 days and 1 year by default
``monitor_latest``        the newest value (and text: names, aliases) of every metric, for the
                          dashboard, ``/metrics`` and alert suppression
``monitor_ranked``        the latest values of the metrics read as "the N highest" (link
                          utilisation), indexed by value; ``monitor_latest`` is not
``monitor_devices``       each device's state as the poller sees it
``monitor_alerts``        one row per problem occurrence; at most one ``firing`` row per key
``monitor_alert_events``  alert history: opened, notified, suppressed, acked, resolved, …
``monitor_meta``          rollup watermarks and the running daemon's heartbeat

Every batch of poll results is one transaction, so a ``kill -9`` loses at most the batch in
flight and never a committed sample (SQLite WAL; PostgreSQL by ``--db URL``).
"""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from govnet import i18n
from govnet.errors import GovnetError
from govnet.locks import exclusive
from govnet.store.db import Store, metadata

series = Table(
    "monitor_series",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device", String(200), nullable=False),
    Column("metric", String(64), nullable=False),
    Column("instance", String(200), nullable=False, default=""),
    UniqueConstraint("device", "metric", "instance", name="uq_monitor_series"),
)

samples = Table(
    "monitor_samples",
    metadata,
    Column("series_id", Integer, primary_key=True),
    Column("ts", Float, primary_key=True),
    Column("value", Float, nullable=False),
    Index("ix_monitor_samples_ts", "ts"),
    sqlite_with_rowid=False,
)

rollups = Table(
    "monitor_rollups",
    metadata,
    Column("series_id", Integer, primary_key=True),
    Column("step", Integer, primary_key=True),  # 300 or 3600
    Column("ts", Float, primary_key=True),  # bucket start
    Column("n", Integer, nullable=False),
    Column("sum", Float, nullable=False),
    Column("min", Float, nullable=False),
    Column("max", Float, nullable=False),
    Index("ix_monitor_rollups_step_ts", "step", "ts"),
    sqlite_with_rowid=False,
)

latest = Table(
    "monitor_latest",
    metadata,
    Column("device", String(200), primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("instance", String(200), primary_key=True),
    Column("ts", Float, nullable=False),
    Column("value", Float),
    Column("text", Text, nullable=False, default=""),
    # no index on the value: a poll rewrites most of a switch's latest values, and an index
    # on a changing column makes each of those an index update (no HOT update in
    # PostgreSQL); "the busiest" lists read the small monitor_ranked table instead
)

RANKED = frozenset({"if_util_pct"})
"""The latest values read as "the N highest" (the dashboard's busiest links)."""

ranked = Table(
    "monitor_ranked",
    metadata,
    Column("device", String(200), primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("instance", String(200), primary_key=True),
    Column("ts", Float, nullable=False),
    Column("value", Float),
    Index("ix_monitor_ranked_metric_value", "metric", "value"),
)
# dropped when a store is opened (Store.open): stores made before monitor_ranked had it
metadata.info.setdefault("retired_indexes", []).append("ix_monitor_latest_metric_value")

devices = Table(
    "monitor_devices",
    metadata,
    Column("device", String(200), primary_key=True),
    Column("zone", String(64), nullable=False, default=""),
    Column("site", String(64), nullable=False, default=""),
    Column("role", String(32), nullable=False, default=""),
    Column("rack", String(64), nullable=False, default=""),
    Column("state", String(16), nullable=False),
    Column("since", Float, nullable=False, default=0.0),
    Column("last_poll", Float, nullable=False, default=0.0),
    Column("last_ok", Float, nullable=False, default=0.0),
    Column("failures", Integer, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
    Column("error_kind", String(16), nullable=False, default=""),
    Column("rtt_ms", Float),
    Column("uptime_s", Float),
    Column("next_poll", Float, nullable=False, default=0.0),
    Column("sys_name", String(200), nullable=False, default=""),
    Column("sys_descr", Text, nullable=False, default=""),
    Column("updated", Float, nullable=False, default=0.0),
)

alerts = Table(
    "monitor_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(500), nullable=False),  # rule|device|instance
    Column("rule", String(128), nullable=False),
    Column("device", String(200), nullable=False),
    Column("instance", String(200), nullable=False, default=""),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # firing | resolved
    Column("opened", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("resolved", Float),
    Column("value", Float),
    Column("message", Text, nullable=False, default=""),
    Column("title_en", Text, nullable=False, default=""),
    Column("title_zh", Text, nullable=False, default=""),
    Column("control", String(64), nullable=False, default=""),
    Column("suppressed", Boolean, nullable=False, default=False),
    Column("suppressed_by", Text, nullable=False, default=""),
    Column("flapping", Boolean, nullable=False, default=False),
    Column("latched", Boolean, nullable=False, default=False),
    Column("notified", Boolean, nullable=False, default=False),
    Column("acked", Boolean, nullable=False, default=False),
    Column("acked_by", String(100), nullable=False, default=""),
    Column("acked_at", Float),
    Column("ack_comment", Text, nullable=False, default=""),
    Index(
        "uq_monitor_alerts_firing",
        "key",
        unique=True,
        sqlite_where=text("status = 'firing'"),
        postgresql_where=text("status = 'firing'"),
    ),
    Index("ix_monitor_alerts_status_opened", "status", "opened"),
)

alert_events = Table(
    "monitor_alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False),
    Column("ts", Float, nullable=False),
    Column("event", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_monitor_alert_events_alert", "alert_id", "ts"),
)

meta = Table(
    "monitor_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

STEPS = (300, 3600)
# the one-daemon lock on PostgreSQL ("govnet"); sharded pollers hold it shared (store/cluster.py)
DAEMON_LOCK_KEY = 0x676F766E6574
ROLLUP_LAG = 120.0  # seconds after a bucket ends before it is rolled up (late polls)


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT (for ON CONFLICT); plain Core insert elsewhere."""
    name = conn.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    return None


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, replacing those whose primary key exists."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    stmt = _insert(conn, table)
    if stmt is None:  # other databases: delete then insert, in the caller's transaction
        for row in rows:
            conn.execute(delete(table).where(and_(*(table.c[k] == row[k] for k in keys))))
        conn.execute(insert(table), list(rows))
        return
    others = [c.name for c in table.columns if c.name not in keys]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={c: stmt.excluded[c] for c in others}
    )
    conn.execute(stmt, list(rows))


def insert_new(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, skipping those whose primary key exists (a replayed batch)."""
    if not rows:
        return
    stmt = _insert(conn, table)
    if stmt is None:
        conn.execute(insert(table), list(rows))
        return
    conn.execute(stmt.on_conflict_do_nothing(), list(rows))


_KnownSeries = tuple[tuple[str, ...], "array[int]"]
_sample_device = itemgetter(0)
_sample_key = itemgetter(1, 2)
_sample_ts = itemgetter(3)
_sample_value = itemgetter(4)

LatestRow = tuple[str, str, str, float, float | None, str]
"""A latest value: device, metric, instance, ts, value, text (``monitor_latest``'s columns)."""
LATEST_COLUMNS = ("device", "metric", "instance", "ts", "value", "text")


@dataclass
class Batch:
    """What one transaction writes: samples, latest values, device states. Samples and latest
    values are plain tuples (a poll of a 50-port switch makes hundreds: no dict per row)."""

    samples: list[tuple[str, str, str, float, float]]  # device, metric, instance, ts, value
    latest: list[LatestRow]
    devices: list[dict[str, Any]]

    @classmethod
    def empty(cls) -> Batch:
        return cls([], [], [])

    def __bool__(self) -> bool:
        return bool(self.samples or self.latest or self.devices)


class MonitorStore:
    """Typed access to the monitor's tables on a :class:`~govnet.store.db.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # per device: its samples' (metric, instance, metric, …) in poll order and their
        # series ids (_sample_rows)
        self._known: dict[str, _KnownSeries] = {}
        self._sql: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
        self._pg_sql: dict[str, _PgBulk] = {}

    @property
    def dialect(self) -> str:
        return self.store.engine.dialect.name

    # -- writing -------------------------------------------------------------------

    def _series_ids(
        self, conn: Connection, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], int]:
        """The ids of these series, created where missing (one query per 400 devices)."""
        wanted = set(keys)
        out: dict[tuple[str, str, str], int] = {}
        if not wanted:
            return out
        by_device = sorted({d for d, _, _ in wanted})
        for attempt in range(2):  # look up; create what is missing; look up again
            for chunk in _chunks(by_device, 400):
                rows = conn.execute(
                    select(series.c.id, series.c.device, series.c.metric, series.c.instance).where(
                        series.c.device.in_(chunk)
                    )
                )
                for sid, d, m, i in rows:
                    if (d, m, i) in wanted:
                        out[(d, m, i)] = sid
            missing = wanted - out.keys()
            if not missing or attempt:
                break
            if conn.dialect.name == "postgresql":
                for sid, d, m, i in self._create_series_pg(conn, sorted(missing)):
                    out[(d, m, i)] = sid
                if not wanted - out.keys():  # else another poller made some: look them up
                    break
                continue
            insert_new(
                conn,
                series,
                [{"device": d, "metric": m, "instance": i} for d, m, i in sorted(missing)],
            )
        return out

    def _create_series_pg(
        self, conn: Connection, keys: list[tuple[str, str, str]]
    ) -> list[tuple[int, str, str, str]]:
        """PostgreSQL: new series COPYed into the staging table and inserted with one
        ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` (10,000 devices' first polls
        make a million; an executemany through SQLAlchemy was a third of the writer's time
        while they came). The ids of those inserted; one another session inserted meanwhile
        is not returned (the caller looks it up)."""
        sql = (
            f"INSERT INTO {series.name} (device, metric, instance) "
            f"SELECT device, metric, instance FROM {_SERIES_STAGE} "
            "ON CONFLICT DO NOTHING RETURNING id, device, metric, instance"
        )
        with self._pg_cursor(conn, sql) as cur:
            with cur.copy(f"COPY {_SERIES_STAGE} FROM STDIN") as copy:
                for key in keys:
                    copy.write_row(key)
            cur.execute(sql)
            return [(int(r[0]), r[1], r[2], r[3]) for r in cur.fetchall()]

    @contextmanager
    def _pg_cursor(self, conn: Connection, sql: str) -> Iterator[Any]:
        """A psycopg cursor on the transaction's connection, the transaction's staging
        tables created at its first bulk write; a driver error raised as SQLAlchemy's own
        calls raise it (Store.begin words it), naming ``sql``."""
        driver = conn.connection.driver_connection
        assert driver is not None  # an open connection inside a transaction
        txn = conn.get_transaction()
        dbapi_error = conn.dialect.loaded_dbapi.Error
        try:
            with driver.cursor() as cur:
                if conn.info.get("govnet_staged") is not txn:  # the transaction's first:
                    creates = [self._pg_bulk_sql(conn, t)[1] for t in _BULK_TABLES]
                    # every staging table in one round trip, no NOTICE where one exists
                    cur.execute(
                        "; ".join(
                            ["SET LOCAL client_min_messages = warning", *creates, _SERIES_CREATE]
                        )
                    )
                    conn.info["govnet_staged"] = txn
                yield cur
        except dbapi_error as exc:
            raise DBAPIError.instance(sql, None, exc, dbapi_error) from exc

    def _sample_rows(
        self, conn: Connection, polled: list[tuple[str, str, str, float, float]]
    ) -> tuple[list[tuple[int, float, float]], dict[str, _KnownSeries]]:
        """The samples as ``monitor_samples`` rows (series id, ts, value), and the devices
        whose series ids were looked up (remembered once the transaction committed).

        A device's samples come in the same order poll after poll, so its series ids are
        remembered by position: the (metric, instance) keys in order and an array of ids,
        about 24 bytes a series (a dictionary entry per series was ~190 at 10,000 switches,
        a million series)."""
        runs = [(d, list(run)) for d, run in groupby(polled, _sample_device)]
        shapes = [tuple(chain.from_iterable(map(_sample_key, run))) for _, run in runs]
        entries: list[_KnownSeries | None] = [
            k if (k := self._known.get(d)) is not None and k[0] == keys else None
            for (d, _), keys in zip(runs, shapes, strict=True)
        ]
        todo = [i for i, entry in enumerate(entries) if entry is None]  # new or reshaped
        learned: dict[str, _KnownSeries] = {}
        if todo:
            ids = self._series_ids(conn, (s[:3] for i in todo for s in runs[i][1]))
            for i in todo:  # (a device twice in one batch: each run its own ids)
                d, run = runs[i]
                entries[i] = learned[d] = (shapes[i], array("q", [ids[s[:3]] for s in run]))
        out: list[tuple[int, float, float]] = []
        for (_, run), entry in zip(runs, entries, strict=True):
            assert entry is not None
            out += zip(entry[1], map(_sample_ts, run), map(_sample_value, run), strict=True)
        return out, learned

    def write(self, batch: Batch, now: float) -> None:
        """One transaction: samples, latest values and device states of a batch of polls."""
        if not batch:
            return
        try:
            with self.store.begin() as conn:
                rows, learned = self._sample_rows(conn, batch.samples)
                self._bulk(conn, "samples", rows)
                order = self._bulk_sql(conn, "latest")[1]
                if order == LATEST_COLUMNS:  # the rows are already the statement's parameters
                    self._bulk(conn, "latest", batch.latest)
                else:
                    at = [LATEST_COLUMNS.index(c) for c in order]
                    self._bulk(conn, "latest", [tuple(r[i] for i in at) for r in batch.latest])
                top = [r for r in batch.latest if r[1] in RANKED]
                if top:
                    at = [LATEST_COLUMNS.index(c) for c in self._bulk_sql(conn, "ranked")[1]]
                    self._bulk(conn, "ranked", [tuple(r[i] for i in at) for r in top])
                order = self._bulk_sql(conn, "devices")[1]
                self._bulk(
                    conn,
                    "devices",
                    [tuple(now if k == "updated" else r[k] for k in order) for r in batch.devices],
                )
        except GovnetError:
            self._known.clear()  # ids inserted in a rolled-back transaction are gone
            raise
        self._known.update(learned)

    # the hot path: thousands of rows a second through the driver, SQL compiled once

    def _bulk_sql(self, conn: Connection, name: str) -> tuple[str, tuple[str, ...]]:
        """The statement for ``samples`` (insert, skip existing), ``latest`` or ``devices``
        (upsert), compiled once per dialect to the driver's SQL, and its parameters' order."""
        key = (conn.dialect.name, name)
        cached = self._sql.get(key)
        if cached is not None:
            return cached
        table = _BULK_TABLES[name]
        stmt = _insert(conn, table)
        if stmt is None:
            stmt = insert(table)
        elif name == "samples":
            stmt = stmt.on_conflict_do_nothing()
        else:
            keys = [c.name for c in table.primary_key.columns]
            stmt = stmt.on_conflict_do_update(
                index_elements=keys,
                set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
            )
        columns = tuple(c.name for c in table.columns)
        compiled = stmt.values({c: None for c in columns}).compile(dialect=conn.dialect)
        order = tuple(compiled.positiontup or columns)
        self._sql[key] = (str(compiled), order)
        return self._sql[key]

    def _bulk(self, conn: Connection, name: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if conn.dialect.name == "postgresql":
            self._bulk_pg(conn, name, rows)
            return
        sql, order = self._bulk_sql(conn, name)
        if conn.dialect.positional:
            conn.exec_driver_sql(sql, rows)
        else:
            conn.exec_driver_sql(sql, [dict(zip(order, r, strict=True)) for r in rows])

    def _bulk_pg(self, conn: Connection, name: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """PostgreSQL: the batch is COPYed into a temporary table of the session, then moved
        with one ``INSERT … SELECT … ON CONFLICT`` per table. COPY's rows are encoded by
        psycopg's C code (an array parameter per column went through its Python list dumper:
        a third of the writer thread's time, bench/shard_bench.py). An upsert may not touch a
        key twice in one statement, so a repeated key keeps its last row, as row-by-row
        upserts left it; a repeated sample keeps its first (the staged rows are read in the
        order they were copied), as before."""
        staged, _, sql, key = self._pg_bulk_sql(conn, name)
        if name != "samples":  # a repeated sample: DO NOTHING skips it in the statement too
            last = dict(zip(map(key, rows), rows, strict=True))  # (C loops)
            if len(last) != len(rows):
                rows = list(last.values())
        with self._pg_cursor(conn, sql) as cur:
            with cur.copy(f"COPY {staged} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(sql)

    def _pg_bulk_sql(self, conn: Connection, name: str) -> _PgBulk:
        """For ``name``: the staging table's name and its ``CREATE``, the ``INSERT … SELECT``
        from it with the columns in :meth:`_bulk_sql`'s order (the rows' order), and a row's
        primary key.

        The staging table is a temporary table ``ON COMMIT DELETE ROWS`` with exactly those
        columns, created ``IF NOT EXISTS`` once per transaction (a rolled-back transaction
        takes a table it created with it; through a pooler in transaction mode the next
        transaction may be another session): one more statement per batch, not per row."""
        cached = self._pg_sql.get(name)
        if cached is not None:
            return cached
        table = _BULK_TABLES[name]
        order = self._bulk_sql(conn, name)[1]
        keys = [c.name for c in table.primary_key.columns]
        q = conn.dialect.identifier_preparer.quote
        staged = f"govnet_stage_{name}"
        columns = ", ".join(
            f"{q(c)} {table.c[c].type.compile(dialect=conn.dialect)}" for c in order
        )
        create = f"CREATE TEMPORARY TABLE IF NOT EXISTS {staged} ({columns}) ON COMMIT DELETE ROWS"
        if name == "samples":
            conflict = "DO NOTHING"
        else:
            sets = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in order if c not in keys)
            conflict = f"({', '.join(map(q, keys))}) DO UPDATE SET {sets}"
        names = ", ".join(map(q, order))
        sql = (
            f"INSERT INTO {q(table.name)} ({names}) "
            f"SELECT {names} FROM {staged} ON CONFLICT {conflict}"
        )
        at = [order.index(k) for k in keys]
        key: Callable[[tuple[Any, ...]], tuple[Any, ...]] = (
            (lambda r: (r[at[0]],)) if len(at) == 1 else itemgetter(*at)
        )
        self._pg_sql[name] = (staged, create, sql, key)
        return self._pg_sql[name]

    def forget_devices(self, names: Iterable[str]) -> None:
        """Devices removed from the inventory: their state and latest values go."""
        names = list(names)
        if not names:
            return
        with self.store.begin() as conn:
            for chunk in _chunks(names, 400):
                conn.execute(delete(devices).where(devices.c.device.in_(chunk)))
                conn.execute(delete(latest).where(latest.c.device.in_(chunk)))
                conn.execute(delete(ranked).where(ranked.c.device.in_(chunk)))

    # -- rollups and retention ------------------------------------------------------

    def maintain(
        self, now: float, raw: float, rollup_5m: float, rollup_1h: float
    ) -> dict[str, int]:
        """Roll complete buckets up (raw → 5 min → 1 h), then drop what retention allows."""
        counts: dict[str, int] = {}
        with self.store.begin() as conn:
            counts["rollup_300"] = self._rollup(conn, now, 300)
            counts["rollup_3600"] = self._rollup(conn, now, 3600)
            counts["pruned_raw"] = conn.execute(
                delete(samples).where(samples.c.ts < now - raw)
            ).rowcount
            counts["pruned_300"] = conn.execute(
                delete(rollups).where(rollups.c.step == 300, rollups.c.ts < now - rollup_5m)
            ).rowcount
            counts["pruned_3600"] = conn.execute(
                delete(rollups).where(rollups.c.step == 3600, rollups.c.ts < now - rollup_1h)
            ).rowcount
        return counts

    def _rollup(self, conn: Connection, now: float, step: int) -> int:
        key = f"rollup_watermark_{step}"
        end = float(int((now - ROLLUP_LAG) // step) * step)
        mark_text = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
        if step == 300:
            src_ts, first = samples.c.ts, select(func.min(samples.c.ts))
        else:
            src_ts = rollups.c.ts
            first = select(func.min(rollups.c.ts)).where(rollups.c.step == 300)
        if mark_text is None:
            oldest = conn.execute(first).scalar()
            if oldest is None:
                return 0
            start = float(int(oldest // step) * step)
        else:
            start = float(mark_text)
        if end <= start:
            return 0
        bucket = (cast(src_ts, Integer) // step) * step
        if step == 300:
            source = (
                select(
                    samples.c.series_id,
                    literal(step),
                    bucket,
                    func.count(),
                    func.sum(samples.c.value),
                    func.min(samples.c.value),
                    func.max(samples.c.value),
                )
                .where(samples.c.ts >= start, samples.c.ts < end)
                .group_by(samples.c.series_id, bucket)
            )
        else:
            source = (
                select(
                    rollups.c.series_id,
                    literal(step),
                    bucket,
                    func.sum(rollups.c.n),
                    func.sum(rollups.c.sum),
                    func.min(rollups.c.min),
                    func.max(rollups.c.max),
                )
                .where(rollups.c.step == 300, rollups.c.ts >= start, rollups.c.ts < end)
                .group_by(rollups.c.series_id, bucket)
            )
        result = conn.execute(
            insert(rollups)
            .from_select(["series_id", "step", "ts", "n", "sum", "min", "max"], source)
            .execution_options(preserve_rowcount=True)  # PostgreSQL drivers report it then
        )
        upsert(conn, meta, [{"key": key, "value": repr(end)}])
        return max(result.rowcount or 0, 0)

    # -- reading -------------------------------------------------------------------

    def device_states(self) -> list[dict[str, Any]]:
        with self.store.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(select(devices))]

    def device_rows(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored states of some devices (a sharded poller taking them over)."""
        out: dict[str, dict[str, Any]] = {}
        with self.store.begin() as conn:
            for chunk in _chunks(list(names), 400):
                for r in conn.execute(select(devices).where(devices.c.device.in_(chunk))):
                    out[str(r.device)] = dict(r._mapping)
        return out

    def dependency_rows(
        self, names: Sequence[str], keys: Sequence[tuple[str, str, str]]
    ) -> tuple[list[dict[str, Any]], list[tuple[str, str, str, float | None]]]:
        """One read of some devices' states and of the latest values named by ``keys``
        (device, metric, instance → value): what a sharded poller needs of the parents and
        UPSes other pollers hold (topology suppression), once per housekeeping tick."""
        d, v = devices.c, latest.c
        states: list[dict[str, Any]] = []
        values: list[tuple[str, str, str, float | None]] = []
        wanted = set(keys)
        metrics = sorted({k[1] for k in wanted})
        instances = sorted({k[2] for k in wanted})
        with self.store.begin() as conn:
            for chunk in _chunks(list(names), 400):
                query = select(d.device, d.state, d.since, d.last_poll, d.updated)
                rows = conn.execute(query.where(d.device.in_(chunk)))
                states += [dict(r._mapping) for r in rows]
            # device, metric and instance apart (a row-value IN list plans ten times slower
            # on PostgreSQL), then only the keys asked for
            for chunk in _chunks(sorted({k[0] for k in wanted}), 400):
                query = select(v.device, v.metric, v.instance, v.value).where(
                    v.device.in_(chunk), v.metric.in_(metrics), v.instance.in_(instances)
                )
                for r in conn.execute(query):
                    key = (str(r[0]), str(r[1]), str(r[2]))
                    if key in wanted:
                        values.append((*key, r[3]))
        return states, values

    def device_summaries(
        self,
    ) -> list[tuple[str, str, str, str, str, str, float, str, float, float]]:
        """(device, zone, site, rack, role, state, since, error, last_poll, next_poll) of every
        device: the dashboard's tiles, as plain tuples (2,000 rows in a few ms)."""
        d = devices.c
        query = select(
            d.device,
            d.zone,
            d.site,
            d.rack,
            d.role,
            d.state,
            d.since,
            d.error,
            d.last_poll,
            d.next_poll,
        )
        with self.store.begin() as conn:
            return [tuple(r) for r in conn.execute(query)]

    def latest_values(
        self, metrics: Sequence[str] | None = None, device: str | None = None
    ) -> list[dict[str, Any]]:
        query = select(latest)
        if metrics:
            query = query.where(latest.c.metric.in_(list(metrics)))
        if device:
            query = query.where(latest.c.device == device)
        with self.store.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def top(self, metric: str, n: int) -> list[dict[str, Any]]:
        """The ``n`` highest latest values of ``metric`` (one of :data:`RANKED`), highest
        first, as :meth:`latest_values` gives rows."""
        if metric not in RANKED:
            raise ValueError(f"{metric} is not ranked (monitor_ranked keeps {sorted(RANKED)})")
        query = (
            select(ranked)
            .where(ranked.c.metric == metric, ranked.c.value.is_not(None))
            .order_by(ranked.c.value.desc(), ranked.c.device, ranked.c.instance)
            .limit(n)
        )
        with self.store.begin() as conn:
            return [{**r._mapping, "text": ""} for r in conn.execute(query)]

    def series_ids(self, keys: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
        out: dict[tuple[str, str, str], int] = {}
        if not keys:
            return out
        with self.store.begin() as conn:
            for device, metric, instance in keys:
                sid = conn.execute(
                    select(series.c.id).where(
                        series.c.device == device,
                        series.c.metric == metric,
                        series.c.instance == instance,
                    )
                ).scalar()
                if sid is not None:
                    out[(device, metric, instance)] = sid
        return out

    def values(
        self,
        key: tuple[str, str, str],
        since: float,
        until: float,
        step: int = 0,
    ) -> list[tuple[float, float]]:
        """(ts, value) of one series; ``step`` 0 = raw samples, 300/3600 = rollup averages."""
        ids = self.series_ids([key])
        if key not in ids:
            return []
        sid = ids[key]
        with self.store.begin() as conn:
            if step == 0:
                rows = conn.execute(
                    select(samples.c.ts, samples.c.value)
                    .where(samples.c.series_id == sid, samples.c.ts >= since, samples.c.ts <= until)
                    .order_by(samples.c.ts)
                )
                return [(float(t), float(v)) for t, v in rows]
            rows = conn.execute(
                select(rollups.c.ts, rollups.c.sum / rollups.c.n)
                .where(
                    rollups.c.series_id == sid,
                    rollups.c.step == step,
                    rollups.c.ts >= since,
                    rollups.c.ts <= until,
                )
                .order_by(rollups.c.ts)
            )
            return [(float(t), float(v)) for t, v in rows]

    def values_many(
        self, keys: Sequence[tuple[str, str, str]], since: float, until: float
    ) -> dict[tuple[str, str, str], list[tuple[float, float]]]:
        """Raw samples of several series in one query (dashboard sparklines)."""
        ids = self.series_ids(keys)
        out: dict[tuple[str, str, str], list[tuple[float, float]]] = {k: [] for k in keys}
        if not ids:
            return out
        by_id = {sid: key for key, sid in ids.items()}
        with self.store.begin() as conn:
            rows = conn.execute(
                select(samples.c.series_id, samples.c.ts, samples.c.value)
                .where(
                    samples.c.series_id.in_(list(by_id)),
                    samples.c.ts >= since,
                    samples.c.ts <= until,
                )
                .order_by(samples.c.series_id, samples.c.ts)
            )
            for sid, ts, value in rows:
                out[by_id[sid]].append((float(ts), float(value)))
        return out

    # -- history (govnet monitor history, report traffic, the dashboard's detail view) ----

    def series_keys(
        self, device: str | None = None, metrics: Sequence[str] = ()
    ) -> dict[tuple[str, str, str], int]:
        """(device, metric, instance) → series id, of one device and/or some metrics."""
        query = select(series.c.device, series.c.metric, series.c.instance, series.c.id)
        if device is not None:
            query = query.where(series.c.device == device)
        if metrics:
            query = query.where(series.c.metric.in_(list(metrics)))
        with self.store.begin() as conn:
            return {(d, m, i): int(sid) for d, m, i, sid in conn.execute(query)}

    def history_rows(
        self, ids: Sequence[int], since: float, until: float, step: int
    ) -> Iterator[tuple[int, float, int, float, float, float]]:
        """(series id, bucket start, n, sum, min, max) ordered by series then time: rollups
        of ``step`` (300/3600) where they exist, and the raw samples after the newest rollup
        grouped into buckets of the same size (the part not rolled up yet); ``step`` 0: every
        raw sample as a bucket of one. Rollups stream (a server-side cursor on PostgreSQL):
        a month of a thousand links is never one list here, only the short raw tail is."""
        if not ids:
            return
        id_list = list(ids)
        with self.store.begin() as conn:
            covered = since
            if step:
                mark = conn.execute(
                    select(meta.c.value).where(meta.c.key == f"rollup_watermark_{step}")
                ).scalar()
                covered = max(since, float(mark)) if mark is not None else since
            tail = self._raw_buckets(conn, id_list, covered, until, step)
            if not step:
                for sid in sorted(tail):
                    yield from tail[sid]
                return
            rows = conn.execute(
                select(
                    rollups.c.series_id,
                    rollups.c.ts,
                    rollups.c.n,
                    rollups.c.sum,
                    rollups.c.min,
                    rollups.c.max,
                )
                .where(
                    rollups.c.series_id.in_(id_list),
                    rollups.c.step == step,
                    rollups.c.ts >= since,
                    rollups.c.ts < until,
                )
                .order_by(rollups.c.series_id, rollups.c.ts)
                .execution_options(stream_results=True, yield_per=20_000)
            )
            current, last = None, float("-inf")
            for sid_, ts_, n, total, lo, hi in rows:
                sid, ts = int(sid_), float(ts_)
                if sid != current:
                    if current is not None:
                        yield from (r for r in tail.pop(current, []) if r[1] > last)
                    for earlier in sorted(k for k in tail if k < sid):  # raw only, no rollups
                        yield from tail.pop(earlier)
                    current, last = sid, float("-inf")
                yield sid, ts, int(n), float(total), float(lo), float(hi)
                last = ts
            if current is not None:
                yield from (r for r in tail.pop(current, []) if r[1] > last)
            for sid in sorted(tail):
                yield from tail[sid]

    @staticmethod
    def _raw_buckets(
        conn: Connection, ids: list[int], since: float, until: float, step: int
    ) -> dict[int, list[tuple[int, float, int, float, float, float]]]:
        raw = conn.execute(
            select(samples.c.series_id, samples.c.ts, samples.c.value)
            .where(samples.c.series_id.in_(ids), samples.c.ts >= since, samples.c.ts < until)
            .order_by(samples.c.series_id, samples.c.ts)
        )
        tail: dict[int, list[tuple[int, float, int, float, float, float]]] = {}
        for sid_, ts, value in raw:
            sid, v, t = int(sid_), float(value), float(ts)
            out = tail.setdefault(sid, [])
            bucket = float(int(t // step) * step) if step else t
            if out and out[-1][1] == bucket:
                _, b, n, total, lo, hi = out[-1]
                out[-1] = (sid, b, n + 1, total + v, min(lo, v), max(hi, v))
            else:
                out.append((sid, bucket, 1, v, v, v))
        return tail

    def count_samples(self, device: str | None = None) -> int:
        query = select(func.count()).select_from(samples)
        if device is not None:
            query = query.join(series, series.c.id == samples.c.series_id).where(
                series.c.device == device
            )
        with self.store.begin() as conn:
            return int(conn.execute(query).scalar() or 0)

    def sample_keys(self) -> set[tuple[int, float]]:
        """Every (series id, ts) stored (tests: nothing committed was lost)."""
        with self.store.begin() as conn:
            return {
                (int(s), float(t))
                for s, t in conn.execute(select(samples.c.series_id, samples.c.ts))
            }

    # -- meta ----------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.store.begin() as conn:
            value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        with self.store.begin() as conn:
            upsert(conn, meta, [{"key": key, "value": value}])

    # -- alerts --------------------------------------------------------------------

    def firing_alerts(self, devices_: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Firing alerts, of every device or only of ``devices_`` (a sharded poller's)."""
        query = select(alerts).where(alerts.c.status == "firing").order_by(alerts.c.opened)
        with self.store.begin() as conn:
            if devices_ is None:
                return [dict(r._mapping) for r in conn.execute(query)]
            out: list[dict[str, Any]] = []
            for chunk in _chunks(list(devices_), 400):
                out += [
                    dict(r._mapping) for r in conn.execute(query.where(alerts.c.device.in_(chunk)))
                ]
            return sorted(out, key=lambda r: (r["opened"], r["id"]))

    def list_alerts(
        self,
        status: str | None = "firing",
        since: float | None = None,
        device: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        query = select(alerts)
        if status:
            query = query.where(alerts.c.status == status)
        if since is not None:
            query = query.where(alerts.c.updated >= since)
        if device:
            query = query.where(alerts.c.device == device)
        severity_rank = case(
            {"critical": 4, "high": 3, "medium": 2, "low": 1}, value=alerts.c.severity, else_=0
        )
        query = query.order_by(alerts.c.opened.desc(), severity_rank.desc(), alerts.c.id.desc())
        with self.store.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(query.limit(limit))]

    def alert_events(self, alert_id: int) -> list[dict[str, Any]]:
        with self.store.begin() as conn:
            rows = conn.execute(
                select(alert_events)
                .where(alert_events.c.alert_id == alert_id)
                .order_by(alert_events.c.ts, alert_events.c.id)
            )
            return [dict(r._mapping) for r in rows]

    def open_alert(self, row: dict[str, Any], event_detail: str = "") -> int:
        with self.store.begin() as conn:
            key = conn.execute(insert(alerts).values(**row)).inserted_primary_key
            assert key is not None
            alert_id = int(key[0])
            conn.execute(
                insert(alert_events).values(
                    alert_id=alert_id, ts=row["opened"], event="opened", detail=event_detail
                )
            )
        return alert_id

    def update_alert(
        self,
        alert_id: int,
        fields: dict[str, Any],
        event: str | None = None,
        detail: str = "",
        ts: float | None = None,
    ) -> None:
        with self.store.begin() as conn:
            if fields:
                conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**fields))
            if event:
                when = ts if ts is not None else fields.get("updated", 0.0)
                conn.execute(
                    insert(alert_events).values(
                        alert_id=alert_id, ts=when, event=event, detail=detail
                    )
                )

    def update_firing(
        self, key: str, fields: dict[str, Any], event: str | None, detail: str, ts: float
    ) -> int | None:
        """Update the firing alert of a problem (by key); None if none is firing."""
        with self.store.begin() as conn:
            alert_id = conn.execute(
                select(alerts.c.id).where(alerts.c.key == key, alerts.c.status == "firing")
            ).scalar()
            if alert_id is None:
                return None
            if fields:
                conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**fields))
            if event:
                conn.execute(
                    insert(alert_events).values(
                        alert_id=alert_id, ts=ts, event=event, detail=detail
                    )
                )
        return int(alert_id)

    def acked_firing_keys(self) -> set[str]:
        with self.store.begin() as conn:
            rows = conn.execute(
                select(alerts.c.key).where(alerts.c.status == "firing", alerts.c.acked.is_(True))
            )
            return {str(k) for (k,) in rows}

    def add_event(self, alert_id: int, ts: float, event: str, detail: str = "") -> None:
        with self.store.begin() as conn:
            conn.execute(
                insert(alert_events).values(alert_id=alert_id, ts=ts, event=event, detail=detail)
            )

    def ack(self, ids: Sequence[int], by: str, comment: str, now: float) -> list[int]:
        """Acknowledge firing alerts; returns the ids that were firing and not yet acked."""
        done: list[int] = []
        with self.store.begin() as conn:
            for alert_id in ids:
                row = conn.execute(
                    select(alerts.c.status, alerts.c.acked).where(alerts.c.id == alert_id)
                ).first()
                if row is None or row.status != "firing" or row.acked:
                    continue
                conn.execute(
                    update(alerts)
                    .where(alerts.c.id == alert_id)
                    .values(acked=True, acked_by=by, acked_at=now, ack_comment=comment)
                )
                conn.execute(
                    insert(alert_events).values(
                        alert_id=alert_id,
                        ts=now,
                        event="acked",
                        detail=f"by {by}" + (f": {comment}" if comment else ""),
                    )
                )
                done.append(alert_id)
        return done

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        with self.store.begin() as conn:
            row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
        return dict(row._mapping) if row else None

    # -- the daemon lock -----------------------------------------------------------

    @contextmanager
    def daemon_lock(self, holder: str) -> Iterator[None]:
        """One daemon per store: a file lock beside a SQLite file, an advisory lock on
        PostgreSQL. A second daemon fails at once, naming the holder."""
        if self.dialect == "postgresql":
            with self._pg_lock(holder):
                yield
            return
        path = self._lock_path()
        with exclusive(
            path,
            holder,
            lambda who: (
                f"another govnetd already monitors this store ({who}; lock {path}); "
                "stop it first or use another --db"
            ),
        ):
            yield

    def _lock_path(self) -> Path:
        database = self.store.engine.url.database
        if not database or database == ":memory:":
            base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
            return base / "govnet" / "govnetd-memory.lock"
        return Path(f"{database}.govnetd.lock")

    @contextmanager
    def _pg_lock(self, holder: str) -> Iterator[None]:
        key = DAEMON_LOCK_KEY
        conn = self.store.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            if not got:
                who = self.get_meta("daemon") or "?"
                raise GovnetError(
                    i18n._(
                        "another govnetd already monitors this store ({who}); stop it first",
                        who=who,
                    )
                )
            self.set_meta("daemon", holder)
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        finally:
            conn.close()


_PgBulk = tuple[str, str, str, Callable[[tuple[Any, ...]], tuple[Any, ...]]]
_SERIES_STAGE = "govnet_stage_series"  # new series' keys (_create_series_pg)
_SERIES_CREATE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_SERIES_STAGE} (device varchar(200), "
    "metric varchar(64), instance varchar(200)) ON COMMIT DELETE ROWS"
)
_BULK_TABLES = {"samples": samples, "latest": latest, "ranked": ranked, "devices": devices}


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
