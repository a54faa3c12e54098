"""The façade: `make_digest()` builds every stage; `Digest.refresh` runs them for a feed.

The CLI and the web app are thin clients of `Digest`. A refresh is idempotent and
resumable: every finished piece (metadata, full text, gated analysis) is cached as soon
as it exists, and the day is published in one transaction at the end.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import filelock

from . import enrich, fulltext, listing, metadata
from .config import load_feed_specs
from .errors import DigestError, NotFound, RefreshBusy
from .http import ArxivSession
from .llm import LLM, AnthropicLLM
from .models import (Day, Entry, EntryStatus, FeedSpec, FullText, ListingItem, PaperMeta,
                     PaperOutcome, RefreshResult, RenderedDoc, TextSource, utcnow)
from .prompts import PromptLibrary
from .render import FEED_DAYS, make_doc
from .render.atom import render_atom
from .select import select
from .settings import Settings, load_settings
from .store import FOREIGN_BASE_TTL, Store

log = logging.getLogger(__name__)

FORMATS = {"atom": ("application/atom+xml; charset=utf-8", render_atom)}


@dataclass
class _Work:
    item: ListingItem
    paper: PaperMeta
    text: FullText
    future: Future | None


class Digest:
    def __init__(self, settings: Settings, specs: dict[str, FeedSpec], store: Store,
                 session: ArxivSession, llm: LLM | None, prompts: PromptLibrary):
        self.settings, self.specs, self.store = settings, specs, store
        self.session, self.llm, self.prompts = session, llm, prompts
        self.arxiv = metadata.make_client(settings.arxiv_api_url, session)
        self.enricher = enrich.Enricher(llm, prompts, store)

    def spec(self, feed: str) -> FeedSpec:
        try:
            return self.specs[feed]
        except KeyError:
            raise NotFound(f"unknown feed {feed!r} (feeds: {', '.join(self.specs)})") from None

    # --- refresh ---------------------------------------------------------------------
    def refresh(self, feed: str) -> RefreshResult:
        """Publish the latest announcement of one feed; failures come back as a result."""
        spec = self.spec(feed)
        result = RefreshResult(feed=feed, outcome="failed", message="", started=utcnow())
        lock = filelock.FileLock(str(self.store.data_dir / f"refresh-{feed}.lock"))
        try:
            with lock.acquire(timeout=0):
                self._refresh(spec, result)
        except filelock.Timeout:
            result.message = f"{feed}: another refresh of this feed is running"
            raise RefreshBusy(result.message) from None
        except DigestError as e:
            result.outcome, result.message = "failed", f"{feed}: {e}"
            log.error("%s", result.message)
        finally:
            result.finished = utcnow()
            self.store.put_status(result)
        return result

    def _refresh(self, spec: FeedSpec, result: RefreshResult) -> None:
        started = time.monotonic()
        announced = listing.fetch_listing(self.session, self.settings.arxiv_listing_url, spec.categories)
        result.date = announced.announced
        if not announced.items:
            result.outcome = "no_announcement"
            result.message = (f"{spec.name}: no announcement on {announced.announced} "
                              "(weekend or holiday); nothing to publish")
            return
        chosen = select(spec, announced.items)
        papers = self._papers(chosen)
        missing = [i.versioned_id for i in chosen if i.versioned_id not in papers]
        summary_future = None
        with ThreadPoolExecutor(max_workers=self.settings.llm_concurrency,
                                thread_name_prefix="llm") as pool:
            if self.llm is not None and papers:
                summary_future = pool.submit(self.enricher.summarise, spec, announced.announced,
                                             [papers[i.versioned_id] for i in chosen if i.versioned_id in papers])
            work = []
            for item in chosen:
                paper = papers.get(item.versioned_id)
                if paper is None:
                    continue
                text = self._full_text(paper) if self.llm is not None else FullText(TextSource.ABSTRACT, paper.abstract)
                future = pool.submit(self.enricher.analyse, spec, paper, text) if self.llm is not None else None
                work.append(_Work(item, paper, text, future))
            entries, outcomes = [], []
            for w in work:
                outcome = w.future.result() if w.future else enrich.Outcome(EntryStatus.DISABLED)
                entries.append(self._entry(w, outcome))
                outcomes.append(PaperOutcome(w.paper.versioned_id, outcome.status, outcome.reasons,
                                             outcome.llm_calls))
            summary = summary_future.result() if summary_future else enrich.Outcome(EntryStatus.DISABLED)
        result.papers = outcomes
        result.llm_calls = sum(o.llm_calls for o in outcomes) + summary.llm_calls
        if not entries:
            raise DigestError(f"none of the {len(chosen)} selected papers could be fetched "
                              f"from the arXiv API (missing: {', '.join(missing)})")
        day = self._day(spec, announced.announced, entries, summary)
        self.store.publish(day, self._render_all(spec, day))
        result.outcome = "published"
        pending = result.count(EntryStatus.PENDING) + result.count(EntryStatus.UNAVAILABLE)
        result.message = (f"{spec.name}: published {day.date}: {len(entries)} papers "
                          f"({result.count(EntryStatus.ANALYSED)} analysed, {pending} pending"
                          + (f", {result.count(EntryStatus.DISABLED)} without analysis (no LLM key)"
                             if self.llm is None else "")
                          + (f", {len(missing)} missing from the API: {', '.join(missing)}" if missing else "")
                          + f"), {result.llm_calls} LLM calls, {time.monotonic() - started:.1f} s")

    def _papers(self, chosen: list[ListingItem]) -> dict[str, PaperMeta]:
        papers = {i.versioned_id: p for i in chosen if (p := self.store.get_paper(i.versioned_id))}
        wanted = [i.versioned_id for i in chosen if i.versioned_id not in papers]
        if wanted:
            for vid, paper in metadata.fetch_metadata(self.arxiv, wanted).items():
                self.store.put_paper(paper)
                papers[vid] = paper
        return papers

    def _full_text(self, paper: PaperMeta) -> FullText:
        cached = self.store.get_full_text(paper.versioned_id)
        if cached is not None:
            return cached
        text, final = fulltext.fetch_full_text(self.session, paper, self.settings.arxiv_html_url,
                                               self.settings.arxiv_pdf_url)
        if final:
            self.store.put_full_text(paper.versioned_id, text)
        return text

    @staticmethod
    def _entry(w: _Work, outcome: enrich.Outcome) -> Entry:
        analysis = outcome.result if outcome.status is EntryStatus.ANALYSED else None
        findings = analysis.findings if analysis else enrich.abstract_findings(w.paper.abstract)
        return Entry(paper=w.paper, announce_type=w.item.announce_type, status=outcome.status,
                     source=analysis.source if analysis else w.text.source, analysis=analysis,
                     findings=findings, reasons=outcome.reasons)

    def _day(self, spec: FeedSpec, date: dt.date, entries: list[Entry], summary: enrich.Outcome) -> Day:
        """The new day; `updated` stamps move only for entries whose content changed."""
        now = utcnow()
        prev = self.store.get_day(spec.name, date)
        before = {e.paper.versioned_id: e for e in prev.entries} if prev else {}
        stamped = []
        for e in entries:
            old = before.get(e.paper.versioned_id)
            same = old is not None and replace(old, updated=None) == e
            stamped.append(replace(e, updated=old.updated if same else now))
        new_summary = summary.result if summary.status is EntryStatus.ANALYSED else None
        changed = (prev is None or len(prev.entries) != len(stamped)
                   or any(a.updated != b.updated for a, b in zip(prev.entries, stamped))
                   or prev.summary != new_summary or prev.summary_status != summary.status)
        return Day(feed=spec.name, date=date, entries=tuple(stamped), summary=new_summary,
                   summary_status=summary.status, published=prev.published if prev else now,
                   updated=now if changed else prev.updated)

    # --- documents -------------------------------------------------------------------
    def _days(self, feed: str, newest: Day | None = None) -> list[Day]:
        days = [d for date in self.store.day_dates(feed)[:FEED_DAYS] if (d := self.store.get_day(feed, date))]
        if newest is not None:
            days = sorted([newest] + [d for d in days if d.date != newest.date],
                          key=lambda d: d.date, reverse=True)[:FEED_DAYS]
        return days

    def _render(self, spec: FeedSpec, fmt: str, days: list[Day], base: str) -> RenderedDoc:
        content_type, render = FORMATS[fmt]
        return make_doc(render(spec, days, base), content_type, max(d.updated for d in days))

    def _render_all(self, spec: FeedSpec, day: Day) -> dict[tuple[str, str], RenderedDoc]:
        """Pre-rendered at publish time for the configured public URL, if there is one."""
        if not self.settings.public_url:
            return {}
        days = self._days(spec.name, newest=day)
        return {(fmt, self.settings.public_url): self._render(spec, fmt, days, self.settings.public_url)
                for fmt in FORMATS}

    def document(self, feed: str, fmt: str, base: str) -> RenderedDoc:
        """A feed document: a stored lookup; rendered once per publication and base URL."""
        spec = self.spec(feed)
        doc = self.store.get_doc(feed, fmt, base)
        if doc is not None:
            return doc
        generation = self.store.generation(feed)
        days = self._days(feed)
        if not days:
            raise NotFound(f"feed {feed!r} has no published day yet (run `arxiv-digest refresh {feed}`)")
        doc = self._render(spec, fmt, days, base)
        expire = None if base == self.settings.public_url else FOREIGN_BASE_TTL
        self.store.put_doc(feed, fmt, base, doc, generation, expire=expire)
        return doc

    def health(self) -> dict:
        now = utcnow()
        feeds = {}
        for name in self.specs:
            status = self.store.get_status(name)
            dates = self.store.day_dates(name)
            info = {"latest_day": dates[0].isoformat() if dates else None, "last_refresh": None}
            if status:
                finished = status["finished"]
                success = status.get("last_success")
                info["last_refresh"] = {
                    "outcome": status["outcome"], "message": status["message"],
                    "finished": finished.isoformat() if finished else None,
                    "age_seconds": round((now - finished).total_seconds()) if finished else None,
                    "last_success": success.isoformat() if success else None,
                }
            feeds[name] = info
        return {"status": "ok", "llm_enabled": self.llm is not None, "feeds": feeds}


def make_digest(settings: Settings | None = None) -> Digest:
    """Build the service from settings (default: the environment); invalid specs raise here."""
    settings = settings or load_settings()
    specs = load_feed_specs(settings.feeds_dir)
    store = Store(settings.data_dir)
    session = ArxivSession(settings.arxiv_delay)
    llm = (AnthropicLLM(settings.anthropic_api_key, settings.anthropic_base_url,
                        settings.llm_max_retries, settings.llm_timeout)
           if settings.llm_enabled else None)
    return Digest(settings, specs, store, session, llm, PromptLibrary())
