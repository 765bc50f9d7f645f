"""Issue 12 item 7: small contract breaks (exit codes, host names, option ranges)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.errors import InventoryError
from govnet.inventory import load_inventory
from tests.conftest import MINIMAL

Writer = Callable[..., Path]


@pytest.mark.parametrize(
    "host",
    ["999.12.1.300", "-oProxyCommand=touch /tmp/pwned", "sw 1", "bad_name.example", "a..b", "-x"],
)
def test_a_device_host_must_be_an_address_or_rfc1123_name(
    write_inventory: Writer, host: str
) -> None:
    path = write_inventory(MINIMAL.replace("host: 127.0.0.2", f"host: '{host}'"))
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    errors = [str(d) for d in info.value.diagnostics]
    assert any(
        e.startswith(f"{path}:")
        and "devices.sw2.host" in e
        and "not a host name or IP address" in e
        for e in errors
    ), errors


@pytest.mark.parametrize("host", ["10.1.2.3", "::1", "sw-1.county.gov.cn", "sw1", "sw1.lan."])
def test_good_hosts_pass(write_inventory: Writer, host: str) -> None:
    path = write_inventory(MINIMAL.replace("host: 127.0.0.2", f"host: '{host}'"))
    assert load_inventory(path).devices["sw2"].host == host


def test_backup_stale_refuses_negative_days(write_inventory: Writer) -> None:
    result = CliRunner().invoke(
        cli, ["-i", str(write_inventory(MINIMAL)), "backup", "stale", "--days", "-1"]
    )
    assert result.exit_code == 2
    assert "--days" in result.output and "-1" in result.output


class _Listener:
    """A TCP port on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.mark.parametrize(
    "command",
    [["backup"], ["audit", "-p", "playbooks/mlps2-baseline.yaml", "-f", "json"]],
)
def test_missing_env_credential_is_an_input_error_before_connecting(
    write_inventory: Writer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    monkeypatch.delenv("GOVNET_TEST_PASSWORD", raising=False)
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'db.sqlite'}")
    listeners = [_Listener(), _Listener()]
    try:
        text = MINIMAL.replace("host: 127.0.0.1,", f"host: 127.0.0.1, port: {listeners[0].port},")
        text = text.replace("host: 127.0.0.2,", f"host: 127.0.0.1, port: {listeners[1].port},")
        result = CliRunner().invoke(cli, ["-i", str(write_inventory(text)), *command])
    finally:
        for listener in listeners:
            listener.close()
    assert result.exit_code == 2, result.output
    assert "environment variable GOVNET_TEST_PASSWORD is not set" in result.output
    assert "(also needed for 1 more)" in result.output  # once, not once per device
    assert [listener.accepted for listener in listeners] == [0, 0]


def test_plain_text_secrets_in_vars_are_refused_with_file_and_line(
    write_inventory: Writer,
) -> None:
    text = (
        MINIMAL.replace(
            "  snmp_profile: v2\n",
            "  snmp_profile: v2\n"
            "  vars:\n"
            "    snmp_v3: {user: u, auth_key: AuthK-XYZZY-55, priv_key: env:PRIV}\n"
            "    key_length: 2048\n",
        )
        .replace(
            "tags: [b], port: 2222}",
            "tags: [b], port: 2222, vars: {radius: [{host: 10.0.0.1, shared-secret: 'S3cr3t'}]}}",
        )
        .replace(
            "site: county, zone: external,",
            "site: county, zone: external, vars: {enable_password: 12345, ssh_key: file:k},",
        )
    )
    path = write_inventory(text)
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    errors = [str(d) for d in info.value.diagnostics]
    lines = text.splitlines()
    expected = {
        "defaults.vars.snmp_v3.auth_key": "AuthK-XYZZY-55",
        "groups.internal.vars.radius[0].shared-secret": "S3cr3t",
        "devices.sw2.vars.enable_password": "12345",
    }
    assert len(errors) == len(expected), errors
    for key, value in expected.items():
        line = next(i for i, ln in enumerate(lines, 1) if value in ln)
        assert any(
            e.startswith(f"{path}:{line}:") and f"{key}: plain-text secret" in e for e in errors
        ), (key, errors)
    assert all("AuthK" not in e and "S3cr3t" not in e for e in errors)  # never echoed


