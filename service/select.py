"""Which announced papers a feed analyses: filter by announce type and keywords, rank, cap."""
from __future__ import annotations

import re

from .models import AnnounceType, FeedSpec, ListingItem

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
    exclude, boost = _pattern(spec.exclude_keywords), _pattern(spec.keywords)
    kept = []
    seen: set[str] = set()
    for item in items:
        if item.announce_type not in allowed or item.arxiv_id in seen:  # a repeated id is paid once
            continue
        seen.add(item.arxiv_id)
        text = f"{item.title}\n{item.abstract}"
        if exclude and exclude.search(text):
            continue
        score = 0
        if boost:
            score = 2 * len(boost.findall(item.title)) + len(boost.findall(item.abstract))
        kept.append((score, item))
    kept.sort(key=lambda pair: -pair[0])
    chosen = [item for _, item in kept]
    return chosen[:spec.max_papers] if spec.max_papers else chosen
