"""Specificity: each part must say something about *this* paper, not what could describe any.

A part is specific when it shares terms with the source beyond stop-words and the stock
vocabulary of paper-talk ("novel approach", "significant results"): for English, two content
word stems or one name/number; for Chinese (whose source is English), one Latin term or number
of the source, or enough text that it cannot be one stock sentence.
"""
from __future__ import annotations

import re
from functools import lru_cache

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
real world wide range variety various diverse
""".split())


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A light stem: plural, -ing, -ed and a final e off, then the first six letters
    ("games" = "gaming", "scenes" = "scene")."""
    if len(word) > 4:
        for end in ("ing", "ed", "s"):
            if word.endswith(end):
                word = word[:-len(end)]
                break
        if word.endswith("e"):
            word = word[:-1]
    return word[:6]


@lru_cache(maxsize=64)
def _stems(text: str) -> frozenset[str]:
    words = set(re.findall(r"[a-z]{4,}", normalize(text).lower()))  # each word once: a full text repeats
    return frozenset(_stem(w) for w in words - STOP - GENERIC)


#: An acronym or a name as written (VFX, ImageNet, GRPO): specific to the paper when it shares it.
_NAMED = re.compile(r"\b(?:[A-Z]{3,}[A-Za-z0-9]*|[A-Z][a-z]+[A-Z][A-Za-z0-9]*)\b")


@lru_cache(maxsize=64)
def _anchors(text: str) -> frozenset[str]:
    text = normalize(text)
    latin = {w.lower() for w in set(re.findall(r"[A-Za-z][A-Za-z0-9\-]{2,}", text)) - COMMON}
    nums = set(re.findall(r"\d+(?:\.\d+)?", text))
    return frozenset(latin | nums)


#: Words of paper-talk in Chinese; a part made of these says nothing about this paper.
GENERIC_ZH = set("""
研究 方法 模型 论文 本文 作者 提出 领域 应用 性能 效果 结果 问题 具有 重要 意义 价值 前景 潜力 贡献 创新 新颖 显著 提升 提高
有效 实验 表明 相关 未来 方向 工作 思路 启发 广阔 实际 场景 值得 关注 解决 一定 总体 而言 这项 该研 该方 方案 技术 能力 进一步
优异 出色 良好 很大 许多 多个 各种 领先 先进 推动 发展 促进 帮助 借鉴 参考 意义 理论 实践 重大 突破 优势 不足 局限 可能 能够
针对 给出 后续 改进 空间 任何 当然 有待 仍需 局限 限性 方案 通过 基于 实现 进行 使用 利用 采用 同时 此外 因此 可以 以及 其中 之间 不同 需要 仍然 依然 已经 非常 更加
""".split())
#: Function characters: a bigram holding one is grammar, not content.
_FUNCTION = set("的了是在和与对一个有为这该其及等也都而以将被把从向上中下不很更最就还又并或所之于")


def _bigrams(text: str) -> set[str]:
    out = set()
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        out |= {run[i:i + 2] for i in range(len(run) - 1)}
    return {b for b in out - GENERIC_ZH if not (set(b) & _FUNCTION)}


#: More stock phrasing of Chinese filler ("有望带来新的思路", "奠定了良好基础").
_STOCK_ZH = GENERIC_ZH | set("""
有望 带来 新的 广泛 奠定 基础 较高 较大 较好 为该 该方向 领域内 各类 诸多 一系列 重要性 深远 积极 作用 角色 扮演 提供了 有益
总的 来看 来说 看来 整体 层面 角度 视角 上述 以上 这一 这些 一种 一些 相应 有关 方面 进而 从而 使得 得到 获得 带动 助力 赋能
新思 思考 探索 探讨 发挥 价值 较为 更为 十分 极大 极具 具备 相当 许多 后续工作 奠定了 良好 高效 准确 可靠 稳定 全面 深入 系统 有力
""".split())
#: Below this share of characters outside stock phrasing and function characters, a Chinese part is filler.
MIN_CONTENT_SHARE_ZH = 0.3


