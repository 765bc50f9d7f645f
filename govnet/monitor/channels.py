"""Where the people on duty read alerts: DingTalk (钉钉) and WeCom (企业微信) group robots, and
e-mail. One message may carry several alerts that fired together.

DingTalk custom robot (open.dingtalk.com, "自定义机器人接入"): POST JSON
``{"msgtype": "markdown", "markdown": {"title", "text"}}`` to ``…/robot/send?access_token=T``;
with 加签 the query also carries ``timestamp`` (ms) and ``sign`` =
urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))); a robot with a
keyword (自定义关键词) drops messages that do not contain it. The reply is
``{"errcode": 0, "errmsg": "ok"}``; anything else is a failure (310000 = bad signature or
keyword, 130101 = over 20 messages a minute).

WeCom group robot (developer.work.weixin.qq.com, "群机器人配置说明"): POST
``{"msgtype": "markdown", "markdown": {"content"}}`` to ``…/webhook/send?key=K``; the reply
carries ``errcode`` likewise (45009 = over the rate limit).

E-mail: SMTP with STARTTLS or implicit TLS (or none, for a relay on the same host), optional
login; a text and an HTML part, attachments for report mails.

Senders are synchronous and raise :class:`DeliveryError`; the outbox retries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from govnet.core.vocabulary import Severity
from govnet.i18n import N_, NP_, _, tr
from govnet.secrets import REDACTOR

STATUS = {
    "firing": N_("FIRING"),
    "resolved": N_("RESOLVED"),
    "repeat": N_("STILL FIRING"),
    "test": N_("TEST"),
}


class DeliveryError(Exception):
    """A message did not reach its channel; ``retry`` says whether trying again can help."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Item:
    """One alert in a message (a notice as stored in the outbox)."""

    status: str  # firing | resolved | repeat | test
    severity: str
    rule: str
    device: str
    instance: str
    title_en: str
    title_zh: str
    message: str
    opened: float
    resolved: float | None = None
    zone: str = ""
    site: str = ""
    key: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Message:
    """What one delivery sends: the items, and whether they are late (queued while the
    channel was down)."""

    items: tuple[Item, ...]
    lang: str = "zh"
    timezone: str = ""
    late_by: float = 0.0  # seconds between the oldest item's queueing and this delivery
    attachments: tuple[Path, ...] = field(default_factory=tuple)

    def _tz(self) -> Any:
        return ZoneInfo(self.timezone) if self.timezone else datetime.now().astimezone().tzinfo

    def when(self, ts: float) -> str:
        """Local time to the second, with its zone (``2026-12-06 08:45:12 CST (UTC+08:00)``)."""
        local = datetime.fromtimestamp(ts, self._tz())
        offset = local.strftime("%z")
        return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"

    def _title_of(self, item: Item) -> str:
        zh = self.lang == "zh"
        return ((item.title_zh or item.title_en) if zh else item.title_en) or item.rule

    def _status(self, item: Item) -> str:
        return tr(self.lang, STATUS.get(item.status, STATUS["firing"]))

    def title(self) -> str:
        worst = max(self.items, key=lambda i: _rank(i.severity))
        more = len(self.items) - 1
        tail = (
            tr(self.lang, " and {more} more ({total} in all)", more=more, total=len(self.items))
            if more
            else ""
        )
        return tr(
            self.lang,
            "{status} · {severity} · {name} ({device}){tail}",
            status=self._status(worst),
            severity=severity_word(self.lang, worst.severity),
            name=self._title_of(worst),
            device=worst.device,
            tail=tail,
        )

    def markdown(self, keyword: str = "") -> str:
        lang = self.lang
        lines = [f"### {_md(self.title())}", ""]
        colon = tr(lang, ": ")
        if self.late_by >= 60:
            said = tr(lang, "Late: queued while the channel was down {age}", age=_age(self.late_by))
            lines += [f"> {said}", ""]
        for item in sorted(self.items, key=lambda i: (-_rank(i.severity), i.opened)):
            where = f"{item.device}:{item.instance}" if item.instance else item.device
            scope = " / ".join(x for x in (item.site, item.zone) if x)
            sev = severity_word(lang, item.severity)
            lines.append(
                f"- **{_md(self._status(item))} · {_md(sev)} · {_md(self._title_of(item))}**"
            )
            lines.append(
                f"  - {tr(lang, 'Device')}{colon}{_md(where)}"
                + (tr(lang, " ({scope})", scope=_md(scope)) if scope else "")
            )
            since = tr(lang, NP_("alert message", "Since"))
            lines.append(f"  - {since}{colon}{self.when(item.opened)}")
            if item.resolved is not None:
                resolved = tr(lang, NP_("alert message", "Resolved"))
                lines.append(f"  - {resolved}{colon}{self.when(item.resolved)}")
            if item.message:
                lines.append(f"  - {tr(lang, 'Detail')}{colon}{_md(item.message)}")
            rule = tr(lang, NP_("alert message", "Rule"))
            lines.append(f"  - {rule}{colon}{_md(item.rule)}")
        if keyword and keyword not in "\n".join(lines):
            lines += ["", keyword]
        lines += ["", f"govnet · {self.when(time.time())}"]
        return REDACTOR("\n".join(lines))

    def text(self) -> str:
        body = self.markdown().replace("### ", "").replace("**", "").replace("> ", "")
        return body

    def html(self) -> str:
        rows = []
        lang = self.lang
        for item in sorted(self.items, key=lambda i: (-_rank(i.severity), i.opened)):
            sev = severity_word(lang, item.severity)
            where = f"{item.device}:{item.instance}" if item.instance else item.device
            cells = [
                self._status(item),
                sev,
                self._title_of(item),
                where,
                self.when(item.opened),
                item.message,
            ]
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        heads = [
            tr(lang, h)
            for h in (
                N_("Status"),
                N_("Severity"),
                N_("Alert"),
                N_("Device"),
                NP_("alert table", "Since"),
                N_("Detail"),
            )
        ]
        head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
        return REDACTOR(
            "<!doctype html><html><head><meta charset='utf-8'></head><body style=\"font-family:"
            "'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif\">"
            f"<h3>{html.escape(self.title())}</h3><table border='1' cellpadding='4' "
            f"style='border-collapse:collapse'><tr>{head}</tr>{''.join(rows)}</table></body></html>"
        )


