"""Kind ``config``: regex tests on the running configuration, optionally per section.

A check is one *clause* (its keys sit directly under ``check:``) plus optional further clauses
under ``all_of``; every clause must hold. A clause tests a *scope*:

- without ``section``: the whole configuration (every line, at any depth);
- with ``section: REGEX``: each top-level block whose header line matches (its descendants,
  not the header), narrowed by ``where`` (the block must contain a line matching each) and
  ``unless`` (skip blocks containing a line matching any). ``quantifier: every`` (default)
  needs every block to satisfy the tests, ``any`` at least one. With no block left,
  ``when_absent`` decides (``fail`` by default).

Tests in a scope: ``must_match`` (each regex matches some line), ``must_not_match`` (no line
matches any), and ``value``: a regex with numeric groups whose weighted sum is compared
(``gt``/``ge``/``lt``/``le``/``eq``). Vendors omit default settings from the running
configuration, so ``value.default`` gives, per platform, the line in vendor syntax that is in
effect when no line matches (Huawei: ``idle-timeout 10 0``). ``if_match`` makes a clause
conditional on the configuration: it is tested only when each ``if_match`` regex matches some
line and no ``if_no_match`` regex does (e.g. ``if_no_match: '^version 5\\.'`` for syntax that
Comware V7 has and V5 lacks).

Regexes match stripped lines, anchored per line (``re.MULTILINE``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property, lru_cache
from itertools import repeat
from operator import eq
from typing import Annotated, Any, Literal, cast

from pydantic import BeforeValidator, Field, model_validator

from govnet.checks.facts import DeviceFacts
from govnet.checks.registry import CheckResult, new_result, register
from govnet.core.configtext import ParsedConfig, PatternScan, parse_config
from govnet.core.vocabulary import Evidence, Status
from govnet.i18n import _, current_lang, tr
from govnet.inventory.model import Device
from govnet.platforms import platforms
from govnet.validation import Listed, Strict, check_regex

MAX_EVIDENCE = 20  # per finding; the message says how many more there were
_CACHE_KEY = "config.parsed"


@lru_cache(maxsize=4096)
def compile_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE)


def _regex(value: Any) -> re.Pattern[str]:
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError(
            _("expected a regular expression (non-empty string), got {value!r}", value=value)
        )
    return compile_regex(check_regex(value))


Regex = Annotated[re.Pattern[str], BeforeValidator(_regex)]
RegexList = Annotated[list[Regex], Listed]


class ValueTest(Strict):
    """A number read from a line and compared, e.g. idle-timeout minutes and seconds."""

    match: Regex
    weights: list[float] = Field(default_factory=lambda: [1.0], min_length=1)
    unit: str = ""
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    eq: float | None = None
    default: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> ValueTest:
        if all(b is None for b in (self.gt, self.ge, self.lt, self.le, self.eq)):
            raise ValueError(_("give at least one bound: gt, ge, lt, le or eq"))
        if self.match.groups < len(self.weights):
            raise ValueError(
                _(
                    "match has {groups} group(s) but {n_weights} weight(s)",
                    groups=self.match.groups,
                    n_weights=len(self.weights),
                )
            )
        for platform, line in self.default.items():
            if platform not in platforms():
                known = ", ".join(sorted(platforms()))
                raise ValueError(
                    _(
                        "default: unknown platform {platform!r} (known: {known})",
                        platform=platform,
                        known=known,
                    )
                )
            if self.match.search(line) is None:
                raise ValueError(
                    _(
                        "default for {platform}: {line!r} does not match {pattern!r}",
                        platform=platform,
                        line=line,
                        pattern=self.match.pattern,
                    )
                )
        return self

    def number(self, m: re.Match[str]) -> float | None:
        total = 0.0
        for i, weight in enumerate(self.weights, start=1):
            group = m.group(i)
            if group is None:
                continue
            try:
                total += float(group) * weight
            except ValueError:
                return None
        return total

    def bounds(self) -> str:
        parts = [
            f"{op} {_fmt(v)}"
            for op, v in ((">", self.gt), ("≥", self.ge), ("<", self.lt), ("≤", self.le))
            if v is not None
        ]
        if self.eq is not None:
            parts.append(f"= {_fmt(self.eq)}")
        return " and ".join(parts)

    def holds(self, v: float) -> bool:
        return (
            (self.gt is None or v > self.gt)
            and (self.ge is None or v >= self.ge)
            and (self.lt is None or v < self.lt)
            and (self.le is None or v <= self.le)
            and (self.eq is None or v == self.eq)
        )


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


class _ClauseFields(Strict):
    if_match: RegexList = Field(default_factory=list)
    if_no_match: RegexList = Field(default_factory=list)
    section: Regex | None = None
    quantifier: Literal["every", "any"] | None = None
    where: RegexList = Field(default_factory=list)
    unless: RegexList = Field(default_factory=list)
    when_absent: Literal["pass", "fail"] | None = None
    must_match: RegexList = Field(default_factory=list)
    must_not_match: RegexList = Field(default_factory=list)
    value: ValueTest | None = None

    def has_tests(self) -> bool:
        return bool(self.must_match or self.must_not_match or self.value)

    def check_section_keys(self) -> None:
        if self.section is None:
            for key in ("quantifier", "when_absent", "where", "unless"):
                if getattr(self, key):
                    raise ValueError(_("{key!r} needs 'section'", key=key))


class Clause(_ClauseFields):
    @model_validator(mode="after")
    def _check(self) -> Clause:
        self.check_section_keys()
        if not self.has_tests():
            raise ValueError(_("a clause needs must_match, must_not_match or value"))
        return self


class ConfigParams(_ClauseFields):
    all_of: list[Clause] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> ConfigParams:
        self.check_section_keys()
        if not self.has_tests() and not self.all_of:
            raise ValueError(_("a config check needs must_match, must_not_match, value or all_of"))
        if not self.has_tests() and (self.section is not None or self.if_match or self.if_no_match):
            raise ValueError(_("'section', 'if_match' and 'if_no_match' need tests beside them"))
        return self

    @cached_property
    def clauses(self) -> tuple[_ClauseFields, ...]:
        """This clause (if it has tests) and those of ``all_of``, in order."""
        own: tuple[_ClauseFields, ...] = (self,) if self.has_tests() else ()
        return (*own, *self.all_of)


# ---------------------------------------------------------------------------- evaluation


class _Outcome:
    """A clause's verdict: lines that support a pass, and lines that show a failure.

    Passing evidence beyond :data:`MAX_EVIDENCE` is only counted, never built: a switch with
    400 described ports would otherwise make 400 objects for a finding that shows 20. Once
    the clause has failed, passing evidence is not built at all (only failures are shown).
    """

    __slots__ = ("bad", "good", "good_more", "ok", "problems")

    def __init__(self, ok: bool = True, good: list[Evidence] | None = None) -> None:
        self.ok = ok
        self.good: list[Evidence] = [] if good is None else good
        self.bad: list[Evidence] = []
        self.problems: list[str] = []
        self.good_more = 0

    def fail(self, problem: str, *evidence: Evidence) -> None:
        self.ok = False
        self.problems.append(problem)
        self.bad.extend(evidence)

    def has_room(self) -> bool:
        if not self.ok:
            return False
        if len(self.good) < MAX_EVIDENCE:
            return True
        self.good_more += 1
        return False

    @property
    def evidence(self) -> list[Evidence]:
        return self.good if self.ok else self.bad

    @property
    def total(self) -> int:
        return len(self.good) + self.good_more if self.ok else len(self.bad)


def parsed(
    facts: DeviceFacts,
    platform: str | None = None,
    parse: Callable[[str], ParsedConfig] = parse_config,
) -> ParsedConfig | None:
    """The device's configuration, parsed once and cached on its facts.

    Taken from ``facts.config``, or else from the output of the platform's running-config
    command if the collector stored it among ``outputs``.
    """
    cfg = facts.cache.get(_CACHE_KEY)
    if cfg is None:
        text = facts.config
        if text is None and platform is not None and platform in platforms():
            command = platforms()[platform].command("running_config")
            text = facts.outputs.get(command) if command else None
        if text is None:
            return None
        cfg = facts.cache[_CACHE_KEY] = parse(text)
    assert isinstance(cfg, ParsedConfig)
    return cfg


class _NewEvidence:
    """``Evidence(text, line, note)`` at a third of the cost (a finding's evidence lines are
    made by the thousand): same slots, plain stores, then the class becomes ``Evidence`` (see
    ``govnet.checks.model._NewFinding`` for why CPython allows it)."""

    __slots__ = ("line", "note", "text")

    def __init__(self, text: str, line: int | None, note: str) -> None:
        self.text = text
        self.line = line
        self.note = note
        self.__class__ = Evidence  # type: ignore[assignment]


_evidence = cast(Callable[[str, int | None, str], Evidence], _NewEvidence)


def _line(cfg: ParsedConfig, index: int, note: str = "") -> Evidence:
    return _evidence(cfg.texts[index], cfg.numbers[index], note)


def _where(cfg: ParsedConfig, header: int | None) -> str:
    return f"{cfg.texts[header]}: " if header is not None else ""


def _test_scope(
    cfg: ParsedConfig,
    clause: _ClauseFields,
    platform: str,
    lo: int,
    hi: int,
    header: int | None,
    out: _Outcome,
) -> bool:
    """Test one scope, adding to ``out``; True when the scope complies."""
    if header is None and lo == 0 and hi == len(cfg.texts):
        return _test_whole(cfg, clause, platform, out)
    ok = True
    for pattern in clause.must_match:
        hit = cfg.first(pattern, lo, hi)
        if hit is None:
            ok = False
            out.fail(
                _(
                    "{where}no line matches {pattern!r}",
                    where=_where(cfg, header),
                    pattern=pattern.pattern,
                ),
                _missing(cfg, header, f"no line matches {pattern.pattern}"),
            )
        elif out.has_room():
            out.good.append(_line(cfg, hit[0]))
    for pattern in clause.must_not_match:
        for index, _m in cfg.search(pattern, lo, hi):
            ok = False
            out.fail(
                _(
                    "{where}line {number}: {line!r} matches {pattern!r}",
                    where=_where(cfg, header),
                    number=cfg.numbers[index],
                    line=cfg.texts[index],
                    pattern=pattern.pattern,
                ),
                _line(cfg, index, f"must not match {pattern.pattern}"),
            )
    if clause.value is not None:
        ok = _test_value(cfg, clause.value, platform, lo, hi, header, out) and ok
    return ok


def _test_whole(cfg: ParsedConfig, clause: _ClauseFields, platform: str, out: _Outcome) -> bool:
    """:func:`_test_scope` on the whole configuration: every hit is in scope."""
    ok = True
    texts = cfg.texts
    for pattern in clause.must_match:
        hits = cfg.hits(pattern)
        if not hits or pattern.search(texts[hits[0]]) is None:
            ok = False
            out.fail(
                _("{where}no line matches {pattern!r}", where="", pattern=pattern.pattern),
                _evidence(f"no line matches {pattern.pattern}", None, ""),
            )
        elif out.has_room():
            out.good.append(_line(cfg, hits[0]))
    for pattern in clause.must_not_match:
        for index in cfg.hits(pattern):
            if pattern.search(texts[index]) is not None:
                ok = False
                out.fail(
                    _(
                        "{where}line {number}: {line!r} matches {pattern!r}",
                        where="",
                        number=cfg.numbers[index],
                        line=texts[index],
                        pattern=pattern.pattern,
                    ),
                    _line(cfg, index, f"must not match {pattern.pattern}"),
                )
    test = clause.value
    if test is not None:
        search = test.match.search
        found = [(i, m) for i in cfg.hits(test.match) if (m := search(texts[i])) is not None]
        ok = _judge_values(cfg, test, platform, found, None, out) and ok
    return ok


def _missing(cfg: ParsedConfig, header: int | None, note: str) -> Evidence:
    if header is None:
        return _evidence(note, None, "")
    return _line(cfg, header, note)


def _test_value(
    cfg: ParsedConfig,
    test: ValueTest,
    platform: str,
    lo: int,
    hi: int,
    header: int | None,
    out: _Outcome,
) -> bool:
    return _judge_values(cfg, test, platform, list(cfg.search(test.match, lo, hi)), header, out)


def _judge_values(
    cfg: ParsedConfig,
    test: ValueTest,
    platform: str,
    hits: list[tuple[int, re.Match[str]]],
    header: int | None,
    out: _Outcome,
) -> bool:
    """The value test on the lines of one scope that its regex matched (``hits``)."""
    unit = f" {test.unit}" if test.unit else ""
    if not hits:
        where = _where(cfg, header)
        default = test.default.get(platform)
        if default is None:
            out.fail(
                _("{where}no line matches {pattern!r}", where=where, pattern=test.match.pattern),
                _missing(cfg, header, f"no line matches {test.match.pattern}"),
            )
            return False
        m = test.match.search(default)
        v = test.number(m) if m else None
        note = f"no line matches {test.match.pattern} (platform default: {default})"
        if v is not None and test.holds(v):
            if out.has_room():
                out.good.append(_missing(cfg, header, f"{note} = {_fmt(v)}{unit}"))
            return True
        shown = "?" if v is None else _fmt(v)
        need = test.bounds()
        out.fail(
            _(
                "{where}platform default {default!r} = {shown}{unit}, required {need}",
                where=where,
                default=default,
                shown=shown,
                unit=unit,
                need=need,
            ),
            _missing(cfg, header, f"{note} = {shown}{unit}, required {need}"),
        )
        return False
    ok = True
    for index, m in hits:
        v = test.number(m)
        if v is not None and test.holds(v):
            if out.has_room():
                out.good.append(_line(cfg, index, f"= {_fmt(v)}{unit}"))
        else:
            ok = False
            shown = "?" if v is None else _fmt(v)
            need = test.bounds()
            out.fail(
                _(
                    "{where}line {number}: {line!r} = {shown}{unit}, required {need}",
                    where=_where(cfg, header),
                    number=cfg.numbers[index],
                    line=cfg.texts[index],
                    shown=shown,
                    unit=unit,
                    need=need,
                ),
                _line(cfg, index, f"= {shown}{unit}, required {need}"),
            )
    return ok


def _test_clause(cfg: ParsedConfig, clause: _ClauseFields, platform: str) -> _Outcome | None:
    """The clause's outcome, or None when its ``if_match`` condition does not hold."""
    lo, hi = 0, len(cfg.texts)
    for pattern in clause.if_match:
        if not cfg.contains(pattern, lo, hi):
            return None
    for pattern in clause.if_no_match:
        if cfg.contains(pattern, lo, hi):
            return None
    if clause.section is None:
        out = _Outcome()
        _test_scope(cfg, clause, platform, lo, hi, None, out)
        return out
    blocks = cfg.sections(clause.section)
    if clause.where or clause.unless:
        kept = []
        ends = cfg.ends
        for index in blocks:
            b_lo, b_hi = index + 1, ends[index]
            if clause.where and not all(cfg.contains(p, b_lo, b_hi) for p in clause.where):
                continue
            if clause.unless and any(cfg.contains(p, b_lo, b_hi) for p in clause.unless):
                continue
            kept.append(index)
        blocks = kept
    if not blocks:
        note = f"no section matches {clause.section.pattern}"
        if clause.when_absent == "pass":
            return _Outcome(True, good=[Evidence(note)])
        out = _Outcome()
        out.fail(_("no section matches {pattern}", pattern=clause.section.pattern), Evidence(note))
        return out
    if clause.quantifier == "any":
        results = []
        for index in blocks:
            one = _Outcome()
            if _test_scope(cfg, clause, platform, *cfg.body(index), index, one):
                return one
            results.append(one)
        out = _Outcome(False)
        for r in results:
            out.bad.extend(r.bad)
        out.problems.append(
            _(
                "none of {n} section(s) matching {pattern!r} complies: {first}",
                n=len(results),
                pattern=clause.section.pattern,
                first=results[0].problems[0],
            )
        )
        return out
    return _test_blocks(cfg, clause, platform, blocks)


