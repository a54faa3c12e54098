"""Unattended operation: backfill, catch-up after downtime, health on arXiv's calendar."""
from __future__ import annotations

import datetime as dt

import feedparser

from service.health import feed_health
from service.models import FeedStatus, Outcome, RefreshResult
from service.worker import Worker

from .stubs import FIXTURES

UTC = dt.timezone.utc


def test_backfill_publishes_a_past_day_from_the_api_window(env, digest, client, arxiv_stub, llm_stub):
    [result] = digest.backfill("cs-cv", dt.date(2026, 1, 28), dt.date(2026, 1, 28))
    assert result.outcome == "published", result.message
    assert len(result.papers) == 10
    query = next(p for p in arxiv_stub.paths("/api/") if "search_query" in p)
    assert "submittedDate%3A%5B202601261900+TO+202601271859%5D" in query
    assert arxiv_stub.paths("/rss/") == []  # the listing is not asked for a past day
    feed = feedparser.parse(client.get("/feeds/cs-cv.atom").data)
    assert len(feed.entries) == 11
    cross = next(e for e in digest.store.get_day("cs-cv", dt.date(2026, 1, 28)).entries
                 if e.paper.arxiv_id == "2601.19750")
    assert cross.announce_type.value == "cross"


def test_backfill_skips_weekends_and_reports_empty_days(env, digest):
    results = digest.backfill("cs-cv", dt.date(2026, 1, 31), dt.date(2026, 2, 2))
    # Saturday and Sunday have no listing; Monday's window (Thu→Fri) has no fixture papers
    assert [r.date for r in results] == [dt.date(2026, 2, 2)]
    assert results[0].outcome == "no_announcement" and "holiday" in results[0].message


def test_worker_catches_up_missed_days_on_start(env, digest, arxiv_stub, llm_stub):
    # down since before Tuesday's announcement; started Thursday noon UTC
    arxiv_stub.listing = (FIXTURES / "arxiv/listing-cs.CV-empty.xml").read_bytes()  # listing shows nothing useful
    worker = Worker(digest, catch_up_days=3)
    now = dt.datetime(2026, 1, 29, 12, 0, tzinfo=UTC)
    assert worker.missed_days("cs-cv", now) == [dt.date(2026, 1, 27), dt.date(2026, 1, 28), dt.date(2026, 1, 29)]
    results = worker.catch_up(now)
    published = {r.date: r.outcome for r in results}
    assert published[dt.date(2026, 1, 28)] == "published"
    assert dt.date(2026, 1, 28) in digest.store.day_dates("cs-cv")
    # a second start has nothing left to do for the day it could publish
    assert dt.date(2026, 1, 28) not in worker.missed_days("cs-cv", now)


def test_worker_done_means_complete(env, digest, llm_stub):
    day = dt.date(2026, 1, 28)
    assert not digest.worker_done("cs-cv", day)
    llm_stub.script["2601.19898v1"] = ["refusal", "refusal"]
    digest.refresh("cs-cv")
    assert not digest.worker_done("cs-cv", day)  # a pending analysis: retry
    digest.refresh("cs-cv")
    assert digest.worker_done("cs-cv", day)


def _status(outcome: str, date: dt.date) -> FeedStatus:
    finished = dt.datetime(2026, 1, 28, 2, 0, tzinfo=UTC)
    result = RefreshResult("cs-cv", Outcome(outcome), "m", date, finished=finished)
    return FeedStatus(last_attempt=result, last_success=result if result.ok else None)


def test_health_on_the_calendar():
    wed = dt.date(2026, 1, 28)
    # Wednesday 02:00 UTC = Tuesday 21:00 ET: the Tuesday announcement (listing of Wed) is due
    tue_evening = dt.datetime(2026, 1, 28, 2, 0, tzinfo=UTC)
    assert feed_health(None, dt.date(2026, 1, 27), tue_evening)["state"] == "waiting"
    assert feed_health(None, dt.date(2026, 1, 27), tue_evening + dt.timedelta(hours=4))["state"] == "stale"
    assert feed_health(_status("published", wed), wed, tue_evening)["state"] == "fresh"
    # Saturday: Thursday's announcement (listing of Friday) is the last one expected
    saturday = dt.datetime(2026, 1, 31, 15, 0, tzinfo=UTC)
    sat = feed_health(_status("published", dt.date(2026, 1, 30)), dt.date(2026, 1, 30), saturday)
    assert sat["state"] == "fresh" and "no announcement expected" in sat["note"]
    # a holiday: the listing was empty for the expected day; that answers it
    holiday = feed_health(_status("no_announcement", wed), dt.date(2026, 1, 27), tue_evening + dt.timedelta(hours=5))
    assert holiday["state"] == "fresh"
    stale = feed_health(_status("stale", dt.date(2026, 1, 27)), dt.date(2026, 1, 27), tue_evening + dt.timedelta(hours=5))
    assert stale["state"] == "stale" and "previous announcement" in stale["note"]


def test_worker_retries_an_incomplete_day_with_backoff(env, digest, arxiv_stub):
    from apscheduler.schedulers.background import BackgroundScheduler

    now = dt.datetime(2026, 1, 28, 3, 0, tzinfo=UTC)  # Tuesday 22:00 ET, after the announcement
    worker = Worker(digest, retry_minutes=5, max_retry_minutes=60, clock=lambda: now)
    worker.scheduler = BackgroundScheduler(timezone=UTC)  # not started: jobs are only recorded
    arxiv_stub.faults["/rss/"] = [{"status": 503, "body": b""}] * 50
    worker.announcement()
    [job] = worker.scheduler.get_jobs()
    assert job.id == "retry-1" and job.trigger.run_date == now + dt.timedelta(minutes=5)
    worker.announcement(attempt=5)
    latest = max(j.trigger.run_date for j in worker.scheduler.get_jobs())
    assert latest == now + dt.timedelta(minutes=60)  # doubling, capped at an hour
    # once the day is complete, no retry is scheduled
    arxiv_stub.faults["/rss/"] = []
    worker.scheduler.remove_all_jobs()
    worker.announcement()
    assert digest.worker_done("cs-cv", dt.date(2026, 1, 28)) and worker.scheduler.get_jobs() == []
