"""One toolkit for validating the files people write: strict models, shared field types, and
pydantic errors turned into located diagnostics.

Every reader (inventory, playbooks, alert rules, AV sources, lab data, provisioning data, the
config file) builds its models on :class:`Strict` and reports a ``ValidationError`` through
:func:`diagnostics_from` (``file:line:col: key.path: message``) or, where there is no YAML
position to give, :func:`first_problem` (one ``key.path``/message pair). The messages are the
same everywhere: ``unknown key (known: …); did you mean 'x'?``, ``required key is missing``,
``must be a mapping``, or pydantic's text with the offending value (``…, got 'x'``).
Durations are :data:`govnet.durations.Duration`.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from govnet.errors import Diagnostic
from govnet.i18n import _
from govnet.yamlsrc import Path_, SourceDoc, clean_loc, suggest

__all__ = [
    "Listed",
    "Regex",
    "Strict",
    "StrictStripped",
    "TextSpec",
    "check_regex",
    "diagnostics_from",
    "first_problem",
    "listify",
    "message_for",
    "validate_at",
]


class Strict(BaseModel):
    """A model of a file people write: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StrictStripped(Strict):
    """:class:`Strict`, and surrounding whitespace of every string is dropped."""

    model_config = ConfigDict(str_strip_whitespace=True)


class TextSpec(StrictStripped):
    """Words for people in both languages: ``{en: …, zh: …}``, neither empty."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


def listify(value: Any) -> Any:
    """One string where a list is expected is a list of one (``role: core``)."""
    return [value] if isinstance(value, str) else value


Listed = BeforeValidator(listify)
"""``Annotated[list[X], Listed]``: a list that may be written as a single string."""


def check_regex(value: Any) -> Any:
    """A string that must compile as a regular expression (returned unchanged)."""
    if isinstance(value, str):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(
                _("bad regular expression {value!r}: {exc}", value=value, exc=exc)
            ) from None
    return value


Regex = Annotated[str, BeforeValidator(check_regex)]
"""A regular expression kept as its text, checked when the file is read."""


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model that holds the key at ``loc`` (for "did you mean" on unknown keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _inner_model(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


_WITH_VALUE = ("ip_", "literal_", "int_", "float_", "bool_", "string_")


def message_for(err: Any, model: type[BaseModel] | None = None) -> str:
    """One pydantic error (an item of ``exc.errors()``) as the message govnet shows."""
    kind = str(err["type"])
    loc = clean_loc(err["loc"])
    if kind == "extra_forbidden":
        if not loc:  # a key with "[" in it, dropped by clean_loc as if a union tag
            return _("unknown key {key!r}", key=err["loc"][-1])
        holder = _model_at(model, loc[:-1]) if model is not None else None
        return _("unknown key") + (suggest(loc[-1], holder.model_fields) if holder else "")
    if kind == "missing":
        return _("required key is missing")
    if kind == "model_type":
        return _("must be a mapping")
    msg = str(err["msg"])
    if kind.startswith("ip_v"):
        kind = "ip_any"
        msg = (
            _("not a valid IP address")
            if "address" in str(err["type"])
            else _("not a valid IP prefix")
        )
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    value = err.get("input")
    if kind.startswith(_WITH_VALUE) and not isinstance(value, dict | list):
        msg = _("{msg}, got {value!r}", msg=msg, value=value)
    return msg


def diagnostics_from(
    exc: ValidationError,
    doc: SourceDoc,
    base: Path_ = (),
    model: type[BaseModel] | None = None,
    skip: Callable[[list[str | int]], bool] | None = None,
) -> list[Diagnostic]:
    """Every error of ``exc`` located in ``doc`` (the data validated sat at ``base``).

    One diagnostic per key path: a union (IPv4 | IPv6) fails once per member, and people
    need to hear it once. ``skip(loc)`` drops errors the caller reports better itself.
    """
    out: list[Diagnostic] = []
    seen: set[Path_] = set()
    for err in exc.errors():
        loc = clean_loc(err["loc"])
        if skip is not None and skip(loc):
            continue
        path: Path_ = (*base, *loc)
        if path in seen:
            continue
        seen.add(path)
        out.append(doc.diag(path, message_for(err, model)))
    return out


def first_problem(exc: ValidationError, model: type[BaseModel] | None = None) -> tuple[str, str]:
    """``(key.path, message)`` of the first error, for one-line errors without a position."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in clean_loc(err["loc"]))
    return where, message_for(err, model)


M = TypeVar("M", bound=BaseModel)


def validate_at(
    model: type[M],
    data: Any,
    doc: SourceDoc,
    base: Path_,
    problems: list[Diagnostic],
    skip: Callable[[list[str | int]], bool] | None = None,
) -> M | None:
    """``data`` (found at ``base`` in ``doc``) as a ``model``, or None with every problem
    appended to ``problems`` (see :func:`diagnostics_from`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(diagnostics_from(exc, doc, base, model, skip))
        return None
