"""The enriched Atom feed (RFC 4287), the main product, built with feedgen."""
from __future__ import annotations

import uuid

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from ..config import arxiv_categories
from ..models import Day, FeedSpec
from .entry import entry_html, labels, summary_html

ARXIV_SCHEME = "http://arxiv.org/schemas/atom"
GENERATOR = "arxiv-digest"


def stable_id(*parts: str) -> str:
    """A permanent id that does not depend on the host the service runs under."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'arxiv-digest:' + ':'.join(parts))}"


class _FeedLinks(BaseExtension):
    pass


class _EntryLinks(BaseEntryExtension):
    """Entry links with their rel/type attributes.

    feedgen 1.0.0 drops every attribute but href on entry links
    (lkiesow/python-feedgen#135), so entries get their links through this extension.
    """

    def __init__(self):
        self.links: list[dict[str, str]] = []

    def add(self, **attrs: str) -> None:
        self.links.append(attrs)

    def extend_atom(self, entry):
        for attrs in self.links:
            xml_elem("link", entry, **attrs)
        return entry


def render_atom(spec: FeedSpec, days: list[Day], base: str) -> bytes:
    """Latest days first; per day the summary entry, then the papers in ranked order."""
    lab = labels(spec.language)
    cats = arxiv_categories()
    fg = FeedGenerator()
    fg.register_extension("links", _FeedLinks, _EntryLinks, atom=True, rss=False)
    fg.id(stable_id("feed", spec.name))
    fg.title(spec.title)
    fg.subtitle(f"arXiv {', '.join(spec.categories)}: daily papers with LLM analysis and evidence-backed findings")
    fg.link(href=f"{base}/feeds/{spec.name}.atom", rel="self", type="application/atom+xml")
    fg.link(href=f"{base}/", rel="alternate", type="text/html")
    fg.author(name=GENERATOR)
    fg.generator(GENERATOR)
    fg.language(spec.language)
    fg.updated(max(d.updated for d in days))

    seen: set[str] = set()
    for day in days:
        fe = fg.add_entry(order="append")
        fe.id(stable_id("summary", spec.name, day.date.isoformat()))
        fe.title(f"{spec.title} — {lab['summary_title']} {day.date.isoformat()}")
        fe.author(name=GENERATOR)
        fe.published(day.published)
        fe.updated(day.updated)
        fe.content(summary_html(day, spec.language), type="html")
        for entry in day.entries:
            p = entry.paper
            if p.arxiv_id in seen:  # a newer day already carries this paper
                continue
            seen.add(p.arxiv_id)
            fe = fg.add_entry(order="append")
            fe.id(p.abs_url)
            fe.title(p.title)
            for name in p.authors:
                fe.author(name=name)
            fe.published(p.published)
            fe.updated(entry.updated or day.updated)
            for cat in p.categories:
                fe.category(term=cat, scheme=ARXIV_SCHEME, label=cats.get(cat, cat))
            fe.links.add(href=p.versioned_abs_url, rel="alternate", type="text/html")
            fe.links.add(href=p.pdf_url, rel="related", type="application/pdf", title="pdf")
            fe.summary(p.abstract, type="text")
            fe.content(entry_html(entry, spec.language), type="html")
    return fg.atom_str(pretty=False)
