"""A running configuration read into sections, built for fast regex checks.

Devices print their configuration as indented blocks separated by comment lines::

    #                                   !
     sysname HW1                        hostname R1
    #                                   !
    interface GigabitEthernet0/0/1      interface GigabitEthernet0/1
     port link-type access               description uplink
    #                                   !
    return                              end

:func:`parse_config` turns that text into parallel arrays — each line's stripped text, line
number, depth, parent and the extent of its descendants (a line's children follow it
contiguously) — plus one string of all stripped lines joined by ``\\n``. A check then runs one
C-level regex search over the whole configuration or over a section's slice of that string
instead of one Python call per line. Patterns are compiled with ``re.MULTILINE`` so ``^``/``$``
anchor at line boundaries; a pattern that starts with ``^`` is searched as ``\\n…`` on the text
with a leading newline, which lets the regex engine jump between line starts (10-15x faster
than trying ``^`` at every character).

Separators: a line that is exactly a comment character (``#`` or ``!``) at column 0 closes every
open block (Huawei/H3C print top-level leaf lines indented by one space after ``#``). Other
comment lines (``!Software Version …``) are skipped. Cisco ``banner`` and Huawei/H3C ``header``
text is opaque and skipped up to its closing delimiter. ``return``/``end`` at column 0 ends
the configuration. Nothing in here raises on odd input: any text parses to some tree.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import accumulate

COMMENT_CHARS = "#!"
FOOTERS = frozenset({"return", "end"})
# Cisco: "banner motd ^C" (delimiter ^C or any one character). Huawei/H3C: header … "text".
_BANNER_RE = re.compile(r"^banner\s+\S+\s+(\^C|\S)")
_HEADER_RE = re.compile(r'^header\s+\S+(?:\s+information)?\s+(")')


@dataclass(frozen=True, slots=True)
class ConfigLine:
    number: int  # 1-based line number in the text the device printed
    text: str  # stripped
    depth: int  # 0 = top level
    parent: int  # index of the parent line, -1 at top level
    end: int  # index one past this line's last descendant


def _top_level_alternation(pattern: str) -> bool:
    """Whether ``pattern`` has a ``|`` outside every group and character class."""
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":  # "[]…]" and "[^]…]": the ] is literal
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
        i += 1
    return False


# Caches are keyed by id() and keep the pattern itself to check identity: hash(re.Pattern)
# hashes the whole compiled program on every call (CPython does not cache it), which with
# long alternations costs more than the search.
_VARIANTS: dict[int, tuple[re.Pattern[str], re.Pattern[str] | None]] = {}


def _line_start_variant(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """``^rest`` → ``\\nrest`` (same flags) when that is equivalent, else None."""
    entry = _VARIANTS.get(id(pattern))
    if entry is not None and entry[0] is pattern:
        return entry[1]
    if len(_VARIANTS) > 4096:  # patterns come from playbooks: a bound only against misuse
        _VARIANTS.clear()
    variant = _make_variant(pattern)
    _VARIANTS[id(pattern)] = (pattern, variant)
    return variant


# Pattern text that could let a regex consume a newline (directly, in a negated class or as a
# range endpoint); anything else cannot match across lines, so its hits need no per-hit check.
_NEWLINE_CAPABLE: tuple[str, ...] = ("\\s", "\\n", "[^", "\\D", "\\W", "\\x", "\\0", "\\u")
_NEWLINE_CAPABLE += ("\\U", "\\N", "\\a", "\\t", "\\v", "\\f", "\\r")
_DOTALL_INLINE = re.compile(r"\(\?[a-zA-Z]*s")


@lru_cache(maxsize=4096)
def _may_span_lines_text(text: str, flags: int) -> bool:
    """Conservatively: could some part of the pattern match a newline character?"""
    return (
        bool(flags & re.DOTALL)
        or _DOTALL_INLINE.search(text) is not None
        or any(ord(c) < 32 for c in text)
        or any(t in text for t in _NEWLINE_CAPABLE)
    )


def _may_span_lines(pattern: re.Pattern[str]) -> bool:
    return _may_span_lines_text(pattern.pattern, pattern.flags)


def _make_variant(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    text = pattern.pattern
    if not text.startswith("^") or pattern.flags & re.VERBOSE or _top_level_alternation(text):
        return None
    try:
        return re.compile("\n" + text[1:], pattern.flags)
    except re.error:  # pragma: no cover - "^" + rest compiled, so "\n" + rest does
        return None


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_QUANTIFIERS = "?*+{"


def _literal_run(text: str) -> tuple[str, bool]:
    """The literal word characters ``text`` starts with, and whether they are the whole first
    word (see :func:`_ends_word`). A quantifier after the run makes its last character
    optional, so that character is dropped."""
    i = 0
    while i < len(text) and text[i] in _WORD_CHARS:
        i += 1
    run, rest = text[:i], text[i:]
    if rest[:1] and rest[0] in _QUANTIFIERS:
        return run[:-1], False
    return run, _ends_word(rest)


def _ends_word(rest: str) -> bool:
    """Whether pattern text ``rest`` right after a literal run forces the line's first word to
    end there: a literal space (not made optional) or ``$``. The end of the pattern does not
    (``^shutdown`` matches ``shutdownx``)."""
    if rest == "$":
        return True
    return rest[:1] == " " and rest[1:2] not in _QUANTIFIERS


def _structure(text: str) -> Iterator[tuple[int, str, int]]:
    """``(index, char, depth after it)`` for each ``(``, ``)`` and ``|`` of a regex that is
    neither escaped nor inside a character class: the one walk both helpers below need."""
    depth, i, in_class = 0, 0, False
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c in "()|":
            depth += {"(": 1, ")": -1, "|": 0}[c]
            yield i, c, depth
        i += 1


def _split_alternatives(group: str) -> list[str]:
    """The top-level ``|`` branches of a group's body."""
    out, start = [], 0
    for i, c, depth in _structure(group):
        if c == "|" and depth == 0:
            out.append(group[start:i])
            start = i + 1
    out.append(group[start:])
    return out


