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
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

import filelock
import requests

from . import config, decisions, recover, sample, schedule, websub
from .budget import Budget
from .decisions import Build
from .documents import Documents
from .documents import spec_digest as documents_spec_digest
from .enrich import Enricher
from .errors import BadRequest, ConfigError, DigestError, NotFound, RefreshBusy, StorageError
from .health import health_report
from .models import Day, EntryStatus, FeedSpec, FeedStatus, Job, JobState, Outcome, RefreshResult, RenderedDoc, utcnow
from .prompts import PromptLibrary
from .providers import Providers
from .refresh import Progress, Refresher
from .search import Results, SearchIndex, SearchUnavailable
from .select import View
from .settings import Settings, load_settings
from .store import Store, StoreUnavailable, analysis_key
from .upstream import Arxiv, ArxivHTTP
from .zotero import Zotero
from .embeddings import Embedder

log = logging.getLogger(__name__)


#: Search results kept in memory per process (a popular query is answered once per publication).
MAX_SEARCHES = 128
#: Seconds between two looks at the feeds directory for added, changed or removed specs.
SPECS_CHECK_INTERVAL = 2.0


class Digest:
    def __init__(self, settings: Settings, specs: dict[str, FeedSpec], store: Store,
                 arxiv: Arxiv, llms: Providers, prompts: PromptLibrary, spec_error: str | None = None):
        self.settings, self.specs, self.store, self.prompts = settings, specs, store, prompts
        self.budget = Budget(store, settings.daily_budget_usd)
        self.enricher = Enricher(llms, prompts, store, self.budget)
        self.refresher = Refresher(arxiv, store, self.enricher, settings.llm_concurrency,
                                   Zotero(settings.zotero_api, store.data_dir / "zotero", settings.api_keys),
                                   Embedder(settings, store.data_dir / "embeddings"))
        self.documents = Documents(store, specs, settings.public_url, settings.websub_hub)
        #: Full-text search over every published day (its own file beside the store).
        self.index = SearchIndex(store.data_dir / "search.sqlite", read_only=store.read_only)
        #: Recent search results in this process, keyed by the query and what the index held.
        self._searches: OrderedDict[tuple, Results] = OrderedDict()
        self._searches_lock = threading.Lock()
        #: Why the feeds directory's current specs are not in use (the last good ones are).
        self.spec_error = spec_error
        #: Whether the sample feed is shown while nothing is published (the web app wants it).
        self.sample_wanted = False
        self._specs_seen = config.signature(settings.feeds_dir)
        self._specs_checked = time.monotonic()

    def reload_specs(self, force: bool = False) -> bool:
        """Pick up added, changed and removed feed specs without a restart (checked at most
        every SPECS_CHECK_INTERVAL seconds). A broken spec never replaces working ones: the
        last good specs stay in use and the error is logged and shown in /healthz.

        Never raises for an unreadable store (the sample check reads it): this runs before
        every request, the fast path's included, and the request itself answers the 503."""
        try:
            return self._reload_specs(force)
        except (OSError, sqlite3.Error) as e:
            log.warning("feed specs not checked: the store cannot be read: %s", e)
            return False

    def _reload_specs(self, force: bool) -> bool:
        now = time.monotonic()
        if not force and now - self._specs_checked < SPECS_CHECK_INTERVAL:
            return False
        self._specs_checked = now
        seen = config.signature(self.settings.feeds_dir)
        if seen == self._specs_seen and not force:
            # the sample goes as soon as a feed has a day (published by the worker, say)
            if self._sample_shown and any(self.store.day_dates(n) for n in self.real_feeds()):
                return self._use({n: s for n, s in self.specs.items() if n != sample.SAMPLE_FEED})
            return False
        self._specs_seen = seen
        try:
            specs = config.load_feed_specs(self.settings.feeds_dir)
        except ConfigError as e:
            if str(e) != self.spec_error:
                log.error("%s (still serving the last good feed specs: %s)", e, ", ".join(self.specs))
            self.spec_error = str(e)
            return False
        self.spec_error = None
        _remember_specs(self.store, specs)
        return self._use(specs)

    def _use(self, specs: dict[str, FeedSpec]) -> bool:
        specs = self._with_sample(specs)
        if specs == self.specs:
            return False
        log.info("feeds: %s", ", ".join(specs))
        self.specs = self.documents.specs = specs  # one assignment: readers see old or new, never half
        return True

    # --- the sample day (until a feed publishes) ---------------------------------------------
    def show_sample_until_published(self) -> None:
        """Serve the recorded sample feed while no feed has published a day (`make run` on a
        fresh clone shows real content at once); it goes away with the first real day."""
        self.sample_wanted = True
        try:
            self._use({n: s for n, s in self.specs.items() if n != sample.SAMPLE_FEED or not self._sample_shown})
        except (OSError, sqlite3.Error) as e:  # an unusable store: the app starts and answers 503
            log.warning("the sample feed is not shown: the store cannot be read: %s", e)

    @property
    def _sample_shown(self) -> bool:
        return sample.SAMPLE_FEED in self.specs and self.specs[sample.SAMPLE_FEED] == sample.sample_spec()

    def _with_sample(self, specs: dict[str, FeedSpec]) -> dict[str, FeedSpec]:
        if not self.sample_wanted or sample.SAMPLE_FEED in specs or any(self.store.day_dates(n) for n in specs):
            return specs
        spec = sample.sample_spec()
        if self.store.get_day(spec.name, sample.SAMPLE_DATE) is None:
            day = sample.sample_day(self.prompts)
            try:
                self.store.publish(day, self.documents.for_publication(spec, day))
            except (OSError, sqlite3.Error) as e:
                log.warning("could not store the sample day: %s", e)
                return specs
        return {**specs, spec.name: spec}

    def real_feeds(self) -> list[str]:
        """The feeds of feeds/ (the sample, when shown, is not one)."""
        return [n for n in self.specs if not (n == sample.SAMPLE_FEED and self._sample_shown)]

    @property
    def llm_enabled(self) -> bool:
        """Some feed has an LLM (each feed's own answer is `enricher.enabled_for(spec)`)."""
        return any(self.enricher.enabled_for(s) for s in self.specs.values())

    def spec(self, feed: str) -> FeedSpec:
        try:
            return self.specs[feed]
        except KeyError:
            raise NotFound("feed", feed, f"unknown feed {feed!r} (feeds: {', '.join(self.specs)})") from None

    def close(self) -> None:
        self.store.close()
        self.index.close()
        if self.refresher.zotero is not None:
            self.refresher.zotero.close()

    # --- refresh -----------------------------------------------------------------------
    def refresh(self, feed: str, force: bool = False, wait: float = 0,
                progress: Progress | None = None) -> RefreshResult:
        """Publish the latest announcement of one feed; failures come back as a result."""
        spec = self.spec(feed)
        return self._run(spec, lambda: self.refresher.latest(spec, force=force, **_watch(progress)), wait)

    def backfill(self, feed: str, start: dt.date, end: dt.date,
                 progress: Progress | None = None) -> list[RefreshResult]:
        """Publish past announcement days from the API, oldest first.

        Days after the latest announcement are refused (`BadRequest`); after
        `decisions.MAX_FAILED_DAYS` failed days in a row (arXiv unreachable, say) it stops
        and says so instead of trying every remaining day."""
        spec = self.spec(feed)
        latest = schedule.listing_date(schedule.last_announcement(utcnow()))
        if end > latest:
            raise BadRequest("to", f"{end} has not been announced yet (the latest announcement is {latest})")
        results: list[RefreshResult] = []
        for n in range((end - start).days + 1):
            day = start + dt.timedelta(days=n)
            if not schedule.is_listing_date(day):
                continue
            results.append(self._run(spec, lambda d=day: self.refresher.past(spec, d, **_watch(progress)), 0))
            if decisions.give_up(results):
                left = (end - day).days
                results.append(RefreshResult(spec.name, Outcome.FAILED, (
                    f"{spec.name}: stopped after {decisions.MAX_FAILED_DAYS} failed days in a row "
                    f"({left} day(s) left, up to {end}); the last error: {results[-1].message}")))
                break
        return results

    def _feed_lock(self, spec: FeedSpec) -> filelock.BaseFileLock:
        # not thread-local: an admin job takes the lock in the request and releases it in its thread
        return filelock.FileLock(str(self.store.data_dir / f"refresh-{spec.name}.lock"), thread_local=False)

    def _acquire(self, spec: FeedSpec, wait: float) -> filelock.BaseFileLock:
        self.store.check(force=True)  # StoreUnavailable: a lock file must not plant a new, empty data directory
        lock = self._feed_lock(spec)
        try:
            lock.acquire(timeout=wait)
        except filelock.Timeout:
            raise RefreshBusy(spec.name) from None
        return lock

    def _run(self, spec: FeedSpec, build: Callable[[], Build], wait: float) -> RefreshResult:
        """Build under the feed's lock, publish, record; raises only `RefreshBusy`."""
        try:
            lock = self._acquire(spec, wait)
        except StoreUnavailable as e:  # nowhere to record the result either: it is returned and logged
            now = utcnow()
            return replace(self._failed(spec, f"{spec.name}: {e}"), started=now, finished=now)
        try:
            return self._run_held(spec, build)
        finally:
            lock.release()

    def _run_held(self, spec: FeedSpec, build: Callable[[], Build]) -> RefreshResult:
        started = utcnow()
        try:
            self.store.mark_running(spec.name, started)
            built = build()
            if built.day is not None:
                self.publish(spec, built.day)
            if built.collected:
                self._republish_collected(spec, built.collected)
            message = decisions.message(spec.name, built, self.enricher.enabled_for(spec))
            result = RefreshResult(spec.name, built.outcome, message,
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
            if self._refresh_running(self.spec(job.feed)):
                return job
            latest = self.store.get_job(job_id)  # it may have finished in between
            if latest is not None and latest.state is JobState.RUNNING:
                return replace(latest, state=JobState.INTERRUPTED)
            return latest or job
        return job

    @staticmethod
    def _failed(spec: FeedSpec, message: str) -> RefreshResult:
        log.error("%s", message)
        return RefreshResult(spec.name, Outcome.FAILED, message)

    def _republish_collected(self, held: FeedSpec, items) -> None:
        """Published days with entries pending on the analyses a Message Batch poll just
        cached (`items`: `batches.BatchItem`s, of any day) are rebuilt from the cache and
        republished: no LLM call, no fetch. Any feed whose entry has the same analysis key
        is caught up: the refreshed feed under the lock it holds, another only if its lock
        is free (a refresh running there builds from the same cache)."""
        by_id: dict[str, list] = {}
        for item in items:
            by_id.setdefault(item.paper.versioned_id, []).append(item)
        for spec in list(self.specs.values()):
            if not self.enricher.enabled_for(spec):
                continue
            lock = None
            try:
                if spec.name != held.name:
                    lock = self._acquire(spec, 0)
                for date in self.store.day_dates(spec.name):
                    day = self.store.get_day(spec.name, date)
                    if day is None:
                        continue
                    found = {vid: a for e in day.entries if e.status is EntryStatus.PENDING
                             and (a := self._collected_for(spec, e.paper, by_id.get(vid := e.paper.versioned_id, ())))}
                    rebuilt = decisions.with_analyses(day, found, utcnow()) if found else None
                    if rebuilt is not None:
                        self.publish(spec, rebuilt)
                        log.info("%s: republished %s with %d analyses collected from a Message Batch",
                                 spec.name, date, len(found))
            except RefreshBusy:
                log.info("%s: a refresh is running; it picks up the collected batch analyses itself", spec.name)
            except (OSError, sqlite3.Error, DigestError) as e:  # the refresh itself succeeded
                log.error("%s: days pending on collected batch analyses not republished: %s", spec.name, e)
            finally:
                if lock is not None:
                    lock.release()

    def _collected_for(self, spec: FeedSpec, paper, items):
        """The cached analysis of `paper` for this feed, if one of `items` carried its key."""
        for item in items:
            key = analysis_key(paper, spec.model, self.prompts.analysis(spec, paper, item.text).prompt_hash,
                               spec.language)
            if key == item.key:
                return self.store.get_result(key)
        return None

    def publish(self, spec: FeedSpec, day: Day) -> None:
        """Store a day and its pre-rendered documents in one transaction, then ping WebSub."""
        rendered = self.documents.for_publication(spec, day)
        self.store.publish(day, rendered)
        try:  # a second copy as files (recover.py): a corrupt database must not lose a published day
            recover.write_copy(self.store.data_dir, day, rendered)
        except OSError as e:
            log.error("%s %s: published, but its copy in %s could not be written: %s", spec.name, day.date,
                      recover.copy_dir(self.store.data_dir), e)
        self._index_day(day)
        # WebSub: the day is stored, so the hub's fetch sees it; a failing hub is only logged.
        websub.notify(self.settings.websub_hub, self.settings.public_url, spec.name)

    # --- search ------------------------------------------------------------------------
    def _index_day(self, day: Day) -> None:
        """Put a published day into the search index; a failure is only logged (the day is
        published; the next search that can write catches the index up)."""
        try:
            self.index.put_day(day, self.store.generation(day.feed))
        except (OSError, sqlite3.Error, DigestError, filelock.Timeout) as e:
            log.warning("%s %s: not in the search index yet: %s", day.feed, day.date, e)

    def search(self, q: str, feed: str | None = None, page: int = 1, per_page: int = 20) -> Results:
        """Published papers matching `q` (every word), in every feed or in `feed`; read from
        the index, which is caught up first where it can be written (never an LLM call or
        an upstream fetch)."""
        if feed is not None and feed not in self.specs:
            raise BadRequest("feed", f"unknown feed {feed!r} (feeds: {', '.join(self.specs)})")
        feeds = [feed] if feed is not None else list(self.specs)
        held = self.index.generations()
        if not self.store.read_only:
            try:
                held = self._catch_up_index(held)
            except (OSError, sqlite3.Error, filelock.Timeout) as e:  # answer from what the index holds
                log.warning("search index not caught up: %s", e)
        if held is None:
            raise SearchUnavailable(
                f"the search index ({self.index.path}) is being built or is from another version: "
                + ("try again shortly" if not self.store.read_only else
                   "run `arxiv-digest reindex` where the data directory can be written"))
        key = (q, feed, page, per_page, tuple(sorted(held.items())), documents_spec_digest(*self.specs.values()))
        with self._searches_lock:
            found = self._searches.get(key)
            if found is not None:
                self._searches.move_to_end(key)
                return found
        results = self.index.search(q, feeds, page, per_page, feed, held)
        with self._searches_lock:
            self._searches[key] = results
            while len(self._searches) > MAX_SEARCHES:
                self._searches.popitem(last=False)
        return results

    def _catch_up_index(self, held: dict[str, int] | None) -> dict[str, int] | None:
        """Re-read the feeds whose publications the index has not seen (all of them when
        there is no index yet); another process already writing is not waited for."""
        stale = {name: self.store.generation(name) for name in self.specs}
        if held is not None:
            stale = {name: g for name, g in stale.items() if held.get(name) != g}
        if not stale:
            return held
        self.index.replace_feeds({name: (g, self._stored_days(name)) for name, g in stale.items()},
                                 everything=held is None, wait=0)
        return self.index.generations()

    def _stored_days(self, feed: str):
        for date in self.store.day_dates(feed):
            day = self.store.get_day(feed, date)
            if day is not None:
                yield day

    def reindex(self) -> int:
        """Rebuild the search index from the store (every feed); returns the rows written."""
        return self.index.replace_feeds({name: (self.store.generation(name), self._stored_days(name))
                                         for name in self.specs}, everything=True)

    # --- what is published -------------------------------------------------------------
    def day_dates(self, feed: str) -> list[dt.date]:
        """Published dates of a feed, newest first."""
        return self.store.day_dates(self.spec(feed).name)

    def day(self, feed: str, date: dt.date) -> Day | None:
        return self.store.get_day(self.spec(feed).name, date)

    def status(self, feed: str) -> FeedStatus | None:
        return self.store.get_status(self.spec(feed).name)

    def stamp(self, feed: str | None = None) -> tuple:
        """What a stored document of `feed` (None: of every feed) depends on: its generation
        (moves with each publication), its spec and the data directory's identity (a
        directory replaced under us starts again at generation 1). A cache of rendered bytes (the web
        fast path) is current while this is unchanged."""
        identity = self.store.identity  # a replaced data directory is another store (store.check)
        if feed is None:
            names = list(self.specs)
            return self.store.generations(names), documents_spec_digest(*self.specs.values()), identity
        return self.store.generation(feed), documents_spec_digest(self.specs[feed]), identity

    def call_log(self) -> list[dict]:
        """Every LLM call: model, prompt hash, tokens, cost, verdict (oldest first)."""
        return list(self.store.llm_log)

    def rejects(self) -> list[dict]:
        """Answers the gate rejected, with their reasons (oldest first)."""
        return list(self.store.rejects)

    def worker_done(self, feed: str, expected: dt.date) -> bool:
        """The worker need not try this feed again before the next announcement."""
        spec = self.spec(feed)
        return decisions.worker_done(self.day(feed, expected), self.status(feed), expected,
                                     self.enricher.enabled_for(spec))

    # --- documents (stored bytes) --------------------------------------------------------
    def document(self, feed: str, fmt: str, base: str, view: View | None = None) -> RenderedDoc:
        """A subscription feed (atom, rss, json, zotero), or a reader's view of it."""
        if view:
            return self.documents.view(self.spec(feed), fmt, base, view)
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
        """The /healthz report and its status (503 when a feed is stale or the store is
        unreadable: a corrupt or replaced database must page someone, not 500 silently)."""
        try:
            return self._health()
        except (OSError, sqlite3.Error) as e:
            log.error("healthz: the store cannot be read: %s", e)
            return {"status": "storage_error", "error": f"the data directory {self.store.data_dir} cannot be "
                                                         f"read: {type(e).__name__}: {e}",
                    "feeds": {name: None for name in self.real_feeds()},
                    "published_copy": self._copy_report()}, 503

    def _health(self) -> tuple[dict, int]:
        feeds, killed = {}, {}
        for name in self.real_feeds():
            dates = self.store.day_dates(name)
            feeds[name] = (self.store.get_status(name), dates[0] if dates else None)
            since = self.store.running_since(name)
            if since is not None and not self._refresh_running(self.specs[name]):
                killed[name] = since
        body, status = health_report(feeds, self.llm_enabled, config_error=self.spec_error, killed=killed)
        body["published_copy"] = self._copy_report()
        return body, status

    def _copy_report(self) -> dict | None:
        try:
            return recover.copy_report(self.store.data_dir)
        except OSError as e:
            return {"directory": str(recover.copy_dir(self.store.data_dir)), "error": str(e)}

    def _refresh_running(self, spec: FeedSpec) -> bool:
        lock = self._feed_lock(spec)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            return True
        lock.release()
        return False


def _watch(progress: Progress | None) -> dict:
    return {"progress": progress} if progress is not None else {}


def _remember_specs(store: Store, specs: dict[str, FeedSpec]) -> None:
    try:
        store.put_specs(specs)
    except (OSError, sqlite3.Error) as e:
        log.warning("could not keep a copy of the feed specs: %s", e)


def make_digest(settings: Settings | None = None, fallback: bool = False) -> Digest:
    """Build the service from settings (default: the environment).

    Invalid specs (an unknown provider, a paid model without a price) raise `ConfigError`
    here, unless `fallback` (a server restarting after a bad edit) and a last good set
    exists: then that set serves and the error is reported. Each feed's LLM is chosen by
    its spec from one registry of endpoints (`providers.Providers`)."""
    settings = settings or load_settings()
    store = Store(settings.data_dir, read_only_fallback=fallback)  # a server may serve a read-only store
    spec_error = None
    try:
        specs = config.load_feed_specs(settings.feeds_dir)
        _remember_specs(store, specs)
    except ConfigError as e:
        last = store.get_specs() if fallback else None
        if not last:
            store.close()
            raise
        log.error("%s (serving the last good feed specs: %s)", e, ", ".join(last))
        specs, spec_error = last, str(e)
    for path in config.stray_files(settings.feeds_dir):
        log.warning("%s is not read: feed specs are TOML files (feeds/<name>.toml)", path)
    return Digest(settings, specs, store, ArxivHTTP(settings), Providers(settings),
                  PromptLibrary(settings.prompts_dir), spec_error)
