"""The unattended worker: refresh after every arXiv announcement, retry until complete,
and on start-up catch up every announcement day missed while it was down.

APScheduler runs a cron job on arXiv's calendar (Sunday–Thursday 20:00 US/Eastern, its
time zone handles DST) plus a margin; a day that is not complete yet (failed, stale
listing, pending analyses) is retried with exponential backoff until the next announcement.
"""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from . import decisions, schedule
from .errors import RefreshBusy
from .models import Outcome, RefreshResult, utcnow
from .pipeline import Digest

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, digest: Digest, margin_minutes: float = 30, retry_minutes: float = 5,
                 max_retry_minutes: float = 60, catch_up_days: int = 7, clock=utcnow):
        self.digest = digest
        self.clock = clock
        self.margin = dt.timedelta(minutes=margin_minutes)
        self.retry = dt.timedelta(minutes=retry_minutes)
        self.max_retry = dt.timedelta(minutes=max_retry_minutes)
        self.catch_up_days = catch_up_days
        self.scheduler: BlockingScheduler | None = None
        #: Set by stop(): no new refresh starts after it.
        self.stopping = threading.Event()

    def _refresh(self, feed: str, **kw) -> RefreshResult | None:
        try:
            result = self.digest.refresh(feed, **kw)
        except RefreshBusy as e:  # an admin refresh is running: it does the work
            log.info("%s", e)
            return None
        log.info("%s", result.message)
        return result

    def missed_days(self, feed: str, now: dt.datetime) -> list[dt.date]:
        """Announcement days of the catch-up window with no published day, oldest first."""
        expected = schedule.listing_date(schedule.last_announcement(now, self.margin))
        have = set(self.digest.day_dates(feed))
        days = [expected - dt.timedelta(days=n) for n in range(self.catch_up_days)]
        return sorted(d for d in days if schedule.is_listing_date(d) and d not in have)

    def catch_up(self, now: dt.datetime | None = None) -> list[RefreshResult]:
        """Publish what was missed: the current listing first, then the API for older days."""
        now = now or self.clock()
        results = []
        for feed in self.digest.specs:
            if self.stopping.is_set():
                break
            missed = self.missed_days(feed, now)
            if not missed:
                continue
            latest = self._refresh(feed)
            if latest is not None:
                results.append(latest)
            have = set(self.digest.day_dates(feed))
            still = [d for d in missed if d not in have
                     and not (latest and latest.outcome is Outcome.NO_ANNOUNCEMENT and latest.date == d)]
            done: list[RefreshResult] = []
            for day in still:
                if self.stopping.is_set():
                    return results
                log.info("%s: catching up %s from the arXiv API", feed, day)
                done.extend(self.digest.backfill(feed, day, day))
                if decisions.give_up(done):
                    log.error("%s: catch-up stopped after %d failed days in a row; the next run tries again",
                              feed, decisions.MAX_FAILED_DAYS)
                    break
            results.extend(done)
        return results

    def announcement(self, attempt: int = 0) -> None:
        """The job run after each announcement, and its retries."""
        now = self.clock()
        self.digest.reload_specs(force=True)  # feeds added or edited since the last run
        expected = schedule.listing_date(schedule.last_announcement(now, self.margin))
        open_feeds = [f for f in self.digest.specs if not self._done(f, expected)]
        for feed in open_feeds:
            if self.stopping.is_set():
                return
            self._refresh(feed)
        still_open = [f for f in open_feeds if not self._done(f, expected)]
        if still_open and self.scheduler is not None:
            delay = min(self.retry * 2 ** attempt, self.max_retry)
            at = now + delay
            if at < schedule.next_announcement(now, self.margin):
                log.info("not complete yet (%s); retrying at %s", ", ".join(still_open), at.isoformat())
                self.scheduler.add_job(self.announcement, "date", run_date=at, args=[attempt + 1],
                                       id=f"retry-{attempt + 1}", replace_existing=True)

    def _done(self, feed: str, expected: dt.date) -> bool:
        """`worker_done`, with an unreadable store (gone, corrupt) counted as not done: the
        refresh then fails with the reason and a retry is scheduled, instead of the job
        raising and the day waiting for the next announcement."""
        try:
            return self.digest.worker_done(feed, expected)
        except (OSError, sqlite3.Error) as e:
            log.error("%s: cannot tell whether %s is done: the store cannot be read: %s", feed, expected, e)
            return False

    def plan(self, now: dt.datetime | None = None) -> str:
        """The start-up line: feeds, the next announcement, what will be caught up."""
        now = now or self.clock()
        missed = {feed: self.missed_days(feed, now) for feed in self.digest.specs}
        catch_up = ", ".join(f"{feed}: {len(days)} day(s)" for feed, days in missed.items() if days) or "nothing"
        return (f"worker: feeds {', '.join(self.digest.specs)}; next announcement "
                f"{schedule.next_announcement(now, self.margin).isoformat()} (+{self.margin}); catch up: {catch_up}")

    def run(self) -> None:
        """Schedule the announcement job, catch up in the background, run until stopped.

        Catch-up is a job of its own, so a slow or offline arXiv never delays the schedule;
        `stop()` (SIGINT/SIGTERM) ends the scheduler without waiting for a refresh in flight:
        everything a refresh finished is already cached, so the next run resumes there."""
        self.scheduler = BlockingScheduler(timezone=dt.timezone.utc)
        minutes = int(self.margin.total_seconds() // 60)
        trigger = CronTrigger(day_of_week="sun,mon,tue,wed,thu", hour=20 + minutes // 60, minute=minutes % 60,
                              timezone=schedule.EASTERN)
        self.scheduler.add_job(self.announcement, trigger, id="announcement", max_instances=1, coalesce=True)
        self.scheduler.add_job(self._start_up, "date", run_date=self.clock(), id="catch-up")
        self.scheduler.start()

    def _start_up(self) -> None:
        self.catch_up()
        self.announcement()

    def stop(self) -> None:
        self.stopping.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
