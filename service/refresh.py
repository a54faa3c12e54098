"""One feed's day: announced items → papers → full text → gated analyses → a `Day`.

Used by `refresh` (today's listing) and `backfill` (past days from the API's
submittedDate window). Every finished piece is cached as soon as it exists, so a killed
refresh resumes without paying twice; the day itself is published in one step at the end.
"""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import arxiv
import filelock

from . import enrich, fulltext, listing, metadata, schedule
from .errors import DigestError, RefreshBusy
from .models import (AnnounceType, Day, Entry, EntryStatus, FeedSpec, FullText, ListingItem,
                     PaperMeta, PaperOutcome, RefreshResult, TextSource, utcnow)
from .select import select
from .settings import Settings
from .store import Store

log = logging.getLogger(__name__)
_REPLACEMENTS = {AnnounceType.REPLACE, AnnounceType.REPLACE_CROSS}


@dataclass
class _Work:
    item: ListingItem
    paper: PaperMeta
    text: FullText
    future: Future | None


class Refresher:
    def __init__(self, settings: Settings, store: Store, session, client: arxiv.Client,
                 enricher: enrich.Enricher, llm_enabled: bool, publish: Callable[[FeedSpec, Day], None]):
        self.settings, self.store, self.session, self.client = settings, store, session, client
        self.enricher, self.llm_enabled, self.publish = enricher, llm_enabled, publish

    def _locked(self, spec: FeedSpec, result: RefreshResult, work: Callable[[], None], wait: float) -> RefreshResult:
        """Run `work` under the feed's file lock; failures become the result, never a crash."""
        lock = filelock.FileLock(str(self.store.data_dir / f"refresh-{spec.name}.lock"))
        try:
            with lock.acquire(timeout=wait):
                work()
        except filelock.Timeout:
            result.message = f"{spec.name}: a refresh of this feed is already running"
            raise RefreshBusy(result.message) from None
        except DigestError as e:
            result.outcome, result.message = "failed", f"{spec.name}: {e}"
            log.error("%s", result.message)
        except (OSError, sqlite3.Error) as e:  # disk full, unwritable data dir: published days stay intact
            result.outcome = "failed"
            result.message = f"{spec.name}: cannot write to {self.store.data_dir}: {e}"
            log.error("%s", result.message)
        finally:
            result.finished = utcnow()
            try:
                self.store.put_status(result)
            except (OSError, sqlite3.Error) as e:
                log.error("%s: could not record the refresh status: %s", spec.name, e)
        return result

    def refresh(self, spec: FeedSpec, force: bool = False, wait: float = 0) -> RefreshResult:
        """Publish the latest announcement; a complete day already published is left alone."""
        result = RefreshResult(feed=spec.name, outcome="failed", message="", started=utcnow())

        def work():
            announced = listing.fetch_listing(self.session, self.settings.arxiv_listing_url, spec.categories)
            result.date = announced.announced
            if not announced.items:
                result.outcome = "no_announcement"
                result.message = (f"{spec.name}: no announcement on {announced.announced} "
                                  "(weekend or holiday); nothing to publish")
                return
            prev = self.store.get_day(spec.name, announced.announced)
            if prev is not None and not force and is_complete(prev, self.llm_enabled):
                result.outcome = "stale"
                result.message = (f"{spec.name}: the listing still shows {announced.announced}, which is "
                                  "already published and complete; nothing to do until arXiv's next announcement")
                return
            chosen = select(spec, announced.items)
            # New versions of papers this feed published before always update their entry.
            chosen += [i for i in announced.items if i.announce_type in _REPLACEMENTS and i not in chosen
                       and self.store.published_in(spec.name, i.arxiv_id)]
            self._build(spec, announced.announced, chosen, result)

        return self._locked(spec, result, work, wait)

    def backfill(self, spec: FeedSpec, day: dt.date, wait: float = 0) -> RefreshResult:
        """Publish a past announcement day from the API (papers first submitted in its window)."""
        result = RefreshResult(feed=spec.name, outcome="failed", message="", started=utcnow(), date=day)

        def work():
            if not schedule.is_listing_date(day):
                result.outcome = "no_announcement"
                result.message = f"{spec.name}: no announcement on {day} (weekend)"
                return
            start, end = schedule.submission_window(day)
            papers = metadata.search_window(self.client, spec.categories, start, end)
            items = []
            for p in papers:
                self.store.put_paper(p)
                kind = AnnounceType.NEW if p.categories[0] in spec.categories else AnnounceType.CROSS
                items.append(ListingItem(p.arxiv_id, p.version, kind, p.title, p.abstract, p.authors, p.categories))
            if not items:
                result.outcome = "no_announcement"
                result.message = f"{spec.name}: the API has no submissions for {day} (holiday?)"
                return
            self._build(spec, day, select(spec, tuple(items)), result)

        return self._locked(spec, result, work, wait)

    def _build(self, spec: FeedSpec, date: dt.date, chosen: list[ListingItem], result: RefreshResult) -> None:
        started = time.monotonic()
        papers = self._papers(chosen)
        missing = [i.versioned_id for i in chosen if i.versioned_id not in papers]
        llm = self.llm_enabled
        with ThreadPoolExecutor(max_workers=self.settings.llm_concurrency, thread_name_prefix="llm") as pool:
            found = [papers[i.versioned_id] for i in chosen if i.versioned_id in papers]
            summary_future = pool.submit(self.enricher.summarise, spec, date, found) if llm and found else None
            work = []
            for item in chosen:
                paper = papers.get(item.versioned_id)
                if paper is None:
                    continue
                text = self._full_text(paper) if llm else FullText(TextSource.ABSTRACT, paper.abstract)
                future = pool.submit(self.enricher.analyse, spec, paper, text) if llm else None
                work.append(_Work(item, paper, text, future))
            entries, outcomes = [], []
            for w in work:
                outcome = w.future.result() if w.future else enrich.Outcome(EntryStatus.DISABLED)
                entries.append(_entry(w, outcome))
                outcomes.append(PaperOutcome(w.paper.versioned_id, outcome.status, outcome.reasons,
                                             outcome.llm_calls, outcome.cost_usd))
            summary = summary_future.result() if summary_future else enrich.Outcome(EntryStatus.DISABLED)
        result.papers, result.missing = outcomes, missing
        result.llm_calls = sum(o.llm_calls for o in outcomes) + summary.llm_calls
        result.cost_usd = round(sum(o.cost_usd for o in outcomes) + summary.cost_usd, 6)
        if not entries:
            raise DigestError(f"none of the {len(chosen)} selected papers could be fetched "
                              f"from the arXiv API (missing: {', '.join(missing)})")
        day = self._day(spec, date, entries, summary, missing, result.cost_usd)
        self.publish(spec, day)
        result.outcome = "published"
        pending = result.count(EntryStatus.PENDING) + result.count(EntryStatus.UNAVAILABLE)
        budget = next((r for o in outcomes for r in o.reasons if r.startswith("budget")), None)
        result.message = (
            f"{spec.name}: published {day.date}: {len(entries)} papers "
            f"({result.count(EntryStatus.ANALYSED)} analysed, {pending} pending"
            + (f", {result.count(EntryStatus.DISABLED)} without analysis (no LLM key)" if not llm else "")
            + (f", {len(missing)} missing from the API: {', '.join(missing)}" if missing else "")
            + f"), {result.llm_calls} LLM calls, ${result.cost_usd:.4f}, {time.monotonic() - started:.1f} s"
            + (f"; {budget}" if budget else ""))

    def _papers(self, chosen: list[ListingItem]) -> dict[str, PaperMeta]:
        """Cached metadata, the rest from the API; ids it leaves out are asked once more."""
        papers = {i.versioned_id: p for i in chosen if (p := self.store.get_paper(i.versioned_id))}
        for _ in range(2):
            wanted = [i.versioned_id for i in chosen if i.versioned_id not in papers]
            if not wanted:
                break
            for vid, paper in metadata.fetch_metadata(self.client, wanted).items():
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

    def _day(self, spec: FeedSpec, date: dt.date, entries: list[Entry], summary: enrich.Outcome,
             missing: list[str], cost: float) -> Day:
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
                   updated=now if changed else prev.updated, missing=tuple(missing),
                   cost_usd=round(cost + (prev.cost_usd if prev else 0.0), 6))


def is_complete(day: Day, llm_enabled: bool) -> bool:
    """Nothing left to retry: every entry analysed (or given up), nothing missing.

    Entries published without a key are open again once a key is configured."""
    open_states = {EntryStatus.PENDING} | ({EntryStatus.DISABLED} if llm_enabled else set())
    return (not day.missing and all(e.status not in open_states for e in day.entries)
            and day.summary_status not in open_states)


def _entry(w: _Work, outcome: enrich.Outcome) -> Entry:
    analysis = outcome.result if outcome.status is EntryStatus.ANALYSED else None
    findings = analysis.findings if analysis else enrich.abstract_findings(w.paper.abstract)
    return Entry(paper=w.paper, announce_type=w.item.announce_type, status=outcome.status,
                 source=analysis.source if analysis else w.text.source, analysis=analysis,
                 findings=findings, reasons=outcome.reasons)
