"""Across the gap: two real stores, a directory copied one way only (issue 17 item 4).

A day of results on the internal side is exported in signed batches; the external side
imports what was copied, refuses an altered batch, a replayed one and one signed by a key it
does not trust, holds batches behind a lost one (with an alert) and takes them once the lost
one arrives; importing twice changes nothing. Each with an Ed25519 key and with an SM2 key
(国密: SM2 signature, SM3 digests; tests/unit/test_transfer_gm.py has the algorithm's own tests).
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from govnet.cli.main import cli
from govnet.durations import utcnow
from govnet.store.av import av_records, save_snapshot
from govnet.store.avrecords import AvRecord, Snapshot
from govnet.store.db import Store, findings, runs
from govnet.store.monitor import alert_events, alerts, rollups, series
from govnet.store.provision import record_change
from govnet.transfer.batch import TransferError, generate_key, load_signing_key, load_trusted
from govnet.transfer.exchange import export_batch, import_batches


def _finding(device: str, status: str) -> dict[str, Any]:
    return dict(
        device=device,
        zone="internal",
        site="city",
        unit="gov",
        rule="mgmt.ssh-only.huawei",
        control="mgmt.ssh-only",
        severity="high",
        status=status,
        message="第 3 行启用了 Telnet 服务",
        evidence=["3: telnet server enable"],
        detail={"title_zh": "仅允许 SSH 管理"},
    )


def _fill_day(store: Store, now: Any, tag: str) -> None:
    """A day of results: hourly audits, a provisioning run, rollups, an alert, AV, a probe."""
    for hour in range(24, 0, -1):
        at = now - timedelta(hours=hour)
        store.save_run(
            f"audit-{tag}-{hour:02d}",
            "audit",
            at,
            at + timedelta(seconds=30),
            {"n": hour},
            [_finding(f"sw-{hour}", "fail"), _finding(f"sw-{hour}b", "pass")],
            exit_code=1,
        )
    at = now - timedelta(hours=5)
    store.start_run(f"provision-{tag}", "provision", at, {"task": "onboard"})
    record_change(
        store,
        f"provision-{tag}",
        {
            "device": "sw-1",
            "task": "onboard",
            "status": "changed",
            "finished": at,
            "commands": ["sysname sw-1"],
            "message": "ok",
        },
    )
    store.finish_run(f"provision-{tag}", at + timedelta(seconds=5), {"task": "onboard"}, [], 0)
    with store.begin() as conn:
        sid = conn.execute(
            series.insert().values(device=f"ups-{tag}", metric="ups_on_battery", instance="")
        ).inserted_primary_key[0]  # type: ignore[index]
        base = (now - timedelta(hours=20)).timestamp() // 3600 * 3600
        conn.execute(
            rollups.insert(),
            [
                {
                    "series_id": sid,
                    "step": 3600,
                    "ts": base + 3600 * k,
                    "n": 12,
                    "sum": 0.0,
                    "min": 0.0,
                    "max": 0.0,
                }
                for k in range(10)
            ],
        )
        ts = (now - timedelta(hours=3)).timestamp()
        alert_id = conn.execute(
            alerts.insert().values(
                key=f"ups-on-battery|ups-{tag}|",
                rule="ups-on-battery",
                device=f"ups-{tag}",
                severity="critical",
                status="firing",
                opened=ts,
                updated=ts,
                message="on battery",
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(alert_events.insert().values(alert_id=alert_id, ts=ts, event="open"))
    save_snapshot(
        store,
        Snapshot(
            source="qianxin",
            console=f"console-{tag}",
            file="av.csv",
            taken=now - timedelta(hours=6),
            imported=now - timedelta(hours=6),
            sha256="0" * 64,
            records=[AvRecord(source="av.csv:2", host="pc-1", ip="10.1.1.2", vendor="qianxin")],
        ),
    )


DIGEST_LABEL = {"ed25519": "SHA-256", "sm2": "SM3"}


@pytest.fixture(params=["ed25519", "sm2"])
def keys(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, list[Path]]:
    key = tmp_path / "keys" / "internal.key"
    key.parent.mkdir()
    pub, _kid = generate_key(key, request.param)
    assert key.stat().st_mode & 0o777 == 0o600
    return f"file:{key}", [pub]


def _count(store: Store, table: Any) -> int:
    with store.begin() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_day_crosses_once_and_tampering_replay_and_gaps_are_refused(
    tmp_path: Path, keys: tuple[str, list[Path]]
) -> None:
    key_ref, pubs = keys
    key, trusted = load_signing_key(key_ref), load_trusted(pubs)
    inner = Store.open(f"sqlite:///{tmp_path / 'internal.sqlite'}")
    outer = Store.open(f"sqlite:///{tmp_path / 'external.sqlite'}")
    spool, media = tmp_path / "spool", tmp_path / "media"  # the internal side writes spool/
    now = utcnow()
    _fill_day(inner, now, "a")

    first = export_batch(inner, spool, "county-1", key, now=now)
    manifest = json.loads((first.path / "manifest.json").read_text())
    digest = {"ed25519": "sha256", "sm2": "sm3"}[key.algorithm]
    assert (manifest["algorithm"], manifest["digest"]) == (key.algorithm, digest)
    assert all(set(f) == {"rows", "bytes", digest} for f in manifest["files"].values())
    assert first.seq == 1 and first.rows["runs.jsonl"] == 25 and first.rows["findings.jsonl"] == 48
    assert first.rows["rollups.jsonl"] == 10 and first.rows["av_records.jsonl"] == 1
    media.mkdir()
    shutil.copytree(first.path, media / first.path.name)  # one way only
    [outcome] = import_batches(outer, media, trusted)
    assert outcome.status == "imported", outcome.message
    assert _count(outer, runs) == 25 and _count(outer, findings) == 48
    assert _count(outer, rollups) == 10 and _count(outer, av_records) == 1
    with outer.begin() as conn:
        alert = conn.execute(select(alerts)).mappings().one()
    assert alert["key"] == "county-1:ups-on-battery|ups-a|" and alert["status"] == "firing"

    # importing the same folder again changes nothing
    again = import_batches(outer, media, trusted)
    assert [o.status for o in again] == ["already-imported"]
    assert _count(outer, findings) == 48

    # batch 2 altered on the way: one finding's status flipped
    later = now + timedelta(hours=1)
    _fill_day(inner, later + timedelta(hours=1), "b")  # only the newest hours are new
    second = export_batch(inner, spool, "county-1", key, now=later + timedelta(hours=1))
    assert second.seq == 2 and second.rows["runs.jsonl"] >= 1
    copy = media / second.path.name
    shutil.copytree(second.path, copy)
    text = (copy / "findings.jsonl").read_text()
    (copy / "findings.jsonl").write_text(text.replace('"fail"', '"pass"', 1))
    before = _count(outer, findings)
    [o1, o2] = import_batches(outer, media, trusted)
    assert (o1.status, o2.status) == ("already-imported", "refused")
    assert o2.problem == "tampered" and DIGEST_LABEL[key.algorithm] in o2.message
    assert _count(outer, findings) == before  # nothing of the altered batch was stored

    # the good copy replaces it; batch 3 is lost, batch 4 arrives: it waits, an alert fires
    shutil.rmtree(copy)
    shutil.copytree(second.path, copy)
    third = export_batch(inner, spool, "county-1", key, now=later + timedelta(hours=2))
    fourth = export_batch(inner, spool, "county-1", key, now=later + timedelta(hours=3))
    shutil.copytree(fourth.path, media / fourth.path.name)
    result = {o.seq: o for o in import_batches(outer, media, trusted)}
    assert result[2].status == "imported" and result[4].status == "held"
    with outer.begin() as conn:
        gap = (
            conn.execute(select(alerts).where(alerts.c.rule == "transfer.sequence-gap"))
            .mappings()
            .one()
        )
    assert gap["status"] == "firing" and "batch 3" in gap["message"]

    # the lost batch is copied again from the spool: 3 and 4 go in, the alert resolves
    shutil.copytree(third.path, media / third.path.name)
    result = {o.seq: o for o in import_batches(outer, media, trusted)}
    assert result[3].status == "imported" and result[4].status == "imported"
    with outer.begin() as conn:
        gap = (
            conn.execute(select(alerts).where(alerts.c.rule == "transfer.sequence-gap"))
            .mappings()
            .one()
        )
    assert gap["status"] == "resolved"
    with inner.begin() as conn:
        inner_runs = {r.id for r in conn.execute(select(runs.c.id))}
    with outer.begin() as conn:
        outer_runs = {r.id for r in conn.execute(select(runs.c.id))}
    assert inner_runs == outer_runs  # every run crossed, none twice
    assert _count(outer, findings) == _count(inner, findings)

    # a replay: another store signing with the same key claims batch 2 of county-1
    rogue = Store.open(f"sqlite:///{tmp_path / 'rogue.sqlite'}")
    _fill_day(rogue, now, "r")
    export_batch(rogue, tmp_path / "rogue", "county-1", key, now=now)
    forged = export_batch(rogue, tmp_path / "rogue", "county-1", key, now=now + timedelta(hours=1))
    replay_dir = tmp_path / "replay"
    shutil.copytree(forged.path, replay_dir / forged.path.name)
    [replayed] = import_batches(outer, replay_dir, trusted)
    assert replayed.status == "refused" and replayed.problem == "replayed"


def test_a_batch_signed_by_another_key_or_renumbered_is_refused(
    tmp_path: Path, keys: tuple[str, list[Path]]
) -> None:
    key_ref, pubs = keys
    other = tmp_path / "other.key"
    generate_key(other)
    inner = Store.open(f"sqlite:///{tmp_path / 'internal.sqlite'}")
    outer = Store.open(f"sqlite:///{tmp_path / 'external.sqlite'}")
    _fill_day(inner, utcnow(), "a")
    batch = export_batch(inner, tmp_path / "spool", "county-1", load_signing_key(f"file:{other}"))
    [o] = import_batches(outer, tmp_path / "spool", load_trusted(pubs))
    assert o.status == "refused" and "not trusted" in o.message
    # the right key, but the manifest edited (a row count): the signature no longer matches
    good = export_batch(inner, tmp_path / "spool2", "county-2", load_signing_key(key_ref))
    manifest = json.loads((good.path / "manifest.json").read_text())
    manifest["files"]["runs.jsonl"]["rows"] -= 1
    (good.path / "manifest.json").write_text(json.dumps(manifest))
    [o] = import_batches(outer, tmp_path / "spool2", load_trusted(pubs))
    assert o.status == "refused" and "signature" in o.message
    assert _count(outer, runs) == 0
    assert batch.seq == 1


def test_bad_keys_and_folders_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(TransferError, match="not an unencrypted PEM"):
        (tmp_path / "k").write_text("hello")
        load_signing_key(f"file:{tmp_path / 'k'}")
    with pytest.raises(TransferError, match="no trusted key"):
        load_trusted([])
    key = tmp_path / "a.key"
    generate_key(key)
    with pytest.raises(TransferError, match="never overwritten"):
        generate_key(key)


def test_cli_export_import_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    inner, outer = tmp_path / "in.sqlite", tmp_path / "out.sqlite"
    key = tmp_path / "gap.key"
    r = runner.invoke(cli, ["--lang", "zh", "export", "--generate-key", str(key)])
    assert r.exit_code == 0, r.output
    assert "公钥" in r.stderr
    store = Store.open(f"sqlite:///{inner}")
    _fill_day(store, utcnow(), "c")
    r = runner.invoke(
        cli,
        [
            "--db",
            f"sqlite:///{inner}",
            "export",
            "--key",
            f"file:{key}",
            "--source",
            "county-9",
            "-f",
            "json",
            str(tmp_path / "spool"),
        ],
    )
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["seq"] == 1 and info["rows"]["runs.jsonl"] == 25
    r = runner.invoke(
        cli,
        [
            "--db",
            f"sqlite:///{outer}",
            "--lang",
            "zh",
            "import",
            "--trust",
            f"{key}.pub",
            str(tmp_path / "spool"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "已导入" in r.stdout
    # no key given: a one-line error, exit 2
    r = runner.invoke(cli, ["--db", f"sqlite:///{inner}", "export", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--key" in r.stderr and "Traceback" not in r.output
    # the receiving store's chain holds; editing a finding breaks it
    r = runner.invoke(cli, ["--db", f"sqlite:///{outer}", "store", "verify"])
    assert r.exit_code == 0, r.output
    assert "chain intact" in r.stdout
    with Store.open(f"sqlite:///{outer}") as s, s.begin() as conn:
        conn.execute(findings.update().where(findings.c.id == 7).values(status="pass"))
    r = runner.invoke(
        cli, ["--db", f"sqlite:///{outer}", "--lang", "zh", "store", "verify", "-f", "json"]
    )
    assert r.exit_code == 1
    problems = json.loads(r.stdout)["problems"]
    assert [p["problem"] for p in problems] == ["changed"]
    assert "在记录后被修改" in problems[0]["message"]


def test_ledger_on_both_databases(store_url: str) -> None:
    """Edited, removed and foreign rows, and a removed ledger entry, on SQLite and PostgreSQL."""
    from govnet.store import ledger

    store = Store.open(store_url)
    now = utcnow()
    for k in range(4):
        store.save_run(f"audit-{k}", "audit", now, now, {}, [_finding("sw", "fail")], exit_code=1)
    with store.begin() as conn:
        assert ledger.verify(conn).problems == []
        conn.execute(findings.update().where(findings.c.run_id == "audit-1").values(message="x"))
        conn.execute(findings.delete().where(findings.c.run_id == "audit-2"))
        conn.execute(runs.delete().where(runs.c.id == "audit-2"))
        conn.execute(
            runs.insert().values(id="audit-x", kind="audit", started=now, finished=now, meta={})
        )
    with store.begin() as conn:
        found = {(p.ref, p.what) for p in ledger.verify(conn).problems}
    assert found == {("audit-1", "changed"), ("audit-2", "removed"), ("audit-x", "unchained")}
    with store.begin() as conn:
        conn.execute(ledger.ledger.delete().where(ledger.ledger.c.seq == 1))
        conn.execute(ledger.ledger.update().where(ledger.ledger.c.seq == 4).values(digest="0" * 64))
    with store.begin() as conn:
        whats = [p.what for p in ledger.verify(conn).problems]
    assert "missing-entry" in whats and "bad-hash" in whats


def test_runs_are_chained_while_govnetd_holds_its_lock(store_url: str) -> None:
    """The ledger's lock is its own: an audit finishing while govnetd runs on the same
    PostgreSQL store does not wait for the daemon's advisory lock."""
    from govnet.store import ledger
    from govnet.store.monitor import MonitorStore

    store = Store.open(store_url)
    with MonitorStore(store).daemon_lock("test daemon"):
        now = utcnow()
        store.save_run("audit-1", "audit", now, now, {}, [_finding("sw", "fail")], exit_code=1)
    with store.begin() as conn:
        assert ledger.verify(conn).entries == 1
