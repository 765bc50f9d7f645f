"""A private PostgreSQL server for the store tests: Debian's binaries, a data directory under
the test's temp folder, a free loopback port, stopped at the end.

The store is meant to run on PostgreSQL in production (``--db postgresql+psycopg://…``), so its
tests run there too, not only on SQLite. ``GOVNET_TEST_POSTGRES`` may name an existing server
instead (``postgresql+psycopg://user@host:port/db``); otherwise the server is started here when
PostgreSQL is installed (Debian: ``apt-get install postgresql``, which ``.ci/run`` does). Under
CI a missing PostgreSQL fails the tests that need it instead of skipping them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.ports import reserve_port


def _bin_dir() -> Path | None:
    """The newest Debian PostgreSQL server binaries (/usr/lib/postgresql/N/bin), or PATH's."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    return reserve_port()  # not a just-closed ephemeral port: a client socket could take it


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}")
    pytest.skip(reason)


@contextmanager
def private_server(
    base: Path, netns: str | None = None, listen: str = "", trust: Sequence[str] = ()
) -> Iterator[str]:
    """Start a throw-away cluster in ``base``; yield the admin URL (database ``postgres``).

    By default it listens on a free port of 127.0.0.1. With ``netns`` it runs in that network
    namespace on port 5432 of ``listen``, ``trust`` names the client networks it accepts there,
    and the URL yielded reaches it through its Unix socket in ``base`` (from any namespace)."""
    bindir = _bin_dir()
    if bindir is None:
        _missing("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        raise AssertionError  # unreachable: skip/fail raise
    run_as: list[str] = []
    user = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0:  # initdb refuses root: run the server as Debian's postgres user
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _missing("running as root and there is no 'postgres' user to run the server")
        run_as = ["runuser", "-u", "postgres", "--"]
        user = "postgres"
    data = base / "pgdata"
    base.mkdir(parents=True, exist_ok=True)
    if run_as:
        shutil.chown(base, user="postgres")
        os.chmod(base, 0o700)
    port = 5432 if netns else _free_port()
    listen = listen or "127.0.0.1"
    log = base / "server.log"
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    if trust:
        with (data / "pg_hba.conf").open("a", encoding="utf-8") as hba:
            hba.writelines(f"host all all {net} trust\n" for net in trust)
    options = f"-p {port} -k {base} -c listen_addresses={listen} -c fsync=off"
    inside = ["ip", "netns", "exec", netns] if netns else []
    pg_ctl = [*inside, *run_as, str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*pg_ctl, "-o", options, "-l", str(log), "-w", "-t", "60", "start"],
        check=True,
        capture_output=True,
    )
    try:
        if netns:
            yield f"postgresql+psycopg://{user}@/postgres?host={base}&port={port}"
        else:
            yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*pg_ctl, "-m", "immediate", "stop"],
            capture_output=True,
        )


class PostgresServer:
    """A server the tests may create databases on, one fresh database per test.

    Each is a copy of a template that already holds govnet's (empty) tables, made once by
    ``Store.open`` on the first request: CREATE DATABASE … TEMPLATE copies files, while creating
    the schema anew cost about half a second per test (57 tests run on PostgreSQL)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._template: str | None = None

    def _url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def template(self) -> str:
        if self._template is None:
            from govnet.store.db import Store

            name = f"govnet_template_{uuid.uuid4().hex[:12]}"
            with self.engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            Store.open(self._url(name)).close()  # the tables, then no connection left open
            self._template = name
        return self._template

    @contextmanager
    def database(self) -> Iterator[str]:
        name = f"govnet_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template()}"'))
        try:
            yield self._url(name)
        finally:
            self._drop(name)

    def _drop(self, name: str) -> None:
        for _ in range(50):  # a test's pool may still be closing its connections
            try:
                with self.engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except Exception:
                time.sleep(0.1)

    def close(self) -> None:
        """Drop the template (a server given by GOVNET_TEST_POSTGRES outlives the run)."""
        if self._template is not None:
            self._drop(self._template)
            self._template = None
        self.engine.dispose()
