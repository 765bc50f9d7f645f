"""The nightly 通报 sent to people: a summary message for DingTalk, WeCom or e-mail.

The summary says the overall and per-zone compliance, the worst units with their failures
and could-not-check counts, and the failures per severity; an e-mail carries the HTML and
XLSX reports as attachments (robots cannot take files, they get the markdown only). It is a
:class:`~govnet.monitor.channels.Message` so the alert senders deliver it unchanged.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import Any

from govnet.i18n import tr
from govnet.monitor.channels import Message
from govnet.secrets import REDACTOR

WORST_UNITS = 5


def _md(text: str) -> str:
    out = str(text).replace("\r", " ").replace("\n", " ")
    for ch in "\\`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out


@dataclass(frozen=True)
class ReportMessage(Message):
    """A report summary (not alerts): ``bulletin`` is :func:`govnet.report.bulletin.build`'s
    model; ``items`` stays empty."""

    bulletin: dict[str, Any] = field(default_factory=dict)

    def title(self) -> str:
        b = self.bulletin
        total = b["total"]
        return tr(
            self.lang,
            "Compliance bulletin: {share} overall, {failed} failed, {unchecked} "
            "devices not checked",
            share=total["share_text"],
            failed=total["failed"],
            unchecked=len(b["unchecked"]),
        )

    def _lines(self) -> list[tuple[str, str]]:
        """(kind, text) lines: h = heading, p = paragraph, li = list item."""
        b, lang = self.bulletin, self.lang

        def t(en: str, /, **params: object) -> str:
            return tr(lang, en, **params)

        sep = t(", ")
        out: list[tuple[str, str]] = [("h", self.title())]
        out.append(("p", t("Run ") + b["run_id"] + t(", ") + t("period ") + b["period"]["start"]))
        zones = sep.join(f"{z['label']} {z['share_text']}" for z in b["zones"])
        out.append(("p", t("Compliance per zone: ") + zones))
        sev = sep.join(f"{s['label']} {s['count']}" for s in b["failures"]) or t("none")
        out.append(("p", t("Failures by severity: ") + sev))
        out.append(("h2", t("Units, worst first")))
        for i, u in enumerate(b["units"][:WORST_UNITS], start=1):
            out.append(
                (
                    "li",
                    t(
                        "{i}. {label}: {share_text} (failed {failed}, could not check {unchecked})",
                        i=i,
                        label=u["label"],
                        share_text=u["share_text"],
                        failed=u["failed"],
                        unchecked=u["unchecked"],
                    ),
                )
            )
        if b["unchecked"]:
            names = sep.join(d["device"] for d in b["unchecked"][:10])
            more = len(b["unchecked"]) - 10
            tail = (
                t(" and {more} more (of {total})", more=more, total=len(b["unchecked"]))
                if more > 0
                else ""
            )
            out.append(("p", t("Not checked (not counted as failures): ") + names + tail))
        if self.attachments:
            out.append(
                ("p", t("Full report attached: ") + sep.join(p.name for p in self.attachments))
            )
        out.append(("p", f"govnet {b['version']} · {b['generated']}"))
        return out

    def markdown(self, keyword: str = "") -> str:
        parts = []
        for kind, text in self._lines():
            if kind == "h":
                parts += [f"### {_md(text)}", ""]
            elif kind == "h2":
                parts += ["", f"**{_md(text)}**", ""]
            elif kind == "li":
                parts.append(f"- {_md(text)}")
            else:
                parts += [_md(text), ""]
        body = "\n".join(parts)
        if keyword and keyword not in body:
            body += "\n\n" + keyword
        return REDACTOR(body)

    def text(self) -> str:
        lines = []
        for kind, text in self._lines():
            lines.append(f"  {text}" if kind == "li" else text)
            if kind in ("h", "h2"):
                lines.append("")
        return REDACTOR("\n".join(lines))

    def html(self) -> str:
        body = []
        in_list = False
        for kind, text in self._lines():
            if kind == "li" and not in_list:
                body.append("<ol>")
                in_list = True
            if kind != "li" and in_list:
                body.append("</ol>")
                in_list = False
            esc = html.escape(text)
            tags = {"h": "h3", "h2": "h4", "li": "li"}
            if kind == "li":
                esc = esc.split(". ", 1)[-1]
            tag = tags.get(kind, "p")
            body.append(f"<{tag}>{esc}</{tag}>")
        if in_list:
            body.append("</ol>")
        return REDACTOR(
            "<!doctype html><html><head><meta charset='utf-8'></head><body style=\"font-family:"
            "'Microsoft YaHei','PingFang SC','Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif\">"
            + "".join(body)
            + "</body></html>"
        )


@dataclass(frozen=True)
class DocumentMessage(Message):
    """The summary of a :class:`~govnet.report.document.Document` (isolation, antivirus):
    its headline figures and the first rows of its first section."""

    document: Any = None
    rows_shown: int = 8

    def title(self) -> str:
        doc = self.document
        figures = "，".join(f"{k} {v}" for k, v, _c in doc.figures[:2])
        if self.lang == "zh":
            return f"【{doc.title}】{figures}"
        return f"{doc.title}: {figures.replace('，', ', ')}"

    def _lines(self) -> list[tuple[str, str]]:
        doc, lang = self.document, self.lang
        sep = tr(lang, ", ")
        out: list[tuple[str, str]] = [("h", self.title())]
        out += [("p", f"{k}{tr(lang, ': ')}{v}") for k, v in doc.meta]
        out.append(("p", sep.join(f"{k} {v}" for k, v, _c in doc.figures)))
        if doc.sections:
            section = doc.sections[0]
            out.append(("h2", section.title))
            shown = section.rows[: self.rows_shown]
            for r in shown:
                cells = [str(r.get(c.key) or "") for c in section.columns[:4]]
                out.append(("li", " · ".join(x for x in cells if x)))
            if not shown:
                out.append(("p", section.empty or tr(lang, "Nothing to report.")))
            more = len(section.rows) - len(shown)
            if more > 0:
                out.append(("p", tr(lang, "and {more} more", more=more)))
        if self.attachments:
            names = sep.join(p.name for p in self.attachments)
            out.append(("p", tr(lang, "Full report attached: ") + names))
        out.append(("p", f"govnet · {self.when(time.time())}"))
        return out

    markdown = ReportMessage.markdown
    text = ReportMessage.text
    html = ReportMessage.html
