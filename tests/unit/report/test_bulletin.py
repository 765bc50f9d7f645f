"""The 通报 (issue 14 items 3, 4 and 6): `govnet audit --lang zh -f html|xlsx|pdf` on the lab's
saved configs, read back (HTML text, openpyxl, pdftotext, a Chromium screenshot), and
`--notify CHANNEL` delivered to local DingTalk/WeCom-shaped receivers and an SMTP server."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from govnet.checks.model import AuditReport, Finding, Run
from govnet.checks.scoreboard import scoreboard
from govnet.cli.main import cli
from govnet.core.vocabulary import Evidence, Severity, Status, Text
from govnet.inventory.labels import Labels
from govnet.report.audit import to_html
from govnet.report.bulletin import build, local_time
from tests.conftest import LAB_INVENTORY, ROOT
from tests.receivers import MailReceiver, RobotReceiver, tls_mail_receiver

TOKEN, SECRET = "robot-token-0001", "SECf00dbabe1234567890"


@pytest.fixture
def configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The lab's saved configs; ext-acc-town has none (it never answers): could not check."""
    folder = tmp_path / "configs"
    folder.mkdir()
    for d in (ROOT / "inventory" / "lab-data").iterdir():
        if (d / "running.cfg").is_file() and d.name != "ext-acc-town":
            shutil.copy(d / "running.cfg", folder / f"{d.name}.cfg")
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path}/govnet.sqlite")
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("GOVNET_TZ", "Asia/Shanghai")
    monkeypatch.setenv("GOVNET_CONFIG", "/dev/null")
    monkeypatch.delenv("LANG", raising=False)
    monkeypatch.chdir(ROOT)
    return folder


def audit(configs: Path, *args: str, lang: str = "zh") -> Result:
    return CliRunner().invoke(
        cli, ["-i", str(LAB_INVENTORY), "--lang", lang, "audit", "--from-dir", str(configs), *args]
    )


def test_html_bulletin_reads_in_chinese_failures_first(configs: Path) -> None:
    result = audit(configs, "-f", "html")
    assert result.exit_code == 3, result.output  # one device unread outranks the findings
    html = result.stdout
    assert html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in html
    assert "<script" not in html and "src=" not in html and "href=" not in html
    assert "网络安全合规检查通报" in html
    # units and zones by their inventory labels, not ids; severity in Chinese
    assert "青石镇政府" in html and "政务内网" in html and "政务外网" in html
    assert ">qingshi-gov<" not in html and ">high<" not in html
    assert 'sev-high">高</span>' in html and 'sev-medium">中</span>' in html
    # the ranking: qingshi-gov's 13 could-not-check results do not count against it
    ranking = html.split("二、各单位合规排名")[1].split("三、")[0]
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)</td>", ranking)
    assert rows[0] == ("1", "青石镇政府")
    assert "76.9%" in ranking  # 10 passed / (10 + 3 failed); 13 unchecked left out
    # failures come first; evidence lines stay lines, each with its number; remediation
    order = [html.index(h) for h in ("三、不合规问题", "四、无法检查", "五、各控制项")]
    assert order == sorted(order)
    assert '<span class="ln">15:</span>telnet server enable</div>' in html
    assert '<span class="ln">191:</span>protocol inbound all</div>' in html
    assert "第 15 行的配置违反本项要求：telnet server enable" in html
    assert "整改建议：" in html and "undo telnet server enable" in html
    assert "must not match" not in html and "^telnet" not in html  # no regexes for readers
    # could not check: the device, its unit and why, in Chinese
    unchecked = html.split("四、无法检查的设备")[1].split("五、")[0]
    assert "ext-acc-town" in unchecked and "没有可供检查的配置或输出" in unchecked
    # passes summarised, not listed (without --all)
    assert "通过的检查项仅汇总计数" in html and "通过的检查项</h3>" not in html
    # footer: run id, local time to the second with its zone, version
    footer = html.split("<footer>")[1]
    assert re.search(r"audit-\d{8}-\d{6}-\w+", footer)
    assert re.search(r"生成时间 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d CST \(UTC\+08:00\)", footer)
    assert "govnet 0." in footer
    assert "@page { size: A4" in html and "Microsoft YaHei" in html and "Noto Sans CJK SC" in html
    full = audit(configs, "-f", "html", "--all").stdout
    assert "通过的检查项</h3>" in full and full.count("<tr>") > html.count("<tr>") + 80