def _closing_paren(text: str) -> int:
    """Index of the ``)`` closing the group that opens at ``text[0]``, or -1."""
    return next((i for i, c, depth in _structure(text) if c == ")" and depth == 0), -1)


_FIRST_WORDS: dict[int, tuple[re.Pattern[str], tuple[tuple[str, bool], ...] | None]] = {}


def _first_words(pattern: re.Pattern[str]) -> tuple[tuple[str, bool], ...] | None:
    """What a line's first word must be for ``pattern`` to match it: ``(word, exact)`` pairs
    (exact: the first word equals it; else starts with it), or None when the pattern does
    not say (no ``^`` and literal start, case-insensitive, lookbehind).

    Lines are then pre-filtered by their first word before the regex runs on them. A pattern
    that could match across lines (``[^ ]+``, ``\\s``) is no exception: a line is a hit when
    the pattern matches that line alone, and a line it matches alone starts with the word."""
    entry = _FIRST_WORDS.get(id(pattern))
    if entry is not None and entry[0] is pattern:
        return entry[1]
    if len(_FIRST_WORDS) > 4096:
        _FIRST_WORDS.clear()
    words = _analyse_first_words(pattern)
    _FIRST_WORDS[id(pattern)] = (pattern, words)
    return words


def _analyse_first_words(pattern: re.Pattern[str]) -> tuple[tuple[str, bool], ...] | None:
    text = pattern.pattern
    if (
        not text.startswith("^")
        or pattern.flags & (re.IGNORECASE | re.VERBOSE)
        or "(?<" in text
        or _top_level_alternation(text)
    ):
        return None
    body = text[1:]
    if body.startswith("(") and not body.startswith("(?"):
        close = _closing_paren(body)
        rest = body[close + 1 :] if close > 0 else "?"
        if close < 0 or (rest[:1] and rest[0] in _QUANTIFIERS):
            return None
        ends = rest[:1] == "$" or _ends_word(rest)
        branches = _split_alternatives(body[1:close])
        out = []
        for branch in branches:
            run, exact = _literal_run(branch)
            if not run:
                return None
            # "(a|b) …": a branch's run is the whole first word if a space or the line's end
            # follows it inside the branch, or the branch is just the run and the group is
            # followed by one
            out.append((run, (exact and run != branch) or (run == branch and ends)))
        return tuple(out)
    run, exact = _literal_run(body)
    return ((run, exact),) if run else None