def severity_word(lang: str, severity: str) -> str:
    """An alert's severity for people: in Chinese its label from the one table
    (core.vocabulary.SEVERITY_LABELS: 严重/高/中/低, as findings), in English its value."""
    if lang != "zh":
        return severity
    try:
        return Severity(severity).label(lang)
    except ValueError:
        return severity


def _rank(severity: str) -> int:
    return {"critical": 3, "high": 2, "medium": 1}.get(severity, 0)


def _md(text: str) -> str:
    """Device and rule text as plain text inside markdown (no links, headings or emphasis)."""
    out = text.replace("\r", " ").replace("\n", " ")
    for ch in "\\`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out


def _age(seconds: float) -> str:
    from govnet.durations import format_duration

    return format_duration(seconds, parts=2)


# ----------------------------------------------------------------------------- robots


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}")), URL-encoded."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query += list(extra.items())
    encoded = "&".join(
        f"{urllib.parse.quote_plus(k)}={v if k == 'sign' else urllib.parse.quote_plus(v)}"
        for k, v in query
    )
    return urllib.parse.urlunsplit(parts._replace(query=encoded))


def _post_json(url: str, body: dict[str, Any], timeout: float, what: str) -> dict[str, Any]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        retry = exc.code >= 500 or exc.code == 429
        raise DeliveryError(
            _("{what}: HTTP {code}", what=what, code=exc.code), retry=retry
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(
            _("{what}: cannot reach the robot: {reason}", what=what, reason=reason)
        ) from None
    try:
        reply = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DeliveryError(
            _("{what}: the reply is not JSON ({raw!r})", what=what, raw=raw[:80])
        ) from None
    if not isinstance(reply, dict):
        raise DeliveryError(_("{what}: unexpected reply {raw!r}", what=what, raw=raw[:80]))
    return reply


def _check_errcode(reply: dict[str, Any], what: str, rate_codes: Sequence[int]) -> None:
    code = reply.get("errcode")
    if code == 0:
        return
    message = str(reply.get("errmsg", ""))[:200]
    # over the rate limit: try again later; anything else (bad key, signature, keyword) will
    # not get better by itself, but the message is kept and retried slowly all the same
    raise DeliveryError(
        _("{what}: errcode {code}: {message}", what=what, code=code, message=message),
        retry=code in rate_codes,
    )


@dataclass(frozen=True)
class DingTalk:
    url: str  # the robot's webhook, access_token included (resolved from its reference)
    secret: str = ""  # 加签 secret (SEC…), resolved
    keyword: str = ""
    timeout: float = 10.0

    def send(self, message: Message) -> None:
        extra: dict[str, str] = {}
        if self.secret:
            stamp = int(time.time() * 1000)
            extra = {"timestamp": str(stamp), "sign": dingtalk_sign(self.secret, stamp)}
        body = {
            "msgtype": "markdown",
            "markdown": {"title": message.title(), "text": message.markdown(self.keyword)},
        }
        reply = _post_json(_with_query(self.url, extra), body, self.timeout, "dingtalk")
        _check_errcode(reply, "dingtalk", rate_codes=(130101,))


@dataclass(frozen=True)
class WeCom:
    url: str  # the robot's webhook, key included (resolved from its reference)
    timeout: float = 10.0

    def send(self, message: Message) -> None:
        content = message.markdown()
        if len(content.encode("utf-8")) > 4096:  # WeCom's markdown limit
            content = content.encode("utf-8")[:4000].decode("utf-8", errors="ignore") + "\n…"
        body = {"msgtype": "markdown", "markdown": {"content": content}}
        reply = _post_json(self.url, body, self.timeout, "wecom")
        _check_errcode(reply, "wecom", rate_codes=(45009,))


@dataclass(frozen=True)
class Email:
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    security: str = "starttls"  # starttls | ssl | none
    username: str = ""
    password: str = ""
    timeout: float = 20.0
    cafile: str = ""  # a private CA for the relay's certificate (default: the system's)

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile or None)

    def build(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.title()
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.to)
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or "govnet")
        mail.set_content(message.text(), charset="utf-8")
        mail.add_alternative(message.html(), subtype="html", charset="utf-8")
        for path in message.attachments:
            kind = {
                ".html": ("text", "html"),
                ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                ".pdf": ("application", "pdf"),
                ".csv": ("text", "csv"),
                ".json": ("application", "json"),
            }.get(path.suffix.lower(), ("application", "octet-stream"))
            if kind[0] == "text":
                text = path.read_text(encoding="utf-8", errors="replace")
                mail.add_attachment(text, subtype=kind[1], filename=path.name)
            else:
                mail.add_attachment(
                    path.read_bytes(), maintype=kind[0], subtype=kind[1], filename=path.name
                )
        return mail

    def send(self, message: Message) -> None:
        mail = self.build(message)
        try:
            smtp: smtplib.SMTP
            if self.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.security == "starttls":
                    smtp.starttls(context=self._context())
                if self.username:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                _(
                    "email: login refused by {host}: {smtp_code}",
                    host=self.host,
                    smtp_code=exc.smtp_code,
                )
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                _(
                    "email: every recipient refused: {recipients}",
                    recipients=", ".join(exc.recipients),
                ),
                retry=False,
            ) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise DeliveryError(
                _("email: {host}:{port}: {exc}", host=self.host, port=self.port, exc=exc)
            ) from None
        if refused:
            raise DeliveryError(
                _("email: refused for {refused}", refused=", ".join(refused)), retry=False
            )
