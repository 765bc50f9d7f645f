"""A hash chain over the store's records of what govnet did (audits, backups, probes,
provisioning): ``govnet store verify`` proves that no such row was changed or removed.

Every finished run (with its findings) and every provisioning change record is appended to
``ledger`` in the transaction that writes it: the SHA-256 of the row's canonical content
(``digest``) and a link to the previous entry (``hash = sha256(seq|kind|ref|digest|prev)``).
Editing a finding changes its run's digest; deleting a run leaves an entry without a row;
deleting or editing a ledger entry breaks the chain after it; a run inserted behind govnet's
back has no entry. Removing the newest entries together with their rows cannot be seen from
inside one database: the head (``seq`` and ``hash``) is printed by ``store verify`` and carried
in every export manifest (govnet/transfer), so it can be compared with a copy kept elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, String, Table, func, select, text
from sqlalchemy.engine import Connection

from govnet.durations import utcnow
from govnet.store.db import findings, metadata, runs

ledger = Table(
    "ledger",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),  # run | provision_change
    Column("ref", String(64), nullable=False),  # runs.id | provision_changes.id
    Column("digest", String(64), nullable=False),
    Column("prev", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

_PG_LOCK = 0x6C6564676572  # "ledger": appends serialise on PostgreSQL (SQLite: write lock)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat(timespec="microseconds")
    if isinstance(value, float) and value.is_integer():
        return value  # json keeps 1.0 as 1.0 on both databases
    return value


def canonical(value: Any) -> str:
    """One text per content: sorted keys, UTC datetimes with microseconds, no whitespace."""

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): walk(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [walk(x) for x in v]
        return _plain(v)

    return json.dumps(walk(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _sha(text_: str) -> str:
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


def link(seq: int, kind: str, ref: str, digest: str, prev: str) -> str:
    return _sha(f"{seq}|{kind}|{ref}|{digest}|{prev}")


def _run_digest(conn: Connection, run_id: str) -> str | None:
    row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
    if row is None:
        return None
    rows = conn.execute(select(findings).where(findings.c.run_id == run_id)).mappings().all()
    items = sorted(
        canonical({k: v for k, v in r.items() if k not in ("id", "run_id")}) for r in rows
    )
    return _sha(canonical({"run": dict(row), "findings": items}))


def _change_digest(conn: Connection, change_id: str) -> str | None:
    from govnet.store.provision import provision_changes

    row = (
        conn.execute(select(provision_changes).where(provision_changes.c.id == int(change_id)))
        .mappings()
        .first()
    )
    return None if row is None else _sha(canonical(dict(row)))


DIGESTS = {"run": _run_digest, "provision_change": _change_digest}


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(select(ledger.c.seq, ledger.c.hash).order_by(ledger.c.seq.desc())).first()
    return (0, "") if row is None else (int(row.seq), str(row.hash))


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})


def _adopt(conn: Connection) -> None:
    """The first append of a store made before the ledger chains what it already holds."""
    from govnet.store.provision import provision_changes

    if conn.execute(select(func.count()).select_from(ledger)).scalar_one():
        return
    entries: list[tuple[datetime, str, str]] = []
    for row in conn.execute(select(runs.c.id, runs.c.finished).where(runs.c.finished.isnot(None))):
        entries.append((row.finished, "run", str(row.id)))
    for row in conn.execute(select(provision_changes.c.id, provision_changes.c.finished)):
        entries.append((row.finished, "provision_change", str(row.id)))
    entries.sort(key=lambda e: (_plain(e[0]), e[1], e[2]))
    for _when, kind, ref in entries:
        _append(conn, kind, ref)


def _append(conn: Connection, kind: str, ref: str) -> None:
    digest = DIGESTS[kind](conn, ref)
    if digest is None:
        return
    seq, prev = _head(conn)
    seq += 1
    conn.execute(
        ledger.insert().values(
            seq=seq,
            kind=kind,
            ref=ref,
            digest=digest,
            prev=prev,
            hash=link(seq, kind, ref, digest, prev),
            at=utcnow(),
        )
    )


def adopt(conn: Connection) -> None:
    """Chain what an older store already holds (once; see :func:`_adopt`)."""
    _lock(conn)
    _adopt(conn)


def append(conn: Connection, kind: str, ref: str) -> None:
    """Chain ``kind``/``ref`` (already written in this transaction)."""
    _lock(conn)
    _adopt(conn)
    if conn.execute(select(ledger.c.seq).where(ledger.c.kind == kind, ledger.c.ref == ref)).first():
        return  # adopted just now, with the row as written
    _append(conn, kind, ref)


@dataclass(frozen=True)
class Problem:
    seq: int | None
    kind: str
    ref: str
    what: str  # changed | removed | unchained | broken-link | missing-entry | bad-hash

    def message(self, lang: str) -> str:
        from govnet.i18n import tr

        noun = tr(lang, "run") if self.kind == "run" else tr(lang, "provisioning change")
        texts = {
            "changed": tr(
                lang, "{noun} {ref} was changed after it was recorded", noun=noun, ref=self.ref
            ),
            "removed": tr(lang, "{noun} {ref} was removed", noun=noun, ref=self.ref),
            "unchained": tr(
                lang,
                "{noun} {ref} is not in the ledger: written outside govnet",
                noun=noun,
                ref=self.ref,
            ),
            "missing-entry": tr(lang, "ledger entry {seq} is missing (removed)", seq=self.seq),
            "broken-link": tr(
                lang, "ledger entry {seq} does not link to the entry before it", seq=self.seq
            ),
            "bad-hash": tr(
                lang, "ledger entry {seq} was edited (its hash does not match)", seq=self.seq
            ),
        }
        return texts[self.what]


@dataclass(frozen=True)
class Verdict:
    entries: int
    head_seq: int
    head_hash: str
    problems: list[Problem]


def head(conn: Connection) -> tuple[int, str]:
    return _head(conn)


def verify(conn: Connection) -> Verdict:
    """Walk the chain and recompute every digest from the rows as they are now."""
    from govnet.store.provision import provision_changes

    problems: list[Problem] = []
    expected, prev = 1, ""
    seen: dict[str, set[str]] = {"run": set(), "provision_change": set()}
    count = 0
    last_seq, last_hash = 0, ""
    for row in conn.execute(select(ledger).order_by(ledger.c.seq)).mappings():
        count += 1
        seq, kind, ref = int(row["seq"]), str(row["kind"]), str(row["ref"])
        gap = expected < seq
        while expected < seq:
            problems.append(Problem(expected, "", "", "missing-entry"))
            expected += 1
        if row["prev"] != prev and not gap:
            problems.append(Problem(seq, kind, ref, "broken-link"))
        if row["hash"] != link(seq, kind, ref, str(row["digest"]), str(row["prev"])):
            problems.append(Problem(seq, kind, ref, "bad-hash"))
        if kind in seen:
            seen[kind].add(ref)
            digest = DIGESTS[kind](conn, ref)
            if digest is None:
                problems.append(Problem(seq, kind, ref, "removed"))
            elif digest != row["digest"]:
                problems.append(Problem(seq, kind, ref, "changed"))
        expected, prev = seq + 1, str(row["hash"])
        last_seq, last_hash = seq, str(row["hash"])
    if count:
        for r in conn.execute(select(runs.c.id).where(runs.c.finished.isnot(None))):
            if str(r.id) not in seen["run"]:
                problems.append(Problem(None, "run", str(r.id), "unchained"))
        for r in conn.execute(select(provision_changes.c.id)):
            if str(r.id) not in seen["provision_change"]:
                problems.append(Problem(None, "provision_change", str(r.id), "unchained"))
    return Verdict(count, last_seq, last_hash, problems)
