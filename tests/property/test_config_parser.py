"""The section parser never crashes and keeps its invariants, whatever text it is given.

Two kinds of input: arbitrary text (anything a broken collector could hand over) and
config-shaped text built from vendor keywords, separators, banners and random indentation.
The fast search over the joined text must agree with a naive line-by-line search.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govnet.checks.kinds.config import evaluate_config
from govnet.checks.playbook import load_playbooks
from govnet.core.configtext import ParsedConfig, parse_config
from govnet.core.vocabulary import Status

BASELINE = load_playbooks(Path(__file__).resolve().parents[2] / "playbooks" / "mlps2-baseline.yaml")
RULES = [r for b in BASELINE for r in b.rules if r.kind == "config"]

WORDS = [
    "interface GigabitEthernet0/0/1",
    "description uplink",
    "shutdown",
    "undo shutdown",
    "user-interface vty 0 4",
    "line vty 0 4",
    "idle-timeout 0 0",
    "idle-timeout 5",
    "exec-timeout 10 0",
    "acl 2001 inbound",
    "protocol inbound all",
    "telnet server enable",
    "snmp-agent community read public",
    "aaa",
    "local-user admin password cipher x",
    "banner motd ^C",
    "^C",
    'header login information "hi',
    '"',
    "return",
    "end",
    "#",
    "!",
    "!Software Version V200R011",
    "ntp-service unicast-server 10.0.0.1",
    "sysname X",
    "transport input ssh",
    "password-control length 4",
    "version 5.20",
    "",
    "\t",
    "x y z",
]

config_lines = st.tuples(
    st.integers(min_value=0, max_value=4), st.sampled_from(WORDS) | st.text(max_size=12)
).map(lambda t: " " * t[0] + t[1])
config_text = st.lists(config_lines, max_size=60).map("\n".join)
any_text = st.text(max_size=400)
line_ends = st.sampled_from(["\n", "\r\n", "\r"])


def check_invariants(cfg: ParsedConfig, raw: str) -> None:
    n = len(cfg.lines)
    assert cfg.text == "\n".join(line.text for line in cfg.lines)
    assert len(cfg.starts) == n
    source = raw.splitlines()
    previous_number = 0
    for i, line in enumerate(cfg.lines):
        assert line.text and line.text == line.text.strip()
        assert cfg.text[cfg.starts[i] : cfg.starts[i] + len(line.text)] == line.text
        assert line.number > previous_number
        previous_number = line.number
        assert source[line.number - 1].strip() == line.text
        assert i < line.end <= n
        # the one-pass reading (top-level ancestors) agrees with the full tree
        assert cfg.top_of[i] == (i if line.parent < 0 else cfg.top_of[line.parent])
        if line.parent < 0:
            assert line.depth == 0 and i in cfg.top
        else:
            parent = cfg.lines[line.parent]
            assert line.parent < i < parent.end and line.end <= parent.end
            assert line.depth == parent.depth + 1
        for j in range(i + 1, line.end):  # descendants follow contiguously
            assert cfg.lines[j].depth > line.depth
    assert list(cfg.top) == [i for i, line in enumerate(cfg.lines) if line.parent < 0]


def naive(cfg: ParsedConfig, pattern: re.Pattern[str], lo: int, hi: int) -> list[int]:
    return [i for i in range(lo, hi) if pattern.search(cfg.lines[i].text)]


PATTERNS = [
    re.compile(p, re.MULTILINE)
    for p in (
        *(r"^shutdown$", r"^\S+ \S+$", r"\d", r"^interface ", r"e\s+\S", r"$", r"\s", r"^"),
        *(r"^\S*\s+\S", r"^[^#]*$", r"^(x|y) ?\S*$", r"^a|^b"),
    )
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(any_text, config_text), line_ends)
def test_parser_never_crashes_and_keeps_invariants(text: str, end: str) -> None:
    raw = text.replace("\n", end)
    cfg = parse_config(raw)
    check_invariants(cfg, raw)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(config_text, st.data())
def test_fast_search_agrees_with_line_by_line(text: str, data: st.DataObject) -> None:
    cfg = parse_config(text)
    n = len(cfg.lines)
    lo = data.draw(st.integers(0, n))
    hi = data.draw(st.integers(lo, n))
    for pattern in PATTERNS:
        assert [i for i, _ in cfg.search(pattern, lo, hi)] == naive(cfg, pattern, lo, hi)
    header = re.compile(r"^(interface|user-interface|line) ", re.MULTILINE)
    assert cfg.sections(header) == [i for i in cfg.top if header.search(cfg.lines[i].text)]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(any_text, config_text), st.sampled_from(["huawei", "hp_comware", "cisco_ios"]))
def test_every_baseline_rule_gives_a_verdict_on_any_text(text: str, platform: str) -> None:
    cfg = parse_config(text)
    for rule in RULES:
        result = evaluate_config(cfg, rule.params, platform)  # type: ignore[arg-type]
        assert result.status in (Status.PASS, Status.FAIL)
        assert len(result.evidence) <= 20


# The first-word pre-filter (lines looked up by first word before the regex runs on them)
# must find exactly what a regex search over the whole text finds, for any pattern shape.
_HEADS = ["shutdown", "description", "interface", "idle-timeout", "undo", "x", "a-b", "ab"]
_TAILS = ["", "$", " ", " ?", "?", "x", "\\d", " \\S+", "( |$)", "\\b", ".*", "+", "{2}", "-"]
# tails that could run into the next line when searched over the whole text
_TAILS += ["\\s+\\S", " [^ ]+", " [^ ]+(?:$| (?!x\\b))", "\\s*$", "[^x]*y"]


@st.composite
def _prefilter_patterns(draw: st.DrawFn) -> re.Pattern[str]:
    heads = draw(st.lists(st.sampled_from(_HEADS), min_size=1, max_size=3))
    head = heads[0] if len(heads) == 1 and draw(st.booleans()) else f"({'|'.join(heads)})"
    after = draw(st.sampled_from(["", "?", "*", "+"])) if head.startswith("(") else ""
    text = "^" + head + after + draw(st.sampled_from(_TAILS))
    try:
        return re.compile(text, re.MULTILINE)
    except re.error:  # "(a)+{2}" and the like
        return re.compile("^" + head, re.MULTILINE)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_text, _prefilter_patterns())
def test_first_word_prefilter_agrees_with_a_full_scan(text: str, pattern: re.Pattern[str]) -> None:
    from govnet.core.configtext import _first_words

    cfg = parse_config(text)
    words = _first_words(pattern)
    if words is not None and len(cfg):
        assert cfg._scan_words(pattern, words) == cfg._scan_slow(pattern)
    assert [i for i, _ in cfg.search(pattern, *cfg.whole())] == naive(cfg, pattern, *cfg.whole())


# A PatternScan searches a configuration for many patterns in one pass over its lines, while
# parsing it or after: each pattern's hits must be exactly the lines it matches, and the
# parse it does on the way must be parse_config's.
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(any_text, config_text),
    line_ends,
    st.lists(_prefilter_patterns(), min_size=1, max_size=6),
)
def test_a_pattern_scan_finds_what_a_line_by_line_search_finds(
    text: str, end: str, patterns: list[re.Pattern[str]]
) -> None:
    from govnet.core.configtext import PatternScan

    raw = text.replace("\n", end)
    patterns = [*patterns, *PATTERNS]  # and forms without a known first word (left to hits)
    scan = PatternScan(patterns)
    plain, scanned, searched = parse_config(raw), scan.parse(raw), parse_config(raw)
    scan.run(searched)
    assert (scanned.texts, scanned.numbers, scanned.top_of) == (
        plain.texts,
        plain.numbers,
        plain.top_of,
    )
    for pattern in patterns:
        want = naive(plain, pattern, *plain.whole())
        assert scanned.hits(pattern) == want, pattern.pattern
        assert searched.hits(pattern) == want, pattern.pattern


# One PatternScan serves a whole fleet: what it remembers of lines it read in one
# configuration (their reading, the patterns they matched) must not change how it reads the
# next. Configurations here share their first lines and differ after them, and the same
# raw line comes back at other indentations and after other separators.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    config_text,
    st.lists(st.one_of(config_text, any_text), min_size=1, max_size=4),
    line_ends,
    st.lists(_prefilter_patterns(), min_size=1, max_size=4),
)
def test_a_pattern_scan_reused_across_configs_reads_each_afresh(
    head: str, tails: list[str], end: str, patterns: list[re.Pattern[str]]
) -> None:
    from govnet.core.configtext import PatternScan

    patterns = [*patterns, *PATTERNS]
    scan = PatternScan(patterns)
    for tail in [*tails, *reversed(tails)]:
        raw = (head + "\n" + tail).replace("\n", end)
        plain, scanned = parse_config(raw), scan.parse(raw)
        assert (scanned.texts, scanned.numbers, scanned.top_of) == (
            plain.texts,
            plain.numbers,
            plain.top_of,
        )
        for pattern in patterns:
            assert scanned.hits(pattern) == naive(plain, pattern, *plain.whole()), pattern.pattern
