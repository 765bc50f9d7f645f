"""The store: runs, findings and config backups (SQLAlchemy Core).

SQLite in WAL mode by default (``$GOVNET_DB`` or ``~/.local/share/govnet/govnet.sqlite``);
PostgreSQL by URL (``--db postgresql://…``). Every write is one transaction, so a killed
process loses at most the run in flight and never corrupts what was committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from govnet.errors import GovnetError, StoreError
from govnet.i18n import _

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(20), nullable=False),  # audit | backup | probe | provision
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True)),
    Column("exit_code", Integer),
    Column("meta", JSON, nullable=False, default=dict),
    Index("ix_runs_kind_started", "kind", "started"),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("device", String(200), nullable=False),
    Column("zone", String(64)),
    Column("site", String(64)),
    Column("unit", String(64)),
    Column("rule", String(128), nullable=False),
    Column("control", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(8), nullable=False),
    Column("message", Text, nullable=False, default=""),
    Column("evidence", JSON, nullable=False, default=list),
    Column("detail", JSON, nullable=False, default=dict),  # title, remediation, clause, …
    Index("ix_findings_run", "run_id"),
)

configs = Table(
    "configs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    UniqueConstraint("device", "sha256", name="uq_configs_device_sha"),
)

fetches = Table(
    "fetches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device", String(200), nullable=False),
    Column("run_id", String(40)),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("config_id", Integer, ForeignKey("configs.id")),
    Column("error", Text),
    Index("ix_fetches_device_time", "device", "fetched_at"),
)


def _chain(conn: Connection, run_id: str) -> None:
    """A finished run joins the ledger in the transaction that finishes it (store/ledger.py)."""
    from govnet.store import ledger

    ledger.append(conn, "run", run_id)


def _load_schema_modules() -> None:
    """Every module in govnet.store defines its tables on ``metadata``: import them all so
    ``create_all`` knows every table (features add tables by adding a module here)."""
    import importlib
    import pkgutil

    import govnet.store as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name != "db":
            importlib.import_module(f"govnet.store.{info.name}")


def _retire_indexes(engine: Engine) -> None:
    """Indexes a schema module stopped declaring (``metadata.info["retired_indexes"]``) are
    dropped from stores made before: they would only slow the writes down."""
    names: list[str] = metadata.info.get("retired_indexes", [])
    for name in names:
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        except SQLAlchemyError:  # a role that may not drop it (read-only): the writer will
            continue


def safe_url(url: str) -> str:
    """The URL as it may be shown: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: show only its scheme
        return url.split("://", 1)[0] + "://…" if "://" in url else "(not a store URL)"


def _reason(exc: BaseException, url: str) -> str:
    """One line from a driver error: its first line, without SQLAlchemy's background link, and
    never the password (drivers may echo the connection string)."""
    orig = getattr(exc, "orig", None) or exc
    line = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    try:
        password = make_url(url).password
    except Exception:
        password = None
    if password:
        line = line.replace(str(password), "***")
    return line


def default_url() -> str:
    env = os.environ.get("GOVNET_DB")
    if env:
        return env
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'govnet' / 'govnet.sqlite'}"


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_status(row: dict[str, Any]) -> str:
    """``complete``, ``running`` or ``interrupted`` (killed: still ``running``, pid gone)."""
    meta = row.get("meta") or {}
    status = str(meta.get("status") or ("complete" if row.get("exit_code") is not None else ""))
    if status == "running" and not _pid_alive(meta.get("pid")):
        return "interrupted"
    return status or "complete"


def _utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


@dataclass(frozen=True)
class StoredConfig:
    id: int
    device: str
    sha256: str
    text: str
    first_seen: datetime


def _create_private(path: Path) -> None:
    """A new SQLite store is 0600 in a 0700 folder: it holds configs, findings and alerts.

    SQLite creates ``-wal``/``-shm`` with the database file's own mode, so they follow.
    Existing folders and files keep the mode their owner gave them (a store deliberately
    shared with a group stays shared).
    """
    if str(path) in ("", ":memory:"):
        return
    try:
        if not path.parent.exists():
            path.parent.parent.mkdir(parents=True, exist_ok=True)
            path.parent.mkdir(mode=0o700, exist_ok=True)
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.close(fd)
            except FileExistsError:
                pass  # another process created it meanwhile
    except OSError as exc:
        raise StoreError(
            _("store {path}: cannot create it: {strerror}", path=path, strerror=exc.strerror)
        ) from exc