class ParsedConfig:
    """One configuration: per-line arrays, the joined text, and where each line starts in it.

    Built eagerly: each line's stripped text, line number and top-level ancestor, and the
    top-level lines. Everything else (depth, parent and extent of each line, the joined text,
    line offsets, the first-word index) is derived on first use: the checks of an offline
    audit need only the eager part, and most configurations are read once.
    """

    def __init__(self, raw: str, texts: list[str], numbers: list[int], top_of: list[int]) -> None:
        # Tuples of str/int are untracked by the garbage collector once it has seen them:
        # parsed configs held in memory then cost no time in collections.
        self._raw = raw
        self.texts = tuple(texts)
        self.numbers = tuple(numbers)
        self.top_of = tuple(top_of)  # each line's top-level ancestor (itself at top level)
        self._sections: dict[int, tuple[re.Pattern[str], list[int]]] = {}
        self._hits: dict[int, tuple[re.Pattern[str], list[int]]] = {}

    def __len__(self) -> int:
        return len(self.texts)

    @cached_property
    def top(self) -> tuple[int, ...]:
        """The top-level lines, ascending."""
        return tuple(i for i, t in enumerate(self.top_of) if i == t)

    @cached_property
    def _tree(self) -> _Tree:
        tree = _parse_tree(self._raw)
        assert tree.texts == list(self.texts)  # one reading of the text, two passes
        return tree

    @cached_property
    def depths(self) -> tuple[int, ...]:
        return tuple(self._tree.depths)

    @cached_property
    def parents(self) -> tuple[int, ...]:
        return tuple(self._tree.parents)

    @cached_property
    def ends(self) -> tuple[int, ...]:
        """Each line's index one past its last descendant."""
        return tuple(self._tree.ends)

    @cached_property
    def text(self) -> str:
        """Every stripped line joined by ``\\n``."""
        return "\n".join(self.texts)

    @cached_property
    def _shifted(self) -> str:
        return "\n" + self.text  # for ^-anchored patterns searched as \n…

    @cached_property
    def starts(self) -> tuple[int, ...]:
        """Where each line starts in :attr:`text`."""
        texts = self.texts
        return tuple(accumulate([len(t) + 1 for t in texts[:-1]], initial=0)) if texts else ()

    @cached_property
    def lines(self) -> list[ConfigLine]:
        """Every line as an object (for tests and tools; checks use the arrays)."""
        return [
            ConfigLine(
                self.numbers[i], self.texts[i], self.depths[i], self.parents[i], self.ends[i]
            )
            for i in range(len(self.texts))
        ]

    # ------------------------------------------------------------------ ranges
    @cached_property
    def _top_ends(self) -> dict[int, int]:
        # A top-level line's descendants are every line up to the next top-level line.
        top = self.top
        return dict(zip(top, (*top[1:], len(self.texts)), strict=True))

    def body(self, index: int) -> tuple[int, int]:
        """The line index range ``[lo, hi)`` of a line's descendants."""
        end = self._top_ends.get(index)
        return index + 1, self.ends[index] if end is None else end

    def whole(self) -> tuple[int, int]:
        return 0, len(self.texts)

    def line_at(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def children(self, index: int) -> list[int]:
        lo, hi = self.body(index)
        depth = self.depths[index] + 1
        return [i for i in range(lo, hi) if self.depths[i] == depth]

    # ------------------------------------------------------------------ searching
    def hits(self, pattern: re.Pattern[str]) -> list[int]:
        """Indices of every line ``pattern`` matches: one scan per pattern, then cached."""
        entry = self._hits.get(id(pattern))
        if entry is not None and entry[0] is pattern:
            return entry[1]
        found = self._scan(pattern)
        self._hits[id(pattern)] = (pattern, found)
        return found

    def _scan(self, pattern: re.Pattern[str]) -> list[int]:
        texts = self.texts
        if not texts:
            return []
        words = _first_words(pattern)
        if words is not None:
            return self._scan_words(pattern, words)
        fast = _line_start_variant(pattern)
        if fast is None:
            return self._scan_slow(pattern)
        # In "\n" + text line j starts after the (j+1)-th newline, so a match of "\n…" starts
        # on the newline before its line (counted from the previous match on); one that runs
        # past its line spanned lines (\s matches \n) and the rest is searched line by line.
        shifted = self._shifted
        count = shifted.count
        spans = _may_span_lines(pattern)
        out: list[int] = []
        index, counted = -1, 0
        for m in fast.finditer(shifted):
            start, end = m.span()
            index += count("\n", counted, start + 1)
            counted = start + 1
            if spans and end > counted + len(texts[index]):
                out.extend(i for i in range(index, len(texts)) if pattern.search(texts[i]))
                return out
            out.append(index)
        return out

    @cached_property
    def _words(self) -> dict[str, list[int]]:
        """First word of each line → the indices of its lines, ascending."""
        index: dict[str, list[int]] = {}
        get = index.get
        for i, word in enumerate([t.partition(" ")[0] for t in self.texts]):
            found = get(word)
            if found is None:
                index[word] = [i]
            else:
                found.append(i)
        return index

    def _scan_words(
        self, pattern: re.Pattern[str], words: tuple[tuple[str, bool], ...]
    ) -> list[int]:
        """Lines whose first word fits ``words``, then the regex on each of those only (a
        one-line pattern matches at a line start exactly when it matches the line)."""
        index = self._words
        if len(words) == 1 and words[0][1]:
            candidates = index.get(words[0][0], [])
        else:
            found: set[int] = set()
            for word, exact in words:
                if exact:
                    found.update(index.get(word, ()))
                else:
                    for key, lines in index.items():
                        if key.startswith(word):
                            found.update(lines)
            candidates = sorted(found)
        match, texts = pattern.match, self.texts
        return [i for i in candidates if match(texts[i]) is not None]

    def _scan_slow(self, pattern: re.Pattern[str]) -> list[int]:
        texts, starts = self.texts, self.starts
        n = len(texts)
        out: list[int] = []
        pos = 0
        while True:
            m = pattern.search(self.text, pos)
            if m is None:
                return out
            index = bisect_right(starts, m.start()) - 1
            if "\n" in m.group(0):  # spanned lines (\s matches \n): go line by line
                out.extend(i for i in range(index, n) if pattern.search(texts[i]))
                return out
            out.append(index)
            if index + 1 >= n:
                return out
            pos = starts[index + 1]

    def search(
        self, pattern: re.Pattern[str], lo: int, hi: int
    ) -> Iterator[tuple[int, re.Match[str]]]:
        """Each line in ``[lo, hi)`` that ``pattern`` matches, with its match on that line."""
        hits = self.hits(pattern)
        texts = self.texts
        for k in range(bisect_left(hits, lo), len(hits)):
            index = hits[k]
            if index >= hi:
                return
            m = pattern.search(texts[index])
            if m is not None:
                yield index, m

    def first(self, pattern: re.Pattern[str], lo: int, hi: int) -> tuple[int, re.Match[str]] | None:
        """The first line in ``[lo, hi)`` that ``pattern`` matches, or None."""
        hits = self.hits(pattern)
        k = bisect_left(hits, lo)
        if k < len(hits) and hits[k] < hi:
            index = hits[k]
            m = pattern.search(self.texts[index])
            return (index, m) if m is not None else None
        return None

    def contains(self, pattern: re.Pattern[str], lo: int, hi: int) -> bool:
        """Whether some line in ``[lo, hi)`` matches ``pattern``."""
        hits = self.hits(pattern)
        k = bisect_left(hits, lo)
        return k < len(hits) and hits[k] < hi

    def sections(self, header: re.Pattern[str]) -> list[int]:
        """Indices of the top-level lines that ``header`` matches (cached per pattern)."""
        entry = self._sections.get(id(header))
        if entry is not None and entry[0] is header:
            return entry[1]
        top_of = self.top_of
        found = [i for i in self.hits(header) if top_of[i] == i]
        self._sections[id(header)] = (header, found)
        return found


_LITERAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_- ")


def _literal_prefix(pattern: re.Pattern[str]) -> tuple[str, bool]:
    """For a pattern with known first words: the text every line it matches starts with,
    and whether the pattern is just that text and ``$`` (a line matches exactly when it is
    that text). ``("", False)`` when the pattern starts with anything but a literal."""
    body = pattern.pattern[1:]
    i = 0
    while i < len(body) and body[i] in _LITERAL:
        i += 1
    prefix, rest = body[:i], body[i:]
    if rest[:1] and rest[0] in _QUANTIFIERS:  # its last character may be absent or repeated
        return prefix[:-1], False
    return prefix, rest == "$"


# What PatternScan.parse makes of a raw line: (stripped text, indentation or one of the kinds
# below, the patterns it matches, the closing delimiter if it opens banner text)
_Read = tuple[str, int, tuple[int, ...], str | None]
_SKIP, _SEPARATOR, _FOOTER = -1, -2, -3  # blank or comment; "#"/"!" at column 0; return/end


class _Readings(dict[str, _Read]):
    """Raw line → its reading; a line not seen yet is read (and remembered) on lookup, so
    the parse loop looks its lines up in one C-level ``map``."""

    def __init__(self, read: Callable[[str], _Read]) -> None:
        super().__init__()
        self._read = read

    def __missing__(self, raw_line: str) -> _Read:
        return self._read(raw_line)


# What to run on a line whose first word fits a pattern: ((pattern number,), literal prefix the
# line must start with or "" when its first word already says so, exact: equal to the prefix,
# the pattern's match)
_Test = tuple[tuple[int], str, bool, Callable[[str], "re.Match[str] | None"]]


class PatternScan:
    """Several patterns searched together: one pass over a configuration's lines fills
    :meth:`ParsedConfig.hits` for all of them.

    A line is tried only against the patterns that can match a line with its first word (see
    :func:`_first_words`), each after a cheap test of its literal start (a pattern that is
    only literal text is a string comparison). What a line matched is remembered by its
    text: configurations of one fleet repeat most of their lines (``shutdown``, port names,
    ``port link-type access``), so a line already seen costs one lookup. Patterns whose
    first word is not known are left to :meth:`ParsedConfig.hits`. Build one per set of
    rules and reuse it for every configuration.
    """

    _WORD_LIMIT = 4096  # distinct first words remembered
    _LINE_LIMIT = 65536  # distinct lines remembered (then forgotten all at once)

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        self.patterns: list[re.Pattern[str]] = []
        self._words: list[tuple[tuple[str, bool], ...]] = []
        for pattern in dict.fromkeys(patterns):
            words = _first_words(pattern)
            if words is not None:
                self.patterns.append(pattern)
                self._words.append(words)
        self._prefixes = [_literal_prefix(p) for p in self.patterns]
        self._match = [p.match for p in self.patterns]
        self._by_word: dict[str, tuple[_Test, ...]] = {}
        self._by_line: dict[str, tuple[int, ...]] = {}
        self._readings = _Readings(self._read)

    def _tests(self, word: str) -> tuple[_Test, ...]:
        """What to try on a line whose first word is ``word``."""
        out = []
        for k, words in enumerate(self._words):
            if any(word == w if exact else word.startswith(w) for w, exact in words):
                prefix, exact = self._prefixes[k]
                prefix = "" if word.startswith(prefix) and not exact else prefix
                out.append(((k,), prefix, exact, self._match[k]))
        return tuple(out)

    def _match_line(self, text: str) -> tuple[int, ...]:
        """The patterns (by number) that match the stripped line ``text``."""
        word = text.partition(" ")[0]
        tests = self._by_word.get(word)
        if tests is None:
            if len(self._by_word) >= self._WORD_LIMIT:
                self._by_word.clear()
            tests = self._by_word[word] = self._tests(word)
        if len(tests) == 1:  # the usual case: one pattern starts with this word
            hit, prefix, exact, match = tests[0]
            if text == prefix if exact else text.startswith(prefix) and match(text):
                return hit
            return ()
        return tuple(
            [
                hit[0]
                for hit, prefix, exact, match in tests
                if (text == prefix if exact else text.startswith(prefix) and match(text))
            ]
        )

    def _matches(self, text: str) -> tuple[int, ...]:
        """:meth:`_match_line`, remembered by the line's text."""
        hits = self._match_line(text)
        if len(self._by_line) >= self._LINE_LIMIT:
            self._by_line.clear()
        self._by_line[text] = hits
        return hits

    def run(self, cfg: ParsedConfig) -> None:
        """Search an already parsed configuration."""
        if not self.patterns:
            return
        get, matches = self._by_line.get, self._matches
        found: list[list[int]] = [[] for _ in self.patterns]
        for i, text in enumerate(cfg.texts):
            hits = get(text)
            if hits is None:
                hits = matches(text)
            for k in hits:
                found[k].append(i)
        self._store(cfg, found)

    def _read(self, raw_line: str) -> _Read:
        """What :func:`parse_config` makes of one line, and the patterns it matches: the
        part of the reading that depends on the line alone (remembered by its raw text)."""
        stripped = raw_line.strip()
        if not stripped:
            read: _Read = ("", _SKIP, (), None)
        else:
            first = stripped[0]
            column0 = raw_line[0] == first
            if first in "#!":
                read = ("", _SEPARATOR if column0 and len(stripped) == 1 else _SKIP, (), None)
            elif column0 and (stripped == "return" or stripped == "end"):
                read = ("", _FOOTER, (), None)
            else:
                opens = None
                if first in "bh" and stripped.startswith(("banner", "header")):
                    opens = _opaque_text(stripped)
                indent = len(raw_line) - len(raw_line.lstrip())
                read = (stripped, indent, self._match_line(stripped), opens)
        readings = self._readings
        if len(readings) >= self._LINE_LIMIT:
            readings.clear()
        readings[raw_line] = read
        return read

    def parse(self, raw: str) -> ParsedConfig:
        """``parse_config(raw)`` searched as by :meth:`run`, in one pass over the lines.

        The reading is :func:`parse_config`'s, line for line (a property test holds them
        equal). What a line is (its stripped text, indentation, separator or not, the
        patterns it matches) depends on its raw text only, so it is remembered by that text:
        configurations of one fleet repeat most of their lines (``shutdown``, port names,
        ``port link-type access``), and a line seen before costs one lookup. The loop then
        only tracks the blocks (see :func:`parse_config`).
        """
        texts: list[str] = []
        numbers: list[int] = []
        top_of: list[int] = []
        floor = -1
        top = -1
        index = -1  # of the last kept line
        closing: str | None = None
        found: list[list[int]] = [[] for _ in self.patterns]
        add_text, add_number, add_top = texts.append, numbers.append, top_of.append
        lines = raw.splitlines()
        readings = map(self._readings.__getitem__, lines)  # a line not seen yet is read
        for number, (stripped, indent, hits, opens) in enumerate(readings, 1):
            if closing is not None:  # banner text (read above for nothing: rare)
                if closing in lines[number - 1]:
                    closing = None
                continue
            if indent < 0:
                if indent == _SEPARATOR:
                    floor = -1
                elif indent == _FOOTER:
                    break
                continue
            index += 1
            if floor < 0 or indent <= floor:  # column 0 (indent 0) always starts a block
                floor = indent
                top = index
            add_text(stripped)
            add_number(number)
            add_top(top)
            if hits:
                for k in hits:
                    found[k].append(index)
            if opens is not None:
                closing = opens
        cfg = ParsedConfig(raw, texts, numbers, top_of)
        self._store(cfg, found)
        return cfg

    def _store(self, cfg: ParsedConfig, found: list[list[int]]) -> None:
        cache = cfg._hits
        for pattern, lines in zip(self.patterns, found, strict=True):
            entry = cache.get(id(pattern))
            if entry is None or entry[0] is not pattern:
                cache[id(pattern)] = (pattern, lines)


def parse_config(raw: str) -> ParsedConfig:
    """Read configuration text; never raises.

    One pass keeps what checks need (stripped text, line number, top-level ancestor); the
    full tree (depths, parents, extents) is read from the same text by :func:`_parse_tree`
    when something asks for it. Both follow the rules in the module docstring.

    A line is top-level exactly when no line kept since the last separator is indented less
    (the open block's outermost line is the least indented open line), so the pass tracks
    one indentation (``floor``) instead of a stack.
    """
    texts: list[str] = []
    numbers: list[int] = []
    top_of: list[int] = []
    floor = -1  # indentation of the open top-level line; -1: none since the last separator
    top = -1
    closing: str | None = None  # inside banner/header text: its closing delimiter
    for number, raw_line in enumerate(raw.splitlines(), 1):
        if closing is not None:
            if closing in raw_line:
                closing = None
            continue
        stripped = raw_line.strip()
        if not stripped:
            continue
        first = stripped[0]
        if first in "#!":
            if raw_line[0] == first and len(stripped) == 1:  # a separator at column 0
                floor = -1
            continue
        if raw_line[0] == first:  # column 0
            if stripped == "return" or stripped == "end":
                break
            floor = 0
            top = len(texts)
        else:
            indent = len(raw_line) - len(raw_line.lstrip())
            if floor < 0 or indent <= floor:
                floor = indent
                top = len(texts)
        texts.append(stripped)
        numbers.append(number)
        top_of.append(top)
        if first in "bh" and stripped.startswith(("banner", "header")):
            closing = _opaque_text(stripped)
    return ParsedConfig(raw, texts, numbers, top_of)


@dataclass
class _Tree:
    texts: list[str] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)


