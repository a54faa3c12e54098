"""Orchestration of one feed's day: announced items → papers → full text → gated analyses.

`Refresher` fetches (through the `Arxiv` boundary), calls (through the `Enricher`) and
caches every finished piece as soon as it exists, so a killed refresh resumes without
paying twice. It decides nothing itself (`decisions.py` does) and publishes nothing: it
returns a `Build`, and the façade publishes its day in one step.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace

from . import decisions, schedule, triage
from .decisions import Build
from .enrich import Enricher, Enrichment, abstract_findings
from .embeddings import MAX_LIBRARY_ITEMS, Embedder, EmbeddingsError
from .errors import DigestError
from .library import Library, LibraryError, load as load_library
from .zotero import Zotero
from .models import (AnnounceType, Entry, EntryStatus, FeedSpec, FullText, ListingItem, Outcome,
                     PaperMeta, PaperOutcome, TextSource, utcnow)
from .select import Ranking, rank, rank_all
from .store import Store
from .upstream import Arxiv

log = logging.getLogger(__name__)
_DISABLED = Enrichment(EntryStatus.DISABLED)
#: Refreshes that may meet a transient full-text failure before the fallback is kept.
FULLTEXT_TRIES = 3


@dataclass(frozen=True)
class ProgressEvent:
    """How far a refresh is: `done` of `total` in one stage (listing, metadata, full text,
    analysis), with the LLM money spent and the papers left pending so far."""

    feed: str
    stage: str
    done: int
    total: int
    cost_usd: float = 0.0
    pending: int = 0


#: Where a refresh reports its progress (the CLI's bars or lines); called from one thread.
Progress = Callable[[ProgressEvent], None]


def _quiet(event: ProgressEvent) -> None:
    """The default: nobody is watching."""


@dataclass(frozen=True)
class _Work:
    item: ListingItem
    paper: PaperMeta
    text: FullText
    future: Future | None


class Refresher:
    def __init__(self, arxiv: Arxiv, store: Store, enricher: Enricher, concurrency: int,
                 zotero: Zotero | None = None, embedder: Embedder | None = None):
        self.arxiv, self.store, self.enricher, self.concurrency = arxiv, store, enricher, concurrency
        #: Reads feeds' zotero.org libraries (`library = { zotero_user = … }`).
        self.zotero = zotero
        #: Embeds titles and abstracts for feeds that name an endpoint (`embeddings = { … }`).
        self.embedder = embedder

    def latest(self, spec: FeedSpec, force: bool = False, progress: Progress = _quiet) -> Build:
        """The latest announcement; a complete day already published is left alone."""
        announced = self.arxiv.listing(spec.categories)
        date = announced.announced
        if not announced.items:
            return Build(Outcome.NO_ANNOUNCEMENT, date)
        prev = self.store.get_day(spec.name, date)
        if prev is not None and not force and decisions.is_complete(prev, self.enricher.enabled_for(spec)):
            return Build(Outcome.STALE, date)
        published = frozenset(i.arxiv_id for i in announced.items
                              if i.announce_type in decisions.REPLACEMENTS
                              and self.store.published_in(spec.name, i.arxiv_id))
        library, notes = self._library(spec)
        rankings, notes = self._rank(spec, announced.items, library, date, notes)
        chosen = self._choose(spec, date, announced.items, published, rankings)
        progress(ProgressEvent(spec.name, "listing", len(chosen), len(announced.items)))
        return self._build(spec, date, chosen, progress, rankings, notes)

    def past(self, spec: FeedSpec, day: dt.date, progress: Progress = _quiet) -> Build:
        """A past announcement day from the API: papers first submitted in its window."""
        if not schedule.is_listing_date(day):
            return Build(Outcome.NO_ANNOUNCEMENT, day)
        start, end = schedule.submission_window(day)
        items = []
        for p in self.arxiv.submitted(spec.categories, start, end):
            self.store.put_paper(p)
            kind = AnnounceType.NEW if p.categories[0] in spec.categories else AnnounceType.CROSS
            items.append(ListingItem(p.arxiv_id, p.version, kind, p.title, p.abstract, p.authors, p.categories))
        if not items:
            return Build(Outcome.NO_ANNOUNCEMENT, day)
        library, notes = self._library(spec)
        rankings, notes = self._rank(spec, tuple(items), library, day, notes)
        chosen = self._choose(spec, day, tuple(items), frozenset(), rankings)
        progress(ProgressEvent(spec.name, "listing", len(chosen), len(items)))
        return self._build(spec, day, chosen, progress, rankings, notes)

    def _choose(self, spec: FeedSpec, date: dt.date, items: tuple[ListingItem, ...],
                published: frozenset[str], rankings: dict[str, Ranking]) -> list[ListingItem]:
        """The day's papers: the spec's selection in ranked order, capped by today's triage
        scores when the feed asks for triage and they can be had (else by the ranking)."""
        scores = triage.scores_for(self.enricher, spec, date, items)
        chosen = decisions.choose_items(spec, items, published, rankings)
        if scores is None:
            return chosen
        ranked = triage.choose(spec, items, scores)
        taken = {i.arxiv_id for i in ranked}
        # new versions of papers the feed published still update their entries
        return ranked + [i for i in chosen if i.arxiv_id not in taken and i.announce_type in decisions.REPLACEMENTS
                         and i.arxiv_id in published]

    def _rank(self, spec: FeedSpec, items: tuple[ListingItem, ...], library: Library | None, day: dt.date,
              notes: tuple[str, ...]) -> tuple[dict[str, Ranking], tuple[str, ...]]:
        """The day ranked (`select.rank_all`), by meaning too when the feed names an embeddings
        endpoint; one that fails is reported and the day is ranked by words alone."""
        if spec.embeddings is None or library is None or self.embedder is None:
            return rank_all(spec, items, library, day, self._features()), notes
        endpoint = spec.embeddings
        try:
            return rank_all(spec, items, library, day, self._features(),
                            lambda texts: self.embedder.vectors(endpoint, texts), MAX_LIBRARY_ITEMS), notes
        except EmbeddingsError as e:
            log.warning("%s: %s; ranked by words only", spec.name, e)
            return rank_all(spec, items, library, day, self._features()), notes + (f"{e}; ranked by words only",)

    def _features(self):
        """Where libraries' fitted counts are cached (derived data, by content)."""
        return self.store.data_dir / "library-features"

    def _library(self, spec: FeedSpec) -> tuple[Library | None, tuple[str, ...]]:
        """The feed's library, or None and why: a library that cannot be read is reported
        and the day is ranked by the feed's other signals."""
        if spec.zotero is not None and self.zotero is not None:
            try:
                return self.zotero.load(spec.zotero)
            except LibraryError as e:
                log.warning("%s: %s; ranking without it", spec.name, e)
                return None, (f"{e}; ranked without it",)
        if spec.library is None:
            return None, ()
        try:
            return load_library(spec.library), ()
        except LibraryError as e:
            log.warning("%s: %s; ranking without it", spec.name, e)
            return None, (f"{e}; ranked without it",)

    def _build(self, spec: FeedSpec, date: dt.date, chosen: list[ListingItem], progress: Progress,
               rankings: dict[str, Ranking] | None = None, notes: tuple[str, ...] = ()) -> Build:
        started = time.monotonic()
        papers = self._papers(chosen)
        missing = tuple(i.versioned_id for i in chosen if i.versioned_id not in papers)
        found = [(i, papers[i.versioned_id]) for i in chosen if i.versioned_id in papers]
        progress(ProgressEvent(spec.name, "metadata", len(found), len(chosen)))
        if not found:
            raise DigestError(f"none of the {len(chosen)} selected papers could be fetched "
                              f"from the arXiv API (missing: {', '.join(missing)})")
        llm = self.enricher.enabled_for(spec)
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="llm") as pool:
            summary_future = pool.submit(self.enricher.summarise, spec, date, [p for _, p in found]) if llm else None
            work, collected = [], ()
            batch = llm and spec.batch  # analyses as one Message Batch, collected by later refreshes
            for n, (item, paper) in enumerate(found, 1):
                text = self._full_text(paper) if llm else FullText(TextSource.ABSTRACT, paper.abstract)
                future = pool.submit(self.enricher.analyse, spec, paper, text) if llm and not batch else None
                work.append(_Work(item, paper, text, future))
                if llm:
                    progress(ProgressEvent(spec.name, "full text", n, len(found)))
            if batch:
                done_batch, collected = self.enricher.analyse_batch(spec, [(w.paper, w.text) for w in work])
                work = [replace(w, future=_done(e)) for w, e in zip(work, done_batch)]
            futures = [w.future for w in work if w.future] + ([summary_future] if summary_future else [])
            spent, pending = 0.0, 0
            for n, future in enumerate(as_completed(futures), 1):
                e = future.result()
                spent += e.cost_usd
                pending += e.status.left_pending
                progress(ProgressEvent(spec.name, "analysis", n, len(futures), round(spent, 6), pending))
            done = [(w, w.future.result() if w.future else _DISABLED) for w in work]
            summary = summary_future.result() if summary_future else _DISABLED
        outcomes = tuple(PaperOutcome(w.paper.versioned_id, e.status, e.reasons, e.llm_calls, e.cost_usd)
                         for w, e in done)
        calls = sum(o.llm_calls for o in outcomes) + summary.llm_calls
        cost = round(sum(o.cost_usd for o in outcomes) + summary.cost_usd, 6)
        day = decisions.stamp_day(
            spec.name, date, [_entry(spec, w, e, (rankings or {}).get(w.item.arxiv_id)) for w, e in done],
            summary.result if summary.status is EntryStatus.ANALYSED else None, summary.status,
            missing, cost, prev=self.store.get_day(spec.name, date), now=utcnow())
        return Build(Outcome.PUBLISHED, date, day, outcomes, missing, calls, cost, time.monotonic() - started,
                     notes, collected)

    def _papers(self, chosen: list[ListingItem]) -> dict[str, PaperMeta]:
        """Cached metadata, the rest from the API; ids it leaves out are asked once more."""
        papers = {i.versioned_id: p for i in chosen if (p := self.store.get_paper(i.versioned_id))}
        for _ in range(2):
            wanted = [i.versioned_id for i in chosen if i.versioned_id not in papers]
            if not wanted:
                break
            for vid, paper in self.arxiv.papers(wanted).items():
                self.store.put_paper(paper)
                papers[vid] = paper
        return papers

    def _full_text(self, paper: PaperMeta) -> FullText:
        """Cached text, else fetched; a transient verdict (a timeout, a captcha page) is not
        cached, unless it kept coming for FULLTEXT_TRIES refreshes: then it is the answer."""
        cached = self.store.get_full_text(paper.versioned_id)
        if cached is not None:
            return cached
        text, final = self.arxiv.full_text(paper)
        if final or self.store.count_fulltext_try(paper.versioned_id) >= FULLTEXT_TRIES:
            self.store.put_full_text(paper.versioned_id, text)
        return text


def _done(result: Enrichment) -> Future:
    future: Future = Future()
    future.set_result(result)
    return future


def _entry(spec: FeedSpec, w: _Work, outcome: Enrichment, ranking: Ranking | None) -> Entry:
    analysis = outcome.result if outcome.status is EntryStatus.ANALYSED else None
    findings = analysis.findings if analysis else abstract_findings(w.paper.abstract)
    ranking = ranking or rank(spec, w.item)
    why = ranking.reasons
    if w.item.announce_type in decisions.REPLACEMENTS:
        why += (f"new version (v{w.item.version}) of a paper this feed published",)
    return Entry(paper=w.paper, announce_type=w.item.announce_type, status=outcome.status,
                 source=analysis.source if analysis else w.text.source, analysis=analysis,
                 findings=findings, reasons=outcome.reasons, why=why, score=ranking.score)
