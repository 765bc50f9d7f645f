"""``govnet export`` and ``govnet import``: results across the gap, in order, once.

What a batch carries, each kind by its own clock so that every row crosses exactly once:
- runs finished since the previous batch (audits, backups, probes, provisioning), with their
  findings, provisioning change records and probes sent — chosen by their entry in the store's
  ledger (govnet/store/ledger.py), which follows commit order, so a run whose timestamps lie
  in an earlier window still crosses;
- monitor rollups (5 min / 1 h buckets, per device, metric and instance) whose bucket ended
  long enough before the window's end to be complete (``ROLLUP_DELAY``);
- alerts changed in the window (their current state) and their events;
- antivirus snapshots imported in the window, with their records;
- probe arrivals received in the window.
The window ends ``SETTLE`` seconds before the export, so a row being committed as the export
runs is taken by the next batch instead of being missed.

Importing checks everything first (signature, files, chain) and then stores the batch in one
transaction with its place in the chain: a batch is in the store entirely or not at all.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection

from govnet import __version__
from govnet.durations import utcnow
from govnet.i18n import _, both, tr
from govnet.store import ledger
from govnet.store.av import av_records, av_snapshots
from govnet.store.db import Store, findings, runs
from govnet.store.monitor import ROLLUP_LAG, alert_events, alerts, rollups, series, upsert
from govnet.store.probe import probe_arrivals, probe_sent
from govnet.store.provision import provision_changes
from govnet.store.transfer import transfer_exports, transfer_imports, transfer_rowmap
from govnet.transfer.batch import (
    FORMAT,
    MANIFEST,
    SIGNATURE,
    Loaded,
    PublicKey,
    SigningKey,
    TransferError,
    batch_name,
    decode_row,
    digester,
    dumps,
    encode_row,
    load,
    read_manifest,
    valid_source,
)

SETTLE = timedelta(seconds=60)
ROLLUP_DELAY = 3600 + ROLLUP_LAG + 300  # seconds after a bucket's start: its 1 h rollup is written
GAP_RULE = "transfer.sequence-gap"

FILES = (
    "runs.jsonl",
    "findings.jsonl",
    "provision_changes.jsonl",
    "probe_sent.jsonl",
    "probe_arrivals.jsonl",
    "rollups.jsonl",
    "alerts.jsonl",
    "alert_events.jsonl",
    "av_snapshots.jsonl",
    "av_records.jsonl",
)


@dataclass
class Exported:
    path: Path
    seq: int
    hash: str
    rows: dict[str, int]
    window_from: datetime | None
    window_to: datetime


def _digest(name: str, blob: bytes) -> str:
    digest = digester(name)
    digest.update(blob)
    return digest.hexdigest()


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _collect(
    conn: Connection, start: datetime | None, end: datetime, chained: tuple[int, int]
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in FILES}

    def rows(table: Table, *where: Any) -> list[dict[str, Any]]:
        query = select(table).where(*where) if where else select(table)
        return [encode_row(table, dict(r)) for r in conn.execute(query).mappings()]

    def window(column: Any) -> list[Any]:
        return [column < end] if start is None else [column >= start, column < end]

    entries = (
        select(ledger.ledger.c.ref)
        .where(ledger.ledger.c.kind == "run")
        .where(ledger.ledger.c.seq > chained[0], ledger.ledger.c.seq <= chained[1])
    )
    run_rows = rows(runs, runs.c.id.in_(entries))
    out["runs.jsonl"] = run_rows
    ids = [r["id"] for r in run_rows]
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        out["findings.jsonl"] += rows(findings, findings.c.run_id.in_(chunk))
        out["provision_changes.jsonl"] += rows(
            provision_changes, provision_changes.c.run_id.in_(chunk)
        )
        out["probe_sent.jsonl"] += rows(probe_sent, probe_sent.c.run_id.in_(chunk))
    out["probe_arrivals.jsonl"] = rows(probe_arrivals, *window(probe_arrivals.c.received))
    lo = None if start is None else start.timestamp() - ROLLUP_DELAY
    hi = end.timestamp() - ROLLUP_DELAY
    query = (
        select(
            series.c.device,
            series.c.metric,
            series.c.instance,
            rollups.c.step,
            rollups.c.ts,
            rollups.c.n,
            rollups.c.sum,
            rollups.c.min,
            rollups.c.max,
        )
        .join(series, series.c.id == rollups.c.series_id)
        .where(rollups.c.ts < hi, *([rollups.c.ts >= lo] if lo is not None else []))
        .order_by(rollups.c.ts)
    )
    out["rollups.jsonl"] = [dict(r) for r in conn.execute(query).mappings()]
    lo_f, hi_f = _ts(start), end.timestamp()
    events = rows(
        alert_events,
        alert_events.c.ts < hi_f,
        *([alert_events.c.ts >= lo_f] if lo_f is not None else []),
    )
    out["alert_events.jsonl"] = events
    wanted = {e["alert_id"] for e in events}
    changed = rows(alerts, alerts.c.updated < hi_f, *([alerts.c.updated >= lo_f] if lo_f else []))
    have = {a["id"] for a in changed}
    extra = sorted(wanted - have)
    for i in range(0, len(extra), 500):
        changed += rows(alerts, alerts.c.id.in_(extra[i : i + 500]))
    out["alerts.jsonl"] = changed
    snaps = rows(av_snapshots, *window(av_snapshots.c.imported))
    out["av_snapshots.jsonl"] = snaps
    snap_ids = [s["id"] for s in snaps]
    for i in range(0, len(snap_ids), 500):
        out["av_records.jsonl"] += rows(
            av_records, av_records.c.snapshot_id.in_(snap_ids[i : i + 500])
        )
    return out


def export_batch(
    store: Store,
    out_dir: Path,
    source: str,
    signing_key: SigningKey,
    since: datetime | None = None,
    now: datetime | None = None,
) -> Exported:
    """Write the next batch of ``source`` into ``out_dir``; record it in the store."""
    if not valid_source(source):
        raise TransferError(
            _(
                "source name {source!r}: use lowercase letters, digits, - _ . (at most 64)",
                source=source,
            )
        )
    now = now or utcnow()
    end = now - SETTLE
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TransferError(
            _("{out_dir}: cannot create: {strerror}", out_dir=out_dir, strerror=exc.strerror)
        ) from exc
    with store.begin() as conn:
        last = conn.execute(
            select(transfer_exports)
            .where(transfer_exports.c.source == source)
            .order_by(transfer_exports.c.seq.desc())
        ).first()
        seq = 1 if last is None else int(last.seq) + 1
        prev = "" if last is None else str(last.hash)
        start = since
        if start is None and last is not None:
            start = (
                last.window_to.replace(tzinfo=UTC)
                if last.window_to.tzinfo is None
                else (last.window_to)
            )
        if start is not None and start >= end:
            raise TransferError(
                _(
                    "nothing to export yet: the window would end before it starts ({start:%F "
                    "%T} UTC)",
                    start=start,
                )
            )
        ledger.adopt(conn)  # a store older than the ledger: its runs get entries first
        head_seq, head_hash = ledger.head(conn)
        ledger_from = 0 if last is None or since is not None else int(last.ledger_to)
        data = _collect(conn, start, end, (ledger_from, head_seq))
        name = batch_name(source, seq)
        final = out_dir / name
        if final.exists():
            raise TransferError(
                _(
                    "{final}: exists but this store has not recorded it; move it away or export "
                    "into an empty directory",
                    final=final,
                )
            )
        tmp = out_dir / f".{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(mode=0o700)
        files: dict[str, dict[str, Any]] = {}
        for file in FILES:
            lines = [dumps(r) + "\n" for r in data[file]]
            blob = "".join(lines).encode("utf-8")
            (tmp / file).write_bytes(blob)
            files[file] = {
                "rows": len(lines),
                "bytes": len(blob),
                signing_key.digest: _digest(signing_key.digest, blob),
            }
        manifest = {
            "format": FORMAT,
            "source": source,
            "seq": seq,
            "prev": prev,
            "created": now.isoformat(),
            "window": {"from": start.isoformat() if start else None, "to": end.isoformat()},
            "files": files,
            "ledger_head": {"seq": head_seq, "hash": head_hash},
            "key_id": signing_key.key_id,
            "tool": f"govnet {__version__}",
            "algorithm": signing_key.algorithm,
            "digest": signing_key.digest,
        }
        raw = (json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()
        (tmp / MANIFEST).write_bytes(raw)
        (tmp / SIGNATURE).write_bytes(signing_key.sign(raw))
        for written in tmp.iterdir():
            with written.open("rb") as stream:
                os.fsync(stream.fileno())
        digest = _digest(signing_key.digest, raw)
        total = sum(f["rows"] for f in files.values())
        conn.execute(
            transfer_exports.insert().values(
                source=source,
                seq=seq,
                hash=digest,
                window_from=start,
                window_to=end,
                created=now,
                rows=total,
                ledger_to=head_seq,
            )
        )
        tmp.rename(final)  # the store commits after: a failed commit leaves a batch to re-copy
    return Exported(final, seq, digest, {f: v["rows"] for f, v in files.items()}, start, end)


# -- import ------------------------------------------------------------------------------


@dataclass
class Outcome:
    batch: str
    source: str
    seq: int
    status: str  # imported | already-imported | refused | held
    rows: int = 0
    message: str = ""
    problem: str = ""  # refused: tampered | replayed | broken-chain | invalid
    extra: dict[str, Any] = field(default_factory=dict)


def find_batches(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise TransferError(
            _(
                "{folder}: not a directory; give the folder the batches were copied to",
                folder=folder,
            )
        )
    if (folder / MANIFEST).exists():
        return [folder]
    return sorted(p for p in folder.iterdir() if p.is_dir() and (p / MANIFEST).exists())


def _map(conn: Connection, source: str, table: str, origin: int) -> int | None:
    row = conn.execute(
        select(transfer_rowmap.c.local).where(
            transfer_rowmap.c.source == source,
            transfer_rowmap.c.tbl == table,
            transfer_rowmap.c.origin == origin,
        )
    ).first()
    return None if row is None else int(row.local)


def _remember(conn: Connection, source: str, table: str, origin: int, local: int) -> None:
    conn.execute(
        transfer_rowmap.insert().values(source=source, tbl=table, origin=origin, local=local)
    )


def _store_batch(conn: Connection, batch: Loaded) -> int:
    """Every row of ``batch`` into this store (idempotent per row as well)."""
    source = batch.manifest.source
    count = 0

    def decoded(name: str, table: Table, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        try:
            return [
                {k: v for k, v in decode_row(table, r).items() if k not in drop}
                for r in batch.rows(name)
            ]
        except (ValueError, TypeError) as exc:
            raise TransferError(f"{batch.path / name}: {exc}") from None

    new_runs: set[str] = set()
    for row in decoded("runs.jsonl", runs):
        if conn.execute(select(runs.c.id).where(runs.c.id == row["id"])).first() is None:
            meta = dict(row.get("meta") or {})
            meta["imported_from"] = source
            conn.execute(runs.insert().values(**{**row, "meta": meta}))
            new_runs.add(row["id"])
            count += 1
    for name, table in (
        ("findings.jsonl", findings),
        ("provision_changes.jsonl", provision_changes),
        ("probe_sent.jsonl", probe_sent),
    ):
        fresh = [r for r in decoded(name, table, ("id",)) if r["run_id"] in new_runs]
        if fresh:
            conn.execute(table.insert(), fresh)
            count += len(fresh)
    for run_id in sorted(new_runs):
        ledger.append(conn, "run", run_id)  # imported rows are chained here too
    for row in decoded("probe_arrivals.jsonl", probe_arrivals, ("id",)):
        seen = conn.execute(
            select(probe_arrivals.c.id).where(probe_arrivals.c.token_id == row["token_id"])
        ).first()
        if seen is None:
            conn.execute(probe_arrivals.insert().values(**row))
            count += 1
    raw_rollups = batch.rows("rollups.jsonl")
    if raw_rollups:
        keys = {(str(r["device"]), str(r["metric"]), str(r["instance"])) for r in raw_rollups}
        ids: dict[tuple[str, str, str], int] = {}
        for key in keys:
            found = conn.execute(
                select(series.c.id).where(
                    series.c.device == key[0],
                    series.c.metric == key[1],
                    series.c.instance == key[2],
                )
            ).first()
            if found is None:
                found_id = conn.execute(
                    series.insert().values(device=key[0], metric=key[1], instance=key[2])
                ).inserted_primary_key
                assert found_id is not None
                ids[key] = int(found_id[0])
            else:
                ids[key] = int(found.id)
        try:
            values = [
                {
                    "series_id": ids[(str(r["device"]), str(r["metric"]), str(r["instance"]))],
                    "step": int(r["step"]),
                    "ts": float(r["ts"]),
                    "n": int(r["n"]),
                    "sum": float(r["sum"]),
                    "min": float(r["min"]),
                    "max": float(r["max"]),
                }
                for r in raw_rollups
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise TransferError(
                _("{file}: bad row ({exc})", file=batch.path / "rollups.jsonl", exc=exc)
            ) from None
        upsert(conn, rollups, values)
        count += len(values)
    for row in decoded("alerts.jsonl", alerts):
        origin = int(row.pop("id"))
        row["key"] = f"{source}:{row['key']}"
        local = _map(conn, source, "alerts", origin)
        if local is None:
            made = conn.execute(alerts.insert().values(**row)).inserted_primary_key
            assert made is not None
            _remember(conn, source, "alerts", origin, int(made[0]))
        else:
            conn.execute(alerts.update().where(alerts.c.id == local).values(**row))
        count += 1
    for row in decoded("alert_events.jsonl", alert_events):
        origin = int(row.pop("id"))
        if _map(conn, source, "alert_events", origin) is not None:
            continue
        local_alert = _map(conn, source, "alerts", int(row["alert_id"]))
        if local_alert is None:
            raise TransferError(
                _(
                    "{file}: an event of alert {alert_id}, which this batch does not carry",
                    file=batch.path / "alert_events.jsonl",
                    alert_id=row["alert_id"],
                )
            )
        made = conn.execute(
            alert_events.insert().values(**{**row, "alert_id": local_alert})
        ).inserted_primary_key
        assert made is not None
        _remember(conn, source, "alert_events", origin, int(made[0]))
        count += 1
    snaps: dict[int, int] = {}
    for row in decoded("av_snapshots.jsonl", av_snapshots):
        origin = int(row.pop("id"))
        if _map(conn, source, "av_snapshots", origin) is not None:
            continue
        made = conn.execute(av_snapshots.insert().values(**row)).inserted_primary_key
        assert made is not None
        snaps[origin] = int(made[0])
        _remember(conn, source, "av_snapshots", origin, snaps[origin])
        count += 1
    records = [
        {**r, "snapshot_id": snaps[r["snapshot_id"]]}
        for r in decoded("av_records.jsonl", av_records, ("id",))
        if r["snapshot_id"] in snaps
    ]
    if records:
        conn.execute(av_records.insert(), records)
        count += len(records)
    return count


def _gap_alert(conn: Connection, source: str, have: int, got: int, lang: str) -> None:
    now = time.time()
    key = f"{GAP_RULE}|{source}|"
    missing = f"{have + 1}" if got == have + 2 else f"{have + 1}–{got - 1}"
    message = tr(
        lang,
        "batch {missing} from {source} is missing (batch {got} arrived): "
        "ask the sending side to copy it again",
        missing=missing,
        source=source,
        got=got,
    )
    title = both("Batches missing from the one-way transfer")
    firing = conn.execute(
        select(alerts.c.id).where(alerts.c.key == key, alerts.c.status == "firing")
    ).first()
    if firing is not None:
        conn.execute(
            alerts.update().where(alerts.c.id == firing.id).values(updated=now, message=message)
        )
        return
    alert_id = conn.execute(
        alerts.insert().values(
            key=key,
            rule=GAP_RULE,
            device=source,
            instance="",
            severity="critical",
            status="firing",
            opened=now,
            updated=now,
            message=message,
            title_en=title["en"],
            title_zh=title["zh"],
        )
    ).inserted_primary_key
    assert alert_id is not None
    conn.execute(alert_events.insert().values(alert_id=int(alert_id[0]), ts=now, event="open"))


def _resolve_gap(conn: Connection, source: str) -> None:
    now = time.time()
    key = f"{GAP_RULE}|{source}|"
    for row in conn.execute(
        select(alerts.c.id).where(alerts.c.key == key, alerts.c.status == "firing")
    ).all():
        conn.execute(
            alerts.update()
            .where(alerts.c.id == row.id)
            .values(status="resolved", resolved=now, updated=now)
        )
        conn.execute(alert_events.insert().values(alert_id=row.id, ts=now, event="resolve"))


def import_batches(
    store: Store,
    folder: Path,
    trusted: dict[str, PublicKey],
    lang: str = "en",
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Check and store every batch in ``folder``, each source's in sequence order."""
    outcomes: list[Outcome] = []
    by_source: dict[str, list[tuple[int, Path]]] = {}
    for path in find_batches(folder):
        try:
            manifest, _raw = read_manifest(path)
        except TransferError as exc:
            outcomes.append(
                Outcome(path.name, "", 0, "refused", message=str(exc), problem="invalid")
            )
            continue
        by_source.setdefault(manifest.source, []).append((manifest.seq, path))

    def done(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)

    for source in sorted(by_source):
        held = False
        for seq, path in sorted(by_source[source]):
            if held:
                done(
                    Outcome(
                        path.name, source, seq, "held", message=_("waits for the missing batch")
                    )
                )
                continue
            try:
                batch = load(path, trusted)
            except TransferError as exc:
                done(
                    Outcome(path.name, source, seq, "refused", message=str(exc), problem="tampered")
                )
                held = True  # later batches cannot follow a refused one
                continue
            with store.begin() as conn:
                recorded = conn.execute(
                    select(transfer_imports.c.hash).where(
                        transfer_imports.c.source == source, transfer_imports.c.seq == seq
                    )
                ).first()
                head = conn.execute(
                    select(func.max(transfer_imports.c.seq)).where(
                        transfer_imports.c.source == source
                    )
                ).scalar()
                last = int(head or 0)
                if recorded is not None:
                    if recorded.hash == batch.hash:
                        done(
                            Outcome(
                                path.name,
                                source,
                                seq,
                                "already-imported",
                                message=_("imported before; nothing changed"),
                            )
                        )
                    else:
                        done(
                            Outcome(
                                path.name,
                                source,
                                seq,
                                "refused",
                                problem="replayed",
                                message=_(
                                    "{path}: batch {seq} of {source} was imported before with "
                                    "other content: a replayed or forged batch; not imported",
                                    path=path,
                                    seq=seq,
                                    source=source,
                                ),
                            )
                        )
                    continue
                if seq > last + 1:
                    _gap_alert(conn, source, last, seq, lang)
                    done(
                        Outcome(
                            path.name,
                            source,
                            seq,
                            "held",
                            problem="gap",
                            message=_(
                                "batch {missing} of {source} has not arrived; this one waits "
                                "(alert raised)",
                                missing=last + 1,
                                source=source,
                            ),
                        )
                    )
                    held = True
                    continue
                prev = ""
                if last:
                    row = conn.execute(
                        select(transfer_imports.c.hash).where(
                            transfer_imports.c.source == source, transfer_imports.c.seq == last
                        )
                    ).first()
                    prev = str(row.hash) if row else ""
                if batch.manifest.prev != prev:
                    done(
                        Outcome(
                            path.name,
                            source,
                            seq,
                            "refused",
                            problem="broken-chain",
                            message=_(
                                "{path}: does not follow batch {last} of {source} (previous-"
                                "batch hash differs): out of order or forged; not imported",
                                path=path,
                                last=last,
                                source=source,
                            ),
                        )
                    )
                    held = True
                    continue
                rows = _store_batch(conn, batch)
                conn.execute(
                    transfer_imports.insert().values(
                        source=source,
                        seq=seq,
                        hash=batch.hash,
                        window_to=batch.manifest.window.end,
                        imported=utcnow(),
                        rows=rows,
                    )
                )
                _resolve_gap(conn, source)
            done(Outcome(path.name, source, seq, "imported", rows=rows))
    return outcomes


def imported_heads(store: Store) -> dict[str, int]:
    with store.begin() as conn:
        rows = conn.execute(
            select(transfer_imports.c.source, func.max(transfer_imports.c.seq)).group_by(
                transfer_imports.c.source
            )
        ).all()
    return {str(r[0]): int(r[1]) for r in rows}