def _test_blocks(
    cfg: ParsedConfig, clause: _ClauseFields, platform: str, blocks: list[int]
) -> _Outcome:
    """Every block must comply. Each pattern's hits are bucketed by top-level block in one
    pass instead of one search per block (a 48-port switch has 48 interface blocks)."""
    out = _Outcome()
    top_of = cfg.top_of
    for pattern in clause.must_match:
        # Block → its first line the pattern matches. Built from the last hit to the first so
        # that the first wins; a block whose header itself matched maps to the header and is
        # looked at again below.
        hits = cfg.hits(pattern)
        backwards = hits[::-1]
        first_hit = dict(zip(map(top_of.__getitem__, backwards), backwards, strict=True))
        found = list(map(first_hit.get, blocks, repeat(-1)))
        if any(map(eq, blocks, found)):
            found = [_first_below(cfg, hits, block) for block in blocks]
        if -1 not in found:  # every block complies: evidence for the first, a count after
            if out.ok:
                room = max(MAX_EVIDENCE - len(out.good), 0)
                shown = found[:room]  # their lines, made in one C-level pass
                out.good.extend(
                    map(
                        _evidence,
                        map(cfg.texts.__getitem__, shown),
                        map(cfg.numbers.__getitem__, shown),
                        repeat(""),
                    )
                )
                out.good_more += max(len(found) - room, 0)
            continue
        # Some block fails, so the clause does: only the failures will be shown.
        for block, index in zip(blocks, found, strict=True):
            if index < 0:
                out.fail(
                    _(
                        "{where}no line matches {pattern!r}",
                        where=_where(cfg, block),
                        pattern=pattern.pattern,
                    ),
                    _missing(cfg, block, f"no line matches {pattern.pattern}"),
                )
    if clause.must_not_match:
        wanted = set(blocks)
        for pattern in clause.must_not_match:
            for index in cfg.hits(pattern):
                block = top_of[index]
                if block != index and block in wanted:
                    out.fail(
                        _(
                            "{where}line {number}: {line!r} matches {pattern!r}",
                            where=_where(cfg, block),
                            number=cfg.numbers[index],
                            line=cfg.texts[index],
                            pattern=pattern.pattern,
                        ),
                        _line(cfg, index, f"must not match {pattern.pattern}"),
                    )
    test = clause.value
    if test is not None:
        # The value regex's hits bucketed by block, as above, in line order within a block.
        by_block: dict[int, list[tuple[int, re.Match[str]]]] = {}
        texts = cfg.texts
        for index in cfg.hits(test.match):
            block = top_of[index]
            if block != index:
                m = test.match.search(texts[index])
                if m is not None:
                    by_block.setdefault(block, []).append((index, m))
        for block in blocks:
            _judge_values(cfg, test, platform, by_block.get(block, []), block, out)
    return out


