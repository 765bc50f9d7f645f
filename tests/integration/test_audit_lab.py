"""`govnet audit` and `govnet backup` against the running lab over real SSH."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from govnet.cli.main import cli
from tests.integration.conftest import Lab

pytestmark = pytest.mark.integration

SEEDED = {
    ("int-acc-town", "mgmt.ssh-only"),
    ("int-acc-town", "snmp.no-default-community"),
    ("int-acc-town", "snmp.v3-only"),
    # the Ruijie switch and the firewalls (inventory/lab.yaml header)
    ("int-acc-east", "mgmt.idle-timeout"),
    ("int-fw-1", "fw.policy-log-syslog"),
    ("ext-fw-1", "fw.no-any-any-permit"),
}


def govnet(inventory: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-i", str(inventory), "--lang", "en", *args])
    return result.exit_code, result.stdout  # stderr may carry notices (host keys learned)


def test_audit_finds_exactly_the_seeded_violations(lab: Lab, store_env: Path) -> None:
    code, out = govnet(lab.inventory_path, "audit", "--timeout", "3", "-f", "json")
    assert code == 3, out  # findings, and the hung switch unread: incomplete outranks findings
    report = json.loads(out)
    fails = {(f["device"], f["control"]) for f in report["findings"] if f["status"] == "fail"}
    assert fails == SEEDED
    errors = {f["device"] for f in report["findings"] if f["status"] == "error"}
    assert errors == {"ext-acc-town"}  # the hung switch; every other device completed
    hung = next(
        f for f in report["findings"] if f["device"] == "ext-acc-town" and f["status"] == "error"
    )
    assert "no SSH banner" in hung["message"] or "timed out" in hung["message"]
    audited = {f["device"] for f in report["findings"] if f["status"] in ("pass", "fail")}
    assert audited == {
        "int-core-1",
        "ext-core-1",
        "int-agg-east",
        "ext-agg-east",
        "int-acc-west",
        "ext-acc-west",
        "int-acc-town",
        "int-acc-east",
        "int-fw-1",
        "ext-fw-1",
    }
    # the configs fetched during the audit were kept as backups
    code, out = govnet(lab.inventory_path, "audit", "--from-backup", "-f", "json")
    assert (
        code == 3  # the hung switch has no backup either
        and {
            (f["device"], f["control"])
            for f in json.loads(out)["findings"]
            if f["status"] == "fail"
        }
        == SEEDED
    )
    code, out = govnet(lab.inventory_path, "audit", "history", "-f", "json")
    assert len(json.loads(out)) == 2


@pytest.fixture
def rude_port() -> Iterator[int]:
    """A TCP service that answers like a web server, not SSH (a garbled reply)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(
                    b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n" + bytes(range(256))
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join()
    srv.close()


def test_wrong_credentials_timeout_and_garbled_reply_each_have_their_message(
    lab: Lab, store_env: Path, rude_port: int
) -> None:
    data = yaml.safe_load(lab.inventory_path.read_text(encoding="utf-8"))
    (store_env / "wrong.password").write_text("not-the-password\n")
    data["credentials"]["wrong"] = {
        "username": "govnet",
        "password": f"file:{store_env / 'wrong.password'}",
    }
    data["devices"]["int-core-1"]["credentials"] = "wrong"
    data["devices"]["ext-core-1"]["port"] = rude_port
    path = lab.inventory_path.parent / "variant.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        code, out = govnet(
            path,
            "audit",
            "--timeout",
            "3",
            "--limit",
            "int-core-1,ext-core-1,ext-acc-town,ext-agg-east",
            "-f",
            "json",
        )
    finally:
        path.unlink()
    assert code == 3, out  # unreadable devices, and nothing failed on the one that was read
    messages = {
        f["device"]: f["message"] for f in json.loads(out)["findings"] if f["status"] == "error"
    }
    assert "authentication failed" in messages["int-core-1"]
    assert "no SSH banner" in messages["ext-acc-town"] or "timed out" in messages["ext-acc-town"]
    assert (
        "protocol" in messages["ext-core-1"].lower() or "banner" in messages["ext-core-1"].lower()
    )
    assert (
        len(
            {
                messages["int-core-1"].split(":")[0],
                messages["ext-acc-town"].split(":")[0],
                messages["ext-core-1"].split(":")[0],
            }
        )
        == 3
    ), messages


def test_backup_history_and_diff_after_a_change(lab: Lab, store_env: Path) -> None:
    from govnet.transport.ssh import SshSession

    code, out = govnet(
        lab.inventory_path, "backup", "--limit", "int-agg-east,ext-agg-east", "-f", "json"
    )
    assert code == 0 and {r["status"] for r in json.loads(out)["results"]} == {"new"}
    device = lab.inventory.devices["ext-agg-east"]
    with SshSession(device) as s:
        s.configure(
            [
                "snmp-server community T0pSecretRO RO",
                "interface GigabitEthernet0/9",
                " description changed-by-test",
            ]
        )
    code, out = govnet(
        lab.inventory_path, "backup", "--limit", "int-agg-east,ext-agg-east", "-f", "json"
    )
    statuses = {r["device"]: r["status"] for r in json.loads(out)["results"]}
    assert statuses == {"int-agg-east": "unchanged", "ext-agg-east": "changed"}
    code, diff = govnet(lab.inventory_path, "backup", "diff", "ext-agg-east")
    assert code == 0
    assert "+ description changed-by-test" in diff
    assert "+snmp-server community *** RO" in diff and "T0pSecretRO" not in diff
    from govnet.store.db import Store

    store = Store.open(os.environ["GOVNET_DB"])  # the store keeps the masked text too
    stored = store.latest_config("ext-agg-east")
    assert stored is not None and "snmp-server community *** RO" in stored.text
    assert "T0pSecretRO" not in stored.text
    code, out = govnet(lab.inventory_path, "backup", "--limit", "ext-agg-east", "--keep-secrets")
    assert code == 0, out  # the same config: its masked copy is replaced by the device's text
    stored = store.latest_config("ext-agg-east")
    assert stored is not None and "snmp-server community T0pSecretRO RO" in stored.text
    with SshSession(device) as s:  # leave the shared lab as it was
        s.configure(
            [
                "no snmp-server community T0pSecretRO RO",
                "interface GigabitEthernet0/9",
                " no description",
            ]
        )