def _parse_tree(raw: str) -> _Tree:
    """The full tree: each line's depth, parent and extent (a stack of open lines)."""
    tree = _Tree()
    texts, depths, parents, ends = tree.texts, tree.depths, tree.parents, tree.ends
    stack_indent: list[int] = []  # indentation of the open lines, outermost first
    stack_index: list[int] = []
    closing: str | None = None  # inside banner/header text: its closing delimiter
    for raw_line in raw.splitlines():
        if closing is not None:
            if closing in raw_line:
                closing = None
            continue
        stripped = raw_line.strip()
        if not stripped:
            continue
        first = stripped[0]
        indent = len(raw_line) - len(raw_line.lstrip())
        if first in COMMENT_CHARS:
            if indent == 0 and len(stripped) == 1:
                index = len(texts)
                for open_index in stack_index:
                    ends[open_index] = index
                stack_indent.clear()
                stack_index.clear()
            continue
        if indent == 0 and stripped in FOOTERS:
            break
        index = len(texts)
        while stack_indent and stack_indent[-1] >= indent:
            stack_indent.pop()
            ends[stack_index.pop()] = index
        texts.append(stripped)
        depths.append(len(stack_index))
        parents.append(stack_index[-1] if stack_index else -1)
        ends.append(index + 1)
        stack_indent.append(indent)
        stack_index.append(index)
        if (first == "b" or first == "h") and stripped.startswith(("banner", "header")):
            closing = _opaque_text(stripped)
    n = len(texts)
    for open_index in stack_index:
        ends[open_index] = n
    return tree


def _opaque_text(line: str) -> str | None:
    """The closing delimiter if ``line`` opens multi-line banner text, else None."""
    m = _BANNER_RE.match(line)
    if m is None:
        m = _HEADER_RE.match(line)
        if m is None:
            return None
    delimiter = m.group(1)
    rest = line[m.end() :]
    return None if delimiter in rest else delimiter
