"""What people read, in their language: one gettext message catalogue.

Code says its messages in English with named placeholders, and the catalogue
(``govnet/locale/zh_CN/LC_MESSAGES/govnet.po``, compiled to ``govnet.mo`` by ``make messages``)
holds the Chinese. Identifiers stay ASCII.

- ``tr(lang, "backup {run_id}", run_id=rid)``: in a language the caller was given (reports
  take ``lang``);
- ``_("{host}: no change", host=h)``: in this process's language (errors, warnings, alerts,
  findings' messages), which the CLI sets from ``--lang``, then the config file's ``lang:``,
  then GOVNET_LANG / LC_ALL / LC_MESSAGES / LANG (:func:`set_lang`);
- ``trp(lang, context, msgid)`` where one English word has two Chinese ones;
- ``ntr`` / ``ngettext`` for counted phrases; ``N_`` marks a msgid kept in a table and
  translated where it is shown.

``make messages`` extracts every msgid (pybabel, ``babel.cfg``) into ``govnet.pot``, updates
the ``.po`` and compiles the ``.mo``; tests/unit/test_i18n_catalogue.py fails when a msgid has
no Chinese or a translation's placeholders differ from its msgid's.
"""

from __future__ import annotations

import gettext as _gettext
import os
from functools import cache
from pathlib import Path
from typing import Literal

Lang = Literal["zh", "en"]
DOMAIN = "govnet"
LOCALES: dict[str, str] = {"zh": "zh_CN"}  # govnet's language → the catalogue's folder


def default_lang() -> Lang:
    """From GOVNET_LANG, then LC_ALL / LC_MESSAGES / LANG (zh_CN.UTF-8 → zh); English otherwise."""
    for var in ("GOVNET_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def locale_dir() -> str:
    """The folder holding ``<locale>/LC_MESSAGES/govnet.mo`` (package data beside this module;
    govnet is installed unzipped, and importlib.resources would cost ~0.1 s of start-up)."""
    return str(Path(__file__).with_name("locale"))


@cache
def catalogue(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of ``lang``; English (the msgids themselves) needs none."""
    folder = LOCALES.get(lang)
    if folder is None:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, locale_dir(), languages=[folder], fallback=True)


_current: Lang = default_lang()


def set_lang(lang: str) -> None:
    """This process's language (the CLI calls it once it knows --lang / config / LANG)."""
    global _current
    _current = "zh" if lang == "zh" else "en"


def current_lang() -> Lang:
    return _current


def _format(text: str, params: dict[str, object]) -> str:
    return text.format(**params) if params else text


class Msgid(str):
    """A msgid that carries its context (:func:`NP_`), so a table can hold it as a str."""

    context: str = ""


def tr(lang: str, msgid: str, /, **params: object) -> str:
    """``msgid`` in ``lang``, its ``{name}`` placeholders filled from ``params``."""
    context = getattr(msgid, "context", "")
    if context:
        return _format(catalogue(lang).pgettext(context, str(msgid)), params)
    return _format(catalogue(lang).gettext(msgid), params)


def ntr(lang: str, singular: str, plural: str, n: int, /, **params: object) -> str:
    """The singular or plural form for ``n`` (``{n}`` is filled too)."""
    return _format(catalogue(lang).ngettext(singular, plural, n), {"n": n, **params})


def trp(lang: str, context: str, msgid: str, /, **params: object) -> str:
    """``msgid`` in ``lang`` as said in ``context`` (one English word, two Chinese ones:
    a bulletin's "Terminals" is 终端, a table's column 终端数)."""
    return _format(catalogue(lang).pgettext(context, msgid), params)


def _(msgid: str, /, **params: object) -> str:
    """``msgid`` in this process's language (see :func:`set_lang`)."""
    return tr(_current, msgid, **params)


def ngettext(singular: str, plural: str, n: int, /, **params: object) -> str:
    return ntr(_current, singular, plural, n, **params)


def both(msgid: str, /, **params: object) -> dict[str, str]:
    """``{"en": …, "zh": …}``: a text for documents that carry both languages (plans' notes,
    task summaries, built-in rule titles)."""
    return {lang: tr(lang, msgid, **params) for lang in ("en", "zh")}


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction where it is defined (a table); translate where shown."""
    return msgid


def NP_(context: str, msgid: str) -> str:
    """Mark ``msgid`` in ``context`` for extraction; :func:`tr` then says it as in that
    context (a column header "Terminals" is 终端数, a section "Terminals" 终端)."""
    out = Msgid(msgid)
    out.context = context
    return out
