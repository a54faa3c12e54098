"""The pure decisions (service/decisions.py): no I/O, no stubs, no store."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from service import decisions
from service.decisions import Build
from service.models import (AnnounceType, Day, Entry, EntryStatus, FeedSpec, FeedStatus, ListingItem,
                            Outcome, PaperMeta, PaperOutcome, Reason, RefreshResult, TextSource)

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 28, 1, 0, tzinfo=UTC)
T1 = T0 + dt.timedelta(hours=1)
DATE = dt.date(2026, 1, 28)
SPEC = FeedSpec(name="cs-cv", path=None, title="CV", categories=("cs.CV",), max_papers=2)


def item(n: int, kind=AnnounceType.NEW, title="A paper", version=1) -> ListingItem:
    return ListingItem(f"2601.{n:05d}", version, kind, title, "An abstract.", ("A. Author",), ("cs.CV",))


def paper(n: int) -> PaperMeta:
    return PaperMeta(f"2601.{n:05d}", 1, f"Paper {n}", ("A. Author",), "An abstract.", ("cs.CV",), T0, T0)


def entry(n: int, status=EntryStatus.ANALYSED, updated=None) -> Entry:
    return Entry(paper(n), AnnounceType.NEW, status, TextSource.ABSTRACT, None, (), updated=updated)


def day(*entries: Entry, summary_status=EntryStatus.ANALYSED, missing=()) -> Day:
    return Day("cs-cv", DATE, tuple(entries), None, summary_status, T0, T0, missing=missing)


def test_choose_items_caps_then_adds_replacements_of_published_papers_once():
    items = (item(1), item(2), item(3), item(9, AnnounceType.REPLACE, version=2),
             item(8, AnnounceType.REPLACE, version=2), item(9, AnnounceType.REPLACE, version=2))
    chosen = decisions.choose_items(SPEC, items, published=frozenset({"2601.00009"}))
    assert [i.arxiv_id for i in chosen] == ["2601.00001", "2601.00002", "2601.00009"]


def test_choose_items_ranks_keyword_hits_first():
    spec = replace(SPEC, keywords=("gaussian splatting",))
    chosen = decisions.choose_items(spec, (item(1), item(2, title="Fast Gaussian Splatting")), frozenset())
    assert [i.arxiv_id for i in chosen] == ["2601.00002", "2601.00001"]


@pytest.mark.parametrize("states, summary, missing, llm, complete", [
    ((EntryStatus.ANALYSED, EntryStatus.UNAVAILABLE), EntryStatus.ANALYSED, (), True, True),
    ((EntryStatus.ANALYSED, EntryStatus.PENDING), EntryStatus.ANALYSED, (), True, False),
    ((EntryStatus.ANALYSED,), EntryStatus.PENDING, (), True, False),
    ((EntryStatus.ANALYSED,), EntryStatus.ANALYSED, ("2601.00007v1",), True, False),
    # published without a key: complete until a key is configured, then open again
    ((EntryStatus.DISABLED,), EntryStatus.DISABLED, (), False, True),
    ((EntryStatus.DISABLED,), EntryStatus.DISABLED, (), True, False),
])
def test_is_complete(states, summary, missing, llm, complete):
    d = day(*(entry(n, s) for n, s in enumerate(states)), summary_status=summary, missing=missing)
    assert decisions.is_complete(d, llm) is complete


def test_stamp_day_moves_updated_only_for_what_changed():
    first = decisions.stamp_day("cs-cv", DATE, [entry(1), entry(2, EntryStatus.PENDING)], None,
                                EntryStatus.ANALYSED, (), 0.5, prev=None, now=T0)
    assert first.published == first.updated == T0
    # every entry its own stamp, below the day's, in ranked order
    assert [e.updated for e in first.entries] == [T0 - dt.timedelta(seconds=1), T0 - dt.timedelta(seconds=2)]
    # the same content an hour later: nothing moves, cost adds up
    same = decisions.stamp_day("cs-cv", DATE, [entry(1), entry(2, EntryStatus.PENDING)], None,
                               EntryStatus.ANALYSED, (), 0.25, prev=first, now=T1)
    assert same.updated == T0 and [e.updated for e in same.entries] == [e.updated for e in first.entries]
    assert same.cost_usd == 0.75
    # paper 2 got its analysis: only its entry and the day move
    filled = decisions.stamp_day("cs-cv", DATE, [entry(1), entry(2)], None, EntryStatus.ANALYSED, (), 0.0,
                                 prev=same, now=T1)
    assert filled.published == T0 and filled.updated == T1
    assert [e.updated for e in filled.entries] == [first.entries[0].updated, T1 - dt.timedelta(seconds=1)]


def _status(outcome: Outcome, date: dt.date) -> FeedStatus:
    result = RefreshResult("cs-cv", outcome, "m", date)
    return FeedStatus(result, result if result.ok else None)


def test_worker_done():
    assert decisions.worker_done(day(entry(1)), None, DATE, True)
    assert not decisions.worker_done(day(entry(1, EntryStatus.PENDING)), None, DATE, True)
    assert not decisions.worker_done(None, None, DATE, True)
    assert decisions.worker_done(None, _status(Outcome.NO_ANNOUNCEMENT, DATE), DATE, True)
    assert not decisions.worker_done(None, _status(Outcome.NO_ANNOUNCEMENT, DATE - dt.timedelta(days=1)), DATE, True)
    assert not decisions.worker_done(None, _status(Outcome.FAILED, DATE), DATE, True)


def test_message_counts_each_state_and_names_the_budget():
    papers = (PaperOutcome("2601.00001v1", EntryStatus.ANALYSED, (), 1, 0.01),
              PaperOutcome("2601.00002v1", EntryStatus.PENDING, (Reason("budget", "feed cs-cv spent $1"),)),
              PaperOutcome("2601.00003v1", EntryStatus.UNAVAILABLE, (Reason("refusal", "x"),), 2, 0.02))
    built = Build(Outcome.PUBLISHED, DATE, day(entry(1), entry(2), entry(3)), papers, ("2601.00004v1",),
                  3, 0.03, 1.25)
    text = decisions.message("cs-cv", built, llm_enabled=True)
    assert text == ("cs-cv: published 2026-01-28: 3 papers (1 analysed, 2 pending, 1 missing from the API: "
                    "2601.00004v1), 3 LLM calls, $0.0300, 1.2 s; budget: feed cs-cv spent $1")
    assert "no announcement" in decisions.message("cs-cv", Build(Outcome.NO_ANNOUNCEMENT, DATE), True)
    assert "already published" in decisions.message("cs-cv", Build(Outcome.STALE, DATE), True)
    with pytest.raises(ValueError):
        decisions.message("cs-cv", Build(Outcome.FAILED, DATE), True)


def test_with_analyses_moves_only_the_pending_entries_whose_analysis_arrived():
    from service.models import Analysis, Finding

    found = Analysis("abstract", TextSource.ABSTRACT, "en", "m", "h", (("Problem", "x"),),
                     (Finding("a claim", "its evidence"),), T0)
    pending = [replace(entry(n, EntryStatus.PENDING, updated=T0), reasons=(Reason("batch", "in a batch"),))
               for n in (1, 2)]
    prev = day(entry(0, updated=T0), *pending)
    rebuilt = decisions.with_analyses(prev, {pending[0].paper.versioned_id: found}, T1)
    assert [e.status for e in rebuilt.entries] == [EntryStatus.ANALYSED, EntryStatus.ANALYSED, EntryStatus.PENDING]
    got = rebuilt.entries[1]
    assert got.analysis == found and got.findings == found.findings and got.reasons == () and got.updated > T0
    assert rebuilt.entries[0] == prev.entries[0] and rebuilt.entries[2] == prev.entries[2]
    assert rebuilt.updated == T1 and rebuilt.cost_usd == prev.cost_usd and rebuilt.published == prev.published
    # an analysed entry is never replaced, and nothing to change is None
    assert decisions.with_analyses(prev, {prev.entries[0].paper.versioned_id: found}, T1) is None
