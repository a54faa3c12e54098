"""Loops: a model repeating itself, exactly, with a changing counter, as an endless list, or in
paraphrase. Measured per part (parts written to one pattern are not a loop)."""
from __future__ import annotations

import re
from collections import Counter

from .text import SENTENCE, normalize, tokens

NGRAM = 12
#: A list this long inside one part is a runaway list, not an analysis.
MAX_LIST_ITEMS = 30
_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)、]|[a-z][.)])\s+\S", re.M)


def repetition(text: str) -> tuple[float, int]:
    """(share of the text in repeated sentences, max repeats of one sentence)."""
    sentences = [normalize(s) for s in SENTENCE.findall(text)]
    sentences = [s for s in sentences if len(s) >= 20]
    if not sentences:
        return 0.0, 0
    counts = Counter(sentences)
    repeated = sum(len(s) * (n - 1) for s, n in counts.items() if n > 1)
    return repeated / sum(len(s) for s in sentences), max(counts.values())


def ngram_repetition(text: str, n: int = NGRAM) -> tuple[float, int]:
    """(share of tokens inside a repeated n-gram, longest run of such tokens).

    Numbers are one token class, so a loop whose counter changes ("在第1个场景中……在第2个
    场景中……") still repeats. An n-gram counts only when an earlier copy ends before it starts."""
    toks = ["#" if t[0].isdigit() else t for t in tokens(text)]
    if len(toks) < 2 * n:
        return 0.0, 0
    first: dict[tuple[str, ...], int] = {}
    repeated = [False] * len(toks)
    for i in range(len(toks) - n + 1):
        gram = tuple(toks[i:i + n])
        if first.setdefault(gram, i) <= i - n:
            repeated[i:i + n] = [True] * n
    longest = run = 0
    for r in repeated:
        run = run + 1 if r else 0
        longest = max(longest, run)
    return sum(repeated) / len(toks), longest


def _shingles(sentence: str) -> set[str]:
    toks = ["#" if t[0].isdigit() else t for t in tokens(sentence)]
    return {" ".join(toks[i:i + 2]) for i in range(len(toks) - 1)}


def paraphrase_loop(text: str, threshold: float = 0.6) -> int:
    """The most near-copies (bigram Jaccard >= threshold) one sentence has in the text."""
    sents = [s for s in (_shingles(x) for x in SENTENCE.findall(text)) if len(s) >= 8]
    best = 0
    for i, a in enumerate(sents):
        n = sum(1 for j, b in enumerate(sents) if j != i and len(a & b) >= threshold * len(a | b))
        best = max(best, n)
    return best


def longest_list(text: str) -> int:
    """Items in the longest list at one nesting level (a structured outline is not a runaway list)."""
    best, counts = 0, {}
    for line in text.splitlines():
        if _ITEM.match(line):
            indent = len(line) - len(line.lstrip())
            counts = {d: n for d, n in counts.items() if d <= indent}
            counts[indent] = counts.get(indent, 0) + 1
            best = max(best, counts[indent])
        elif line.strip() and not line.startswith((" ", "\t")):
            counts = {}
    # a list run inline, one sentence of items ("洪水预警、农业灌溉、水文预报、……"), counts the same
    inline = max((len(_INLINE_ITEM.split(s)) for s in _SENTENCE_END.split(text) if "、" in s or s.count(",") > 10),
                 default=0)
    return max(best, inline)


_INLINE_ITEM = re.compile(r"[、,，]")
_SENTENCE_END = re.compile(r"[。！？；;!?\n]|\.\s")


#: Markers of saying the same thing again; several in one part is a model going round in circles.
RESTATE = re.compile(r"\b(?:in other words|put differently|to put it (?:another way|differently|simply)|that is to say|"
                     r"in short|in sum|to sum up|simply put|to reiterate|again,|said another way|put another way|restated,|to rephrase|once more,|yet again)|换个说法|再说一遍|重申一下|换句话说|也就是说|换言之|总之|总而言之|"
                     r"简而言之|简单来说|简言之|再次强调|归根结底", re.I)


_MODAL = {"may", "might", "could", "can", "would", "should", "will"}
_FUNCTION = {"the", "a", "an", "this", "that", "it", "is", "are", "be", "was", "were", "of", "to", "in", "on", "for",
             "not", "no", "and", "or", "its", "their", "very", "quite", "rather", "still", "also", "only"}


def _shape(sentence: str) -> tuple[str, ...]:
    return tuple("M" if w in _MODAL else w if w in _FUNCTION else "*" for w in re.findall(r"[a-z']+", sentence.lower()))


def template_run(text: str) -> int:
    """Longest run of consecutive short English sentences written on one template
    ("The gains may be small. The improvements might be modest. The benefit could be limited.")."""
    best = 0
    for para in re.split(r"\n\s*\n|\n\s*(?=[-*+]|\d+[.)])", text):
        shapes = [_shape(s) for s in re.split(r"(?<=[.!?])\s+", para.strip()) if s]
        run = 1
        for a, b in zip(shapes, shapes[1:]):
            run = run + 1 if a == b and 3 <= len(a) <= 10 and "*" in a else 1
            best = max(best, run)
    return best


def loop_problem(text: str) -> str | None:
    share, top = repetition(text)
    if share >= 0.2 or top >= 3:
        return f"{share:.0%} of the text is repeated sentences (one sentence {top}×)"
    grams, span = ngram_repetition(text)
    if grams >= 0.1 or span >= 60:
        return f"{grams:.0%} of the text is in repeated {NGRAM}-grams (longest repeated span {span} tokens)"
    copies = paraphrase_loop(text)
    if copies >= 2:
        return f"one sentence comes back {copies + 1} times in paraphrase"
    if template_run(text) >= 4:
        return f"{template_run(text)} sentences in a row on one template"
    restated = len(RESTATE.findall(text))
    if restated >= 3:
        return f"says the same thing again {restated} times ('in other words', '也就是说' …)"
    items = longest_list(text)
    if items > MAX_LIST_ITEMS:
        return f"a list of {items} items"
    return None
