"""The one adapter to TextFSM templates (ntc-templates, and govnet's own for what it lacks).

Everything govnet parses with TextFSM goes through here: the template folders (ntc-templates'
— the ``NTC_TEMPLATES_DIR`` override ntc-templates documents, else the templates shipped in its
package — then ``govnet/data/textfsm``, templates govnet ships for platforms ntc-templates does
not cover, such as Ruijie RGOS), which template serves a command (ntc-templates' index first,
so a template it adds later wins), and parsing into rows with lower-case field names. Library
errors become :class:`TemplateParseError` with the library's message.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textfsm import clitable

Row = dict[str, Any]


class TemplateParseError(Exception):
    """The output does not fit the template (or no template serves the command)."""


@lru_cache(maxsize=1)
def template_dir() -> str:
    """The folder with ntc-templates' ``index`` and templates."""
    override = os.environ.get("NTC_TEMPLATES_DIR")
    if override:
        return override
    return str(resources.files("ntc_templates").joinpath("templates"))


@lru_cache(maxsize=1)
def own_template_dir() -> str:
    """The folder with govnet's own ``index`` and templates (``govnet/data/textfsm``)."""
    return str(resources.files("govnet").joinpath("data/textfsm"))


def template_dirs() -> tuple[str, ...]:
    """Where templates are looked up, in order: ntc-templates, then govnet's own."""
    return (template_dir(), own_template_dir())


@lru_cache(maxsize=4)
def _table(folder: str) -> clitable.CliTable:
    """The index of a template folder, for look-ups only (never parse with it: threads share
    it)."""
    from textfsm import clitable

    return clitable.CliTable("index", folder)


@lru_cache(maxsize=1024)
def _lookup(templates: str, command: str) -> tuple[str, str] | None:
    """``(folder, template)`` of the first index row (ntc-templates' own lookup: platform and
    command regexes match from the start) that serves ``command`` on ``templates``."""
    for folder in template_dirs():
        row = _table(folder).index.GetRowMatch({"Command": command, "Platform": templates})
        if row:
            return folder, str(_table(folder).index.index[row]["Template"])
    return None


@lru_cache(maxsize=1024)
def template_for(templates: str, command: str) -> str | None:
    """The template for ``command`` on a templates platform (``huawei_vrp``), or None.

    The index matches command prefixes (``huawei_vrp``'s ``di[[r]]`` row "matches" every
    ``display …`` command), so a template counts only if its command regex matches the whole
    command line. ntc-templates' index is asked first, then govnet's own.
    """
    for folder in template_dirs():
        table = _table(folder)
        for compiled, row in zip(table.index.compiled, table.index.index, strict=True):
            platform, cmd = compiled["Platform"], compiled["Command"]
            if platform and platform.fullmatch(templates) and cmd and cmd.fullmatch(command):
                return str(row["Template"])
    return None


def has_template(templates: str, command: str) -> bool:
    """Would :func:`parse` without a template find one (ntc-templates' index lookup, then
    govnet's)?"""
    return _lookup(templates, command) is not None


def _folder_of(template: str) -> str:
    """The first template folder that holds ``template`` (a file name, or several joined by
    ``:`` as clitable allows)."""
    first = template.split(":")[0]
    for folder in template_dirs():
        if (Path(folder) / first).is_file():
            return folder
    return template_dir()


def parse(templates: str, command: str, output: str, template: str | None = None) -> list[Row]:
    """Rows of ``output``: with ``template`` when given, else the template the index picks
    for the command (ntc-templates' index, then govnet's). TemplateParseError when none fits."""
    from textfsm import TextFSMError, clitable

    if template is None:
        found = _lookup(templates, command)
        if found is None:
            raise TemplateParseError(
                f"no template for platform {templates!r} and command {command!r}"
            )
        folder, template = found
    else:
        folder = _folder_of(template)
    table = clitable.CliTable("index", folder)  # one per parse: ParseCmd fills the table
    try:
        table.ParseCmd(output, {"Command": command, "Platform": templates}, templates=template)
    except (clitable.CliTableError, TextFSMError) as exc:
        raise TemplateParseError(f"{template}: {exc}") from exc
    header = [h.lower() for h in table.header]
    return [dict(zip(header, row, strict=True)) for row in table]
