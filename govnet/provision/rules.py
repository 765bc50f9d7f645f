"""Per-platform provisioning rules (``govnet/data/provision.yaml``) and hier_config drivers.

hier_config's drivers know how a platform nests and negates its lines; the rows here add what
they do not know (which lines replace each other, which negations the device never prints,
how typed lines are printed back) and fix where their output is not the device's syntax.
Everything is data: a new quirk is a new row, never an ``if`` on a platform name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import Field, ValidationError

from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.platforms import get_platform
from govnet.validation import Regex, Strict, TextSpec, first_problem


class MatchSpec(Strict):
    startswith: str | None = None
    re_search: Regex | None = None


class Substitution(Strict):
    match: Regex
    replace: str
    within: Regex | None = None  # only inside sections whose header matches


class PlatformRulesSpec(Strict):
    section_exit: str
    negation: str
    idempotent: list[list[MatchSpec]] = Field(default_factory=list)
    silent_negations: list[Regex] = Field(default_factory=list)
    permanent: list[Regex] = Field(default_factory=list)
    alternatives: list[Substitution] = Field(default_factory=list)
    compare: list[Substitution] = Field(default_factory=list)
    fixes: list[Substitution] = Field(default_factory=list)


@dataclass(frozen=True)
class _Sub:
    match: re.Pattern[str]
    replace: str
    within: re.Pattern[str] | None

    def apply(self, text: str, parents: tuple[str, ...]) -> str:
        if self.within is not None and not any(self.within.search(p) for p in parents):
            return text
        return self.match.sub(self.replace, text)


@dataclass(frozen=True)
class PlatformRules:
    """One platform's row, compiled."""

    platform: str
    hier_config: str
    section_exit: str
    negation: str
    idempotent: tuple[tuple[MatchSpec, ...], ...]
    silent_negations: tuple[re.Pattern[str], ...]
    compare_subs: tuple[_Sub, ...]
    fix_subs: tuple[_Sub, ...]
    permanent: tuple[re.Pattern[str], ...] = ()
    alternative_subs: tuple[_Sub, ...] = ()

    def is_permanent(self, section: str) -> bool:
        """A section the device always has and refuses to delete."""
        return any(p.search(section) for p in self.permanent)

    def alternatives(self, line: str) -> list[str]:
        """Other forms to try when the device refused ``line`` (stripped)."""
        out = []
        for sub in self.alternative_subs:
            if sub.match.search(line):
                alt = sub.match.sub(sub.replace, line)
                if alt != line and alt not in out:
                    out.append(alt)
        return out

    def is_silent_negation(self, text: str) -> bool:
        return any(p.search(text) for p in self.silent_negations)

    def compared(self, text: str) -> str:
        """The form a line is compared in (never pushed): see ``compare`` in the data file."""
        for sub in self.compare_subs:
            text = sub.apply(text, ())
        return text

    def fix(self, text: str, parents: tuple[str, ...]) -> str:
        """A pushed line in the device's own syntax (``fixes`` in the data file)."""
        for sub in self.fix_subs:
            text = sub.apply(text, parents)
        return text


def _compile(subs: list[Substitution]) -> tuple[_Sub, ...]:
    return tuple(
        _Sub(re.compile(s.match), s.replace, re.compile(s.within) if s.within else None)
        for s in subs
    )


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("govnet").joinpath("data/provision.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@cache
def _table() -> dict[str, PlatformRulesSpec]:
    raw: dict[str, Any] = _raw()["platforms"]
    try:
        return {name: PlatformRulesSpec.model_validate(row) for name, row in raw.items()}
    except ValidationError as exc:  # a broken data file is a bug in govnet, said plainly
        where, message = first_problem(exc, PlatformRulesSpec)
        raise GovnetError(
            _(
                "govnet/data/provision.yaml: platforms: {where}: {message}",
                where=where,
                message=message,
            )
        ) from exc


def supported_platforms() -> tuple[str, ...]:
    return tuple(_table())


@cache
def platform_rules(platform: str) -> PlatformRules:
    """The compiled row for ``platform``; GovnetError if govnet cannot provision it."""
    spec = _table().get(platform)
    hier = get_platform(platform).hier_config if spec is not None else None
    if spec is None or hier is None:
        known = ", ".join(supported_platforms())
        raise GovnetError(
            _(
                "platform {platform!r} cannot be provisioned (supported: {known})",
                platform=platform,
                known=known,
            )
        )
    return PlatformRules(
        platform=platform,
        hier_config=hier,
        section_exit=spec.section_exit,
        negation=spec.negation,
        idempotent=tuple(tuple(level) for level in spec.idempotent),
        silent_negations=tuple(re.compile(p) for p in spec.silent_negations),
        compare_subs=_compile(spec.compare),
        fix_subs=_compile(spec.fixes),
        permanent=tuple(re.compile(p) for p in spec.permanent),
        alternative_subs=_compile(spec.alternatives),
    )


class LeftToPeople(Strict):
    """A control the baseline does not push: why, and what a person does instead."""

    why: TextSpec
    remediation: TextSpec


@cache
def left_to_people(platform: str = "") -> dict[str, LeftToPeople]:
    """Controls left to people (``left_to_people`` in the data file), by control id."""
    raw = _raw().get("left_to_people") or {}
    try:
        return {k: LeftToPeople.model_validate(v) for k, v in raw.items()}
    except ValidationError as exc:
        where, message = first_problem(exc, LeftToPeople)
        raise GovnetError(
            _(
                "govnet/data/provision.yaml: left_to_people: {where}: {message}",
                where=where,
                message=message,
            )
        ) from exc


@cache
def hconfig_driver(platform: str) -> Any:
    """hier_config's driver for ``platform`` with this table's idempotent rules added.

    One instance per platform: hier_config requires both sides of a comparison to share a
    driver class, and the rules are read-only once built.
    """
    from hier_config import MatchRule, Platform, get_hconfig_driver
    from hier_config.models import IdempotentCommandsRule

    rules = platform_rules(platform)
    try:
        driver = get_hconfig_driver(Platform[rules.hier_config.upper()])
    except (KeyError, ValueError) as exc:
        raise GovnetError(
            _(
                "platform {platform!r}: hier_config has no driver {hier_config!r}",
                platform=platform,
                hier_config=rules.hier_config,
            )
        ) from exc
    driver.rules.idempotent_commands.extend(
        IdempotentCommandsRule(
            match_rules=tuple(
                MatchRule(startswith=m.startswith, re_search=m.re_search) for m in lineage
            )
        )
        for lineage in rules.idempotent
    )
    return driver
