"""Rendered documents: rendered once per publication (and base URL), then stored bytes.

`Documents` knows which renderer makes which document from which stored days, and keeps
the results in the store keyed by the feed's generation, so a request is a lookup. At
publish time it renders what changed for the configured public URL (`for_publication`);
everything else renders once on first request.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
import logging
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import replace
from collections.abc import Callable, Mapping

from . import sample, websub
from .errors import NotFound
from .models import Day, FeedSpec, RenderedDoc
from .render import FEED_DAYS, NEVER, make_doc
from .render.api import (JSON_TYPE, DayNav, render_api_day, render_api_days, render_api_feeds, render_api_paper,
                         render_api_quality)
from .render.atom import ATOM_TYPE, render_archive, render_atom, render_zotero
from .render.citations import CITATION_FORMATS
from .render.html import HTML_TYPE, render_day_page, render_index
from .render.jsonfeed import JSONFEED_TYPE, render_jsonfeed
from .render.markdown import MARKDOWN_TYPE, render_markdown
from .render.opml import OPML_TYPE, render_opml
from .render.paper import render_paper_page
from .render.rss import RSS_TYPE, render_rss
from .store import FOREIGN_BASE_TTL, Store
from .select import View, in_view
from .urls import Urls

log = logging.getLogger(__name__)

#: Subscription documents of a feed (latest FEED_DAYS days): render(spec, days, base).
FORMATS = {"atom": (ATOM_TYPE, render_atom), "rss": (RSS_TYPE, render_rss),
           "json": (JSONFEED_TYPE, render_jsonfeed), "zotero": (ATOM_TYPE, render_zotero)}
#: Documents of one day: render(spec, day, nav, base).
DAY_FORMATS = {"atom": (ATOM_TYPE, render_archive), "md": (MARKDOWN_TYPE, render_markdown),
               "html": (HTML_TYPE, render_day_page), "api": (JSON_TYPE, render_api_day),
               "quality": (JSON_TYPE, render_api_quality),
               **{fmt: (ctype, lambda spec, day, nav, base, render=render: render([e.paper for e in day.entries]))
                  for fmt, (ctype, render) in CITATION_FORMATS.items()}}
#: Documents of one paper over every feed: render(appearances newest first, base).
PAPER_FORMATS = {"api": (JSON_TYPE, render_api_paper), "html": (HTML_TYPE, render_paper_page),
                 **{fmt: (ctype, lambda found, base, render=render: render([found[0][2].paper]))
                    for fmt, (ctype, render) in CITATION_FORMATS.items()}}
#: Personal views (filtered feeds) kept in memory per process, least recently used out first.
MAX_VIEWS = 64
#: Days listed per page of the days API unless asked otherwise.
PAGE_SIZE = 30


def day_nav(dates: list[dt.date], date: dt.date) -> DayNav:
    """Neighbours of `date` in newest-first `dates`."""
    i = dates.index(date)
    return DayNav(prev=dates[i + 1] if i + 1 < len(dates) else None, next=dates[i - 1] if i > 0 else None)


@lru_cache(maxsize=256)
def spec_digest(*specs: FeedSpec) -> str:
    """Part of every stored document's key: a changed spec (a new title, say) is a new
    document, even before the feed publishes again. Cached: it is asked on every request
    (specs are frozen, so an edited spec is a new key)."""
    return hashlib.sha256(repr(specs).encode()).hexdigest()[:12]


def _feed_key(spec: FeedSpec, fmt: str) -> str:
    return f"{spec_digest(spec)}:{fmt}"


def _day_key(spec: FeedSpec, fmt: str, date: dt.date) -> str:
    return f"{spec_digest(spec)}:day:{date.isoformat()}:{fmt}"


def _days_key(spec: FeedSpec, page: int, per_page: int) -> str:
    return f"{spec_digest(spec)}:days:{page}:{per_page}"


class Documents:
    def __init__(self, store: Store, specs: Mapping[str, FeedSpec], public_url: str | None,
                 websub_hub: str | None):
        self.store, self.specs = store, specs
        self.public_url, self.websub_hub = public_url, websub_hub
        self._views: OrderedDict[tuple, RenderedDoc] = OrderedDict()
        self._views_lock = threading.Lock()

    # --- rendering ---------------------------------------------------------------------
    def _days(self, feed: str, newest: Day | None = None) -> list[Day]:
        days = [d for date in self.store.day_dates(feed)[:FEED_DAYS] if (d := self.store.get_day(feed, date))]
        if newest is not None:
            days = sorted([newest] + [d for d in days if d.date != newest.date],
                          key=lambda d: d.date, reverse=True)[:FEED_DAYS]
        return days

    def _render_feed(self, spec: FeedSpec, fmt: str, days: list[Day], base: str) -> RenderedDoc:
        content_type, render = FORMATS[fmt]
        hub = {"hub": self.websub_hub} if fmt in websub.HUB_FORMATS and self.websub_hub else {}
        return make_doc(render(spec, days, base, **hub), content_type, max((d.updated for d in days), default=NEVER))

    @staticmethod
    def _render_day(spec: FeedSpec, fmt: str, day: Day, nav: DayNav, base: str) -> RenderedDoc:
        content_type, render = DAY_FORMATS[fmt]
        return make_doc(render(spec, day, nav, base), content_type, day.updated)

    @staticmethod
    def _render_days(spec: FeedSpec, days: list[Day], page: int, per_page: int, total: int,
                     base: str) -> RenderedDoc:
        more = page * per_page < total
        next_url = Urls(base).api_days(spec.name, page + 1, per_page) if more else None
        updated = max((d.updated for d in days), default=NEVER)
        return make_doc(render_api_days(spec, days, page, per_page, total, next_url, base), JSON_TYPE, updated)

    def for_publication(self, spec: FeedSpec, day: Day) -> dict[tuple[str, str], RenderedDoc]:
        """What a new day changes, rendered for the configured public URL (if there is one):
        the feeds, the day's documents, its neighbours' (whose archive links move) and the
        first page of days. Stored with the day in one transaction."""
        base = self.public_url
        if not base:
            return {}
        docs = {(_feed_key(spec, fmt), base): self._render_feed(spec, fmt, self._days(spec.name, newest=day), base)
                for fmt in FORMATS}
        dates = sorted(set(self.store.day_dates(spec.name)) | {day.date}, reverse=True)
        nav = day_nav(dates, day.date)
        for date in (day.date, nav.prev, nav.next):
            one = day if date == day.date else self.store.get_day(spec.name, date) if date else None
            if one is None:
                continue
            for fmt in DAY_FORMATS:
                docs[(_day_key(spec, fmt, date), base)] = self._render_day(spec, fmt, one, day_nav(dates, date), base)
        first = [day if d == day.date else self.store.get_day(spec.name, d) for d in dates[:PAGE_SIZE]]
        docs[(_days_key(spec, 1, PAGE_SIZE), base)] = self._render_days(
            spec, [d for d in first if d], 1, PAGE_SIZE, len(dates), base)
        return docs

    # --- stored lookups ------------------------------------------------------------------
    def _expire(self, base: str) -> float | None:
        return None if base == self.public_url else FOREIGN_BASE_TTL

    def _stored(self, feed: str, key: str, base: str, render: Callable[[], RenderedDoc]) -> RenderedDoc:
        """The stored document for the feed's current generation, else rendered once and stored."""
        doc = self.store.get_doc(feed, key, base)
        if doc is not None:
            return doc
        generation = self.store.generation(feed)
        doc = render()
        self._keep(lambda: self.store.put_doc(feed, key, base, doc, generation, expire=self._expire(base)))
        return doc

    def _keep(self, write: Callable[[], None]) -> None:
        """Store a rendered document for the next request; if the disk refuses (full,
        read-only), the bytes are still served, only rendered again next time."""
        try:
            write()
        except (OSError, sqlite3.Error) as e:
            log.warning("serving without storing the rendered document: %s", e)

    def _site(self, name: str, base: str, render: Callable[[], RenderedDoc]) -> RenderedDoc:
        stamp = self.store.generations(list(self.specs))
        name = f"{name}@{spec_digest(*self.specs.values())}"
        doc = self.store.get_site_doc(name, base, stamp)
        if doc is None:
            doc = render()
            self._keep(lambda: self.store.put_site_doc(name, base, stamp, doc, expire=self._expire(base)))
        return doc

    def view(self, spec: FeedSpec, fmt: str, base: str, view: View) -> RenderedDoc:
        """A subscription feed narrowed to a reader's view: rendered on demand and kept in a
        small in-memory cache, never stored (a client must not be able to grow the disk)."""
        if fmt not in FORMATS:
            raise NotFound("format", fmt, f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
        key = (spec.name, fmt, base, view, self.store.generation(spec.name), spec_digest(spec))
        with self._views_lock:
            doc = self._views.get(key)
            if doc is not None:
                self._views.move_to_end(key)
                return doc
        days = []
        for day in self._days(spec.name):
            entries = tuple(e for e in day.entries if in_view(
                view, e.paper.title, e.paper.abstract, e.paper.authors,
                "\n".join(body for _, body in e.analysis.sections) if e.analysis else "", e.score))
            days.append(replace(day, entries=entries))
        doc = self._render_feed(spec, fmt, days, base)
        with self._views_lock:
            self._views[key] = doc
            while len(self._views) > MAX_VIEWS:
                self._views.popitem(last=False)
        return doc

    def feed(self, spec: FeedSpec, fmt: str, base: str) -> RenderedDoc:
        if fmt not in FORMATS:
            raise NotFound("format", fmt, f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
        # Before the first refresh: a valid feed without entries, so readers can subscribe.
        return self._stored(spec.name, _feed_key(spec, fmt), base, lambda: self._render_feed(spec, fmt, self._days(spec.name), base))

    def day(self, spec: FeedSpec, date: dt.date, fmt: str, base: str) -> RenderedDoc:
        if fmt not in DAY_FORMATS:
            raise NotFound("format", fmt, f"unknown format {fmt!r} (formats: {', '.join(DAY_FORMATS)})")

        def render() -> RenderedDoc:
            day = self.store.get_day(spec.name, date)
            if day is None:
                raise NotFound("day", date.isoformat(), f"feed {spec.name!r} has no published day {date.isoformat()}")
            return self._render_day(spec, fmt, day, day_nav(self.store.day_dates(spec.name), date), base)
        return self._stored(spec.name, _day_key(spec, fmt, date), base, render)

    def days(self, spec: FeedSpec, page: int, per_page: int, base: str) -> tuple[RenderedDoc, str | None]:
        """One page of published days (newest first) and the next page's URL."""
        dates = self.store.day_dates(spec.name)

        def render() -> RenderedDoc:
            chosen = dates[(page - 1) * per_page: page * per_page]
            if page > 1 and not chosen:
                raise NotFound("page", str(page), f"feed {spec.name!r} has no page {page} of days ({len(dates)} days)")
            days = [d for date in chosen if (d := self.store.get_day(spec.name, date))]
            return self._render_days(spec, days, page, per_page, len(dates), base)
        doc = self._stored(spec.name, _days_key(spec, page, per_page), base, render)
        more = page * per_page < len(dates)
        return doc, (Urls(base).api_days(spec.name, page + 1, per_page) if more else None)

    def _last_update(self) -> dt.datetime:
        days = [d for name in self.specs for d in self._days(name)[:1]]
        return max((d.updated for d in days), default=NEVER)

    def site(self, name: str, base: str) -> RenderedDoc:
        """Documents over every feed: "index" (HTML), "opml", "feeds" (API)."""
        specs = list(self.specs.values())

        def render() -> RenderedDoc:
            updated = self._last_update()
            if name == "index":
                recent = {s.name: self.store.day_dates(s.name)[:FEED_DAYS] for s in specs}
                notice = sample.HOW_TO_PUBLISH if sample.sample_spec() in specs else None
                return make_doc(render_index(specs, recent, base, notice), HTML_TYPE, updated)
            if name == "opml":
                return make_doc(render_opml(specs, updated, base), OPML_TYPE, updated)
            latest = {s.name: next(iter(self.store.day_dates(s.name)), None) for s in specs}
            return make_doc(render_api_feeds(specs, latest, base), JSON_TYPE, updated)
        if name not in ("index", "opml", "feeds"):
            raise NotFound("document", name, f"unknown document {name!r}")
        return self._site(name, base, render)

    def paper(self, arxiv_id: str, base: str, fmt: str = "api") -> RenderedDoc:
        """One paper (version-less id) from every published entry of it, newest first: the
        API document ("api"), its page ("html") or its citation ("bib", "ris", "csl")."""
        if fmt not in PAPER_FORMATS:
            raise NotFound("format", fmt, f"unknown format {fmt!r} (formats: {', '.join(PAPER_FORMATS)})")

        def render() -> RenderedDoc:
            found = []
            for feed, date in self.store.appearances(arxiv_id):
                day = self.store.get_day(feed, date)
                entry = next((e for e in day.entries if e.paper.arxiv_id == arxiv_id), None) if day else None
                if entry is not None and feed in self.specs:
                    found.append((self.specs[feed], day, entry))
            if not found:
                raise NotFound("paper", arxiv_id, f"paper {arxiv_id!r} is not in any published day")
            updated = max(e.updated or d.updated for _, d, e in found)
            content_type, render_doc = PAPER_FORMATS[fmt]
            return make_doc(render_doc(found, base), content_type, updated)
        return self._site(f"paper:{arxiv_id}" + ("" if fmt == "api" else f":{fmt}"), base, render)
