"""Shared fixtures: paths of the shipped data, and a writer for throw-away inventories."""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.pgserver import PostgresServer, private_server

# Property tests are about correctness, not speed: on a loaded CI machine (2 cores, 2 xdist
# workers, labs starting beside them) an example may take seconds, which must not fail the run.
# Hypothesis's per-example deadline and its too_slow health check are off for every test; a test
# that sets its own suppress_health_check lists too_slow again (the list replaces this one).
settings.register_profile("govnet", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("govnet")

ROOT = Path(__file__).resolve().parent.parent
LAB_INVENTORY = ROOT / "inventory" / "lab.yaml"

MINIMAL = """
zones:
  internal: {isolated_from: [external], pools: {prefixes: [10.0.0.0/8], vlans: [100-199]}}
  external: {pools: {prefixes: [172.16.0.0/12]}}
sites:
  city: {level: city}
  county: {level: county, parent: city}
  town: {level: town, parent: county}
units:
  office: {site: town, zones: [internal]}
credentials:
  ops: {username: admin, password: env:GOVNET_TEST_PASSWORD}
snmp_profiles:
  v2: {version: "2c", community: env:GOVNET_TEST_COMMUNITY}
defaults:
  credentials: ops
  snmp_profile: v2
groups:
  huawei-access: {platform: huawei, role: access, tags: [a]}
  internal: {zone: internal, tags: [b], port: 2222}
devices:
  sw1: {host: 127.0.0.1, address: 10.1.1.1, site: town, unit: office, groups: [huawei-access, internal]}
  sw2: {host: 127.0.0.2, address: 172.16.1.1, site: county, zone: external, platform: cisco_ios, role: core}
"""


@pytest.fixture(autouse=True)
def _own_known_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SSH host keys learned by a test stay in its own tmp dir (labs reuse port numbers with
    new keys), and nobody's ~/.ssh/known_hosts is read. Tests of the file's default place
    delete GOVNET_KNOWN_HOSTS themselves."""
    monkeypatch.setenv("GOVNET_KNOWN_HOSTS", str(tmp_path / "govnet-known_hosts"))
    monkeypatch.setenv("GOVNET_SYSTEM_KNOWN_HOSTS", "")


@pytest.fixture(autouse=True)
def _no_machine_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """A govnet.yaml in /etc/govnet or ~/.config must not change what the tests see."""
    monkeypatch.setenv("GOVNET_CONFIG", os.devnull)


@pytest.fixture
def write_inventory(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML text (dedented) to tmp_path/name and return its path."""

    def write(text: str, name: str = "inv.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """PostgreSQL for the store tests: GOVNET_TEST_POSTGRES, or a private server started here
    (one per xdist worker), skipped where PostgreSQL is not installed (failed under CI)."""
    url = os.environ.get("GOVNET_TEST_POSTGRES")
    if url:
        server = PostgresServer(url)
        yield server
        server.close()
        return
    # not under pytest's temp folder: that is private to root, and the server runs as postgres
    base = Path(tempfile.mkdtemp(prefix="govnet-test-pg-"))
    try:
        with private_server(base) as admin:
            server = PostgresServer(admin)
            yield server
            server.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store URL: an SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.database() as url:
        yield url


@pytest.fixture(autouse=True, scope="session")
def _inventory_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """CLI runs cache the inventory (issue 21): in a temporary folder, never ~/.cache."""
    old = os.environ.get("GOVNET_CACHE_DIR")
    os.environ["GOVNET_CACHE_DIR"] = str(tmp_path_factory.mktemp("inventory-cache"))
    yield
    if old is None:
        os.environ.pop("GOVNET_CACHE_DIR", None)
    else:
        os.environ["GOVNET_CACHE_DIR"] = old


@pytest.fixture
def test_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The keyring library's backend set to tests/keyringfile.py's JSON file, restored after."""
    import keyring
    import keyring.core

    from govnet import secrets
    from tests.keyringfile import JsonKeyring

    path = tmp_path / "keyring.json"
    monkeypatch.setenv("GOVNET_TEST_KEYRING", str(path))
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    keyring.set_keyring(JsonKeyring())
    secrets._keyring_cache.clear()
    yield path
    secrets._keyring_cache.clear()


@pytest.fixture(autouse=True)
def _redactor_per_test() -> Iterator[None]:
    """Secrets a test resolves are masked in every later output of the process (by design);
    between tests that leaks: a test whose secret is the word "secret" masked the JSON key
    "secret" in another test's output. Each test starts with the secrets it started with."""
    from govnet.secrets import REDACTOR

    saved = (set(REDACTOR._values), set(REDACTOR._forms), REDACTOR._pattern)
    yield
    with REDACTOR._lock:
        REDACTOR._values, REDACTOR._forms, REDACTOR._pattern = (saved[0], saved[1], saved[2])
