"""The façade: `make_digest()` builds every stage; `Digest` is all the CLI, the web app,
the worker and export-site ever call. None of them touches the store.

The flow is one way: `Digest.refresh` takes the feed's lock, asks the `Refresher` for a
`Build` (fetch, call, cache; nothing published), publishes the build's day with its
pre-rendered documents in one transaction, pings WebSub, and records the typed
`RefreshResult` that `/healthz` and the worker read back. Failures are values.
"""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace

import filelock
import requests

from . import decisions, schedule, websub
from .budget import Budget
from .config import load_feed_specs
from .decisions import Build
from .documents import Documents
from .enrich import Enricher
from .errors import DigestError, NotFound, RefreshBusy, StorageError
from .health import health_report
from .llm import LLM, AnthropicLLM
from .models import Day, FeedSpec, FeedStatus, Job, JobState, Outcome, RefreshResult, RenderedDoc, utcnow
from .prompts import PromptLibrary
from .refresh import Refresher
from .settings import Settings, load_settings
from .store import Store
from .upstream import Arxiv, ArxivHTTP

log = logging.getLogger(__name__)


class Digest:
    def __init__(self, settings: Settings, specs: dict[str, FeedSpec], store: Store,
                 arxiv: Arxiv, llm: LLM | None, prompts: PromptLibrary):
        self.settings, self.specs, self.store, self.prompts = settings, specs, store, prompts
        self.budget = Budget(store, settings.daily_budget_usd)
        self.enricher = Enricher(llm, prompts, store, self.budget)
        self.refresher = Refresher(arxiv, store, self.enricher, settings.llm_concurrency)
        self.documents = Documents(store, specs, settings.public_url, settings.websub_hub)

    @property
    def llm_enabled(self) -> bool:
        return self.enricher.enabled

    def spec(self, feed: str) -> FeedSpec:
        try:
            return self.specs[feed]
        except KeyError:
            raise NotFound("feed", feed, f"unknown feed {feed!r} (feeds: {', '.join(self.specs)})") from None

    def close(self) -> None:
        self.store.close()

    # --- refresh -----------------------------------------------------------------------
    def refresh(self, feed: str, force: bool = False, wait: float = 0) -> RefreshResult:
        """Publish the latest announcement of one feed; failures come back as a result."""
        spec = self.spec(feed)
        return self._run(spec, lambda: self.refresher.latest(spec, force=force), wait)

    def backfill(self, feed: str, start: dt.date, end: dt.date) -> list[RefreshResult]:
        """Publish past announcement days from the API, oldest first."""
        spec = self.spec(feed)
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
        return [self._run(spec, lambda d=day: self.refresher.past(spec, d), 0)
                for day in days if schedule.is_listing_date(day)]

    def _feed_lock(self, spec: FeedSpec) -> filelock.BaseFileLock:
        # not thread-local: an admin job takes the lock in the request and releases it in its thread
        return filelock.FileLock(str(self.store.data_dir / f"refresh-{spec.name}.lock"), thread_local=False)

    def _acquire(self, spec: FeedSpec, wait: float) -> filelock.BaseFileLock:
        lock = self._feed_lock(spec)
        try:
            lock.acquire(timeout=wait)
        except filelock.Timeout:
            raise RefreshBusy(spec.name) from None
        return lock

    def _run(self, spec: FeedSpec, build: Callable[[], Build], wait: float) -> RefreshResult:
        """Build under the feed's lock, publish, record; raises only `RefreshBusy`."""
        lock = self._acquire(spec, wait)
        try:
            return self._run_held(spec, build)
        finally:
            lock.release()

    def _run_held(self, spec: FeedSpec, build: Callable[[], Build]) -> RefreshResult:
        started = utcnow()
        try:
            built = build()
            if built.day is not None:
                self.publish(spec, built.day)
            result = RefreshResult(spec.name, built.outcome, decisions.message(spec.name, built, self.llm_enabled),
                                   built.date, built.papers, built.llm_calls, built.cost_usd, built.missing)
        except requests.RequestException as e:  # an OSError too, but not a disk problem
            result = self._failed(spec, f"{spec.name}: upstream request failed: {e}")
        except DigestError as e:
            result = self._failed(spec, f"{spec.name}: {e}")
        except (OSError, sqlite3.Error) as e:  # disk full, unwritable data dir: published days stay intact
            result = self._failed(spec, f"{spec.name}: {StorageError(self.store.data_dir, str(e))}")
        except Exception as e:  # noqa: BLE001 - a bug met on one feed's data must not stop the others
            log.exception("%s: refresh crashed", spec.name)
            result = self._failed(spec, f"{spec.name}: internal error (a bug, logged with its traceback): "
                                        f"{type(e).__name__}: {e}")
        result = replace(result, started=started, finished=utcnow())
        try:
            self.store.put_status(result)
        except (OSError, sqlite3.Error) as e:
            log.error("%s: could not record the refresh status: %s", spec.name, e)
        return result

    # --- admin jobs --------------------------------------------------------------------
    def start_refresh(self, feed: str, force: bool = False) -> Job:
        """Refresh in a background thread and return at once; `RefreshBusy` if one runs.

        The lock is taken here, so a second request is refused before anything starts,
        and handed to the thread, which releases it when the refresh is recorded."""
        spec = self.spec(feed)
        lock = self._acquire(spec, 0)
        job = Job(uuid.uuid4().hex, spec.name, force, JobState.RUNNING, utcnow())
        try:
            self.store.put_job(job)
        except BaseException:
            lock.release()
            raise

        def run() -> None:
            try:
                result = self._run_held(spec, lambda: self.refresher.latest(spec, force=force))
                self.store.put_job(replace(job, state=JobState.DONE, finished=utcnow(), result=result))
            except Exception:  # noqa: BLE001 - a bug must still end the job, and be logged
                log.exception("%s: admin refresh %s crashed", spec.name, job.id)
                self.store.put_job(replace(job, state=JobState.INTERRUPTED, finished=utcnow()))
            finally:
                lock.release()

        threading.Thread(target=run, name=f"refresh-{spec.name}", daemon=True).start()
        return job

    def job(self, job_id: str) -> Job:
        job = self.store.get_job(job_id)
        if job is None:
            raise NotFound("job", job_id, f"no refresh job {job_id!r} (jobs are kept for 7 days)")
        if job.state is JobState.RUNNING:
            # a process that died mid-job leaves "running" behind: nobody holds the lock then
            lock = self._feed_lock(self.spec(job.feed))
            try:
                lock.acquire(timeout=0)
            except filelock.Timeout:
                return job
            lock.release()
            latest = self.store.get_job(job_id)  # it may have finished in between
            if latest is not None and latest.state is JobState.RUNNING:
                return replace(latest, state=JobState.INTERRUPTED)
            return latest or job
        return job

    @staticmethod
    def _failed(spec: FeedSpec, message: str) -> RefreshResult:
        log.error("%s", message)
        return RefreshResult(spec.name, Outcome.FAILED, message)

    def publish(self, spec: FeedSpec, day: Day) -> None:
        """Store a day and its pre-rendered documents in one transaction, then ping WebSub."""
        self.store.publish(day, self.documents.for_publication(spec, day))
        # WebSub: the day is stored, so the hub's fetch sees it; a failing hub is only logged.
        websub.notify(self.settings.websub_hub, self.settings.public_url, spec.name)

    # --- what is published -------------------------------------------------------------
    def day_dates(self, feed: str) -> list[dt.date]:
        """Published dates of a feed, newest first."""
        return self.store.day_dates(self.spec(feed).name)

    def day(self, feed: str, date: dt.date) -> Day | None:
        return self.store.get_day(self.spec(feed).name, date)

    def status(self, feed: str) -> FeedStatus | None:
        return self.store.get_status(self.spec(feed).name)

    def call_log(self) -> list[dict]:
        """Every LLM call: model, prompt hash, tokens, cost, verdict (oldest first)."""
        return list(self.store.llm_log)

    def rejects(self) -> list[dict]:
        """Answers the gate rejected, with their reasons (oldest first)."""
        return list(self.store.rejects)

    def worker_done(self, feed: str, expected: dt.date) -> bool:
        """The worker need not try this feed again before the next announcement."""
        return decisions.worker_done(self.day(feed, expected), self.status(feed), expected, self.llm_enabled)

    # --- documents (stored bytes) --------------------------------------------------------
    def document(self, feed: str, fmt: str, base: str) -> RenderedDoc:
        """A subscription feed: atom, rss or json."""
        return self.documents.feed(self.spec(feed), fmt, base)

    def day_document(self, feed: str, date: dt.date, fmt: str, base: str) -> RenderedDoc:
        """One day's page, Markdown, archive feed or API document."""
        return self.documents.day(self.spec(feed), date, fmt, base)

    def days_document(self, feed: str, page: int, per_page: int, base: str) -> tuple[RenderedDoc, str | None]:
        """One page of the feed's published days (newest first) and the next page's URL."""
        return self.documents.days(self.spec(feed), page, per_page, base)

    def site_document(self, name: str, base: str) -> RenderedDoc:
        """Documents over every feed: "index" (HTML), "opml", "feeds" (API)."""
        return self.documents.site(name, base)

    def paper_document(self, arxiv_id: str, base: str, fmt: str = "api") -> RenderedDoc:
        """One paper (version-less id): "api" (every published entry of it, newest first),
        its page ("html"), or its citation ("bib", "ris", "csl")."""
        return self.documents.paper(arxiv_id, base, fmt)

    def health(self) -> tuple[dict, int]:
        """The /healthz report and its status (503 when a feed is stale)."""
        feeds = {}
        for name in self.specs:
            dates = self.store.day_dates(name)
            feeds[name] = (self.store.get_status(name), dates[0] if dates else None)
        return health_report(feeds, self.llm_enabled)


def make_digest(settings: Settings | None = None) -> Digest:
    """Build the service from settings (default: the environment); invalid specs raise here."""
    settings = settings or load_settings()
    specs = load_feed_specs(settings.feeds_dir)
    store = Store(settings.data_dir)
    llm = (AnthropicLLM(settings.anthropic_api_key, settings.anthropic_base_url,
                        settings.llm_max_retries, settings.llm_timeout)
           if settings.llm_enabled else None)
    return Digest(settings, specs, store, ArxivHTTP(settings), llm, PromptLibrary(settings.prompts_dir))