def _first_below(cfg: ParsedConfig, hits: list[int], block: int) -> int:
    """The first of ``hits`` among a top-level line's descendants, or -1."""
    k = bisect_right(hits, block)
    if k < len(hits) and cfg.top_of[hits[k]] == block:
        return hits[k]
    return -1


def evaluate_config(cfg: ParsedConfig, params: ConfigParams, platform: str) -> CheckResult:
    """Judge one parsed configuration (exposed for benches and tests).

    Most rules pass on most devices: :func:`_compliant` tries that first, in one tight pass
    that builds only what a passing finding shows; at the first sign of a failure the check
    is judged again in full by :func:`_judge`, which explains every failure.
    """
    result = _compliant(cfg, params, platform)
    return _judge(cfg, params, platform) if result is None else result


@lru_cache(maxsize=8)
def _compliant_text(lang: str) -> str:
    return tr(lang, "compliant")


def _compliant(cfg: ParsedConfig, params: ConfigParams, platform: str) -> CheckResult | None:
    """The passing result, equal to :func:`_judge`'s, or None when some clause does not hold.

    Evidence is the clauses' passing lines in order, the first :data:`MAX_EVIDENCE` shown
    and the rest counted, as :func:`_judge` shows them.
    """
    shown: list[Evidence] = []
    total = 0
    whole = len(cfg.texts)
    for clause in params.clauses:
        if clause.if_match and not all(cfg.contains(p, 0, whole) for p in clause.if_match):
            continue
        if clause.if_no_match and any(cfg.contains(p, 0, whole) for p in clause.if_no_match):
            continue
        if clause.section is None:
            n = _compliant_whole(cfg, clause, platform, shown)
            if n < 0:
                return None
            total += n
            continue
        outcome = _test_clause(cfg, clause, platform)
        assert outcome is not None  # its conditions held above
        if not outcome.ok:
            return None
        shown.extend(outcome.good[: MAX_EVIDENCE - len(shown)])
        total += len(outcome.good) + outcome.good_more
    message = _compliant_text(current_lang())
    if total > MAX_EVIDENCE:
        message += _(" ({extra} more lines not shown)", extra=total - MAX_EVIDENCE)
    return new_result(Status.PASS, tuple(shown), message)