def finding(device: str, unit: str | None, status: Status, **kw: object) -> Finding:
    base: dict[str, object] = {
        "device": device,
        "zone": "internal",
        "site": "city",
        "unit": unit,
        "rule": "r1",
        "control": "mgmt.ssh-only",
        "severity": Severity.HIGH,
        "status": status,
        "title": Text("SSH only", "仅允许SSH远程管理"),
        "remediation": Text("undo telnet", "关闭 Telnet"),
    }
    return Finding(**(base | kw))  # type: ignore[arg-type]


def test_untrusted_text_is_escaped_and_unchecked_units_rank_last() -> None:
    hostile = "<script>alert(1)</script>\x1b[2J"
    run = Run(
        "audit-1",
        datetime(2026, 12, 6, 1, 0, 5, tzinfo=UTC),
        None,
        ["base"],
        [
            finding(
                "sw-1", "u1", Status.FAIL, evidence=(Evidence(hostile, 7, "must not match ^x$"),)
            ),
            finding("sw-2", "u1", Status.PASS),
            finding("sw-3", "u2", Status.ERROR, message="timeout: <b>no answer</b>"),
            finding("sw-4", "u3", Status.PASS),
        ],
    )
    labels = Labels(units={"u1": ("一号单位", "Unit One"), "u2": ("二号单位", "Unit Two")})
    report = AuditReport(run, labels=labels)
    html = to_html(report, "zh")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[2J" in html
    assert "<b>no answer</b>" not in html and "&lt;b&gt;no answer&lt;/b&gt;" in html
    assert "2026-12-06" in html
    b = build(report, "en", labels)
    assert [u["label"] for u in b["units"]] == ["Unit One", "u3", "Unit Two"]  # u2: nothing checked
    assert b["units"][-1]["share"] is None and b["units"][-1]["share_text"] == "—"
    assert b["units"][0]["share"] == 0.5 and b["total"]["unchecked"] == 1
    # the JSON/table scoreboard follows the same rule: an error is not a failure
    [u2] = [s for s in scoreboard(run.findings)["unit"] if s.name == "u2"]
    assert u2.share == 1.0 and u2.errors == 1


def test_local_time_says_its_zone() -> None:
    from zoneinfo import ZoneInfo

    when = datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=UTC)
    assert local_time(when, ZoneInfo("Asia/Shanghai")) == "2026-12-06 09:02:03 CST (UTC+08:00)"
    assert local_time(when, ZoneInfo("UTC")) == "2026-12-06 01:02:03 UTC+00:00"


