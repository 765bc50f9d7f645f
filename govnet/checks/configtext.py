"""A running configuration read into sections, built for fast regex checks.

Devices print their configuration as indented blocks separated by comment lines::

    #                                   !
     sysname HW1                        hostname R1
    #                                   !
    interface GigabitEthernet0/0/1      interface GigabitEthernet0/1
     port link-type access               description uplink
    #                                   !
    return                              end

:func:`parse_config` turns that text into a flat list of lines, each knowing its depth, its
parent and the extent of its descendants (a line's children follow it contiguously), plus one
string of all stripped lines joined by ``\\n``. A check then runs one C-level regex search over
the whole configuration or over a section's slice of that string instead of one Python call per
line. Regexes are compiled with ``re.MULTILINE`` so ``^``/``$`` anchor at line boundaries.

Separators: a line that is exactly a comment character (``#`` or ``!``) at column 0 closes every
open block (Huawei/H3C print top-level leaf lines indented by one space after ``#``). Other
comment lines (``!Software Version …``) are skipped. Cisco ``banner`` and Huawei/H3C ``header``
text is opaque and skipped up to its closing delimiter. ``return``/``end`` at column 0 ends
the configuration. Nothing in here raises on odd input: any text parses to some tree.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

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


@dataclass
class ParsedConfig:
    """One configuration: its lines, the joined text, and where each line starts in it."""

    lines: list[ConfigLine]
    text: str
    starts: list[int]
    top: list[int]  # indices of the top-level lines
    _sections: dict[re.Pattern[str], list[int]] = field(default_factory=dict, repr=False)
    _top_text: str | None = field(default=None, repr=False)
    _top_starts: list[int] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.lines)

    # ------------------------------------------------------------------ ranges
    def body(self, index: int) -> tuple[int, int]:
        """The line index range ``[lo, hi)`` of a line's descendants."""
        return index + 1, self.lines[index].end

    def whole(self) -> tuple[int, int]:
        return 0, len(self.lines)

    def _span(self, lo: int, hi: int) -> tuple[int, int]:
        """Character span of lines ``[lo, hi)`` in :attr:`text`."""
        if lo >= hi:
            return 0, 0
        last = hi - 1
        return self.starts[lo], self.starts[last] + len(self.lines[last].text)

    def line_at(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    # ------------------------------------------------------------------ searching
    def search(
        self, pattern: re.Pattern[str], lo: int, hi: int
    ) -> Iterator[tuple[int, re.Match[str]]]:
        """Each line in ``[lo, hi)`` that ``pattern`` matches (first match per line)."""
        if lo >= hi:
            return
        start, stop = self._span(lo, hi)
        pos = start
        text = self.text
        while pos <= stop:
            m = pattern.search(text, pos, stop)
            if m is None:
                return
            index = self.line_at(m.start())
            if "\n" in m.group(0):  # the pattern spanned lines (\s matches \n): go line by line
                yield from self._search_lines(pattern, index, hi)
                return
            yield index, m
            pos = self.starts[index + 1] if index + 1 < len(self.starts) else stop + 1

    def _search_lines(
        self, pattern: re.Pattern[str], lo: int, hi: int
    ) -> Iterator[tuple[int, re.Match[str]]]:
        for index in range(lo, hi):
            m = pattern.search(self.lines[index].text)
            if m is not None:
                yield index, m

    def first(self, pattern: re.Pattern[str], lo: int, hi: int) -> tuple[int, re.Match[str]] | None:
        return next(self.search(pattern, lo, hi), None)

    def sections(self, header: re.Pattern[str]) -> list[int]:
        """Indices of the top-level lines that ``header`` matches (cached per pattern)."""
        found = self._sections.get(header)
        if found is None:
            if self._top_text is None:
                texts = [self.lines[i].text for i in self.top]
                self._top_starts = _offsets(texts)
                self._top_text = "\n".join(texts)
            found = []
            text, starts, pos = self._top_text, self._top_starts, 0
            while pos <= len(text):
                m = header.search(text, pos)
                if m is None:
                    break
                k = bisect_right(starts, m.start()) - 1
                found.append(self.top[k])
                pos = starts[k + 1] if k + 1 < len(starts) else len(text) + 1
            self._sections[header] = found
        return found

    def children(self, index: int) -> list[int]:
        lo, hi = self.body(index)
        depth = self.lines[index].depth + 1
        return [i for i in range(lo, hi) if self.lines[i].depth == depth]


def _offsets(texts: list[str]) -> list[int]:
    out: list[int] = []
    pos = 0
    for t in texts:
        out.append(pos)
        pos += len(t) + 1
    return out


def parse_config(raw: str) -> ParsedConfig:
    """Read configuration text; never raises."""
    texts: list[str] = []
    numbers: list[int] = []
    depths: list[int] = []
    parents: list[int] = []
    stack: list[tuple[int, int]] = []  # (indent, index) of open lines
    closing: str | None = None  # inside banner/header text: its closing delimiter
    for number, raw_line in enumerate(raw.splitlines(), start=1):
        if closing is not None:
            if closing in raw_line:
                closing = None
            continue
        stripped = raw_line.strip()
        if not stripped:
            continue
        indent = len(raw_line) - len(raw_line.lstrip())
        if stripped[0] in COMMENT_CHARS:
            if indent == 0 and len(stripped) == 1:
                stack.clear()
            continue
        if indent == 0 and stripped in FOOTERS:
            break
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else -1
        index = len(texts)
        texts.append(stripped)
        numbers.append(number)
        depths.append(len(stack))
        parents.append(parent)
        stack.append((indent, index))
        closing = _opaque_text(stripped)
    ends = list(range(1, len(texts) + 1))
    for index in range(len(texts) - 1, -1, -1):  # children follow their parent contiguously
        p = parents[index]
        if p >= 0 and ends[index] > ends[p]:
            ends[p] = ends[index]
    lines = [
        ConfigLine(numbers[i], texts[i], depths[i], parents[i], ends[i]) for i in range(len(texts))
    ]
    top = [i for i in range(len(texts)) if parents[i] < 0]
    return ParsedConfig(lines, "\n".join(texts), _offsets(texts), top)


def _opaque_text(line: str) -> str | None:
    """The closing delimiter if ``line`` opens multi-line banner text, else None."""
    if not line.startswith(("banner", "header")):
        return None
    m = _BANNER_RE.match(line) or _HEADER_RE.match(line)
    if m is None:
        return None
    delimiter = m.group(1)
    rest = line[m.end() :]
    return None if delimiter in rest else delimiter
