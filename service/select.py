"""Which announced papers a feed analyses: filter by announce type and keywords, rank, cap.

Followed authors come first and are always kept (even past `max_papers` or an excluded
word); then keyword hits. `rank` says why, for every entry in every format.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .models import AnnounceType, FeedSpec, ListingItem

#: A followed author outranks any number of keyword hits.
AUTHOR_SCORE = 100


@dataclass(frozen=True)
class View:
    """A reader's personal view of a feed, from its URL (`?q=`, `?author=`, `?keyword=`):
    answered from what is stored, never fetched or paid for."""

    q: str = ""
    author: str = ""
    keyword: str = ""

    def __bool__(self) -> bool:
        return bool(self.q or self.author or self.keyword)


def in_view(view: View, title: str, abstract: str, authors: tuple[str, ...], analysis_text: str) -> bool:
    """Every given filter must hold: an author of the paper is `author`; `keyword` is a word
    of the title or abstract; every word of `q` is in the title, abstract, authors or analysis."""
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


def rank(spec: FeedSpec, item: ListingItem) -> Ranking:
    """The paper's score for this feed and the reasons behind it."""
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
    return Ranking(score, tuple(reasons))

_TYPES_NEW = {AnnounceType.NEW}
_TYPES_CROSS = {AnnounceType.CROSS}


def _pattern(words: tuple[str, ...]) -> re.Pattern | None:
    if not words:
        return None
    return re.compile("|".join(rf"\b{re.escape(w)}\b" for w in words), re.I)


def select(spec: FeedSpec, items: tuple[ListingItem, ...]) -> list[ListingItem]:
    """New (and, if asked, cross-listed) papers without excluded words, keyword hits first.

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
        ranking = rank(spec, item)
        followed = ranking.score >= AUTHOR_SCORE
        if exclude and not followed and exclude.search(f"{item.title}\n{item.abstract}"):
            continue
        kept.append((ranking.score, followed, item))
    kept.sort(key=lambda t: -t[0])
    capped = kept[:spec.max_papers] if spec.max_papers else kept
    # followed authors are always kept, even past the cap
    return [item for _, _, item in capped] + [item for _, f, item in kept[len(capped):] if f]
