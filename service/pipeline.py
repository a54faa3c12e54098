"""The façade: `make_digest()` builds every stage; `Digest.refresh` runs them for a feed.

The CLI and the web app are thin clients of `Digest`. A refresh is idempotent and
resumable: every finished piece (metadata, full text, gated analysis) is cached as soon
as it exists, and the day is published in one transaction at the end.
"""
from __future__ import annotations

import datetime as dt
import logging

from . import enrich, metadata, schedule, websub
from .budget import Budget
from .config import load_feed_specs
from .errors import NotFound
from .health import health_report
from .http import ArxivSession
from .llm import LLM, AnthropicLLM
from .models import Day, FeedSpec, RefreshResult, RenderedDoc
from .prompts import PromptLibrary
from .refresh import Refresher
from .render import FEED_DAYS, NEVER, make_doc
from .render.api import JSON_TYPE, DayNav, render_api_day, render_api_days, render_api_feeds, render_api_paper
from .render.atom import ATOM_TYPE, render_archive, render_atom
from .render.html import HTML_TYPE, render_day_page, render_index
from .render.jsonfeed import JSONFEED_TYPE, render_jsonfeed
from .render.markdown import MARKDOWN_TYPE, render_markdown
from .render.opml import OPML_TYPE, render_opml
from .render.rss import RSS_TYPE, render_rss
from .settings import Settings, load_settings
from .store import FOREIGN_BASE_TTL, Store

log = logging.getLogger(__name__)

#: Subscription documents of a feed (latest FEED_DAYS days): render(spec, days, base).
FORMATS = {"atom": (ATOM_TYPE, render_atom), "rss": (RSS_TYPE, render_rss),
           "json": (JSONFEED_TYPE, render_jsonfeed)}
#: Documents of one day: render(spec, day, nav, base).
DAY_FORMATS = {"atom": (ATOM_TYPE, render_archive), "md": (MARKDOWN_TYPE, render_markdown),
               "html": (HTML_TYPE, render_day_page), "api": (JSON_TYPE, render_api_day)}
#: Days listed per page of the days API unless asked otherwise.
PAGE_SIZE = 30