class Store:
    """Thin typed access to the tables above."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # A store dropped without close() still closes its pooled connections (PostgreSQL
        # sessions are server resources; psycopg warns about connections left to the GC).
        self._finalizer = weakref.finalize(self, engine.dispose)

    def close(self) -> None:
        """Close the pooled connections (idempotent)."""
        self._finalizer()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def open(cls, url: str | None = None, create: bool = True) -> Store:
        """The store at ``url``; ``create=False`` (read-only commands) refuses a SQLite file
        that does not exist rather than create an empty one (a typo would look like "no data")."""
        url = url or default_url()
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///")).expanduser()
            if not create and not path.is_file():
                raise GovnetError(
                    _(
                        "store {path}: no such file; check --db / GOVNET_DB (nothing has been "
                        "recorded there: run 'govnet monitor run', 'audit' or 'backup' first)",
                        path=path,
                    )
                )
            _create_private(path)
            url = f"sqlite:///{path}"
        try:
            engine = create_engine(url, future=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            hint = ""
            if isinstance(exc, ImportError) and url.startswith("postgresql"):
                hint = " (install the driver: pip install 'govnet[postgres]')"
            raise StoreError(
                _(
                    "--db {url}: cannot open the store: {exc}{hint}",
                    url=safe_url(url),
                    exc=_reason(exc, url),
                    hint=hint,
                )
            ) from exc
        if engine.dialect.name == "sqlite":

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.close()

        _load_schema_modules()
        try:
            for attempt in range(20):
                try:
                    metadata.create_all(engine)
                    _retire_indexes(engine)
                    break
                except SQLAlchemyError as exc:  # another process is creating the tables
                    if "already exists" not in str(exc) or attempt == 19:
                        raise
                    time.sleep(0.05 * (attempt + 1))  # it finishes its CREATE TABLEs meanwhile
        except SQLAlchemyError as exc:
            raise StoreError(
                _(
                    "store {url}: cannot open or initialise: {exc} (is the database server "
                    "running and the URL right?)",
                    url=safe_url(url),
                    exc=_reason(exc, url),
                )
            ) from exc
        return cls(engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            url = self.engine.url.render_as_string(hide_password=False)
            raise StoreError(
                _(
                    "store {url}: {name}: {exc}",
                    url=safe_url(url),
                    name=exc.__class__.__name__,
                    exc=_reason(exc, url),
                )
            ) from exc

    # -- runs and findings -------------------------------------------------------------

    def save_run(
        self,
        run_id: str,
        kind: str,
        started: datetime,
        finished: datetime | None,
        meta: dict[str, Any],
        rows: Sequence[dict[str, Any]] = (),
        exit_code: int | None = None,
    ) -> None:
        """One transaction: the run and all its findings, or nothing."""
        with self.begin() as conn:
            conn.execute(
                runs.insert().values(
                    id=run_id,
                    kind=kind,
                    started=started,
                    finished=finished,
                    exit_code=exit_code,
                    meta=json.loads(json.dumps(meta, default=str)),
                )
            )
            if rows:
                conn.execute(findings.insert(), [{**r, "run_id": run_id} for r in rows])
            if finished is not None:
                _chain(conn, run_id)

    def start_run(self, run_id: str, kind: str, started: datetime, meta: dict[str, Any]) -> None:
        """Record a run as it begins (``status: running``, no findings, no exit code), so a
        run that never finishes is visible as interrupted instead of silently missing.

        Runs of this kind left ``running`` by a process that no longer exists are marked
        ``interrupted`` first."""
        with self.begin() as conn:
            stale = conn.execute(
                select(runs.c.id, runs.c.meta).where(runs.c.kind == kind, runs.c.finished.is_(None))
            ).all()
            for row in stale:
                old = dict(row.meta or {})
                if old.get("status") == "running" and not _pid_alive(old.get("pid")):
                    conn.execute(
                        runs.update()
                        .where(runs.c.id == row.id)
                        .values(meta={**old, "status": "interrupted", "reason": "process died"})
                    )
            conn.execute(
                runs.insert().values(
                    id=run_id,
                    kind=kind,
                    started=started,
                    finished=None,
                    exit_code=None,
                    meta=json.loads(
                        json.dumps({**meta, "status": "running", "pid": os.getpid()}, default=str)
                    ),
                )
            )

    def finish_run(
        self,
        run_id: str,
        finished: datetime,
        meta: dict[str, Any],
        rows: Sequence[dict[str, Any]],
        exit_code: int,
    ) -> None:
        """One transaction: the run's final meta and exit code and all its findings."""
        with self.begin() as conn:
            conn.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(
                    finished=finished,
                    exit_code=exit_code,
                    meta=json.loads(json.dumps({**meta, "status": "complete"}, default=str)),
                )
            )
            if rows:
                conn.execute(findings.insert(), [{**r, "run_id": run_id} for r in rows])
            _chain(conn, run_id)

    def interrupt_run(self, run_id: str, when: datetime, reason: str) -> None:
        """Mark a run that stopped before its findings were written (no findings kept)."""
        with self.begin() as conn:
            row = conn.execute(
                select(runs.c.meta).where(runs.c.id == run_id, runs.c.exit_code.is_(None))
            ).first()
            if row is None:
                return
            meta = {**(row.meta or {}), "status": "interrupted", "reason": reason}
            conn.execute(runs.update().where(runs.c.id == run_id).values(finished=when, meta=meta))
            _chain(conn, run_id)

    def runs(self, kind: str, limit: int = 50) -> list[dict[str, Any]]:
        with self.begin() as conn:
            result = conn.execute(
                select(runs).where(runs.c.kind == kind).order_by(runs.c.started.desc()).limit(limit)
            )
            out = [dict(r._mapping) for r in result]
        for r in out:
            r["started"], r["finished"] = _aware(r["started"]), _aware(r["finished"])
        return out

    def run(self, run_id: str) -> dict[str, Any] | None:
        with self.begin() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
            if row is None:
                matches = conn.execute(
                    select(runs).where(runs.c.id.startswith(run_id)).limit(2)
                ).all()
                row = matches[0] if len(matches) == 1 else None
        if row is None:
            return None
        out = dict(row._mapping)
        out["started"], out["finished"] = _aware(out["started"]), _aware(out["finished"])
        return out

    def findings(self, run_id: str) -> list[dict[str, Any]]:
        with self.begin() as conn:
            result = conn.execute(
                select(findings).where(findings.c.run_id == run_id).order_by(findings.c.id)
            )
            return [
                {k: v for k, v in r._mapping.items() if k not in ("id", "run_id")} for r in result
            ]

    def previous_run(self, kind: str, before: datetime) -> dict[str, Any] | None:
        with self.begin() as conn:
            row = conn.execute(
                select(runs)
                .where(
                    runs.c.kind == kind,
                    runs.c.started < before,
                    runs.c.exit_code.is_not(None),  # complete runs only, never an interrupted one
                )
                .order_by(runs.c.started.desc())
                .limit(1)
            ).first()
        return dict(row._mapping) if row else None

    # -- config backups ---------------------------------------------------------------

    def save_config(
        self,
        device: str,
        text: str,
        run_id: str | None,
        when: datetime,
        digest: str | None = None,
    ) -> bool:
        """Record a fetch; store the text only if it differs from every stored version.

        ``digest`` is the SHA-256 of the config as the device holds it when ``text`` is a
        masked copy (see :func:`govnet.collect.backup.store_config`): a changed password is
        still a changed config. A stored masked copy is replaced by the device's own text when
        that arrives (``backup --keep-secrets``).

        Returns True when this config is new for the device (changed since last backup)."""
        own = hashlib.sha256(text.encode("utf-8")).hexdigest()
        sha = digest or own
        with self.begin() as conn:
            latest = conn.execute(
                select(fetches.c.config_id)
                .where(fetches.c.device == device, fetches.c.ok.is_(True))
                .order_by(fetches.c.fetched_at.desc(), fetches.c.id.desc())
                .limit(1)
            ).scalar()
            existing = conn.execute(
                select(configs.c.id).where(configs.c.device == device, configs.c.sha256 == sha)
            ).scalar()
            if existing is None:
                key = conn.execute(
                    configs.insert().values(device=device, sha256=sha, text=text, first_seen=when)
                ).inserted_primary_key
                assert key is not None
                existing = key[0]
            elif own == sha:  # the device's own text: replaces a masked copy
                conn.execute(configs.update().where(configs.c.id == existing).values(text=text))
            conn.execute(
                fetches.insert().values(
                    device=device, run_id=run_id, fetched_at=when, ok=True, config_id=existing
                )
            )
            return bool(latest != existing)

    def record_fetch_error(
        self, device: str, run_id: str | None, when: datetime, error: str
    ) -> None:
        with self.begin() as conn:
            conn.execute(
                fetches.insert().values(
                    device=device, run_id=run_id, fetched_at=when, ok=False, error=error
                )
            )

    def config_history(self, device: str) -> list[tuple[datetime, StoredConfig]]:
        """Every successful fetch of ``device`` whose config differed from the one before,
        oldest first, with the time it was fetched."""
        with self.begin() as conn:
            result = conn.execute(
                select(fetches.c.fetched_at, configs)
                .join(configs, configs.c.id == fetches.c.config_id)
                .where(fetches.c.device == device, fetches.c.ok.is_(True))
                .order_by(fetches.c.fetched_at, fetches.c.id)
            ).all()
        out: list[tuple[datetime, StoredConfig]] = []
        for row in result:
            m = row._mapping
            cfg = StoredConfig(m["id"], m["device"], m["sha256"], m["text"], _utc(m["first_seen"]))
            if not out or out[-1][1].id != cfg.id:
                out.append((_utc(m["fetched_at"]), cfg))
        return out

    def last_backups(self) -> dict[str, dict[str, Any]]:
        """Per device: time of the newest successful fetch, and of the newest attempt."""
        with self.begin() as conn:
            ok = conn.execute(
                select(fetches.c.device, func.max(fetches.c.fetched_at))
                .where(fetches.c.ok.is_(True))
                .group_by(fetches.c.device)
            ).all()
            any_ = conn.execute(
                select(fetches.c.device, func.max(fetches.c.fetched_at)).group_by(fetches.c.device)
            ).all()
        out: dict[str, dict[str, Any]] = {
            d: {"last_ok": None, "last_try": _aware(t)} for d, t in any_
        }
        for device, when in ok:
            out.setdefault(device, {"last_try": _aware(when)})["last_ok"] = _aware(when)
        return out

    def latest_config(self, device: str) -> StoredConfig | None:
        history = self.config_history(device)
        return history[-1][1] if history else None
