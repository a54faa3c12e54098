"""Specificity: each part must say something about *this* paper, not what could describe any.

A part is specific when it shares terms with the source beyond stop-words and the stock
vocabulary of paper-talk ("novel approach", "significant results"): for English, two content
word stems or one name/number; for Chinese (whose source is English), one Latin term or number
of the source, or enough text that it cannot be one stock sentence.
"""
from __future__ import annotations

import re

from .grounding import COMMON
from .text import CJK, MATH, normalize

STOP = set("""
a about above after again against all also although am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here hers him
his how however i if in into is it its itself just like may might more most much must my no nor not now of off on once
only or other our out over own same she should so some such than that the their theirs them then there these they this
those through thus to too under until up upon very was we were what when where which while who whom why will with within
without would yet you your yours one two three first second new well many several use used using based via per overall
""".split())
#: Words that describe any paper; sharing them with the source says nothing about this one.
GENERIC = set("""
paper work study research approach method methods model models framework results result performance propose proposed
proposes present presents introduce introduces novel significant significantly important contribution contributions
field area future direction directions potential impact application applications improve improves improvement improved
state art existing limitation limitations show shows demonstrate demonstrates effective effectiveness efficient efficiency
task tasks problem problems provide provides approach approaches promising valuable strong experiments experimental
evaluate evaluated evaluation benchmark benchmarks data dataset datasets technique techniques system systems broad
researchers practitioners community insights understanding novelty robust robustness achieve achieves achieved large
""".split())


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z]{4,}", normalize(text).lower())
    return {w[:6] for w in words if w not in STOP and w not in GENERIC}


def _anchors(text: str) -> set[str]:
    text = normalize(text)
    latin = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9\-]{2,}", text) if w not in COMMON}
    nums = set(re.findall(r"\d+(?:\.\d+)?", text))
    return latin | nums


def generic_part(body: str, source: str, language: str) -> bool:
    body = MATH.sub(" ", body)
    src_stems = _stems(source)
    src_anchor = _anchors(source)
    anchors = {a for a in _anchors(body) if a in src_anchor and (not a.isdigit() or len(a) > 1)}
    if language == "zh" and CJK.search(body):
        cjk = len(CJK.findall(body))
        return not anchors and cjk < 60
    shared = (_stems(body) & src_stems) - {a[:6] for a in GENERIC}
    return len(shared) < 2 and not any(ch.isdigit() for a in anchors for ch in a)