def content_share_zh(body: str) -> float:
    """Share of a Chinese text's characters not covered by stock phrasing or function characters:
    what is left to say something about this paper."""
    run = "".join(re.findall(r"[\u4e00-\u9fff]+", body))
    if not run:
        return 1.0
    covered = [ch in _FUNCTION for ch in run]
    for size in (3, 2):
        for i in range(len(run) - size + 1):
            if run[i:i + size] in _STOCK_ZH:
                covered[i:i + size] = [True] * size
    return 1 - sum(covered) / len(run)


#: A sentence about what the source leaves out ("No datasets or numbers are given", "摘要未说明所用的
#: 检测器"): about this source by construction, though it shares few words with it.
_ABSENCE = re.compile(
    r"\b(?:no|not|never|nor|neither|without)\b[^.;\n]{0,80}?\b(?:given|reported|stated|specified|mentioned|named|"
    r"provided|described|discussed|disclosed|shown|quantified|included|listed|detailed|addressed|explained)\b|"
    r"\b(?:does|do|did)(?: not|n't)\s+(?:say|state|report|give|specify|mention|describe|provide|tell|show|name|list)\b|"
    r"(?:没有|未|并未|尚未|没)(?:给出|说明|提及|提到|报告|披露|交代|列出|描述|讨论|量化|指明|明确)", re.I)
_SENTENCES = re.compile(r"[^.;!?。；！？\n]+[.;!?。；！？]?")


def without_absence(text: str) -> str:
    """The text without its sentences about what the source does not say."""
    return "".join(m.group(0) for m in _SENTENCES.finditer(text) if not _ABSENCE.search(m.group(0)))


def generic_part(body: str, source: str, language: str, others: str = "", part: str = "") -> bool:
    """`others`: the analysis's other parts. A Chinese part has no words in common with an English
    source, so without a shared Latin term or number it must at least share content words
    (character bigrams beyond paper-talk) with the rest of the analysis, which is about the paper.
    A limitations part that says what the abstract leaves out is about this abstract."""
    body = MATH.sub(" ", body)
    if field_list(body, language) or (part == "limitations" and _ABSENCE.search(body)):
        return False
    src_stems = _stems(source)
    src_anchor = _anchors(source)
    anchors = {a for a in _anchors(body) if a in src_anchor and (not a.isdigit() or len(a) > 1)}
    if language == "zh" and CJK.search(body):
        share = content_share_zh(body)
        return not anchors and (share < MIN_CONTENT_SHARE_ZH
                                or (not _bigrams(body) & _bigrams(others) and share < DENSE_SHARE_ZH))
    shared = (_stems(body) & src_stems) - _FILLER_STEMS
    named = {n.lower() for n in _NAMED.findall(body) if n not in COMMON} & src_anchor
    return (len(shared) + len(named) < 2 and not any(ch.isdigit() for a in anchors for ch in a)
            and not _quotes_source(body, source))


#: A Chinese part this dense in content (two thirds of its characters outside stock phrasing) is
#: not filler even when it is the only part on its aspect ("代码与数据尚未发布", a method's branches):
#: filler is stock phrasing, dev's generic parts are at 0.59 or less.
DENSE_SHARE_ZH = 0.65
_QUOTE = re.compile(r"[\"“]([^\"“”\n]{6,80})[\"”]")


def _quotes_source(body: str, source: str) -> bool:
    """The part quotes the paper verbatim, two words or more ("'multiple datasets' is all we learn"):
    it is about this paper, however plain its words."""
    low = normalize(source).lower()
    return any(len(q.split()) >= 2 and normalize(q).lower() in low for q in _QUOTE.findall(normalize(body)))


#: Words of boilerplate about where any work applies ("useful in a wide range of domains, … in science and
#: industry"): sharing one with the source (a "time-domain" survey, "science" images) is chance, not a term.
FILLER_EN = set("""
domain domains field fields area areas science sciences scientific industry industrial society societal possibility
possibilities useful usefulness opens open opportunities opportunity practical practice applicable general generally
""".split())
_FILLER_STEMS = frozenset({_stem(a) for a in GENERIC | FILLER_EN})


#: What makes an item a sentence of filler, not a name of a field: a verb or a modal, a pronoun.
_CLAUSE_EN = re.compile(r"\b(?:is|are|be|been|was|were|has|have|can|could|may|might|will|would|should|this|it|its|"
                        r"these|they|benefit|benefits|help|helps|useful|offer|offers)\b", re.I)