def _compliant_whole(
    cfg: ParsedConfig, clause: _ClauseFields, platform: str, shown: list[Evidence]
) -> int:
    """:func:`_test_whole` for a compliant configuration: how many passing lines the clause
    has (those within :data:`MAX_EVIDENCE` added to ``shown``), or -1 when it fails."""
    texts = cfg.texts
    n = 0
    for pattern in clause.must_match:
        hits = cfg.hits(pattern)
        if not hits or pattern.search(texts[hits[0]]) is None:
            return -1
        if len(shown) < MAX_EVIDENCE:
            shown.append(_line(cfg, hits[0]))
        n += 1
    for pattern in clause.must_not_match:
        search = pattern.search
        for index in cfg.hits(pattern):
            if search(texts[index]) is not None:
                return -1
    test = clause.value
    if test is None:
        return n
    unit = f" {test.unit}" if test.unit else ""
    search = test.match.search
    found = False
    for index in cfg.hits(test.match):
        m = search(texts[index])
        if m is None:
            continue
        found = True
        v = test.number(m)
        if v is None or not test.holds(v):
            return -1
        if len(shown) < MAX_EVIDENCE:
            shown.append(_line(cfg, index, f"= {_fmt(v)}{unit}"))
        n += 1
    if found:
        return n
    default = test.default.get(platform)
    if default is None:
        return -1
    m = search(default)
    v = test.number(m) if m else None
    if v is None or not test.holds(v):
        return -1
    if len(shown) < MAX_EVIDENCE:
        note = f"no line matches {test.match.pattern} (platform default: {default})"
        shown.append(_evidence(f"{note} = {_fmt(v)}{unit}", None, ""))
    return n + 1


