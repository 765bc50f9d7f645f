"""govnetd as a process against the running lab: the UPS alert, /metrics, the lock, SIGHUP,
SIGTERM, and a kill -9 that loses no committed sample.

The daemon polls the session lab (tests/integration/conftest.py) through a copy of its
inventory that polls every device every 3 s, so a few seconds show several rounds.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.conftest import Lab

pytestmark = pytest.mark.integration

DAEMON = [sys.executable, "-c", "from govnet.cli.daemon import main; main()"]
GOVNET = [sys.executable, "-c", "from govnet.cli.main import main; main()"]
RULES = Path(__file__).resolve().parents[2] / "playbooks" / "alerts.yaml"


def fast_inventory(lab: Lab, dest: Path, drop: tuple[str, ...] = ()) -> Path:
    """The lab's inventory (same ports, same secrets), every device polled every 3 s with a
    1 s SNMP timeout."""
    data = yaml.safe_load(lab.inventory_path.read_text(encoding="utf-8"))
    data["defaults"].setdefault("vars", {})["poll_interval"] = "3s"
    for profile in data["snmp_profiles"].values():  # the hung switch fails fast on loopback
        profile.update(timeout=1, retries=0)
    for name in drop:
        data["devices"].pop(name)
        data["links"] = [
            k for k in data["links"] if not any(v.startswith(f"{name}:") for v in k.values())
        ]
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("lab-data", "lab-secrets", "lab-terminals.csv"):
        link = dest / name
        if not link.exists():
            os.symlink((lab.inventory_path.parent / name).resolve(), link)
    path = dest / "lab.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class Daemon:
    def __init__(self, inventory: Path, db: Path, log: Path, *extra: str) -> None:
        self.db = db
        self.log = log
        with log.open("wb") as err:
            self.proc = subprocess.Popen(
                [
                    *DAEMON,
                    "-i",
                    str(inventory),
                    "--db",
                    f"sqlite:///{db}",
                    "--rules",
                    str(RULES),
                    "--listen",
                    "127.0.0.1:0",
                    "--log-format",
                    "json",
                    "--down-after",
                    "2s",
                    *extra,
                ],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def logs(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def daemons() -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(*args: Any) -> Daemon:
        d = Daemon(*args)
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        conn.close()


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_govnetd_on_the_lab(lab: Lab, tmp_path: Path, daemons: Callable[..., Daemon]) -> None:
    inventory = fast_inventory(lab, tmp_path / "inv")
    db = tmp_path / "monitor.sqlite"
    d = daemons(inventory, db, tmp_path / "govnetd.log")
    wait_for(
        "the UPS-on-battery alert",
        lambda: query(
            db,
            "SELECT severity FROM monitor_alerts WHERE key = 'ups-on-battery|ups-1|' AND status = 'firing'",
        ),
    )
    wait_for(
        "samples from every answering device",
        lambda: (
            len(
                query(
                    db,
                    "SELECT DISTINCT device FROM monitor_series JOIN monitor_samples ON id = series_id",
                )
            )
            >= 12
        ),
    )

    meta = json.loads(query(db, "SELECT value FROM monitor_meta WHERE key = 'daemon'")[0][0])
    with urllib.request.urlopen(f"http://{meta['metrics']}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert 'govnet_ups_on_battery{device="ups-1"} 1.0' in text
    assert 'govnet_ups_runtime_seconds{device="ups-1"} 1080.0' in text  # 18 min, base units
    assert 'govnet_alerts_firing{severity="critical"}' in text
    assert "govnet_poll_lag_seconds_bucket{le=" in text and "govnet_varbinds_total" in text
    assert 'instance="' not in text and "quantile=" not in text
    # Debian's promtool lints the live exposition (units, counters, histogram, help)
    lint = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    with urllib.request.urlopen(f"http://{meta['metrics']}/healthz", timeout=5) as response:
        assert response.status == 200 and response.read().decode().startswith("ok: ")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://{meta['metrics']}/", timeout=5)
    assert missing.value.code == 404
    # the samples so far as history (a chart's data)
    wait_for(
        "two rates of an int-core-1 interface",
        lambda: query(
            db,
            "SELECT 1 FROM monitor_series JOIN monitor_samples ON id = series_id WHERE device ="
            " 'int-core-1' AND metric = 'if_in_bps' GROUP BY series_id HAVING count(*) >= 2",
        ),
    )
    history = subprocess.run(
        [
            *GOVNET,
            "--db",
            f"sqlite:///{db}",
            "monitor",
            "history",
            "int-core-1",
            "if_in_bps",
            "--since",
            "1h",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert history.returncode == 0, history.stderr
    series = json.loads(history.stdout)["series"]
    assert series and all(s["metric"] == "if_in_bps" for s in series)
    assert max(len(s["points"]) for s in series) >= 2

    # at once (each is a Python start-up): a second daemon, the alerts as JSON, one frame
    second, listed, frame = (
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for cmd in (
            [*DAEMON, "-i", str(inventory), "--db", f"sqlite:///{db}", "--no-metrics"],
            [
                *GOVNET,
                "-i",
                str(inventory),
                "--db",
                f"sqlite:///{db}",
                "alerts",
                "list",
                "-f",
                "json",
            ],
            [
                *GOVNET,
                "--db",
                f"sqlite:///{db}",
                "--lang",
                "en",
                "dashboard",
                "--once",
                "--width",
                "100",
            ],
        )
    )
    shown = frame.communicate(timeout=30)[0]
    assert frame.returncode == 0
    assert "ups-1    BATTERY 64% 18min" in shown and "daemon ok" in shown
    assert "CRIT ups-1 UPS on battery: on battery (mains failed)" in shown
    second_err = second.communicate(timeout=30)[1]
    listed_out, listed_err = listed.communicate(timeout=30)
    assert second.returncode == 2
    assert "another govnetd already monitors this store (pid" in second_err
    assert listed.returncode == 1, listed_err
    alerts = {a["rule"]: a for a in json.loads(listed_out)}
    assert alerts["ups-on-battery"]["severity"] == "critical"

    # the hung switch is judged down after 2 s of silence
    wait_for(
        "ext-acc-town down",
        lambda: query(
            db, "SELECT 1 FROM monitor_devices WHERE device = 'ext-acc-town' AND state = 'down'"
        ),
    )

    # SIGHUP: a device left the inventory
    fast_inventory(lab, tmp_path / "inv", drop=("gap-1",))
    d.proc.send_signal(signal.SIGHUP)
    reloaded = wait_for("the reload", lambda: [r for r in d.logs() if r["msg"] == "reloaded"])
    assert reloaded[0]["removed"] == ["gap-1"]
    wait_for(
        "gap-1 forgotten",
        lambda: not query(db, "SELECT 1 FROM monitor_devices WHERE device = 'gap-1'"),
    )

    # SIGHUP with a broken inventory: the old one stays, and each error is in the log
    broken = tmp_path / "inv" / "lab.yaml"
    good = broken.read_text(encoding="utf-8")
    broken.write_text(good.replace("host: 127.0.0.1", "host: 999.12.1.300", 1), encoding="utf-8")
    d.proc.send_signal(signal.SIGHUP)
    lines = wait_for(
        "the failed reload",
        lambda: [r["msg"] for r in d.logs() if str(r["msg"]).startswith("reload: ")],
    )
    assert "lab.yaml:" in lines[0] and "not a host name or IP address" in lines[0], lines
    broken.write_text(good, encoding="utf-8")

    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(20) == 0
    assert d.logs()[-1]["msg"] == "govnetd stopped"
    assert query(db, "SELECT value FROM monitor_meta WHERE key = 'daemon'") == [("",)]


def test_kill_9_loses_no_committed_sample(
    lab: Lab, tmp_path: Path, daemons: Callable[..., Daemon]
) -> None:
    inventory = fast_inventory(lab, tmp_path / "inv")
    db = tmp_path / "monitor.sqlite"
    d = daemons(inventory, db, tmp_path / "first.log")
    sql = "SELECT series_id, ts FROM monitor_samples"
    wait_for("a round of samples", lambda: len(query(db, sql)) >= 60)
    committed = set(query(db, sql))  # what a reader sees is committed
    d.proc.kill()  # SIGKILL, mid-write or not
    d.proc.wait(10)
    after = set(query(db, sql))
    assert committed <= after
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    # the lock died with the process: a new daemon starts and carries on
    again = daemons(inventory, db, tmp_path / "second.log", "--once")
    assert again.proc.wait(30) == 3  # one round; the hung switch did not answer
    final = set(query(db, sql))
    assert after <= final and len(final) > len(after)


def test_ups_alert_reaches_dingtalk_wecom_and_mail_once_each_after_they_were_down(
    lab: Lab, tmp_path: Path, daemons: Callable[..., Daemon], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lab's UPS goes on battery while the robots and the mail relay are down; when they
    come back, each gets the alert once, signed, marked late, and nothing twice."""
    import trustme

    from tests.receivers import MailReceiver, RobotReceiver

    monkeypatch.setenv("DING_TOKEN", "ding-token-1")
    monkeypatch.setenv("DING_SECRET", "SECding-secret-1")
    monkeypatch.setenv("WECOM_KEY", "wecom-key-1")
    monkeypatch.setenv("MAIL_PASSWORD", "mail-pass-1")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cafile = tmp_path / "ca.pem"
    cafile.write_bytes(ca.cert_pem.bytes())
    ding = RobotReceiver("dingtalk", "ding-token-1", "SECding-secret-1", "告警", mode="down")
    wecom = RobotReceiver("wecom", "wecom-key-1", mode="down")
    mail = MailReceiver(
        cert.cert_chain_pems[0].bytes().decode(),
        cert.private_key_pem.bytes().decode(),
        "duty",
        "mail-pass-1",
    )
    mail.down = True
    try:
        rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
        fast = {"group_window": "1s", "retry_initial": "1s", "retry_max": "2s", "timeout": 3}
        rules["notifiers"] = [
            {"kind": "log"},
            {
                "kind": "dingtalk",
                "url": ding.url,
                "token": "env:DING_TOKEN",
                "secret": "env:DING_SECRET",
                "keyword": "告警",
                "min_severity": "critical",
                **fast,
            },
            {
                "kind": "wecom",
                "url": wecom.url,
                "token": "env:WECOM_KEY",
                "min_severity": "critical",
                **fast,
            },
            {
                "kind": "email",
                "smtp": f"127.0.0.1:{mail.port}",
                "security": "starttls",
                "username": "duty",
                "password": "env:MAIL_PASSWORD",
                "sender": "govnet@city.gov.cn",
                "to": ["duty@city.gov.cn"],
                "cafile": str(cafile),
                "min_severity": "critical",
                **fast,
            },
        ]
        path = tmp_path / "alerts.yaml"
        path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
        inventory = fast_inventory(lab, tmp_path / "inv")
        db = tmp_path / "monitor.sqlite"
        daemons(inventory, db, tmp_path / "d.log", "--rules", str(path))
        wait_for(
            "the UPS alert queued and refused by all three channels",
            lambda: (
                len(
                    query(
                        db,
                        "SELECT DISTINCT channel FROM notify_outbox WHERE alert_key = 'ups-on-battery|ups-1|'"
                        " AND status = 'pending' AND attempts > 0",
                    )
                )
                == 3
            ),
            timeout=60,
        )
        time.sleep(3)  # down a while longer: more refused tries, still one row per channel
        ding.mode = wecom.mode = "ok"
        mail.down = False
        wait_for(
            "delivered everywhere",
            lambda: ding.received and wecom.received and mail.mails,
            timeout=30,
        )
        time.sleep(4)  # several more dispatcher passes: nothing goes twice
        ups = [t for t in ding.texts() if "ups-1" in t]
        assert len(ups) == 1
        assert len([t for t in wecom.texts() if "ups-1" in t]) == 1
        assert len([m for m in mail.mails if "ups-1" in str(m["Subject"])]) == 1
        assert ding.rejected == [] and wecom.rejected == []
        rows = query(
            db,
            "SELECT channel, status FROM notify_outbox WHERE alert_key = 'ups-on-battery|ups-1|'",
        )
        assert sorted(rows) == [("dingtalk", "sent"), ("email", "sent"), ("wecom", "sent")]
        for secret in ("ding-token-1", "SECding-secret-1", "wecom-key-1", "mail-pass-1"):
            assert secret not in (tmp_path / "d.log").read_text(encoding="utf-8")
    finally:
        ding.close()
        wecom.close()
        mail.close()
