"""RSS 2.0 with the same entries as the Atom feed, for readers that only speak RSS."""
from __future__ import annotations

import html

from feedgen.feed import FeedGenerator

from ..models import Day, FeedSpec
from ..urls import Urls
from ..untrusted import scrub
from .atom import GENERATOR, Scholarly, _FeedLinks, stable_id
from .entry import entry_html, labels, summary_html

RSS_TYPE = "application/rss+xml; charset=utf-8"


def render_rss(spec: FeedSpec, days: list[Day], base: str, hub: str | None = None) -> bytes:
    """guid is the version-less abs URL (a permalink); the PDF as enclosure; all authors in
    one dc:creator "A, B, C" (as arXiv's own RSS: readers keep only one dc:creator, Zotero
    splits it on commas); one date per item, pubDate (the first submission), and no dc:date
    beside it; dc:language per item, since the channel's language is the analyses'.

    feedgen 1.0.0 pitfalls avoided here: `fe.id()` resets the guid to isPermaLink=false (so
    the guid is set after it), the channel <link> is the *last* link added whatever its
    rel (so the alternate comes last), RSS <author> must be an e-mail (authors go to dc:creator), and
    an enclosure needs an explicit length ("0" when unknown, as RSS 2.0 allows). A WebSub
    hub, when configured, is an `atom:link rel="hub"` in the channel.
    """
    days = [scrub(d) for d in days]
    lab = labels(spec.language)
    fg = FeedGenerator()
    fg.register_extension("links", _FeedLinks, Scholarly, atom=False, rss=True)
    fg.title(spec.title)
    fg.description(f"arXiv {', '.join(spec.categories)}: daily papers with LLM analysis and evidence-backed findings")
    urls = Urls(base)
    fg.link(href=urls.feed(spec.name, "rss"), rel="self", type="application/rss+xml")
    fg.link(href=urls.index(), rel="alternate")  # last: feedgen takes the channel <link> from the last link
    if hub:
        fg.links.add(rel="hub", href=hub)
    fg.generator(GENERATOR)
    fg.language(spec.language)
    if days:  # both optional in RSS: an empty feed claims no date rather than 1970
        fg.lastBuildDate(max(d.updated for d in days))
        fg.pubDate(max(d.published for d in days))
    seen: set[str] = set()
    for day in days:
        fe = fg.add_entry(order="append")
        fe.guid(stable_id("summary", spec.name, day.date.isoformat()), permalink=False)
        fe.title(f"{spec.title} — {lab['summary_title']} {day.date.isoformat()}")
        fe.link(href=urls.day(spec.name, day.date), rel="alternate")
        fe.description(summary_html(day, spec.language))
        fe.pubDate(day.published)
        for entry in day.entries:
            p = entry.paper
            if p.arxiv_id in seen:
                continue
            seen.add(p.arxiv_id)
            fe = fg.add_entry(order="append")
            fe.guid(p.abs_url, permalink=True)
            fe.title(p.title)
            fe.link(href=p.versioned_abs_url, rel="alternate")
            fe.enclosure(url=p.pdf_url, length="0", type="application/pdf")
            fe.description(html.escape(p.abstract, quote=False))  # readers take description as HTML
            fe.content(entry_html(entry, spec.language, urls.paper(p.arxiv_id)))
            fe.pubDate(p.published)
            for cat in p.categories:
                fe.category(term=cat, scheme="http://arxiv.org/schemas/atom")
            fe.links.set(p, creators=True)
    return fg.rss_str(pretty=False)
