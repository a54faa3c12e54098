"""Which announced papers a feed analyses: filter by announce type and keywords, rank, cap.

Followed authors come first and are always kept (even past `max_papers` or an excluded
word); then the sum of keyword hits and similarity to the reader's library (`similarity.py`).
Ranking happens on the listing's titles and abstracts, before any full text is fetched or
any LLM is paid, so the money goes to the papers that will be read. `rank` says why, for
every entry in every format, and its score is published with the entry.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .library import Library
from .similarity import Match
from .models import AnnounceType, FeedSpec, ListingItem

#: A followed author outranks any number of keyword hits and any library similarity.
AUTHOR_SCORE = 100
#: Points for a similarity of 1 to the library (a keyword hit is 1, in the title 2). Chosen on
#: the tuning days of tests/ranking (docs/ranking.md): past 150 the ranking no longer changes.
LIBRARY_WEIGHT = 150.0


@dataclass(frozen=True)
class View:
    """A reader's personal view of a feed, from its URL (`?q=`, `?author=`, `?keyword=`):
    answered from what is stored, never fetched or paid for."""

    q: str = ""
    author: str = ""
    keyword: str = ""
    #: Only entries whose ranking score is at least this (entries stored without one never are).
    min_score: float | None = None

    def __bool__(self) -> bool:
        return bool(self.q or self.author or self.keyword or self.min_score is not None)


def in_view(view: View, title: str, abstract: str, authors: tuple[str, ...], analysis_text: str,
            score: float | None = None) -> bool:
    """Every given filter must hold: an author of the paper is `author`; `keyword` is a word
    of the title or abstract; every word of `q` is in the title, abstract, authors or analysis;
    the entry's score is at least `min_score`."""
    if view.min_score is not None and (score is None or score < view.min_score):
        return False
    if view.author and not any(same_author(view.author, a) for a in authors):
        return False
    if view.keyword and not re.search(rf"\b{re.escape(view.keyword)}\b", f"{title}\n{abstract}", re.I):
        return False
    if view.q:
        haystack = "\n".join((title, abstract, " ".join(authors), analysis_text)).lower()
        if not all(word in haystack for word in view.q.lower().split()):
            return False
    return True


@dataclass(frozen=True)
class Ranking:
    score: float
    #: Why the paper is in the feed, for the reader ("followed author: …", "keyword: …").
    reasons: tuple[str, ...] = ()
    #: By a followed author: always kept, whatever the cap or an excluded word.
    followed: bool = False


def _name_tokens(name: str) -> list[str]:
    """Accent-, case- and order-insensitive tokens of a person's name ("Last, First" too)."""
    if "," in name:
        last, _, first = name.partition(",")
        name = f"{first} {last}"
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return [t for t in re.split(r"[\s.\-']+", plain.lower()) if t]


def same_author(followed: str, author: str) -> bool:
    """"Y. LeCun", "Yann LeCun", "LeCun, Yann" and "Yann Le Cun" are one person; "A. LeCun" is not."""
    f, a = _name_tokens(followed), _name_tokens(author)
    if not f or not a:
        return False
    if f[-1] != a[-1] and "".join(f[1:]) != "".join(a[1:]):  # "Le Cun" = "LeCun"
        return False
    if len(f) == 1 or len(a) == 1:
        return True
    first_f, first_a = f[0], a[0]
    if len(first_f) == 1 or len(first_a) == 1:
        return first_f[0] == first_a[0]
    return first_f == first_a


def rank(spec: FeedSpec, item: ListingItem, similar: Match | None = None) -> Ranking:
    """The paper's score for this feed and the reasons behind it (`similar`: how close it
    is to the reader's library, from `rank_all`)."""
    reasons: list[str] = []
    score = 0.0
    followed = [f for f in spec.authors if any(same_author(f, a) for a in item.authors)]
    if followed:
        score += AUTHOR_SCORE
        reasons.append("followed author: " + ", ".join(followed))
    boost = _pattern(spec.keywords)
    if boost:
        hits = [m.group(0).lower() for m in boost.finditer(item.title)] * 2 + \
               [m.group(0).lower() for m in boost.finditer(item.abstract)]
        if hits:
            score += len(hits)
            reasons.append("keywords: " + ", ".join(dict.fromkeys(hits)))
    if similar is not None:
        score += LIBRARY_WEIGHT * similar.similarity
        if similar.nearest:
            reasons.append("similar to your library: " + "; ".join(similar.nearest))
    return Ranking(round(score, 3), tuple(reasons), bool(followed))


def rank_all(spec: FeedSpec, items: tuple[ListingItem, ...], library: Library | None = None,
             today: dt.date | None = None, cache_dir: Path | None = None, vectors=None,
             max_embedded: int = 5000) -> dict[str, Ranking]:
    """Every item's ranking by arXiv id; with a library, its similarity counts too (all the
    day's items are compared at once: the day's own words weigh less). `cache_dir` keeps the
    library's fitted counts between processes (`similarity.fit`). `vectors` (texts →
    embeddings, `embeddings.Embedder`) adds closeness in meaning (`similarity.blend`); what it
    raises is the caller's to report."""
    matches: list[Match | None] = [None] * len(items)
    if library is not None and items:
        from .similarity import blend, match
        candidates = [(i.title, i.abstract) for i in items]
        matches = list(match(library, candidates, today or dt.date.today(), cache_dir))
        if vectors is not None:
            matches = blend(library, matches, candidates, vectors, today or dt.date.today(), max_embedded)
    return {i.arxiv_id: rank(spec, i, m) for i, m in zip(items, matches)}


_TYPES_NEW = {AnnounceType.NEW}
_TYPES_CROSS = {AnnounceType.CROSS}


def _pattern(words: tuple[str, ...]) -> re.Pattern | None:
    if not words:
        return None
    return re.compile("|".join(rf"\b{re.escape(w)}\b" for w in words), re.I)


def select(spec: FeedSpec, items: tuple[ListingItem, ...],
           rankings: Mapping[str, Ranking] | None = None) -> list[ListingItem]:
    """New (and, if asked, cross-listed) papers without excluded words, best ranked first
    (`rankings` from `rank_all`; without them, followed authors and keywords only).

    Ranking is stable: among equal scores the listing's own order is kept. Replacements
    (new versions of older papers) are selected only when the spec asks for them.
    """
    allowed = _TYPES_NEW | (_TYPES_CROSS if spec.include_cross_lists else set())
    if spec.include_replacements:
        allowed |= {AnnounceType.REPLACE} | ({AnnounceType.REPLACE_CROSS} if spec.include_cross_lists else set())
    exclude = _pattern(spec.exclude_keywords)
    kept = []
    seen: set[str] = set()
    for item in items:
        if item.announce_type not in allowed or item.arxiv_id in seen:  # a repeated id is paid once
            continue
        seen.add(item.arxiv_id)
        ranking = rankings[item.arxiv_id] if rankings and item.arxiv_id in rankings else rank(spec, item)
        followed = ranking.followed
        if exclude and not followed and exclude.search(f"{item.title}\n{item.abstract}"):
            continue
        kept.append((ranking.score, followed, item))
    kept.sort(key=lambda t: (not t[1], -t[0]))  # followed authors first, whatever the others score
    capped = kept[:spec.max_papers] if spec.max_papers else kept
    # followed authors are always kept, even past the cap
    return [item for _, _, item in capped] + [item for _, f, item in kept[len(capped):] if f]