def test_show_prints_references_not_values(write_inventory: Writer) -> None:
    text = MINIMAL.replace(
        "  snmp_profile: v2\n",
        "  snmp_profile: v2\n  vars: {snmp_v3: {user: u, auth_key: env:A, priv_key: env:P}}\n",
    )
    result = CliRunner().invoke(cli, ["-i", str(write_inventory(text)), "inventory", "show", "sw1"])
    assert result.exit_code == 0, result.output
    assert "env:A" in result.output


def test_a_new_store_is_private_with_its_wal_files(tmp_path: Path) -> None:
    import os
    import stat

    from govnet.durations import utcnow
    from govnet.store.db import Store

    old = os.umask(0o022)  # the usual umask: without care the store would be 0644 in 0755
    try:
        path = tmp_path / "var" / "govnet" / "store.sqlite"
        store = Store.open(f"sqlite:///{path}")
        store.save_config("sw1", "sysname sw1\n", None, utcnow())
        with store.engine.connect() as conn:  # keep a connection so -wal/-shm exist
            conn.exec_driver_sql("SELECT 1").all()
            modes = {
                p.name: stat.S_IMODE(p.stat().st_mode)
                for p in path.parent.iterdir()
                if p.name.startswith("store.sqlite")
            }
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert modes == {"store.sqlite": 0o600, "store.sqlite-wal": 0o600, "store.sqlite-shm": 0o600}


def test_stored_configs_are_masked_and_a_new_password_is_still_a_change(tmp_path: Path) -> None:
    from govnet.collect.backup import store_config
    from govnet.durations import utcnow
    from govnet.store.db import Store

    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
    v1 = "sysname sw1\nlocal-user admin password irreversible-cipher $1a$OLD$\n"
    v2 = v1.replace("$1a$OLD$", "$1a$NEW$")
    assert store_config(store, "sw1", v1, None, utcnow()) is True
    assert store_config(store, "sw1", v1, None, utcnow()) is False
    assert store_config(store, "sw1", v2, None, utcnow()) is True  # the masked texts are equal
    texts = [cfg.text for _, cfg in store.config_history("sw1")]
    assert texts == [v1.replace("$1a$OLD$", "***")] * 2
    store_config(store, "sw1", v2, None, utcnow(), keep_secrets=True)
    latest = store.latest_config("sw1")
    assert latest is not None and latest.text == v2


def test_a_probe_url_with_a_password_is_refused_without_echoing_it(
    write_inventory: Writer,
) -> None:
    text = MINIMAL + (
        "services:\n"
        "  portal:\n"
        "    zone: external\n"
        "    unit: office\n"
        "    probes:\n"
        '      - {kind: http, url: "https://admin:Hunter2-X@127.0.0.1:8443/"}\n'
    )
    path = write_inventory(text)
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    errors = [str(d) for d in info.value.diagnostics]
    assert any("url holds a password" in e and e.startswith(f"{path}:") for e in errors), errors
    assert not any("Hunter2" in e for e in errors)


def test_missing_snmp_secret_is_an_input_error(
    write_inventory: Writer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from govnet.av.snmp import collect_software
    from govnet.collect.tables import collect_snmp
    from govnet.errors import SecretError

    monkeypatch.delenv("GOVNET_TEST_COMMUNITY", raising=False)
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    path = write_inventory(MINIMAL)
    result = CliRunner().invoke(cli, ["-i", str(path), "monitor", "run", "--once", "--no-metrics"])
    assert result.exit_code == 2, result.output
    assert "environment variable GOVNET_TEST_COMMUNITY is not set" in result.output
    devices = list(load_inventory(path).devices.values())
    for collect in (collect_snmp, collect_software):
        with pytest.raises(SecretError, match="GOVNET_TEST_COMMUNITY is not set"):
            collect(devices)
