"""The unattended worker: refresh after every arXiv announcement, retry until complete,
and on start-up catch up every announcement day missed while it was down.

APScheduler runs a cron job on arXiv's calendar (Sunday–Thursday 20:00 US/Eastern, its
time zone handles DST) plus a margin; a day that is not complete yet (failed, stale
listing, pending analyses) is retried with exponential backoff until the next announcement.
"""
from __future__ import annotations

import datetime as dt
import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from . import schedule
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
            missed = self.missed_days(feed, now)
            if not missed:
                continue
            latest = self._refresh(feed)
            if latest is not None:
                results.append(latest)
            have = set(self.digest.day_dates(feed))
            still = [d for d in missed if d not in have
                     and not (latest and latest.outcome is Outcome.NO_ANNOUNCEMENT and latest.date == d)]
            for day in still:
                log.info("%s: catching up %s from the arXiv API", feed, day)
                results.extend(self.digest.backfill(feed, day, day))
        return results

    def announcement(self, attempt: int = 0) -> None:
        """The job run after each announcement, and its retries."""
        now = self.clock()
        self.digest.reload_specs(force=True)  # feeds added or edited since the last run
        expected = schedule.listing_date(schedule.last_announcement(now, self.margin))
        open_feeds = [f for f in self.digest.specs if not self.digest.worker_done(f, expected)]
        for feed in open_feeds:
            self._refresh(feed)
        still_open = [f for f in open_feeds if not self.digest.worker_done(f, expected)]
        if still_open and self.scheduler is not None:
            delay = min(self.retry * 2 ** attempt, self.max_retry)
            at = now + delay
            if at < schedule.next_announcement(now, self.margin):
                log.info("not complete yet (%s); retrying at %s", ", ".join(still_open), at.isoformat())
                self.scheduler.add_job(self.announcement, "date", run_date=at, args=[attempt + 1],
                                       id=f"retry-{attempt + 1}", replace_existing=True)

    def run(self) -> None:
        self.scheduler = BlockingScheduler(timezone=dt.timezone.utc)
        minutes = int(self.margin.total_seconds() // 60)
        trigger = CronTrigger(day_of_week="sun,mon,tue,wed,thu", hour=20 + minutes // 60, minute=minutes % 60,
                              timezone=schedule.EASTERN)
        self.scheduler.add_job(self.announcement, trigger, id="announcement", max_instances=1, coalesce=True)
        self.catch_up()
        self.announcement()
        log.info("worker: next run %s", trigger.get_next_fire_time(None, self.clock()))
        self.scheduler.start()
