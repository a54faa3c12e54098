"""How close each of the day's papers is to the reader's library: TF-IDF, no model download.

Title and abstract of the library's items and of the day's candidates are turned into one
TF-IDF space (scikit-learn, fitted on both, so a word common to the whole day counts
little); a candidate's similarity is the mean cosine of its `TOP_K` nearest library items,
each weighted by how recent it is (the year it was added, else published), so the reader's
current work counts more than a classic from long ago. arxiv-sanity-lite ranks with the same
features and a linear SVM; on our labelled days (`docs/ranking.md`) the nearest-items mean
ranked at least as well and explains itself: the nearest items are the "why".

scikit-learn is imported when a library is scored, never by the web app.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .library import Library, LibraryItem

#: Library items a candidate's similarity is the mean of (5 on the tuning days of
#: tests/ranking: 1 and 3 ranked worse, 8 a little better, but a small k keeps a library's
#: smaller topics visible).
TOP_K = 5
#: Nearest items named in the "why" at most, and the cosine one must reach to be named.
SHOWN, SHOWN_MIN = 2, 0.10
#: Recency: weight of an item `HALF_LIFE` years old relative to a new one is 1/2 above FLOOR.
HALF_LIFE, FLOOR = 4.0, 0.5


@dataclass(frozen=True)
class Match:
    """One candidate against the library: similarity in [0, 1] and the nearest items' titles."""

    similarity: float
    nearest: tuple[str, ...] = ()


def recency(item: LibraryItem, today: dt.date) -> float:
    """1 for an item of this year, falling to FLOOR for old ones."""
    year = item.added.year if item.added else item.year
    if year is None:
        return FLOOR + (1 - FLOOR) / 2
    age = max(0, today.year - year)
    return FLOOR + (1 - FLOOR) * 0.5 ** (age / HALF_LIFE)


def _text(title: str, abstract: str) -> str:
    return f"{title}. {title}. {abstract}"  # the title says what a paper is about: count it twice


def match(library: Library, candidates: Sequence[tuple[str, str]], today: dt.date) -> list[Match]:
    """One `Match` per (title, abstract) candidate, in order."""
    if not candidates or not library.items:
        return [Match(0.0) for _ in candidates]
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    lib = [_text(i.title, i.abstract) for i in library.items]
    day = [_text(t, a) for t, a in candidates]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, strip_accents="unicode",
                                 ngram_range=(1, 2), dtype=np.float32)
    try:
        x = vectorizer.fit_transform(lib + day)
    except ValueError:  # nothing but stop words on both sides
        return [Match(0.0) for _ in candidates]
    sims = (x[len(lib):] @ x[:len(lib)].T).toarray()  # rows are L2-normalised: cosine
    weights = np.array([recency(i, today) for i in library.items], dtype=np.float32)
    weighted = sims * weights
    k = min(TOP_K, len(lib))
    out = []
    for row, raw in zip(weighted, sims):
        top = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
        top = top[np.argsort(-row[top])]
        shown = tuple(library.items[j].title for j in top[:SHOWN] if raw[j] >= SHOWN_MIN)
        out.append(Match(float(row[top].mean()), shown))
    return out