def _judge(cfg: ParsedConfig, params: ConfigParams, platform: str) -> CheckResult:
    """Every clause tested, every failure explained."""
    ok = True
    evidence: list[Evidence] = []
    total = 0
    problems: list[str] = []
    for clause in params.clauses:
        outcome = _test_clause(cfg, clause, platform)
        if outcome is None:
            continue
        if outcome.ok:
            if ok:
                good = outcome.good
                evidence.extend(good)
                total += len(good) + outcome.good_more
        else:
            if ok:  # from now on, show only what is wrong
                evidence.clear()
                total = 0
            ok = False
            bad = outcome.bad
            evidence.extend(bad)
            total += len(bad)
            problems.extend(outcome.problems)
    extra = total - MAX_EVIDENCE
    shown = tuple(evidence[:MAX_EVIDENCE])
    if ok:
        message = _("compliant") + (
            _(" ({extra} more lines not shown)", extra=extra) if extra > 0 else ""
        )
        return new_result(Status.PASS, shown, message)
    message = _("; ").join(problems[:3])
    if len(problems) > 3:
        message += _("; and {n} more", n=len(problems) - 3)
    if extra > 0:
        message += _(" ({extra} more lines of evidence not shown)", extra=extra)
    return new_result(Status.FAIL, shown, message)


