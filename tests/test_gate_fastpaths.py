"""The gate's fast paths on long sources give exactly what the plain scans they replace give.

A full text is ~80k characters and judged once per part, so the per-source work was rewritten
with str/bytes operations (bench/gate.py measures it). These properties pin each rewrite to the
straightforward form it replaced, on text built from the characters that matter to each.
"""
from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings, strategies as st

from service import links
from service.gate import text as gate_text
from service.gate.grounding import NUMBER, _value, numbers

#: Characters that make or break URLs, dashes, line wraps, words and numbers.
_ALPHABET = st.sampled_from(list("ab.-/:0129 xyz_@#?é") + ["\n", "\t", "\u00a0", "\u3000", "\u2028", "，", "。",
                                                           "）", "--", "- ", ".com", ".org", "www.", "https://",
                                                           "K", "\u212a", "ﬁ", "Ａ", "１", "٣", "—", "\u00ad",
                                                           "e.g.", "1,272", "84.10%", "3×"])
_TEXT = st.lists(_ALPHABET, max_size=60).map("".join)


def _plain_source_keys(source_text: str) -> frozenset[str]:
    text = unicodedata.normalize("NFKC", source_text)
    return frozenset(links._key(m["host"], m["port"], m["rest"] or "") for m in links._SOURCE_URL.finditer(text))


def _plain_key(text: str) -> str:
    text = gate_text.normalize(text).lower().replace('"', "").replace("'", "")
    text = re.sub(r"-+", "-", text)
    text = re.sub(r"(?<=\w)- (?=\w)", "", text)
    return re.sub(r"\s+", "", text)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_source_urls_scanned_word_by_word_are_the_urls_of_the_whole_text(text):
    assert links.source_keys(text) == _plain_source_keys(text)


def test_source_urls_next_to_chinese_punctuation_and_in_one_long_word():
    text = "代码见github.com/a/b，数据见 https://x.org/d。" + "z" * 5000 + "a.io/q " + "见www.Example.com:8080/p?q=1）"
    assert links.source_keys(text) == _plain_source_keys(text) != frozenset()


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_key_is_the_regex_form(text):
    assert gate_text.key.__wrapped__(text) == _plain_key(text)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_ascii_runs_are_what_findall_finds(text):
    low = text.lower()
    assert gate_text.ascii_runs(low) == re.findall(r"[a-z]+", low)
    assert gate_text.ascii_runs(low, digits=True) == re.findall(r"[a-z0-9]+", low)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_numbers_are_every_number_match(text):
    norm = gate_text.normalize(text)
    assert numbers(text) == {v for m in NUMBER.finditer(norm) if (v := _value(m[1], m[2])) is not None}
