"""Language: the output language, with drift into any other caught by a real identifier (lingua).

A Chinese analysis legitimately carries English terms and quotes, so for zh the script share
decides "mostly Chinese", and every Latin-script sentence long enough to judge must be
English (a French or Spanish sentence is drift). For en, every such sentence must be English
and Chinese/Japanese/Korean script is drift. lingua ships its models in the wheel; the detector
is built once, lazily, on a fixed set of languages (low-accuracy mode: < 1 ms per sentence).
"""
from __future__ import annotations

import re
from functools import lru_cache

from .foreign import URL
from .text import CJK, HANGUL, KANA, LATIN, MATH, clauses, without_quotes

#: Latin-script sentences shorter than this (in words) are too short to identify reliably.
MIN_WORDS = 8
#: Confidence lingua must have in another language before a sentence counts as drift.
MIN_CONFIDENCE = 0.9


@lru_cache(maxsize=1)
def detector():
    from lingua import Language, LanguageDetectorBuilder
    langs = [Language.ENGLISH, Language.CHINESE, Language.JAPANESE, Language.KOREAN, Language.FRENCH,
             Language.SPANISH, Language.GERMAN, Language.ITALIAN, Language.PORTUGUESE, Language.DUTCH,
             Language.RUSSIAN, Language.ARABIC, Language.TURKISH, Language.POLISH, Language.INDONESIAN,
             Language.VIETNAMESE, Language.SWEDISH, Language.CATALAN]
    return LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode().build()


def cjk_share(text: str) -> float:
    cjk, latin = len(CJK.findall(text)), len(LATIN.findall(text))
    # A Latin term of ~6 letters stands for ~1-2 Chinese characters of meaning.
    return cjk / (cjk + latin / 4) if cjk + latin else 0.0


def _latin_sentences(text: str) -> list[str]:
    text = MATH.sub(" ", URL.sub(" ", without_quotes(text)))
    text = re.sub(r"[*_#>`|]+", " ", text)
    out = []
    # a sentence glued between Chinese ones without a space ("…边界类指标，Außerdem bleibt unklar, …") is a run
    # of its own
    for s in (run for c in clauses(text) for run in _CJK_OR_KANA.split(c)):
        if len(s) < 3 * MIN_WORDS - 1:  # too short to hold MIN_WORDS words of two letters
            continue
        words = [w for w in re.findall(r"[A-Za-zÀ-ÿ]{2,}", s) if not w.isupper()]  # EER, WER: names, not words
        if len(words) >= MIN_WORDS:
            out.append(s)
    return out


#: English function words (a closed class; none is a common word of the other Latin-script
#: languages the detector knows: no "a", "in", "on", "was", "die", "an", "or").
ENGLISH_FUNCTION = frozenset("""
the of and to is are that this with for it its by from which be been has have at if you not than these those their
they can would could should when where while whether into about because there what who only also but so such
""".split())


def english_words(sentence: str) -> int:
    return sum(w in ENGLISH_FUNCTION for w in re.findall(r"[a-z]+", sentence.lower()))


#: Function words of the other languages lingua may name (none is an English word): a sentence in one of
#: them has some. lingua's fast mode calls a terse English line French ("Mutation unit: a whole nftables
#: transaction, not a single system call."); a line with none of that language's function words is not it.
FOREIGN_FUNCTION = {
    "FRENCH": set("le la les des du une est sont pour dans sur avec que qui pas ce cette ces nous vous il elle ils mais "
                  "ou très leur leurs aux au sans entre en se ne sa son ses cela ceci peut être plus".split()),
    "SPANISH": set("el la los las del una es son para con que por se su sus pero muy entre sin este esta estos como "
                   "más también y en lo al esto eso puede ser de".split()),
    "GERMAN": set("der die das und ist nicht mit für von zu den dem des ein eine einer auch sich wie sind wird werden "
                  "bei nur noch über aus".split()),
    "ITALIAN": set("il lo la gli le di del della che non per con una sono è anche tra questo questa come più".split()),
    "PORTUGUESE": set("o os as do da dos das que não para com uma um são é mais como também pelo pela em".split()),
    "DUTCH": set("de het een van en niet met voor zijn wordt ook dat deze bij naar".split()),
    "CATALAN": set("el la els les del amb que per una és són més també".split()),
}
#: Function words of lingua's language a Latin sentence needs before it counts as drift.
MIN_FOREIGN_WORDS = 1