class Digest:
    def __init__(self, settings: Settings, specs: dict[str, FeedSpec], store: Store,
                 session: ArxivSession, llm: LLM | None, prompts: PromptLibrary):
        self.settings, self.specs, self.store = settings, specs, store
        self.session, self.llm, self.prompts = session, llm, prompts
        self.arxiv = metadata.make_client(settings.arxiv_api_url, session)
        self.budget = Budget(store.cache, settings.daily_budget_usd)
        self.enricher = enrich.Enricher(llm, prompts, store, self.budget)
        self.refresher = Refresher(settings, store, session, self.arxiv, self.enricher,
                                   llm is not None, self.publish)

    def spec(self, feed: str) -> FeedSpec:
        try:
            return self.specs[feed]
        except KeyError:
            raise NotFound(f"unknown feed {feed!r} (feeds: {', '.join(self.specs)})") from None

    # --- refresh ---------------------------------------------------------------------
    def refresh(self, feed: str, force: bool = False, wait: float = 0) -> RefreshResult:
        """Publish the latest announcement of one feed; failures come back as a result."""
        return self.refresher.refresh(self.spec(feed), force=force, wait=wait)

    def backfill(self, feed: str, start: dt.date, end: dt.date) -> list[RefreshResult]:
        """Publish past announcement days from the API, oldest first."""
        spec = self.spec(feed)
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
        return [self.refresher.backfill(spec, day) for day in days if schedule.is_listing_date(day)]

    def publish(self, spec: FeedSpec, day: Day) -> None:
        self.store.publish(day, self._render_all(spec, day))
        # WebSub: the day is stored, so the hub's fetch sees it; a failing hub is only logged.
        websub.notify(self.settings.websub_hub, self.settings.public_url, spec.name)

    # --- documents -------------------------------------------------------------------
    def _days(self, feed: str, newest: Day | None = None) -> list[Day]:
        days = [d for date in self.store.day_dates(feed)[:FEED_DAYS] if (d := self.store.get_day(feed, date))]
        if newest is not None:
            days = sorted([newest] + [d for d in days if d.date != newest.date],
                          key=lambda d: d.date, reverse=True)[:FEED_DAYS]
        return days

    def _render(self, spec: FeedSpec, fmt: str, days: list[Day], base: str) -> RenderedDoc:
        content_type, render = FORMATS[fmt]
        hub = {"hub": self.settings.websub_hub} if fmt in websub.HUB_FORMATS and self.settings.websub_hub else {}
        return make_doc(render(spec, days, base, **hub), content_type, max((d.updated for d in days), default=NEVER))

    def _render_all(self, spec: FeedSpec, day: Day) -> dict[tuple[str, str], RenderedDoc]:
        """Pre-rendered at publish time for the configured public URL, if there is one: the
        feeds, the new day's documents, its predecessor's (whose next-archive link is new)
        and the first page of days; the rest renders once on first request."""
        base = self.settings.public_url
        if not base:
            return {}
        days = self._days(spec.name, newest=day)
        docs = {(fmt, base): self._render(spec, fmt, days, base) for fmt in FORMATS}
        dates = sorted(set(self.store.day_dates(spec.name)) | {day.date}, reverse=True)
        nav = self._nav(dates, day.date)
        for date in (day.date, nav.prev, nav.next):  # the neighbours' archive links change
            one = day if date == day.date else self.store.get_day(spec.name, date) if date else None
            if one is None:
                continue
            nav = self._nav(dates, date)
            for fmt in DAY_FORMATS:
                docs[(_day_key(fmt, date), base)] = self._render_day(spec, fmt, one, nav, base)
        all_days = [day if d == day.date else self.store.get_day(spec.name, d) for d in dates[:PAGE_SIZE]]
        docs[(_days_key(1, PAGE_SIZE), base)] = self._render_days(
            spec, [d for d in all_days if d], 1, PAGE_SIZE, len(dates), base)
        return docs

    def _stored(self, feed: str, key: str, base: str, render) -> RenderedDoc:
        """The stored document for the feed's current generation, else rendered once and stored."""
        doc = self.store.get_doc(feed, key, base)
        if doc is not None:
            return doc
        generation = self.store.generation(feed)
        doc = render()
        expire = None if base == self.settings.public_url else FOREIGN_BASE_TTL
        self.store.put_doc(feed, key, base, doc, generation, expire=expire)
        return doc

    def document(self, feed: str, fmt: str, base: str) -> RenderedDoc:
        """A feed document: a stored lookup; rendered once per publication and base URL."""
        spec = self.spec(feed)
        if fmt not in FORMATS:
            raise NotFound(f"unknown format {fmt!r}")

        def render() -> RenderedDoc:
            # Before the first refresh: a valid feed without entries, so readers can subscribe.
            return self._render(spec, fmt, self._days(feed), base)
        return self._stored(feed, fmt, base, render)

    @staticmethod
    def _nav(dates: list[dt.date], date: dt.date) -> DayNav:
        """Neighbours of `date` in newest-first `dates`."""
        i = dates.index(date)
        return DayNav(prev=dates[i + 1] if i + 1 < len(dates) else None, next=dates[i - 1] if i > 0 else None)

    def _render_day(self, spec: FeedSpec, fmt: str, day: Day, nav: DayNav, base: str) -> RenderedDoc:
        content_type, render = DAY_FORMATS[fmt]
        return make_doc(render(spec, day, nav, base), content_type, day.updated)

    def day_document(self, feed: str, date: dt.date, fmt: str, base: str) -> RenderedDoc:
        """One day's page, Markdown, archive feed or API document: stored lookup, rendered once."""
        spec = self.spec(feed)
        if fmt not in DAY_FORMATS:
            raise NotFound(f"unknown format {fmt!r}")

        def render() -> RenderedDoc:
            day = self.store.get_day(feed, date)
            if day is None:
                raise NotFound(f"feed {feed!r} has no published day {date.isoformat()}")
            return self._render_day(spec, fmt, day, self._nav(self.store.day_dates(feed), date), base)
        return self._stored(feed, _day_key(fmt, date), base, render)

    def _render_days(self, spec: FeedSpec, days: list[Day], page: int, per_page: int, total: int,
                     base: str) -> RenderedDoc:
        more = page * per_page < total
        next_url = f"{base}/api/v1/feeds/{spec.name}/days?page={page + 1}&per_page={per_page}" if more else None
        updated = max((d.updated for d in days), default=dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
        return make_doc(render_api_days(spec, days, page, per_page, total, next_url, base), JSON_TYPE, updated)

    def days_document(self, feed: str, page: int, per_page: int, base: str) -> tuple[RenderedDoc, str | None]:
        """One page of the feed's published days (newest first) and the next page's URL."""
        spec = self.spec(feed)

        def render() -> RenderedDoc:
            dates = self.store.day_dates(feed)
            chosen = dates[(page - 1) * per_page: page * per_page]
            if page > 1 and not chosen:
                raise NotFound(f"feed {feed!r} has no page {page} of days ({len(dates)} days)")
            days = [d for date in chosen if (d := self.store.get_day(feed, date))]
            return self._render_days(spec, days, page, per_page, len(dates), base)
        doc = self._stored(feed, _days_key(page, per_page), base, render)
        total = len(self.store.day_dates(feed))
        more = page * per_page < total
        return doc, (f"{base}/api/v1/feeds/{feed}/days?page={page + 1}&per_page={per_page}" if more else None)

    def _site(self, name: str, base: str, render) -> RenderedDoc:
        stamp = self.store.generations(list(self.specs))
        doc = self.store.get_site_doc(name, base, stamp)
        if doc is None:
            doc = render()
            expire = None if base == self.settings.public_url else FOREIGN_BASE_TTL
            self.store.put_site_doc(name, base, stamp, doc, expire=expire)
        return doc

    def _last_update(self) -> dt.datetime:
        days = [d for name in self.specs for d in self._days(name)[:1]]
        return max((d.updated for d in days), default=NEVER)

    def site_document(self, name: str, base: str) -> RenderedDoc:
        """Documents over every feed: "index" (HTML), "opml", "feeds" (API)."""
        specs = list(self.specs.values())

        def render() -> RenderedDoc:
            updated = self._last_update()
            if name == "index":
                recent = {s.name: self.store.day_dates(s.name)[:FEED_DAYS] for s in specs}
                return make_doc(render_index(specs, recent, base), HTML_TYPE, updated)
            if name == "opml":
                return make_doc(render_opml(specs, updated, base), OPML_TYPE, updated)
            if name == "feeds":
                latest = {s.name: next(iter(self.store.day_dates(s.name)), None) for s in specs}
                return make_doc(render_api_feeds(specs, latest, base), JSON_TYPE, updated)
            raise NotFound(f"unknown document {name!r}")
        return self._site(name, base, render)

    def paper_document(self, arxiv_id: str, base: str) -> RenderedDoc:
        """Every published entry of one paper (version-less id), newest first."""
        def render() -> RenderedDoc:
            found = []
            for feed, date in self.store.appearances(arxiv_id):
                day = self.store.get_day(feed, date)
                entry = next((e for e in day.entries if e.paper.arxiv_id == arxiv_id), None) if day else None
                if entry is not None and feed in self.specs:
                    found.append((self.specs[feed], day, entry))
            if not found:
                raise NotFound(f"paper {arxiv_id!r} is not in any published day")
            updated = max(e.updated or d.updated for _, d, e in found)
            return make_doc(render_api_paper(found, base), JSON_TYPE, updated)
        return self._site(f"paper:{arxiv_id}", base, render)

    def health(self) -> tuple[dict, int]:
        """The /healthz report and its status (503 when a feed is stale)."""
        feeds = {}
        for name in self.specs:
            dates = self.store.day_dates(name)
            feeds[name] = (self.store.get_status(name), dates[0] if dates else None)
        return health_report(feeds, self.llm is not None)


def make_digest(settings: Settings | None = None) -> Digest:
    """Build the service from settings (default: the environment); invalid specs raise here."""
    settings = settings or load_settings()
    specs = load_feed_specs(settings.feeds_dir)
    store = Store(settings.data_dir)
    session = ArxivSession(settings.arxiv_delay, timeout=(min(10.0, settings.arxiv_timeout), settings.arxiv_timeout))
    llm = (AnthropicLLM(settings.anthropic_api_key, settings.anthropic_base_url,
                        settings.llm_max_retries, settings.llm_timeout)
           if settings.llm_enabled else None)
    return Digest(settings, specs, store, session, llm, PromptLibrary())


def _day_key(fmt: str, date: dt.date) -> str:
    return f"day:{date.isoformat()}:{fmt}"


def _days_key(page: int, per_page: int) -> str:
    return f"days:{page}:{per_page}"
