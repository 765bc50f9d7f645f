"""Alert delivery to DingTalk, WeCom and e-mail through the outbox, against real local servers
(tests/receivers.py): signatures, body shapes, grouping, rate limits, a channel down for ten
minutes (fake clock), a restart in between, repeats and maintenance muting."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.errors import PlaybookError
from govnet.monitor.channels import DeliveryError, Email, Item, Message, dingtalk_sign
from govnet.monitor.delivery import Delivery
from govnet.monitor.rules import NotifierSpec, load_rules
from govnet.store.db import Store
from govnet.store.outbox import Outbox
from govnet.testing import FakeClock
from tests.receivers import MailReceiver, RobotReceiver, tls_mail_receiver

SECRET = "SECf00dbabe1234567890"
TOKEN = "robot-token-0001"


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DING_TOKEN", TOKEN)
    monkeypatch.setenv("DING_SECRET", SECRET)
    monkeypatch.setenv("WECOM_KEY", TOKEN)
    monkeypatch.setenv("MAIL_PASSWORD", "mail-pass-77")


@pytest.fixture
def ding() -> Iterator[RobotReceiver]:
    r = RobotReceiver("dingtalk", TOKEN, SECRET, keyword="告警")
    yield r
    r.close()


@pytest.fixture
def wecom() -> Iterator[RobotReceiver]:
    r = RobotReceiver("wecom", TOKEN)
    yield r
    r.close()


def spec(kind: str, url: str, **extra: Any) -> NotifierSpec:
    base: dict[str, Any] = {"kind": kind, "url": url, "token": "env:DING_TOKEN"}
    if kind == "dingtalk":
        base |= {"secret": "env:DING_SECRET", "keyword": "告警"}
    if kind == "wecom":
        base["token"] = "env:WECOM_KEY"
    return NotifierSpec.model_validate(base | {"timezone": "Asia/Shanghai"} | extra)


def item(
    device: str,
    severity: str = "critical",
    rule: str = "ups-on-battery",
    status: str = "firing",
    at: float = 1_800_000_000.0,
) -> dict[str, Any]:
    return {
        "status": status,
        "key": f"{rule}|{device}|",
        "rule": rule,
        "device": device,
        "instance": "",
        "severity": severity,
        "title_en": "UPS on battery",
        "title_zh": "UPS 市电中断",
        "message": "output source battery",
        "opened": at,
        "zone": "internal",
        "site": "city",
    }


class Rig:
    def __init__(self, url: str, *specs: NotifierSpec) -> None:
        self.clock = FakeClock()
        self.store = Store.open(url)
        self.outbox = Outbox(self.store)
        self.delivery = Delivery(self.outbox, specs, self.clock)

    def queue(self, channel: str, *devices: str, **kw: Any) -> None:
        for d in devices:
            self.delivery.queue(channel, kw.get("status", "firing"), item(d, **kw))


def test_dingtalk_signed_markdown_with_keyword_and_local_time(
    ding: RobotReceiver, store_url: str
) -> None:
    rig = Rig(store_url, spec("dingtalk", ding.url))
    rig.queue("dingtalk", "ups-1")
    assert rig.delivery.step() == 0  # waits for what fires together
    rig.clock.advance(10)
    assert rig.delivery.step() == 1
    assert ding.rejected == [] and len(ding.received) == 1
    got = ding.received[0]
    assert got.query["access_token"] == TOKEN and got.query["sign"]
    text = got.body["markdown"]["text"]
    assert "【告警】严重 UPS 市电中断（ups-1）" in got.body["markdown"]["title"]
    assert "2027-01-15 16:00:00 CST (UTC+08:00)" in text  # 1_800_000_000 in Beijing time
    assert "告警" in text and "ups-1" in text
    [row] = rig.outbox.rows()
    assert row.status == "sent" and not row.late


def test_a_wrong_signature_is_refused_and_kept(
    ding: RobotReceiver, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DING_SECRET", "SECwrong")
    rig = Rig(store_url, spec("dingtalk", ding.url, group_window=0))
    rig.queue("dingtalk", "ups-1")
    assert rig.delivery.step() == 0
    assert ding.rejected == ["sign not match"]
    [row] = rig.outbox.rows()
    assert row.status == "pending" and "errcode 310000" in row.last_error and row.attempts == 1
    assert "SECwrong" not in row.last_error


def test_the_signature_matches_dingtalks_documented_example() -> None:
    # base64(HMAC-SHA256(secret, "1577262236757\nSEC…")), URL-encoded: computed independently
    import base64
    import hashlib
    import hmac
    import urllib.parse

    raw = hmac.new(b"SECabc", b"1577262236757\nSECabc", hashlib.sha256).digest()
    expected = urllib.parse.quote_plus(base64.b64encode(raw).decode())
    assert dingtalk_sign("SECabc", 1577262236757) == expected


def test_wecom_markdown_body_and_errcode(wecom: RobotReceiver, store_url: str) -> None:
    rig = Rig(store_url, spec("wecom", wecom.url, group_window=0, lang="en"))
    wecom.mode, wecom.errcode = "errcode", 45009  # over the rate limit
    rig.queue("wecom", "sw-1", severity="high", rule="link-down")
    assert rig.delivery.step() == 0
    [row] = rig.outbox.rows()
    assert row.status == "pending" and "45009" in row.last_error
    rig.clock.advance(29)
    wecom.mode = "ok"
    assert rig.delivery.step() == 0  # not due before retry_initial (30 s)
    rig.clock.advance(1)
    assert rig.delivery.step() == 1
    assert "FIRING · high · UPS on battery (sw-1)" in wecom.texts()[0]


def test_channel_down_ten_minutes_then_everything_once_oldest_first_marked_late(
    ding: RobotReceiver, store_url: str
) -> None:
    rig = Rig(store_url, spec("dingtalk", ding.url, group_window=5, retry_max=120))
    ding.mode = "down"
    for n in range(25):  # an alert every 24 s for ten minutes, the robot down all along
        rig.queue("dingtalk", f"sw-{n:02d}", severity="high", rule="device-down")
        rig.clock.advance(24)
        rig.delivery.step()
    assert ding.received == [] and len(rig.outbox.rows("pending")) == 25
    ding.mode = "ok"
    for _ in range(10):
        rig.clock.advance(15)
        rig.delivery.step()
    first, second = ding.texts()  # the backlog, 20 to a message, oldest first
    assert [f"sw-{n:02d}" in first for n in range(25)] == [True] * 20 + [False] * 5
    assert all(f"sw-{n:02d}" in second for n in range(20, 25))
    assert "迟发" in first and "迟发" in second
    rows = rig.outbox.rows()
    assert {r.status for r in rows} == {"sent"} and all(r.late for r in rows)
    assert sum(t.count("设备：sw-") for t in ding.texts()) == 25  # each once


def test_alerts_that_fire_together_are_one_message(ding: RobotReceiver, store_url: str) -> None:
    rig = Rig(store_url, spec("dingtalk", ding.url, group_window=10))
    rig.queue("dingtalk", "acc-1", "acc-2", "acc-3", severity="high", rule="device-down")
    rig.clock.advance(11)
    rig.queue("dingtalk", "acc-9", severity="high", rule="device-down")  # outside the window
    assert rig.delivery.step() == 1
    rig.clock.advance(11)
    assert rig.delivery.step() == 1
    first, second = ding.texts()
    assert all(f"acc-{n}" in first for n in (1, 2, 3)) and "acc-9" not in first
    assert "等 3 条" in ding.received[0].body["markdown"]["title"] and "acc-9" in second


def test_rate_limit_per_channel(ding: RobotReceiver, store_url: str) -> None:
    rig = Rig(store_url, spec("dingtalk", ding.url, group_window=0, rate_per_minute=20))
    for n in range(25):
        rig.queue("dingtalk", f"sw-{n}")
        rig.clock.advance(1)  # one alert a second: 25 messages wanted within the minute
    assert rig.delivery.step() == 20
    rig.clock.advance(30)
    assert rig.delivery.step() == 0
    rig.clock.advance(31)
    assert rig.delivery.step() == 1  # the five that waited go together, marked late
    assert len(ding.received) == 21 and ding.rejected == []
    assert all(f"设备：sw-{n}（" in ding.texts()[-1] for n in range(20, 25))
    assert "迟发" in ding.texts()[-1]


def test_a_restarted_daemon_sends_what_the_killed_one_queued(
    ding: RobotReceiver, store_url: str
) -> None:
    first = Rig(store_url, spec("dingtalk", ding.url, group_window=0))
    first.queue("dingtalk", "ups-1", "env-1")
    del first  # killed before sending: the rows are committed
    second = Rig(store_url, spec("dingtalk", ding.url, group_window=0))
    assert second.delivery.step() == 1
    assert second.delivery.step() == 0  # never twice
    assert "ups-1" in ding.texts()[0] and "env-1" in ding.texts()[0]


def test_unacknowledged_critical_alerts_repeat_until_acknowledged(
    ding: RobotReceiver, store_url: str
) -> None:
    rig = Rig(store_url, spec("dingtalk", ding.url, group_window=0, repeat_critical="30m"))
    rig.queue("dingtalk", "ups-1")
    firing = [
        {**item("ups-1"), "acked": False, "suppressed": False},
        {**item("sw-2", severity="high"), "acked": False, "suppressed": False},
    ]
    assert rig.delivery.queue_repeats(firing) == 0  # just sent
    rig.clock.advance(1800)
    assert rig.delivery.queue_repeats(firing) == 1  # the critical one only
    assert rig.delivery.queue_repeats(firing) == 0
    rig.clock.advance(1800)
    firing[0]["acked"] = True
    assert rig.delivery.queue_repeats(firing) == 0
    rig.delivery.step()
    assert [r.kind for r in reversed(rig.outbox.rows())] == ["firing", "repeat"]
    assert "仍未恢复" in ding.texts()[-1]


def test_hung_robot_times_out(ding: RobotReceiver, store_url: str) -> None:
    rig = Rig(store_url, spec("dingtalk", ding.url, group_window=0, timeout=1))
    ding.mode = "hang"
    rig.queue("dingtalk", "ups-1")
    assert rig.delivery.step() == 0
    [row] = rig.outbox.rows()
    assert "cannot reach the robot" in row.last_error and row.status == "pending"


@pytest.fixture(scope="module")
def mail_tls() -> Iterator[tuple[MailReceiver, Path]]:
    with tls_mail_receiver() as got:
        yield got


def test_email_over_starttls_with_login_text_html_and_attachment(
    mail_tls: tuple[MailReceiver, Path], tmp_path: Path, store_url: str
) -> None:
    receiver, cafile = mail_tls
    receiver.mails.clear()
    report = tmp_path / "audit.html"
    report.write_text("<html><body>通报</body></html>", encoding="utf-8")
    email = Email(
        "127.0.0.1",
        receiver.port,
        "govnet@city.gov.cn",
        ("duty@city.gov.cn",),
        "starttls",
        "duty",
        "mail-pass-77",
        10,
        str(cafile),
    )
    message = Message(
        (Item.from_dict(item("ups-1")),), timezone="Asia/Shanghai", attachments=(report,)
    )
    email.send(message)
    [mail] = receiver.mails
    assert mail["Subject"] == "【告警】严重 UPS 市电中断（ups-1）"
    kinds = [p.get_content_type() for p in mail.walk()]
    assert "text/plain" in kinds and "text/html" in kinds
    [attached] = [p for p in mail.walk() if p.get_filename() == "audit.html"]
    assert "通报" in attached.get_content()
    bad = Email(
        "127.0.0.1",
        receiver.port,
        "govnet@city.gov.cn",
        ("duty@city.gov.cn",),
        "starttls",
        "duty",
        "wrong",
        10,
        str(cafile),
    )
    with pytest.raises(DeliveryError, match="login refused"):
        bad.send(message)


def test_rules_refuse_plain_tokens_and_incomplete_channels(tmp_path: Path) -> None:
    def load(notifiers: str) -> str:
        path = tmp_path / "alerts.yaml"
        rule = "  - {id: x, title: {en: a, zh: b}, severity: high, state: ups_on_battery}\n"
        body = "".join(f"  {line}\n" for line in notifiers.splitlines())
        path.write_text(f"notifiers:\n{body}rules:\n{rule}", encoding="utf-8")
        with pytest.raises(PlaybookError) as info:
            load_rules(path)
        return "\n".join(str(d) for d in info.value.diagnostics)

    assert "plain-text secrets are not allowed" in load("- {kind: dingtalk, token: abc123}")
    assert "needs 'token'" in load("- {kind: wecom}")
    assert "needs sender, to" in load("- {kind: email, smtp: 'mail:25'}")
    assert "used twice" in load("- {kind: wecom, token: env:A}\n- {kind: wecom, token: env:B}")


def test_notify_test_command(ding: RobotReceiver, tmp_path: Path) -> None:
    rules = tmp_path / "alerts.yaml"
    rules.write_text(
        textwrap.dedent(f"""\
        notifiers:
          - {{kind: dingtalk, name: duty-group, url: '{ding.url}', token: env:DING_TOKEN,
              secret: env:DING_SECRET, keyword: 告警}}
          - {{kind: wecom, name: dead, url: 'http://127.0.0.1:9/x', token: env:WECOM_KEY,
              timeout: 2}}
        rules:
          - {{id: x, title: {{en: a, zh: b}}, severity: high, state: ups_on_battery}}
        """),
        encoding="utf-8",
    )
    run = CliRunner().invoke
    ok = run(cli, ["--lang", "zh", "notify", "test", "duty-group", "--rules", str(rules)])
    assert ok.exit_code == 0, ok.output
    assert "govnet 测试消息" in ding.received[0].body["markdown"]["title"]
    dead = run(cli, ["--lang", "en", "notify", "test", "dead", "--rules", str(rules)])
    assert dead.exit_code == 3 and "dead: not delivered: wecom: cannot reach" in dead.stderr
    assert len(dead.stderr.strip().splitlines()) == 1
    none = run(cli, ["--lang", "en", "notify", "test", "nope", "--rules", str(rules)])
    assert none.exit_code == 2 and "channels: duty-group, dead" in none.stderr
