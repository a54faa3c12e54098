"""Text normal forms shared by the checks: what counts as "the same" text, sentence and token."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u300c": '"', "\u300d": '"',
                       "\u300e": '"', "\u300f": '"', "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00ad": None,
                       "\u2010": "-", "\u2011": "-"})
_FOLD_PAIRS = tuple((chr(k), v or "") for k, v in _FOLD.items())
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
KANA = re.compile(r"[\u3040-\u30ff]")
HANGUL = re.compile(r"[\uac00-\ud7af]")
LATIN = re.compile(r"[A-Za-z]")
#: One token per Chinese character, one per Latin word or number.
TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[A-Za-z0-9]+(?:[.'-][A-Za-z0-9]+)*")
SENTENCE = re.compile(r"[^。！？!?\n.]+(?:[。！？!?.]|\n|$)")
#: Sentences for meaning checks: a "." inside a number or an abbreviation does not end one.
CLAUSE = re.compile(r"(?:[^。！？!?\n.]|\.(?=\w))+(?:[。！？!?.]+|\n|$)")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)


@lru_cache(maxsize=512)  # the same source is normalised by many checks
def normalize(text: str) -> str:
    """Unicode- and whitespace-normalised text, for verbatim comparisons."""
    text = unicodedata.normalize("NFKC", text)
    for old, new in _FOLD_PAIRS:  # str.replace is far faster than str.translate on long text
        if old in text:
            text = text.replace(old, new)
    return " ".join(text.split())


#: "- " between word characters; the literal first keeps the scan fast on a long text.
_WRAP = re.compile(r"-(?<=\w-) (?=\w)")


@lru_cache(maxsize=512)
def key(text: str) -> str:
    """A match key tolerant of case, width, whitespace, line wraps, quote and dash styles."""
    text = normalize(text).lower().replace('"', "").replace("'", "")
    while "--" in text:  # runs of dashes as one (str.replace: a full text is long)
        text = text.replace("--", "-")
    text = _WRAP.sub("", text)  # a word hyphenated at a line break
    return text.replace(" ", "")  # normalize() left single spaces as the only whitespace


_LETTERS = bytes(c if 97 <= c <= 122 else 32 for c in range(256))
_ALNUM = bytes(c if 97 <= c <= 122 or 48 <= c <= 57 else 32 for c in range(256))


def ascii_runs(text: str, digits: bool = False) -> list[str]:
    """The runs of [a-z] (with `digits`, [a-z0-9]) in `text`, as re.findall would give them;
    a byte table does it ~3x faster on a full text (anything else, non-ASCII included, splits)."""
    data = text.encode("ascii", "replace").translate(_ALNUM if digits else _LETTERS)
    return data.decode("ascii").split()


def tokens(text: str) -> list[str]:
    return [t.lower() for t in TOKEN.findall(text)]


def clauses(text: str) -> list[str]:
    return [c.strip() for c in CLAUSE.findall(text) if c.strip()]


def without_quotes(text: str) -> str:
    """Prose with quoted material removed: a quoted refusal is the paper's subject, not ours."""
    text = re.sub(r"“[^”\n]*”|「[^」\n]*」|『[^』\n]*』|\"[^\"\n]*\"|`[^`\n]*`", " ", text)
    return re.sub(r"(?<![\w])'[^'\n]{3,}?'(?![\w])", " ", text)