def foreign_sentence(text: str) -> tuple[str, str] | None:
    """(language, sentence) for the first Latin-script sentence lingua places outside English.
    lingua's fast mode can call plain English German ("The controller code is at if you want to
    check the solver settings."): a sentence whose words are a fifth or more English function
    words is English whatever it says."""
    sentences = _latin_sentences(text)
    if not sentences:
        return None
    det = detector()
    for s in sentences:
        conf = det.compute_language_confidence_values(s)
        if conf and conf[0].language.name != "ENGLISH" and conf[0].value >= MIN_CONFIDENCE:
            words = re.findall(r"[A-Za-zÀ-ÿ]{2,}", s)
            if english_words(s) >= max(2, len(words) / 5):
                continue
            own = FOREIGN_FUNCTION.get(conf[0].language.name)
            accented = sum(bool(re.search(r"[À-ÿ]", w)) for w in words)  # "electrónico", "música": not English
            if own is not None and sum(w.lower() in own for w in words) < MIN_FOREIGN_WORDS and accented < 2:
                continue
            return conf[0].language.name.title(), s[:60]
    return None


#: An English sentence this long (in words) inside a Chinese part is drift, not a term.
MIN_ENGLISH_WORDS_ZH = 6


_CJK_OR_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")


def english_sentence_in_zh(text: str) -> str | None:
    """An English prose sentence inside a Chinese part, outside quotes, links, math and code: at
    least six words, mostly lower-case (a title or a list of names is capitalised), with English
    function words (a list of terms has none)."""
    text = MATH.sub(" ", URL.sub(" ", without_quotes(text)))
    text = re.sub(r"[*_#>`|]+", " ", text)
    # an English sentence glued to Chinese ones without a space ("…更现实。Overall, this is…") is a run
    # of its own between Chinese characters
    for s in (run for c in clauses(text) for run in _CJK_OR_KANA.split(c)):
        words = re.findall(r"[A-Za-z][A-Za-z'\-]*", s)
        if len(words) < MIN_ENGLISH_WORDS_ZH:
            continue
        lower = sum(w[0].islower() for w in words)
        if lower >= 0.6 * len(words) and english_words(s) >= 2:
            return s.strip()[:60]
    return None


def language_problem(text: str, language: str) -> str | None:
    """What is wrong with the language of `text`, or None."""
    body = MATH.sub(" ", URL.sub("", text))
    if len(body.strip()) < 40:
        return None
    cjk, kana, hangul = len(CJK.findall(body)), len(KANA.findall(body)), len(HANGUL.findall(body))
    if language == "zh":
        zh = cjk_share(body)
        if kana > 0.1 * (kana + cjk) and kana > 5:
            return "Japanese"
        if hangul > 5:
            return "Korean"
        if len(body) >= 80 and zh < 0.35:
            return f"not mostly Chinese ({zh:.0%} Chinese)"
        english = english_sentence_in_zh(text)
        if english:
            return f"an English sentence in Chinese text: {english!r}"
    elif language == "en":
        if cjk + kana + hangul > 5 and (cjk + kana + hangul) > 0.05 * (cjk + kana + hangul + len(LATIN.findall(body)) / 4):
            return f"not English ({cjk_share(body):.0%} Chinese)"
    foreign = foreign_sentence(text)
    if foreign:
        return f"in {foreign[0]}: {foreign[1]!r}"
    return None
