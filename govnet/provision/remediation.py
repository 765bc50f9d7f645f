"""Intended lines → remediation, rollback and verification, with hier_config.

A rendered template is *intended configuration*: lines (nested as the device nests them) that
must be present, plus ``@absent REGEX`` directives for lines that must not be (at the level
where the directive stands, except the intended lines themselves), and negations the device
never prints (``undo shutdown``: the platform's ``silent_negations``), which mean the same.

The plan is computed on the device's own running configuration, so the template only states
what it manages and everything else on the device is left alone:

    target      = running ⊕ intended − absent      (hier_config ``future``, then deletions)
    remediation = running → target                 (hier_config ``config_to_get_to``)
    rollback    = target → running                 (predicted; recomputed from the device on
                                                    a failure, see :func:`rollback_commands`)

then every pushed line goes through the platform's ``fixes`` (the device's real syntax).

Lines are compared as the device prints them: whitespace runs collapsed, and lines that carry
a secret compared with the secret masked (a key cannot be read back from a device), after the
platform's ``compare`` substitutions. Banners and headers are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from govnet.collect.sanitize import mask_line
from govnet.core.configtext import parse_config
from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.provision.rules import PlatformRules, hconfig_driver, platform_rules

ABSENT = "@absent"
_SPACES = re.compile(r"\s+")
_OPAQUE = ("banner ", "header ")
_FOOTERS = frozenset({"return", "end"})


class TemplateError(GovnetError):
    """A template or its output is wrong (exit 2): names the template and what to fix."""


def canonical_lines(text: str) -> list[tuple[int, str]]:
    """(depth, line) for every configuration line, as the audit's parser nests them.

    Separator and comment lines are dropped, runs of blanks collapsed, banner and header
    text (opaque, never managed) left out.
    """
    parsed = parse_config(text)
    out: list[tuple[int, str]] = []
    skip_below: int | None = None
    for line, depth in zip(parsed.texts, parsed.depths, strict=True):
        if skip_below is not None and depth > skip_below:
            continue
        skip_below = None
        # banner text is opaque; an indented footer is still no configuration (nor under it)
        if line.startswith(_OPAQUE) or (depth == 0 and line in _FOOTERS):
            skip_below = depth
            continue
        out.append((depth, _SPACES.sub(" ", line)))
    return out


def _indented(lines: list[tuple[int, str]]) -> str:
    return "".join(f"{' ' * depth}{line}\n" for depth, line in lines)


def canonical_text(text: str) -> str:
    """Configuration text in the one-space-per-level layout hier_config reads reliably.

    (hier_config nests Huawei/H3C top-level lines printed with one leading space under the
    preceding section; the ``#`` separators are what really close a block.)"""
    return _indented(canonical_lines(text))


@dataclass(frozen=True)
class Absent:
    """``@absent REGEX`` under ``path``: no line there may match, except intended ones."""

    path: tuple[str, ...]
    pattern: re.Pattern[str]

    def describe(self) -> str:
        return " > ".join([*self.path, f"{ABSENT} {self.pattern.pattern}"])


@dataclass(frozen=True)
class Intended:
    """One device's intended configuration, parsed from a rendered template."""

    platform: str
    lines: tuple[tuple[int, str], ...]  # (depth, text), canonical, directives removed
    absent: tuple[Absent, ...] = ()
    source: str = ""  # template name, for messages

    @property
    def text(self) -> str:
        return _indented(list(self.lines))

    def paths(self) -> Iterator[tuple[str, ...]]:
        """Every intended line with its section ancestry, top first."""
        stack: list[str] = []
        for depth, line in self.lines:
            del stack[depth:]
            stack.append(line)
            yield tuple(stack)


def parse_intended(text: str, platform: str, source: str = "template") -> Intended:
    """Read rendered template text: intended lines, ``@absent`` directives, silent negations."""
    rules = platform_rules(platform)
    lines: list[tuple[int, str]] = []
    absent: list[Absent] = []
    stack: list[str] = []
    for depth, line in canonical_lines(text):
        if depth > len(stack):
            raise TemplateError(
                _(
                    "{source}: {line!r} is nested under an {absent} directive; directives "
                    "cannot have children",
                    source=source,
                    line=line,
                    absent=ABSENT,
                )
            )
        del stack[depth:]
        if f" {ABSENT}" in line:
            raise TemplateError(
                _(
                    "{source}: {line!r}: {absent} must start its own line",
                    source=source,
                    line=line,
                    absent=ABSENT,
                )
            )
        if line == ABSENT or line.startswith(ABSENT + " "):
            regex = line[len(ABSENT) :].strip()
            try:
                pattern = re.compile(regex)
            except re.error as exc:
                raise TemplateError(
                    _(
                        "{source}: {absent} {regex!r}: bad regex: {exc}",
                        source=source,
                        absent=ABSENT,
                        regex=regex,
                        exc=exc,
                    )
                ) from None
            if not regex:
                raise TemplateError(
                    _("{source}: {absent} needs a regex", source=source, absent=ABSENT)
                )
            absent.append(Absent(tuple(stack), pattern))
            continue
        if rules.is_silent_negation(line):
            positive = line.split(" ", 1)[1]
            absent.append(Absent(tuple(stack), re.compile(f"^{re.escape(positive)}$")))
            continue
        lines.append((depth, line))
        stack.append(line)
    return Intended(platform, tuple(lines), tuple(absent), source)


# --------------------------------------------------------------------------- hier_config


def _hconfig(platform: str, text: str, what: str) -> Any:
    from hier_config import get_hconfig
    from hier_config.exceptions import DuplicateChildError

    try:
        return get_hconfig(hconfig_driver(platform), text)
    except (DuplicateChildError, ValueError) as exc:
        raise GovnetError(
            _("{what}: cannot read the configuration: {exc}", what=what, exc=exc)
        ) from exc


def _compare_key(text: str, rules: PlatformRules) -> str:
    return mask_line(rules.compared(text))


def _find(parent: Any, text: str, rules: PlatformRules, keys: dict[str, Any] | None) -> Any:
    """``parent``'s child equal to ``text``, or equal to it as the device prints it."""
    if parent is None:
        return None
    child = parent.get_child(equals=text)
    if child is None and keys is not None:
        child = keys.get(_compare_key(text, rules))
    return child


def _keys(parent: Any, rules: PlatformRules) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    if parent is not None:
        for c in parent.children:
            keys.setdefault(_compare_key(c.text, rules), c)
    return keys


def _align(wanted: Any, running: Any, rules: PlatformRules) -> None:
    """Rename intended lines that the device prints differently to the device's text (keys
    masked, ``compare`` substitutions), so hier_config sees them as already present."""
    keys: dict[str, Any] | None = None
    for child in list(wanted.children):
        match = running.get_child(equals=child.text) if running is not None else None
        if match is None and running is not None:
            keys = keys if keys is not None else _keys(running, rules)
            match = keys.get(_compare_key(child.text, rules))
            if match is not None and wanted.get_child(equals=match.text) is None:
                child.text = match.text
        if child.children:
            _align(child, match, rules)


def _node(root: Any, path: tuple[str, ...]) -> Any:
    node = root
    for text in path:
        node = node.get_child(equals=text) if node is not None else None
    return node


def _drop_absent(target: Any, wanted: Any, absent: tuple[Absent, ...]) -> None:
    for directive in absent:
        node = _node(target, directive.path)
        if node is None:
            continue
        want = _node(wanted, directive.path)
        keep = {c.text for c in want.children} if want is not None else set()
        for child in list(node.children):
            if child.text not in keep and directive.pattern.search(child.text):
                child.delete()


def _keep_permanent(delta: Any, source: Any, rules: PlatformRules) -> None:
    """A deletion of a section the device refuses to delete (``permanent`` in the data file)
    becomes the negation of each line under it: the section stays, empty as the device has
    it by default."""
    mark = rules.negation + " "
    for child in list(delta.children):
        if not child.text.startswith(mark):
            continue
        section = child.text[len(mark) :]
        if not rules.is_permanent(section):
            continue
        child.delete()
        held = source.get_child(equals=section)
        if held is None or not held.children:
            continue
        node = delta.get_child(equals=section) or delta.add_child(section)
        for line in held.children:
            if node.get_child(equals=mark + line.text) is None:
                node.add_child(mark + line.text)


def _commands(node: Any, rules: PlatformRules, parents: tuple[str, ...] = ()) -> list[str]:
    """Push order, indented for people (the device ignores the indentation), fixed."""
    out: list[str] = []
    pad = " " * len(parents)
    for child in sorted(node.children):
        line = pad + rules.fix(child.text, parents)
        if not child.children and out and out[-1] == line:
            continue  # two lines fixed into one command ("undo local-user admin")
        out.append(line)
        if child.children:
            out.extend(_commands(child, rules, (*parents, child.text)))
            out.append(pad + " " + rules.section_exit)
    return out


@dataclass
class Remediation:
    """What to push to one device, and how the push would be undone (real text: mask it)."""

    commands: list[str]
    rollback: list[str]
    diff: list[str] = field(default_factory=list)  # "- line" / "+ line", indented

    @property
    def changed(self) -> bool:
        return bool(self.commands)


def remediate(intended: Intended, running_text: str, what: str = "device") -> Remediation:
    """The commands that bring ``running_text`` to the intended state (and back)."""
    from hier_config import HConfig
    from hier_config.exceptions import DuplicateChildError

    rules = platform_rules(intended.platform)
    running = _hconfig(intended.platform, canonical_text(running_text), what)
    wanted = _hconfig(intended.platform, intended.text, f"{what}: {intended.source}")
    _align(wanted, running, rules)
    try:
        target = running.future(_missing(wanted, running))
        _drop_absent(target, wanted, intended.absent)
        forward = running.config_to_get_to(target)
        _keep_permanent(forward, running, rules)
        forward.set_order_weight()
        back = target.config_to_get_to(running, HConfig(running.driver))
        _keep_permanent(back, target, rules)
        back.set_order_weight()
        diff = _diff(running.unified_diff(target), rules)
    except (DuplicateChildError, ValueError) as exc:
        raise GovnetError(
            _("{what}: cannot compute the change: {exc}", what=what, exc=exc)
        ) from exc
    return Remediation(_commands(forward, rules), _commands(back, rules), diff)


def _missing(wanted: Any, running: Any) -> Any:
    """``wanted`` without what ``running`` already has line for line (sections kept only for
    their missing children): hier_config's ``future`` then only merges real changes."""
    out = wanted.deep_copy()

    def prune(want: Any, have: Any) -> None:
        for child in list(want.children):
            match = have.get_child(equals=child.text) if have is not None else None
            if match is None:
                continue
            if child.children:
                prune(child, match)
                if child.children:
                    continue
            child.delete()

    prune(out, running)
    return out


def _diff(lines: Iterable[str], rules: PlatformRules) -> list[str]:
    """hier_config's ``- line``/``+ line`` view, in the device's syntax, one space per level."""
    out: list[str] = []
    stack: list[str] = []
    for raw in lines:
        body = raw.strip()
        depth = (len(raw) - len(raw.lstrip(" "))) // 2
        marker = body[:2] if body[:2] in ("- ", "+ ") else ""
        text = body[len(marker) :]
        del stack[depth:]
        out.append(" " * depth + marker + rules.fix(text, tuple(stack)))
        stack.append(text)
    return out


def rollback_commands(platform: str, current_text: str, backup_text: str, what: str) -> list[str]:
    """The commands that bring the device from ``current_text`` back to ``backup_text``."""
    rules = platform_rules(platform)
    current = _hconfig(platform, canonical_text(current_text), what)
    backup = _hconfig(platform, canonical_text(backup_text), f"{what} (backup)")
    delta = current.config_to_get_to(backup)
    _keep_permanent(delta, current, rules)
    return _commands(delta.set_order_weight(), rules)


def verify(intended: Intended, running_text: str, what: str = "device") -> list[str]:
    """What is not as intended in ``running_text``: missing lines, absent lines still there."""
    rules = platform_rules(intended.platform)
    running = _hconfig(intended.platform, canonical_text(running_text), what)
    wanted = _hconfig(intended.platform, intended.text, f"{what}: {intended.source}")
    _align(wanted, running, rules)
    problems: list[str] = []

    def walk(want: Any, have: Any, parents: tuple[str, ...]) -> None:
        keys = _keys(have, rules) if have is not None else None
        for child in want.children:
            found = _find(have, child.text, rules, keys)
            if found is None:
                where = " > ".join((*parents, child.text))
                shown = _shown_instead(have, child.text)
                if shown:
                    problems.append(
                        f"shown differently: {mask_line(where)} (the device shows "
                        f"{'; '.join(mask_line(x) for x in shown)})"
                    )
                else:
                    problems.append(f"missing: {mask_line(where)}")
                continue
            if child.children:
                walk(child, found, (*parents, child.text))

    walk(wanted, running, ())
    for directive in intended.absent:
        node = _node(running, directive.path)
        if node is None:
            continue
        want = _node(wanted, directive.path)
        keep = {c.text for c in want.children} if want is not None else set()
        for child in node.children:
            if child.text not in keep and directive.pattern.search(child.text):
                where = " > ".join((*directive.path, child.text))
                problems.append(f"still present: {mask_line(where)}")
    return problems


def _shown_instead(have: Any, text: str) -> list[str]:
    """Lines of the same setting the device prints instead of ``text`` (same leading words,
    another value): the device took the line but shows it its own way, or kept another."""
    if have is None:
        return []
    words = text.split()
    lead = next((i for i, w in enumerate(words) if any(ch.isdigit() for ch in w)), len(words))
    key = words[: max(1, min(2, lead, len(words) - 1))]
    return [c.text for c in have.children if c.text.split()[: len(key)] == key]


def pushable(commands: list[str]) -> list[str]:
    """The lines as sent to the device: indentation is for people only."""
    return [c.strip() for c in commands if c.strip()]
