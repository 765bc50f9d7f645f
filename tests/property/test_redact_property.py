"""Property tests for masking (issue 12 item 5): the trie pattern masks exactly what a
longest-first alternation masks, and no rendering of a registered secret survives."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from govnet.secrets import Redactor, renderings, trie_pattern

ALPHABET = "ab-\\'\"é$ .%"


@settings(max_examples=300, deadline=None)
@given(
    st.sets(st.text(ALPHABET, min_size=1, max_size=6), min_size=1, max_size=8),
    st.text(ALPHABET + "xy", max_size=60),
)
def test_trie_matches_like_a_longest_first_alternation(words: set[str], text: str) -> None:
    flat = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    assert re.compile(trie_pattern(words)).sub("*", text) == flat.sub("*", text)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=3, max_size=20).filter(lambda s: s.strip() == s and "*" not in s))
def test_no_rendering_survives(secret: str) -> None:
    redactor = Redactor()
    redactor.add(secret)
    for form in renderings(secret) | {secret}:
        masked = redactor(f"<{form}> {json.dumps({'k': form})}")
        assert form not in masked or form in '<> {}"k:', (form, masked)
