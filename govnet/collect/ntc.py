"""The one adapter to ntc-templates (TextFSM templates for network devices).

Everything govnet parses with ntc-templates goes through here: the template folder (the
``NTC_TEMPLATES_DIR`` override ntc-templates documents, else the templates shipped in its
package), which template serves a command, and parsing into rows with lower-case field
names. Library errors become :class:`TemplateParseError` with the library's message.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from typing import Any

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


@lru_cache(maxsize=1024)
def template_for(templates: str, command: str) -> str | None:
    """The template for ``command`` on a templates platform (``huawei_vrp``), or None.

    The index matches command prefixes (``huawei_vrp``'s ``di[[r]]`` row "matches" every
    ``display …`` command), so a template counts only if its command regex matches the whole
    command line.
    """
    from textfsm import clitable

    table = clitable.CliTable("index", template_dir())
    for compiled, row in zip(table.index.compiled, table.index.index, strict=True):
        platform, cmd = compiled["Platform"], compiled["Command"]
        if platform and platform.fullmatch(templates) and cmd and cmd.fullmatch(command):
            return str(row["Template"])
    return None


@lru_cache(maxsize=1024)
def has_template(templates: str, command: str) -> bool:
    """Would :func:`parse` without a template find one (ntc-templates' own index lookup)?"""
    from textfsm import clitable

    table = clitable.CliTable("index", template_dir())
    return bool(table.index.GetRowMatch({"Command": command, "Platform": templates}))


def parse(templates: str, command: str, output: str, template: str | None = None) -> list[Row]:
    """Rows of ``output``: with ``template`` when given, else the template the index picks
    for the command (ntc-templates' own lookup). TemplateParseError when none fits."""
    from ntc_templates.parse import ParsingException, parse_output
    from textfsm import TextFSMError, clitable

    if template is None:
        try:
            rows = parse_output(
                platform=templates, command=command, data=output, template_dir=template_dir()
            )
        except (ParsingException, TextFSMError) as exc:
            raise TemplateParseError(str(exc)) from exc
        return [{str(k).lower(): v for k, v in row.items()} for row in rows]
    table = clitable.CliTable("index", template_dir())
    try:
        table.ParseCmd(output, {"Command": command, "Platform": templates}, templates=template)
    except (clitable.CliTableError, TextFSMError) as exc:
        raise TemplateParseError(f"{template}: {exc}") from exc
    header = [h.lower() for h in table.header]
    return [dict(zip(header, row, strict=True)) for row in table]
