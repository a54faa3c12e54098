"""The enriched Atom feed (RFC 4287), the main product, built with feedgen."""
from __future__ import annotations

import datetime as dt
import uuid

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from ..config import arxiv_categories
from ..models import Day, FeedSpec, PaperMeta
from ..urls import Urls
from ..untrusted import scrub
from .api import DayNav
from . import feed_updated
from .citations import doi_of
from .entry import entry_html, labels, summary_html

ARXIV_SCHEME = "http://arxiv.org/schemas/atom"
GENERATOR = "arxiv-digest"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
DC_NS = "http://purl.org/dc/elements/1.1/"
PRISM_NS = "http://prismstandard.org/namespaces/basic/2.0/"
FH_NS = "http://purl.org/syndication/history/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
#: arXiv's metadata gives no language; its papers are English (citation_language likewise).
PAPER_LANGUAGE = "en"


def stable_id(*parts: str) -> str:
    """A permanent id that does not depend on the host the service runs under."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'arxiv-digest:' + ':'.join(parts))}"


class _FeedLinks(BaseExtension):
    """Namespaces for the scholarly fields, and RFC 5005 archive links (feedgen has neither)."""

    def __init__(self):
        self.links: list[dict[str, str]] = []
        self.archive = False
        self.complete = False

    def extend_ns(self):
        return {"dc": DC_NS, "prism": PRISM_NS, "fh": FH_NS}

    def add(self, **attrs: str) -> None:
        self.links.append(attrs)

    def extend_atom(self, feed):
        for attrs in self.links:
            xml_elem("link", feed, **attrs)
        if self.archive:
            xml_elem(f"{{{FH_NS}}}archive", feed)
        if self.complete:
            xml_elem(f"{{{FH_NS}}}complete", feed)
        return feed

    def extend_rss(self, feed):
        channel = feed.find("channel")
        for attrs in self.links:  # RSS has no feed links of its own: atom:link, as for rel=self
            xml_elem(f"{{{ATOM_NS}}}link", channel, **attrs)
        return feed


class Scholarly(BaseEntryExtension):
    """The fields Zotero 7's feed reader maps (xpcom/feedReader.js over FeedProcessor.mjs).

    What Zotero 7 does with an entry, and so what we write:
    - date = `updated || published`, where `updated` is the last present of pubDate,
      dc:date, atom:updated, prism:modificationDate. atom:updated is our entry's change
      time (it must be, for readers), so `prism:modificationDate` carries the arXiv date of
      the version the entry links to (for v1 the first submission) and wins; no dc:date,
      which would be a second, disagreeing date in RSS.
    - abstractNote = content, else summary: so the main feeds give Zotero our analysis;
      the Zotero variant (`render_zotero`) has no content and its summary is the abstract.
    - publicationTitle = prism:publicationName; DOI from dc:identifier ("doi:…");
      language = the item's dc:language, else the channel's (a "zh" feed would otherwise
      mark every English paper Chinese).
    - creators: one per atom:author; in RSS, a single dc:creator "A, B, C" is split on
      commas (as arXiv's own RSS writes it); repeated dc:creator lose authors in readers.
    - attachments: the first enclosure (Atom rel="enclosure", RSS <enclosure>).
    prism is an unregistered namespace to the W3C validator (a notice); it stays because
    it is the only place Zotero reads the publication and the arXiv date from.
    """

    def __init__(self):
        self.paper: PaperMeta | None = None
        self.creators = False

    def set(self, paper: PaperMeta, creators: bool = False) -> None:
        self.paper, self.creators = paper, creators

    def _extend(self, entry):
        p = self.paper
        if p is None:
            return entry
        if self.creators:
            xml_elem(f"{{{DC_NS}}}creator", entry).text = ", ".join(" ".join(a.split()) for a in p.authors)
        xml_elem(f"{{{DC_NS}}}language", entry).text = PAPER_LANGUAGE
        xml_elem(f"{{{PRISM_NS}}}publicationName", entry).text = "arXiv"
        xml_elem(f"{{{PRISM_NS}}}publicationDate", entry).text = p.published.date().isoformat()
        xml_elem(f"{{{PRISM_NS}}}modificationDate", entry).text = p.updated.date().isoformat()
        xml_elem(f"{{{DC_NS}}}identifier", entry).text = f"doi:{doi_of(p)}"
        return entry

    extend_atom = extend_rss = _extend


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


def render_atom(spec: FeedSpec, days: list[Day], base: str, hub: str | None = None) -> bytes:
    """The subscription feed: latest days first, with a prev-archive link to the newest day's
    archive and, when a WebSub hub is configured, a `rel="hub"` link to it."""
    return _render(spec, days, base, archive=None, hub=hub)


def render_zotero(spec: FeedSpec, days: list[Day], base: str, hub: str | None = None) -> bytes:
    """The feed for Zotero subscriptions: papers only (no daily-summary items), each with
    the arXiv abstract as summary and no content, so Zotero 7 (content || summary) files the
    abstract as abstractNote; the analysis is one click away on the paper page (the entry's
    related link). Feed readers should subscribe to the main feed."""
    return _render(spec, days, base, archive=None, hub=hub, zotero=True)


def render_archive(spec: FeedSpec, day: Day, nav: DayNav, base: str) -> bytes:
    """One day's RFC 5005 archive document, linked to its neighbours and the subscription feed."""
    return _render(spec, [day], base, archive=nav)


def _render(spec: FeedSpec, days: list[Day], base: str, archive: DayNav | None,
            hub: str | None = None, zotero: bool = False) -> bytes:
    """Per day the summary entry, then the papers in ranked order."""
    days = [scrub(d) for d in days]
    lab = labels(spec.language)
    cats = arxiv_categories()
    fg = FeedGenerator()
    fg.register_extension("links", _FeedLinks, _EntryLinks, atom=True, rss=False)
    fg.register_extension("scholarly", BaseExtension, Scholarly, atom=True, rss=False)
    if zotero:
        fg.id(stable_id("zotero", spec.name))
        fg.title(f"{spec.title} (for Zotero)")
    else:
        fg.id(stable_id("feed", spec.name) if archive is None else
              stable_id("archive", spec.name, days[0].date.isoformat()))
        fg.title(spec.title if archive is None else f"{spec.title} — {days[0].date.isoformat()}")
    fg.subtitle(f"arXiv {', '.join(spec.categories)}: daily papers" + (
        " with the arXiv abstract (analysis and findings on each paper's page)" if zotero
        else " with LLM analysis and evidence-backed findings"))
    urls = Urls(base)
    subscription = urls.feed(spec.name, "atom")
    if zotero:
        fg.link(href=urls.feed(spec.name, "zotero"), rel="self", type="application/atom+xml")
        fg.link(href=urls.index(), rel="alternate", type="text/html")
        if hub:
            fg.links.add(rel="hub", href=hub)
    elif archive is None:
        fg.link(href=subscription, rel="self", type="application/atom+xml")
        fg.link(href=urls.index(), rel="alternate", type="text/html")
        if days:
            fg.links.add(rel="prev-archive", href=urls.day(spec.name, days[0].date, "atom"), type="application/atom+xml")
        if hub:  # WebSub: archives never change, so only the subscription feed names the hub
            fg.links.add(rel="hub", href=hub)
    else:
        date = days[0].date
        fg.link(href=urls.day(spec.name, date, "atom"), rel="self", type="application/atom+xml")
        fg.link(href=urls.day(spec.name, date), rel="alternate", type="text/html")
        # RFC 5005: an archive is reached through its prev/next-archive links; the only day
        # published has none, and then it is the whole feed: fh:complete says so (without it
        # the archive reads as incomplete), and a complete feed links no other document, not
        # even rel="current" (the W3C validator's error). Rendered again when a neighbour comes.
        fg.links.complete = archive.prev is None and archive.next is None
        if not fg.links.complete:
            fg.links.add(rel="current", href=subscription, type="application/atom+xml")
        for rel, other in (("prev-archive", archive.prev), ("next-archive", archive.next)):
            if other is not None:
                fg.links.add(rel=rel, href=urls.day(spec.name, other, "atom"), type="application/atom+xml")
        fg.links.archive = True
    fg.author(name=GENERATOR)
    fg.generator(GENERATOR)
    fg.language(PAPER_LANGUAGE if zotero else spec.language)  # the Zotero feed carries only arXiv's text
    fg.updated(feed_updated(days))

    seen: set[str] = set()
    for day in days:
        if not zotero:  # the daily summary is no paper: it would be a bogus item in Zotero
            fe = fg.add_entry(order="append")
            fe.id(stable_id("summary", spec.name, day.date.isoformat()))
            fe.title(f"{spec.title} — {lab['summary_title']} {day.date.isoformat()}")
            fe.author(name=GENERATOR)
            fe.published(day.published)
            fe.updated(day.updated)
            fe.links.add(href=urls.day(spec.name, day.date), rel="alternate", type="text/html")
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
            page = urls.paper(p.arxiv_id)
            if zotero:  # no content: feedgen insists on an alternate link of its own (href only)
                fe.link(href=p.versioned_abs_url)
            else:
                fe.links.add(href=p.versioned_abs_url, rel="alternate", type="text/html")
            fe.links.add(href=page, rel="related", type="text/html", title="paper page")
            fe.links.add(href=p.pdf_url, rel="related", type="application/pdf", title="pdf")
            # Zotero's feed reader attaches a PDF only from an enclosure link.
            fe.links.add(href=p.pdf_url, rel="enclosure", type="application/pdf", title="pdf")
            fe.scholarly.set(p)
            fe.summary(p.abstract, type="text")
            if not zotero:
                fe.content(entry_html(entry, spec.language, page), type="html")
    return fg.atom_str(pretty=False)