_LIST_SPLIT = re.compile(r"\s*(?:\n\s*(?:[-*+•]|\d+[.)])?\s*|[,;，、；]\s*(?:and |or |以及|及)?|\s(?:and|or) (?=\S+$))\s*")
_LIST_SPLIT_ZH = re.compile(r"\s*(?:\n|[、；;])\s*(?:以及|及|和)?")
#: A Chinese list of fields must be mostly content (stock phrasing joined by 、 is still filler).
MIN_LIST_SHARE_ZH = 0.5


def field_list(body: str, language: str) -> bool:
    """A part that is a list of fields or settings, three or more short noun phrases ("hospital
    imaging archives, satellite change detection, and industrial inspection"; "移动端输入法、联合建模、
    边缘设备训练"): it names where the work applies, which the abstract need not mention, so it is
    not filler for sharing no word with it. Each item must hold a content word of its own and no
    verb or modal (filler is sentences: "this could benefit many fields")."""
    lines = [normalize(re.sub(r"^\s*(?:[-*+•]|\d+[.)])\s*", "", ln)).strip().rstrip("。.；;") for ln in body.splitlines()]
    text = "\n".join(ln for ln in lines if ln)
    if language == "zh" and CJK.search(text):  # a Chinese comma joins clauses; 、 and ； list
        items = [i for i in _LIST_SPLIT_ZH.split(text) if i.strip()]
        return (len(items) >= 3 and all(len(i) <= 24 and "，" not in i and "," not in i for i in items)
                and content_share_zh(text) >= MIN_LIST_SHARE_ZH and all(_bigrams(i) - _STOCK_ZH for i in items))
    items = [i for i in _LIST_SPLIT.split(text) if i.strip()]
    if len(items) < 3:
        return False
    return all(len(i.split()) <= 8 and not _CLAUSE_EN.search(i) and _stems(i) for i in items)


#: Share of an analysis's content words found in its source below which it is about another
#: paper. On dev, every good analysis is at 0.47 or more (en, content-word stems) and 0.49 or
#: more (zh, Latin terms); the wrong-paper cases at 0.00-0.09. Half the lowest good, rounded down.
MIN_OVERLAP = 0.25
#: The same for one part (a part pasted from another paper's analysis): goods' lowest part 0.15 (en), 0.26 (zh).
MIN_PART_OVERLAP = 0.07
#: Fewer counted words than this and the share says nothing.
MIN_OVERLAP_WORDS = {"en": (20, 12), "zh": (8, 6)}


def _content_words(text: str, language: str) -> list[str]:
    text = normalize(MATH.sub(" ", text))
    if language == "zh" and CJK.search(text):
        return [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9\-]{2,}", text) if w not in COMMON]
    words = re.findall(r"[a-z]{4,}", text.lower())
    return [_stem(w) for w in words if w not in STOP and w not in GENERIC]


def overlap(text: str, source: str, language: str) -> tuple[float, int]:
    """(share of the text's content words that the source has, how many were counted)."""
    words = _content_words(text, language)
    have = _anchors(source) if language == "zh" and CJK.search(text) else _stems(source)
    return (sum(w in have for w in words) / len(words) if words else 1.0), len(words)


def off_paper(parts: list[str], source: str, language: str) -> str | None:
    """The analysis (or one of its parts) shares too little with the source to be about it."""
    whole, part = MIN_OVERLAP_WORDS.get(language, MIN_OVERLAP_WORDS["en"])
    parts = [without_absence(p) for p in parts]
    share, n = overlap("\n".join(parts), source, language)
    if n >= whole and share < MIN_OVERLAP:
        return f"only {share:.0%} of its content words are in the source: is it about this paper?"
    for i, body in enumerate(parts):
        share, n = overlap(body, source, language)
        if n >= part and share < MIN_PART_OVERLAP:
            return f"part {i + 1} has only {share:.0%} of its content words in the source: is it about this paper?"
    return None


def content_stems(text: str) -> frozenset[str]:
    """Content-word stems of `text` beyond stop-words and paper-talk (cached for a source)."""
    return _stems(text)