def test_xlsx_golden_read_back(configs: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "通报.xlsx"
    result = audit(configs, "-f", "xlsx", "-o", str(out))
    assert result.exit_code == 3, result.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["概览", "单位排名", "问题清单", "无法检查"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref and ws["A1"].font.b
    summary = {r[0]: r[1] for r in wb["概览"].iter_rows(min_row=2, values_only=True)}
    assert summary["标题"] == "网络安全合规检查通报"
    assert isinstance(summary["开始时间"], datetime) and summary["时区"] == "CST (UTC+08:00)"
    assert wb["概览"]["B4"].number_format == "yyyy-mm-dd hh:mm:ss"
    # int-acc-town's 3 seeded findings and those of int-acc-east, int-fw-1 and ext-fw-1
    assert summary["不合规"] == 6 and summary["无法检查（不计入不合规）"] == 13
    assert summary["合规率：政务外网"] == pytest.approx(54 / 55)  # ext-fw-1's any-any rule
    ranking = list(wb["单位排名"].iter_rows(values_only=True))
    assert ranking[0][:4] == ("排名", "单位", "所属", "合规率")
    assert ranking[1][:4] == (1, "青石镇政府", "青石镇", pytest.approx(10 / 13))
    assert wb["单位排名"]["D2"].number_format == "0.0%"
    assert wb["单位排名"].column_dimensions["B"].width >= 12  # CJK counted double
    findings = list(wb["问题清单"].iter_rows(values_only=True))
    assert findings[0][:3] == ("级别", "单位", "设备") and len(findings) == 7
    telnet = next(r for r in findings if r[4] == "mgmt.ssh-only")
    assert telnet[0] == "高" and telnet[1] == "青石镇政府"
    assert telnet[8] == "15: telnet server enable\n191: protocol inbound all"
    assert isinstance(telnet[11], datetime)
    assert wb["问题清单"].auto_filter.ref == "A1:L7"
    [_head, unchecked] = list(wb["无法检查"].iter_rows(values_only=True))
    assert unchecked[0] == "ext-acc-town" and unchecked[3] == 13
    en = tmp_path / "en.xlsx"
    audit(configs, "-f", "xlsx", "-o", str(en), lang="en")
    assert load_workbook(en).sheetnames == [
        "Summary",
        "Units ranked",
        "Findings",
        "Could not check",
    ]


def _pdftext(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode("utf-8")


needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext missing (Debian poppler-utils)"
)


@needs_pdftotext
def test_pdf_has_chinese_units_and_failures(configs: Path, tmp_path: Path) -> None:
    from govnet.report.pdf import engines

    if "weasyprint" not in engines():
        pytest.skip("WeasyPrint cannot load (Debian libpango-1.0-0 missing)")
    out = tmp_path / "a.pdf"
    result = audit(configs, "-f", "pdf", "-o", str(out))
    assert result.exit_code == 3, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    text = _pdftext(out)
    assert "网络安全合规检查通报" in text and "青石镇政府" in text and "政务内网" in text
    assert "telnet server enable" in text and "整改建议" in text and "ext-acc-town" in text


@needs_pdftotext
def test_pdf_and_screenshot_through_chromium(configs: Path, tmp_path: Path) -> None:
    from govnet.report.pdf import chromium, html_to_pdf, screenshot

    if chromium() is None:
        pytest.skip("Chromium not installed (Debian package chromium)")
    html = audit(configs, "-f", "html").stdout
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(html_to_pdf(html, engine="chromium"))
    text = _pdftext(pdf)
    assert "青石镇政府" in text and "telnet server enable" in text
    png = tmp_path / "a.png"
    screenshot(html, png, 1000, 1400)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1000, 1400) and len(data) > 20_000  # text drawn, not blank


# ---------------------------------------------------------------------------- --notify


@pytest.fixture
def robots(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RobotReceiver, RobotReceiver]]:
    monkeypatch.setenv("DING_TOKEN", TOKEN)
    monkeypatch.setenv("DING_SECRET", SECRET)
    monkeypatch.setenv("WECOM_KEY", TOKEN)
    monkeypatch.setenv("MAIL_PASSWORD", "mail-pass-77")
    ding = RobotReceiver("dingtalk", TOKEN, SECRET, keyword="通报")
    wecom = RobotReceiver("wecom", TOKEN)
    yield ding, wecom
    ding.close()
    wecom.close()


@pytest.fixture(scope="module")
def mail() -> Iterator[tuple[MailReceiver, Path]]:
    with tls_mail_receiver() as got:
        yield got