@register("config")
class ConfigKind:
    """Regex tests over the running configuration (see the module docstring)."""

    name = "config"
    params = ConfigParams

    def evaluate(self, device: Device, facts: DeviceFacts, params: ConfigParams) -> CheckResult:
        cfg = facts.cache.get(_CACHE_KEY)
        if not isinstance(cfg, ParsedConfig):
            cfg = parsed(facts, device.platform)
        if cfg is None:
            return CheckResult.errored(_("the running configuration was not collected"))
        if not cfg.texts:
            return CheckResult.errored(_("the running configuration is empty"))
        return evaluate_config(cfg, params, device.platform)

    def required_commands(self, device: Device, params: ConfigParams) -> set[str]:
        command = platforms()[device.platform].command("running_config")
        return {command} if command else set()

    def shared(self, params: Sequence[ConfigParams]) -> Callable[[Device, DeviceFacts], None]:
        """For rules about to run on many devices: parse each device's configuration once
        and search it for every pattern of these rules in one pass over its lines."""
        scan = PatternScan(
            pattern for p in params if isinstance(p, ConfigParams) for pattern in _patterns(p)
        )

        def warm(device: Device, facts: DeviceFacts) -> None:
            known = _CACHE_KEY in facts.cache
            cfg = parsed(facts, device.platform, scan.parse)
            if known and cfg is not None:  # parsed before (by another kind): search it now
                scan.run(cfg)

        return warm


def _patterns(params: ConfigParams) -> Iterator[re.Pattern[str]]:
    """Every regex the check searches configurations with."""
    for c in params.clauses:
        yield from c.if_match
        yield from c.if_no_match
        if c.section is not None:
            yield c.section
        yield from c.where
        yield from c.unless
        yield from c.must_match
        yield from c.must_not_match
        if c.value is not None:
            yield c.value.match
