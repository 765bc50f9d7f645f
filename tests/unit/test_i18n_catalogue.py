"""The message catalogue is complete: every msgid the code says (extracted exactly as
``make messages`` does, from babel.cfg and the Makefile's keywords) has Chinese, with the
same placeholders, and the shipped .mo is the compiled .po."""

from __future__ import annotations

import ast
import re
import shlex
import string
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from govnet import i18n
from tests.conftest import ROOT

if TYPE_CHECKING:
    from babel.messages.extract import _Keyword

PO = ROOT / "govnet" / "locale" / "zh_CN" / "LC_MESSAGES" / "govnet.po"
MO = PO.with_suffix(".mo")

Key = tuple[str | None, str]  # (context, msgid)


def _keywords() -> dict[str, _Keyword]:
    """The Makefile's BABEL_KEYWORDS (the one list ``make messages`` uses)."""
    line = next(
        ln for ln in (ROOT / "Makefile").read_text().splitlines() if ln.startswith("BABEL_KEYWORDS")
    )
    words = shlex.split(line.split(":=", 1)[1])
    specs = [w for w in words if w != "-k"]
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords(specs))
    return keywords


@cache
def extracted() -> dict[Key, str]:
    """Every msgid in govnet's code and templates → where it is said (file:line)."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    out: dict[Key, str] = {}
    for path, line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=_keywords()
    ):
        msgid = message if isinstance(message, str) else message[0]
        out.setdefault((context, msgid), f"{path}:{line}")
    return out


@cache
def catalogue() -> dict[Key, tuple[str, bool]]:
    """(context, msgid) → (first msgstr, fuzzy) of the zh .po."""
    with PO.open("rb") as f:
        cat = read_po(f, locale="zh_CN")
    out = {}
    for m in cat:
        if not m.id:
            continue
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        text = first(m.string)
        out[(m.context, msgid)] = (text or "", m.fuzzy)
    return out


def first(value: str | Sequence[str] | None) -> str:
    """A message's text: a plural's first form; a catalogue entry always has one."""
    assert value is not None
    return value if isinstance(value, str) else value[0]


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_the_code_says_hundreds_of_messages() -> None:
    found = extracted()
    assert len(found) > 500
    # the kinds of call the Makefile's keywords cover, each seen at least once
    assert (None, "{n} error in {what}") in found  # ngettext (errors.py)
    assert ("severity", "Critical") in found  # NP_ with a context
    assert (None, "Device") in found  # Column / t headers
    assert (None, "1. Overall compliance") in found  # the HTML template


def test_every_msgid_has_chinese() -> None:
    zh = catalogue()
    missing = [
        f"{where}: {msgid!r}" + (f" (context {ctx!r})" if ctx else "")
        for (ctx, msgid), where in sorted(extracted().items(), key=lambda kv: kv[1])
        if not zh.get((ctx, msgid), ("", False))[0] or zh[(ctx, msgid)][1]
    ]
    assert not missing, (
        f"{len(missing)} message(s) without a Chinese translation (run 'make messages', "
        "then translate in govnet/locale/zh_CN/LC_MESSAGES/govnet.po):\n" + "\n".join(missing)
    )


def test_placeholders_are_the_same_in_both_languages() -> None:
    wrong = []
    for (_ctx, msgid), (text, _fuzzy) in catalogue().items():
        try:
            same = fields(msgid) == fields(text)
        except ValueError as exc:  # an unbalanced brace
            same, text = False, f"{text} ({exc})"
        if text and not same:
            wrong.append(f"{msgid!r} → {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_the_shipped_mo_is_the_compiled_po() -> None:
    with MO.open("rb") as f:
        mo = read_mo(f)
    compiled = {
        (m.context, m.id if isinstance(m.id, str) else m.id[0]): first(m.string) for m in mo if m.id
    }
    expected = {key: text for key, (text, fuzzy) in catalogue().items() if text and not fuzzy}
    assert compiled == expected, "govnet.mo is stale: run 'make messages'"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh", "设备清单中有 2 处错误"), ("en", "2 errors in inventory")],
)
def test_a_counted_message_in_each_language(lang: str, expected: str) -> None:
    said = i18n.ntr(
        lang, "{n} error in {what}", "{n} errors in {what}", 2, what=i18n.tr(lang, "inventory")
    )
    assert said == expected


def test_context_picks_the_chinese_word() -> None:
    from govnet.i18n import NP_

    assert i18n.tr("zh", NP_("severity", "Critical")) == "严重"  # findings' and alerts' alike
    assert i18n.tr("zh", "Terminals") != i18n.tr("zh", NP_("bulletins", "Terminals"))
    assert i18n.tr("en", NP_("severity", "Critical")) == "Critical"


def test_no_chinese_literal_left_in_the_code_that_people_read() -> None:
    """Chinese lives in the catalogue; what is left in the code is input vocabulary (CSV
    headers and words the parsers accept), lab data and docstrings."""
    allowed = {
        "govnet/av/parse.py",  # the Chinese words antivirus exports use (是/否, 网络版, …)
        "govnet/av/exports.py",  # a console's Chinese column names
        "govnet/inventory/loader.py",  # the Chinese CSV headers the terminal import accepts
        "govnet/lab/http.py",  # the simulated services' pages
        "govnet/starter.py",  # the example inventory 'govnet init' writes
    }
    left: dict[str, list[int]] = {}
    for path in sorted((ROOT / "govnet").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        if rel not in allowed:
            for number in _chinese_literals(path, {msgid for _ctx, msgid in extracted()}):
                left.setdefault(rel, []).append(number)
    assert not left, f"Chinese string literals outside the catalogue: {left}"


def _chinese_literals(path: Path, msgids: set[str]) -> list[int]:
    """Lines of string constants with Han characters, docstrings and msgids (an English
    text naming 等保) not counted."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docs.add(id(body[0].value))
    return sorted(
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and id(n) not in docs
        and n.value not in msgids
        and re.search(r"[\u4e00-\u9fff]", n.value)
    )


def test_the_package_data_carries_the_catalogue() -> None:
    cfg = (ROOT / "setup.cfg").read_text()
    assert "locale/*/LC_MESSAGES/*" in cfg
    assert Path(i18n.locale_dir(), "zh_CN", "LC_MESSAGES", "govnet.mo").is_file()