def rules_file(
    tmp_path: Path, ding: RobotReceiver, wecom: RobotReceiver, port: int, cafile: Path
) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        notifiers:
          - {{kind: dingtalk, name: duty-ding, url: '{ding.url}', token: env:DING_TOKEN,
              secret: env:DING_SECRET, keyword: 通报, timezone: Asia/Shanghai}}
          - {{kind: wecom, name: duty-wecom, url: '{wecom.url}', token: env:WECOM_KEY}}
          - {{kind: email, name: leaders, smtp: '127.0.0.1:{port}', security: starttls,
              username: duty, password: env:MAIL_PASSWORD, sender: govnet@city.gov.cn,
              to: [leader@city.gov.cn], cafile: '{cafile}', timeout: 10}}
          - {{kind: wecom, name: dead, url: 'http://127.0.0.1:9/x', token: env:WECOM_KEY,
              timeout: 2}}
        rules:
          - {{id: x, title: {{en: a, zh: b}}, severity: high, state: ups_on_battery}}
        """),
        encoding="utf-8",
    )
    return path


def test_notify_sends_the_summary_to_robots_and_mail_with_attachments(
    configs: Path,
    tmp_path: Path,
    robots: tuple[RobotReceiver, RobotReceiver],
    mail: tuple[MailReceiver, Path],
) -> None:
    ding, wecom = robots
    receiver, cafile = mail
    receiver.mails.clear()
    rules = rules_file(tmp_path, ding, wecom, receiver.port, cafile)
    for channel in ("duty-ding", "duty-wecom", "leaders"):
        result = audit(
            configs,
            "-q",
            "-f",
            "json",
            "-o",
            str(tmp_path / "a.json"),
            "--notify",
            channel,
            "--notify-rules",
            str(rules),
        )
        assert result.exit_code == 3, result.output  # the audit's own code is kept
    assert not ding.rejected and len(ding.received) == 1  # signed, keyword present
    [text] = ding.texts()
    assert "【合规通报】总体合规率" in text and "青石镇政府" in text and "76.9%" in text
    assert "政务内网 93.8%" in text and "高 3" in text and "ext-acc-town" in text
    [content] = wecom.texts()
    assert "单位排名" in content and "青石镇政府" in content
    [message] = receiver.mails
    assert isinstance(message, EmailMessage)
    assert message["Subject"].startswith("【合规通报】总体合规率")
    names = sorted(n for p in message.walk() if (n := p.get_filename()))
    assert re.fullmatch(r"govnet-audit-\S+\.html", names[0])
    assert names[1].endswith(".xlsx")
    [attached] = [p for p in message.walk() if (p.get_filename() or "").endswith(".html")]
    assert "网络安全合规检查通报" in attached.get_content()
    body = message.get_body(("plain",))
    assert body is not None and "完整报告见附件" in body.get_content()


def test_notify_failures_are_one_line_and_keep_the_audit_code(
    configs: Path,
    tmp_path: Path,
    robots: tuple[RobotReceiver, RobotReceiver],
    mail: tuple[MailReceiver, Path],
) -> None:
    ding, wecom = robots
    rules = rules_file(tmp_path, ding, wecom, mail[0].port, mail[1])
    dead = audit(configs, "-f", "json", "--notify", "dead", "--notify-rules", str(rules), lang="en")
    assert dead.exit_code == 3
    lines = dead.stderr.strip().splitlines()
    assert lines[-1].startswith("govnet: --notify dead: not delivered: wecom: cannot reach")
    assert len([x for x in lines if "not delivered" in x]) == 1
    unknown = audit(configs, "--notify", "nope", "--notify-rules", str(rules), lang="en")
    assert unknown.exit_code == 2 and "channels: duty-ding, duty-wecom, leaders, dead" in (
        unknown.stderr
    )
    # a clean audit whose report did not arrive is not a clean run: 0 becomes 3
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copy(configs / "int-core-1.cfg", clean / "int-core-1.cfg")
    ok = CliRunner().invoke(
        cli,
        [
            "-i",
            str(LAB_INVENTORY),
            "--lang",
            "en",
            "audit",
            "--from-dir",
            str(clean),
            "--limit",
            "int-core-1",
            "-f",
            "json",
            "--notify",
            "dead",
            "--notify-rules",
            str(rules),
        ],
    )
    assert ok.exit_code == 3 and "not delivered" in ok.stderr
    wecom.mode = "errcode"
    wecom.errcode = 93000
    refused = audit(configs, "-f", "json", "--notify", "duty-wecom", "--notify-rules", str(rules))
    assert refused.exit_code == 3 and "通报未送达：wecom：errcode 93000" in refused.stderr


# ------------------------------------------- the same shape for isolation, antivirus, availability


def test_isolation_av_and_availability_bulletins(configs: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["-i", str(LAB_INVENTORY), "--lang", "zh", *args])

    export = ROOT / "inventory" / "lab-data" / "av-export.csv"
    assert run("av", "import", str(export), "-s", "qianxin", "-q").exit_code == 0
    html = run("av", "status", "-f", "html")
    assert html.exit_code == 1, html.output  # pc-town-02's signatures are 60 days old
    page = html.stdout
    assert "终端防病毒情况通报" in page and "按单位统计（由差到好）" in page
    problems = page.split("存在问题的终端")[1].split("按单位统计")[0]
    assert "pc-town-02" in problems and "青石镇政府" in problems and "病毒库过期" in problems
    assert "生成时间 " in page and "CST (UTC+08:00)" in page and "<script" not in page
    out = tmp_path / "av.xlsx"
    assert run("av", "status", "-f", "xlsx", "-o", str(out)).exit_code == 1
    wb = load_workbook(out)
    assert wb.sheetnames[:5] == ["概览", "问题终端", "按单位", "按地区", "按网络"]
    units = list(wb["按单位"].iter_rows(values_only=True))
    assert units[0][:3] == ("名称", "终端数", "覆盖率") and units[1][0] == "青石镇政府"
    assert wb["按单位"]["C2"].number_format == "0.0%" and wb["按单位"].freeze_panes == "A2"

    iso = tmp_path / "iso.xlsx"
    result = run("isolation", "report", "-f", "xlsx", "-o", str(iso))
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(iso)["检查结论"].iter_rows(values_only=True))
    assert rows[0][:3] == ("网络对", "检查角度", "结论")
    assert rows[1][0] == "政务外网 ↔ 政务内网" and rows[1][2] == "无数据"
    iso_html = run("isolation", "report", "-f", "html").stdout
    assert "网络隔离检查通报" in iso_html and "确认隔离的网络对" in iso_html

    avail = tmp_path / "avail.xlsx"
    result = run("report", "availability", "--period", "day", "-f", "xlsx", "-o", str(avail))
    assert result.exit_code == 0, result.output
    wb = load_workbook(avail)
    assert wb.sheetnames[:3] == ["概览", "按网络", "按地区"]
    head = next(wb["按网络"].iter_rows(values_only=True))
    assert head[:4] == ("排名", "名称", "说明", "可用率")


def test_av_and_isolation_notify(
    configs: Path,
    tmp_path: Path,
    robots: tuple[RobotReceiver, RobotReceiver],
    mail: tuple[MailReceiver, Path],
) -> None:
    ding, wecom = robots
    receiver, cafile = mail
    receiver.mails.clear()
    rules = rules_file(tmp_path, ding, wecom, receiver.port, cafile)

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["-i", str(LAB_INVENTORY), "--lang", "en", "-q", *args])

    export = ROOT / "inventory" / "lab-data" / "av-export.csv"
    assert run("av", "import", str(export), "-s", "qianxin").exit_code == 0
    av = run("av", "status", "-f", "json", "--notify", "duty-ding", "--notify-rules", str(rules))
    assert av.exit_code == 1, av.output  # the command's own code
    [text] = ding.texts()
    assert "终端防病毒情况通报" in text and "pc-town-02" in text and "青石镇政府" in text
    iso = run(
        "isolation", "report", "-f", "json", "--notify", "leaders", "--notify-rules", str(rules)
    )
    assert iso.exit_code == 0, iso.output
    [message] = receiver.mails
    assert "网络隔离检查通报" in message["Subject"]
    names = sorted(n for p in message.walk() if (n := p.get_filename()))
    assert names == ["govnet-isolation.html", "govnet-isolation.xlsx"]
    dead = run(
        "isolation", "report", "-f", "json", "--notify", "dead", "--notify-rules", str(rules)
    )
    assert dead.exit_code == 3 and "not delivered" in dead.stderr  # a clean 0 becomes 3


def test_availability_bulletin_html_ranks_units_by_chinese_name_and_sets_no_data_apart() -> None:
    """``report availability -f html`` is the 通报: title, period, scope, one overall figure,
    units by Chinese name worst first, devices never polled apart, footer, A4."""
    from govnet.availability.sla import build_report
    from govnet.inventory import load_inventory
    from govnet.report.bulletins import availability_document
    from govnet.report.document import to_html as document_html
    from govnet.store.availability import Span

    inv = load_inventory(LAB_INVENTORY)
    h, start = 3600.0, 1_780_000_000.0
    end = start + 10 * h
    spans = [
        Span("device", "int-acc-town", "up", start, start + 4 * h, 120.0),  # 青石镇政府: 2 h down
        Span("device", "int-acc-town", "down", start + 4 * h, start + 6 * h, 120.0),
        Span("device", "int-acc-town", "up", start + 6 * h, end, 120.0),
        Span("device", "int-acc-west", "up", start, end, 120.0),  # 西山县政府办: all up
        Span("service", "portal", "up", start, end, 120.0),
    ]
    devices = ["int-acc-town", "int-acc-west", "ext-acc-town"]  # ext-acc-town: never polled
    report = build_report(inv, spans, start, end, "day", "Asia/Shanghai", devices, ["portal"])
    page = document_html(availability_document(report, "zh", ("unit", "device")))

    assert (
        "<h1>网络与业务系统可用性通报</h1>" in page
        and "统计周期：" in page
        and "CST (UTC+08:00)" in page
    )
    assert "设备 3 台，业务系统 1 个" in page  # the scope
    overall = re.search(r"总体（设备与业务系统）</div><div class=\"v [a-z]+\">([0-9.]+%)", page)
    assert overall and overall[1] == "93.333%"  # 28 h up of 30 h observed; ext-acc-town not counted
    units = page.split("<h2>按单位</h2>")[1].split("</table>")[0]
    assert units.index("青石镇政府") < units.index("西山县政府办")  # worst first, Chinese names
    unchecked = page.split("<h2>无法统计（无数据，不计入）</h2>")[1].split("</table>")[0]
    assert "ext-acc-town" in unchecked and "统计周期内无采样" in unchecked
    assert "ext-acc-town" not in page.split("<h2>按设备</h2>")[1].split("</table>")[0]
    assert "govnet " in page.split("<footer>")[1] and "生成时间" in page.split("<footer>")[1]
    assert "size: A4" in page and "<script" not in page
