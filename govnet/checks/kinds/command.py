"""Kind ``command``: a show/display command's output, parsed into rows and tested.

``command`` is a key of the platform table (``arp``, ``mac``, ``ntp``, …: each platform's own
command is used) or a literal command line; ``commands`` gives literal lines per platform.
The output is parsed with the ntc-templates TextFSM template for the platform (the platform
table's ``templates`` name) when one exists; otherwise, or with ``parse: lines``, every
non-empty output line is a row ``{line: TEXT}``.

Rows may be narrowed with ``where`` filters, then each ``expect`` test applies to the rows::

    {field: FIELD, op: eq|ne|lt|le|gt|ge|match|absent, value: V, quantifier: all|any|none}

``all`` (default): every row passes; ``any``: at least one; ``none``: no row passes. With no
rows, ``all`` and ``none`` hold and ``any`` does not; ``min_rows`` demands at least N rows.
No ``eval``: the operators above are the whole language.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from govnet.checks.facts import DeviceFacts
from govnet.checks.registry import CheckResult, register
from govnet.collect import ntc
from govnet.collect.ntc import template_for
from govnet.core.vocabulary import Evidence
from govnet.i18n import _
from govnet.inventory.model import Device
from govnet.platforms import platforms
from govnet.validation import Strict

MAX_EVIDENCE = 20
Row = dict[str, Any]
Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "match", "absent"]
_NUMERIC_OPS = ("lt", "le", "gt", "ge")


def _scalar(value: Any) -> Any:
    if isinstance(value, bool) or not (value is None or isinstance(value, str | int | float)):
        raise ValueError(_("expected a string or a number, got {value!r}", value=value))
    return value


Scalar = Annotated[str | int | float | None, BeforeValidator(_scalar)]


class Condition(Strict):
    field: str = Field(min_length=1)
    op: Op = "eq"
    value: Scalar = None

    @model_validator(mode="after")
    def _check(self) -> Condition:
        if self.op == "absent":
            if self.value is not None:
                raise ValueError(_("op 'absent' takes no value"))
            return self
        if self.value is None:
            raise ValueError(_("op {op!r} needs a value", op=self.op))
        if self.op in _NUMERIC_OPS and _number(self.value) is None:
            raise ValueError(
                _("op {op!r} needs a number, got {value!r}", op=self.op, value=self.value)
            )
        if self.op == "match":
            try:
                _compile(str(self.value))
            except re.error as exc:
                raise ValueError(
                    _("bad regular expression {value!r}: {exc}", value=self.value, exc=exc)
                ) from None
        return self

    def describe(self) -> str:
        return f"{self.field} {self.op}" + ("" if self.value is None else f" {self.value!r}")

    def holds(self, row: Row) -> bool:
        actual = _text(row.get(self.field))
        if self.op == "absent":
            return actual == ""
        if self.op == "match":
            return _compile(str(self.value)).search(actual) is not None
        if self.op in ("eq", "ne"):
            a, b = _number(actual), _number(self.value)
            same = a == b if a is not None and b is not None else actual == str(self.value)
            return same if self.op == "eq" else not same
        a, b = _number(actual), _number(self.value)
        if a is None or b is None:
            return False
        return {"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[self.op]


class Expectation(Condition):
    quantifier: Literal["all", "any", "none"] = "all"


class CommandParams(Strict):
    command: str | None = None
    commands: dict[str, str] = Field(default_factory=dict)
    parse: Literal["auto", "lines"] = "auto"
    where: list[Condition] = Field(default_factory=list)
    expect: list[Expectation] = Field(default_factory=list)
    min_rows: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> CommandParams:
        if not self.command and not self.commands:
            raise ValueError(
                _("give 'command' (a platform-table key or command line) or 'commands'")
            )
        for platform in self.commands:
            if platform not in platforms():
                known = ", ".join(sorted(platforms()))
                raise ValueError(
                    _(
                        "commands: unknown platform {platform!r} (known: {known})",
                        platform=platform,
                        known=known,
                    )
                )
        if not self.expect and not self.min_rows:
            raise ValueError(_("give at least one 'expect' test or 'min_rows'"))
        return self


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value).strip()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip().rstrip("%"))
    except ValueError:
        return None


def _table_keys() -> set[str]:
    return {key for p in platforms().values() for key in p.commands}


def resolve_command(platform: str, params: CommandParams) -> str | None:
    """The command line to send to a device of ``platform`` (None: it has no such command)."""
    if platform in params.commands:
        return params.commands[platform]
    if params.command is None:
        return None
    if params.command in _table_keys():
        return platforms()[platform].command(params.command) if platform in platforms() else None
    return params.command


class ParseError(Exception):
    pass


def parse_rows(platform: str, command: str, output: str, mode: str = "auto") -> list[Row]:
    """Rows from raw output: the ntc-templates table if a template exists, else lines."""
    templates = platforms()[platform].templates if platform in platforms() else None
    template = template_for(templates, command.strip()) if mode == "auto" and templates else None
    if template is None or templates is None:
        return [{"line": line.strip()} for line in output.splitlines() if line.strip()]
    try:
        return ntc.parse(templates, command, output, template)
    except ntc.TemplateParseError as exc:
        raise ParseError(str(exc)) from exc


def _show(row: Row) -> str:
    return " ".join(f"{k}={_text(v)}" for k, v in row.items() if _text(v))


@register("command")
class CommandKind:
    """Tests over the parsed output of one show/display command (see the module docstring)."""

    name = "command"
    params = CommandParams

    def required_commands(self, device: Device, params: CommandParams) -> set[str]:
        command = resolve_command(device.platform, params)
        return {command} if command else set()

    def evaluate(self, device: Device, facts: DeviceFacts, params: CommandParams) -> CheckResult:
        command = resolve_command(device.platform, params)
        if command is None:
            return CheckResult.errored(
                _(
                    "platform {platform} has no {command!r} command; give it under 'commands'",
                    platform=device.platform,
                    command=params.command,
                )
            )
        output = facts.outputs.get(command)
        if output is None:
            return CheckResult.errored(
                _("the output of {command!r} was not collected", command=command)
            )
        key = f"command.rows:{params.parse}:{command}"
        try:
            rows = facts.cache.get(key)
            if rows is None:
                rows = facts.cache[key] = parse_rows(device.platform, command, output, params.parse)
        except ParseError as exc:
            return CheckResult.errored(
                _("cannot parse the output of {command!r}: {exc}", command=command, exc=exc)
            )
        return evaluate_rows(rows, params, command)


def evaluate_rows(rows: list[Row], params: CommandParams, command: str = "") -> CheckResult:
    """Apply ``where``, ``min_rows`` and ``expect`` to parsed rows."""
    if rows:
        fields = set().union(*(r.keys() for r in rows))
        for cond in [*params.where, *params.expect]:
            if cond.field not in fields:
                return CheckResult.errored(
                    _(
                        "field {field!r} is not in the parsed output of {command!r} (fields: "
                        "{fields})",
                        field=cond.field,
                        command=command,
                        fields=", ".join(sorted(fields)),
                    )
                )
    selected = [r for r in rows if all(c.holds(r) for c in params.where)]
    problems: list[str] = []
    evidence: list[Evidence] = []
    if len(selected) < params.min_rows:
        problems.append(
            _("{n} row(s), at least {min_rows} required", n=len(selected), min_rows=params.min_rows)
        )
    for test in params.expect:
        what = test.describe()
        passing = [r for r in selected if test.holds(r)]
        if test.quantifier == "all":
            offending = [r for r in selected if not test.holds(r)]
            if offending:
                problems.append(
                    _(
                        "{bad} of {n} row(s) fail {what}",
                        bad=len(offending),
                        n=len(selected),
                        what=what,
                    )
                )
                evidence += [Evidence(_show(r), None, f"fails {what}") for r in offending]
        elif test.quantifier == "none":
            if passing:
                problems.append(_("{n} row(s) match {what}", n=len(passing), what=what))
                evidence += [Evidence(_show(r), None, f"matches {what}") for r in passing]
        elif not passing:
            problems.append(_("no row of {n} has {what}", n=len(selected), what=what))
    if problems:
        extra = len(evidence) - MAX_EVIDENCE
        more = _(" ({extra} more rows not shown)", extra=extra) if extra > 0 else ""
        message = _("; ").join(problems) + more
        return CheckResult.failed(message, evidence[:MAX_EVIDENCE])
    shown = [Evidence(_show(r)) for r in selected[:MAX_EVIDENCE]]
    return CheckResult.passed(
        _("{n} row(s) of {command!r} comply", n=len(selected), command=command), shown
    )
