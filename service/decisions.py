"""Decisions: pure functions of data, no I/O, so each is tested on its own.

Which announced items a feed takes, how a rebuilt day is stamped, whether a day is
complete, whether the worker is done with a feed, and what a refresh says to a human.
The orchestration (`refresh.py`) fetches and stores; it asks these what to do.
(lemon24/reader keeps its update `Decider` apart from its `Pipeline` for the same reason.)
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .models import (Analysis, AnnounceType, DailySummary, Day, Entry, EntryStatus, FeedSpec, FeedStatus,
                     ListingItem, Outcome, PaperOutcome, RefreshResult, count_pending)
from .select import Ranking, select

REPLACEMENTS = {AnnounceType.REPLACE, AnnounceType.REPLACE_CROSS}
#: A backfill gives up after this many failed days in a row (the network is down, say).
MAX_FAILED_DAYS = 3


@dataclass(frozen=True)
class Build:
    """What the orchestration made of one feed's refresh, before anything is published."""

    outcome: Outcome
    date: dt.date | None
    #: The day to publish (only with `Outcome.PUBLISHED`).
    day: Day | None = None
    papers: tuple[PaperOutcome, ...] = ()
    #: Listed ids the arXiv API did not return.
    missing: tuple[str, ...] = ()
    llm_calls: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0
    #: What the reader should know about how the day was made (a library that could not be read).
    notes: tuple[str, ...] = ()
    #: Message Batch items (`batches.BatchItem`) whose analyses this refresh's poll cached:
    #: published days pending on them are republished by the façade.
    collected: tuple = ()


def choose_items(spec: FeedSpec, items: tuple[ListingItem, ...], published: frozenset[str],
                 rankings: Mapping[str, Ranking] | None = None) -> list[ListingItem]:
    """The spec's selection, plus new versions of papers this feed already published
    (`published`: their version-less ids), which always update their entry."""
    chosen = select(spec, items, rankings)
    taken = {i.arxiv_id for i in chosen}
    for item in items:
        if item.announce_type in REPLACEMENTS and item.arxiv_id in published and item.arxiv_id not in taken:
            chosen.append(item)
            taken.add(item.arxiv_id)
    return chosen


def is_complete(day: Day, llm_enabled: bool) -> bool:
    """Nothing left to retry: every entry analysed (or given up), nothing missing.

    Entries published without a key are open again once a key is configured."""
    open_states = {EntryStatus.PENDING} | ({EntryStatus.DISABLED} if llm_enabled else set())
    return (not day.missing and all(e.status not in open_states for e in day.entries)
            and day.summary_status not in open_states)


def stamp_day(feed: str, date: dt.date, entries: list[Entry], summary: DailySummary | None,
              summary_status: EntryStatus, missing: tuple[str, ...], cost_usd: float,
              prev: Day | None, now: dt.datetime) -> Day:
    """The day to publish; `updated` stamps move only for what changed since `prev` (each
    changed entry one second before the previous one, the day itself at `now`)."""
    before = {e.paper.versioned_id: e for e in prev.entries} if prev else {}
    stamped, changed_entries = [], 0
    for e in entries:
        old = before.get(e.paper.versioned_id)
        same = old is not None and replace(old, updated=None) == replace(e, updated=None)
        if not same:
            # one second apart, in ranked order, below the day's own stamp: feed validators
            # (and readers that sort by it) need entries of one feed to differ in atom:updated
            changed_entries += 1
        stamped.append(replace(e, updated=old.updated if same else now - dt.timedelta(seconds=changed_entries)))
    changed = (prev is None or len(prev.entries) != len(stamped)
               or any(a.updated != b.updated for a, b in zip(prev.entries, stamped))
               or prev.summary != summary or prev.summary_status != summary_status)
    return Day(feed=feed, date=date, entries=tuple(stamped), summary=summary,
               summary_status=summary_status, published=prev.published if prev else now,
               updated=now if changed else prev.updated, missing=missing,
               cost_usd=round(cost_usd + (prev.cost_usd if prev else 0.0), 6))


def with_analyses(day: Day, found: Mapping[str, Analysis], now: dt.datetime) -> Day | None:
    """`day` with its pending entries whose analysis arrived since (`found`: by versioned
    id) made analysed, as a refresh would have built them; None when none changed. Only
    those entries' `updated` moves (`stamp_day`); the day's cost is unchanged."""
    entries = [replace(e, status=EntryStatus.ANALYSED, analysis=a, source=a.source, findings=a.findings, reasons=())
               if e.status is EntryStatus.PENDING and (a := found.get(e.paper.versioned_id)) is not None else e
               for e in day.entries]
    if entries == list(day.entries):
        return None
    return stamp_day(day.feed, day.date, entries, day.summary, day.summary_status, day.missing, 0.0,
                     prev=day, now=now)


def worker_done(day: Day | None, status: FeedStatus | None, expected: dt.date, llm_enabled: bool) -> bool:
    """The worker can stop retrying a feed: the expected day is published and complete,
    or arXiv answered that there is no announcement for it."""
    if day is not None:
        return is_complete(day, llm_enabled)
    last = status.last_attempt if status else None
    return (last is not None and last.outcome is Outcome.NO_ANNOUNCEMENT
            and last.date is not None and last.date >= expected)


def give_up(results: list[RefreshResult]) -> bool:
    """Whether a run over many days should stop: the last MAX_FAILED_DAYS all failed."""
    last = results[-MAX_FAILED_DAYS:]
    return len(last) == MAX_FAILED_DAYS and all(r.outcome is Outcome.FAILED for r in last)


def message(feed: str, build: Build, llm_enabled: bool) -> str:
    """The one line a refresh reports to the CLI, the log, the admin API and `/healthz`."""
    if build.outcome is Outcome.NO_ANNOUNCEMENT:
        return f"{feed}: no announcement on {build.date} (weekend or holiday); nothing to publish"
    if build.outcome is Outcome.STALE:
        return (f"{feed}: the listing still shows {build.date}, which is already published and complete; "
                "nothing to do until arXiv's next announcement")
    if build.outcome is not Outcome.PUBLISHED or build.day is None:
        raise ValueError(f"no message for a build with outcome {build.outcome}")
    count = {s: sum(1 for p in build.papers if p.status is s) for s in EntryStatus}
    pending = count_pending(build.papers)
    budget = next((r for p in build.papers for r in p.reasons if r.code == "budget"), None)
    return (f"{feed}: published {build.day.date}: {len(build.day.entries)} papers "
            f"({count[EntryStatus.ANALYSED]} analysed, {pending} pending"
            + (f", {count[EntryStatus.DISABLED]} without analysis (no LLM key)" if not llm_enabled else "")
            + (f", {len(build.missing)} missing from the API: {', '.join(build.missing)}" if build.missing else "")
            + f"), {build.llm_calls} LLM calls, ${build.cost_usd:.4f}, {build.seconds:.1f} s"
            + (f"; {budget}" if budget else "") + "".join(f"; {n}" for n in build.notes))
