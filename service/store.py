"""Everything on disk, in one diskcache under `DIGEST_DATA_DIR`.

Keys are namespaced strings. What passed the quality gate is stored as a result; what
failed is only ever stored as an attempt count and in the rejects log. A day and its
rendered documents are written in one transaction, so a reader never sees half a day, and a
process killed at any moment leaves the old version or the new one (values in their rows,
`INLINE_MAX`; files removed only after the COMMIT, `_Disk`).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import diskcache
import filelock

from .errors import ConfigError
from .models import (Analysis, DailySummary, Day, FeedSpec, FeedStatus, FullText, Job, PaperMeta, Reason,
                     RefreshResult, RenderedDoc, utcnow)

log = logging.getLogger(__name__)

SCHEMA = "v1"
#: Rendered documents for hosts other than DIGEST_PUBLIC_URL expire (Host headers vary).
FOREIGN_BASE_TTL = 24 * 3600
#: How long a finished admin job can still be looked up.
JOB_TTL = 7 * 24 * 3600
#: File in the data directory that grows by one byte after every publication: serving
#: processes stat() it (~2 µs) instead of reading the generations from SQLite (~10–30 µs) on
#: every request (service/web/fastpath.py). Appending, not touching: the size changes with
#: every publication even when two land within one tick of the file system's clock.
PUBLISHED_MARK = "published.mark"
#: Values below this many bytes live in their SQLite row (diskcache's `disk_min_file_size`;
#: its default, 32 KB, put every day and document in a file of its own). In the row, a value
#: commits with its key: a reader never finds a row whose file was just replaced (a
#: published day read as missing mid-publication), and a publication writes ~3x faster
#: (bench/store.py, BENCHMARKS.md). Anything larger (a batch record of 200 trimmed full
#: texts is up to ~16 MB) still goes to a file, removed only after the COMMIT (`_Disk`). Rows of
#: stores written with files stay readable (diskcache reads a row by its own mode) until
#: they are next written.
INLINE_MAX = 2**26


@dataclass(frozen=True)
class Attempts:
    """Failed tries of one analysis key, kept so 'pending' can become 'unavailable'."""

    refreshes: int
    reasons: tuple[Reason, ...]
    last: dt.datetime


def analysis_key(paper: PaperMeta, model: str, prompt_hash: str, language: str) -> str:
    return f"{SCHEMA}:analysis:{paper.versioned_id}:{model}:{prompt_hash}:{language}"


def summary_key(feed: str, date: dt.date, model: str, prompt_hash: str, language: str,
                ids: list[str]) -> str:
    papers = hashlib.sha256(",".join(ids).encode()).hexdigest()[:16]
    return f"{SCHEMA}:summary:{feed}:{date.isoformat()}:{model}:{prompt_hash}:{language}:{papers}"


class _Disk(diskcache.Disk):
    """diskcache's Disk, except that inside a `_Cache.transact()` a value file is removed
    only after the transaction committed (and a new one when it rolled back).

    diskcache keeps values of `disk_min_file_size` bytes and more in files and, when a set
    or delete nested in a transaction replaces a row, removes the old file as that set
    returns, before the enclosing COMMIT: a process killed (or an exception raised) in
    between rolled back to a row naming a deleted file, and the day it held was lost
    (tests/test_store_crash.py). Deferring the removal makes every write crash-safe, rows of
    stores written before included; a kill leaves at most an unreferenced file behind."""

    def __init__(self, directory, **kwargs):
        super().__init__(directory, **kwargs)
        self._held = threading.local()  # a transaction is per thread (diskcache's own rule)

    def store(self, value, read, key=diskcache.core.UNKNOWN):
        stored = super().store(value, read, key=key)
        held = getattr(self._held, "created", None)
        if held is not None and stored[2] is not None:
            held.append(stored[2])
        return stored

    def remove(self, file_path):
        held = getattr(self._held, "removed", None)
        if held is None:
            super().remove(file_path)
        else:
            held.append(file_path)

    @contextlib.contextmanager
    def hold(self):
        """Defer removals on this thread until the block ends: done on success, dropped
        (and this block's new files removed instead) when it raised."""
        if getattr(self._held, "removed", None) is not None:  # nested: the outermost decides
            yield
            return
        self._held.removed, self._held.created = [], []
        try:
            yield
        except BaseException:
            files = self._held.created  # rolled back: the old rows, and their files, are back
            raise
        else:
            files = self._held.removed
        finally:
            self._held.removed = self._held.created = None
            for name in files:
                super().remove(name)


class _Cache(diskcache.Cache):
    """A diskcache whose transactions remove replaced value files only after the COMMIT."""

    @contextlib.contextmanager
    def transact(self, retry=False):
        with self._disk.hold(), super().transact(retry=retry):
            yield


class StoreUnavailable(sqlite3.OperationalError):
    """The store cannot be used right now. A `sqlite3.Error`, so everything that already
    treats an unreadable store as one (the web app's JSON 503, /healthz, a refresh's failed
    result) handles it too; its message says why and what to do."""


class StoreGone(StoreUnavailable):
    """The data directory this store opened is gone (deleted, moved away, unmounted).

    A running process never creates a store in its place (an empty directory may be an
    unmounted volume's mount point, and an empty store would quietly serve nothing): it
    reopens as soon as a store is back there (restored, or made by a process that starts)."""


class StoreBroken(StoreUnavailable):
    """The database cannot be opened (a corrupt file). The web app starts anyway and answers
    503 until the file changes (`arxiv-digest recover` puts a rebuilt one in its place)."""


def _recover_hint(data_dir: Path) -> str:
    return f"`arxiv-digest recover` rebuilds the published days from {data_dir / 'published'}"


#: Seconds between two looks at whether the data directory and its database are still the
#: ones this process opened (two stat calls). A process holding a database that was deleted
#: or replaced would serve the old one until restarted; past this it notices and reopens.
IDENTITY_CHECK = 0.5


class Store:
    def __init__(self, data_dir: Path, read_only_fallback: bool = False):
        """Open the store. If it cannot be written and `read_only_fallback` (the web app:
        serving what is stored needs no write access), open it read-only instead."""
        self.data_dir, self.claims_dir = data_dir, data_dir / "claims"
        self.mark_path = str(data_dir / PUBLISHED_MARK)
        #: True when the data directory could only be opened for reading.
        self.read_only = False
        self._fallback = read_only_fallback
        self._lock = threading.Lock()
        #: Why the store cannot be used right now (its directory is gone), or None.
        self.gone: str | None = None
        #: How many times this store was reopened on a replaced directory (part of `identity`).
        self.reopened = 0
        self._cache = self._llm_log = self._rejects = None
        self._unavailable: type[StoreUnavailable] = StoreGone
        #: (identity, size, mtime) of a database that failed to open: not tried again until it changes.
        self._failed_at: tuple | None = None
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            if not (read_only_fallback and data_dir.is_dir()):
                raise ConfigError(data_dir, "DIGEST_DATA_DIR", f"cannot use data directory: {e}") from e
        try:
            self._open()
        except ConfigError as e:
            if not (read_only_fallback and (data_dir / "cache" / "cache.db").is_file()):
                raise
            # the web app: start, answer 503 with the reason, and reopen once the file changes
            self._seen = None
            self._broken(e)

    def _open(self) -> None:
        data_dir = self.data_dir
        self.read_only = False
        try:
            self.claims_dir.mkdir(exist_ok=True)
            self._cache = _Cache(str(data_dir / "cache"), disk=_Disk, disk_min_file_size=INLINE_MAX,
                                 size_limit=2**34, eviction_policy="none")
            self._llm_log = diskcache.Deque(directory=str(data_dir / "llm-log"), maxlen=100_000)
            self._rejects = diskcache.Deque(directory=str(data_dir / "rejects"), maxlen=10_000)
        except (OSError, sqlite3.Error) as e:
            if self._fallback and (data_dir / "cache" / "cache.db").is_file():
                try:
                    self._open_read_only()
                    log.warning("%s cannot be written (%s): serving what is stored, read-only", data_dir, e)
                except (OSError, sqlite3.Error) as ro:
                    e = ro
                else:
                    self._seen, self._next_check = self._stat(), time.monotonic() + IDENTITY_CHECK
                    return
            hint = f" (a corrupt database? {_recover_hint(data_dir)})" if isinstance(e, sqlite3.DatabaseError) else ""
            raise ConfigError(data_dir, "DIGEST_DATA_DIR", f"cannot use data directory: {e}{hint}") from e
        self._seen, self._next_check = self._stat(), time.monotonic() + IDENTITY_CHECK

    def _broken(self, e: ConfigError) -> None:
        """The database is there and cannot be opened: unavailable until the file changes."""
        if self.gone is None or self._unavailable is not StoreBroken:
            log.error("%s: answering 503 until the database file changes; %s", e, _recover_hint(self.data_dir))
        self._unavailable = StoreBroken
        self.gone = f"the store cannot be opened: {e.problem}"
        if "recover" not in self.gone:
            self.gone += f" ({_recover_hint(self.data_dir)})"
        self._failed_at = self._fingerprint()
        self._next_check = time.monotonic() + IDENTITY_CHECK

    def _fingerprint(self) -> tuple | None:
        try:
            db = os.stat(self.data_dir / "cache" / "cache.db")
        except OSError:
            return None
        return self._stat(), db.st_size, db.st_mtime_ns

    def _open_read_only(self) -> None:
        from .readonly import ReadOnlyCache, ReadOnlyLog

        self._cache = ReadOnlyCache(self.data_dir / "cache")
        self._llm_log, self._rejects = ReadOnlyLog(self.data_dir / "llm-log"), ReadOnlyLog(self.data_dir / "rejects")
        self.read_only = True

    # --- is this still the directory we opened? ---------------------------------------------
    def _stat(self) -> tuple[int, ...]:
        """(device, inode) of the data directory and of its database file."""
        d, db = os.stat(self.data_dir), os.stat(self.data_dir / "cache" / "cache.db")
        return d.st_dev, d.st_ino, db.st_dev, db.st_ino

    def check(self, force: bool = False) -> None:
        """Reopen if the data directory or its database was replaced since we opened them;
        raise `StoreGone` while the directory is gone. Cheap: it looks at most every
        IDENTITY_CHECK seconds (or now, with `force`); every access to the cache calls it."""
        if not force and time.monotonic() < self._next_check:
            if self.gone:
                raise self._unavailable(self.gone)
            return
        with self._lock:
            self._next_check = time.monotonic() + IDENTITY_CHECK
            try:
                seen = self._stat()
            except OSError as e:
                if not self.gone:
                    log.error("the data directory %s is gone (%s): answering 503 until it is back", self.data_dir, e)
                self.gone = (f"the data directory {self.data_dir} (or its cache/cache.db) is gone: "
                             f"{type(e).__name__}: {e.strerror or e}; restore it, the service picks it up again")
                self._unavailable, self._failed_at = StoreGone, None
                raise StoreGone(self.gone) from None
            if seen == self._seen and not self.gone:
                return
            if self.gone and self._failed_at is not None and self._fingerprint() == self._failed_at:
                raise self._unavailable(self.gone)  # the database that failed to open, unchanged
            log.warning("the data directory %s is not the one open: opening it", self.data_dir)
            old = (self._cache, self._llm_log, self._rejects)
            try:
                self._open()
            except ConfigError as e:
                self._broken(e)
                raise StoreBroken(self.gone) from None
            self.gone, self._failed_at = None, None
            self.reopened += 1
            for one in old:
                _close(one)

    @property
    def identity(self) -> tuple[int, ...]:
        """What the opened directory is: changes when it is replaced (caches of stored bytes
        include it, so bytes read from a directory that went away are not served again)."""
        self.check()
        return (*self._seen, self.reopened)

    @property
    def cache(self):
        self.check()
        return self._cache

    @property
    def llm_log(self):
        self.check()
        return self._llm_log

    @property
    def rejects(self):
        self.check()
        return self._rejects

    def close(self) -> None:
        """Close every database connection; the next access opens a new one (so a process
        that built the app before forking workers hands them no shared SQLite handle)."""
        for one in (self._cache, self._llm_log, self._rejects):
            _close(one)

    # --- arXiv material -------------------------------------------------------------
    def get_paper(self, versioned_id: str) -> PaperMeta | None:
        return self.cache.get(f"{SCHEMA}:paper:{versioned_id}")

    def put_paper(self, paper: PaperMeta) -> None:
        self.cache.set(f"{SCHEMA}:paper:{paper.versioned_id}", paper)
        self.cache.set(f"{SCHEMA}:latest:{paper.arxiv_id}", paper.version)

    def get_full_text(self, versioned_id: str) -> FullText | None:
        return self.cache.get(f"{SCHEMA}:fulltext:{versioned_id}")

    def put_full_text(self, versioned_id: str, text: FullText) -> None:
        self.cache.set(f"{SCHEMA}:fulltext:{versioned_id}", text)

    def count_fulltext_try(self, versioned_id: str) -> int:
        """One more transient full-text failure of this paper; how many so far."""
        return self.cache.incr(f"{SCHEMA}:fulltext-tries:{versioned_id}", 1, default=0)

    # --- LLM results (only what passed the gate) --------------------------------------
    def get_result(self, key: str) -> Analysis | DailySummary | None:
        return self.cache.get(key)

    def put_result(self, key: str, result: Analysis | DailySummary) -> None:
        cache = self.cache  # one database throughout, even if a check reopens
        with cache.transact():
            cache.set(key, result)
            cache.delete(f"{key}:attempts")

    def claim(self, key: str, timeout: float) -> filelock.BaseFileLock:
        """A cross-process lock for making one result (`with store.claim(key, t):`).

        Keys hash into a fixed set of lock files, so the directory does not grow with them."""
        bucket = hashlib.sha256(key.encode()).hexdigest()[:2]
        return filelock.FileLock(str(self.claims_dir / f"{bucket}.lock"), timeout=timeout)

    def get_attempts(self, key: str) -> Attempts | None:
        found = self.cache.get(f"{key}:attempts")
        return replace(found, reasons=_reasons(found.reasons)) if found else None

    def record_failure(self, key: str, reasons: tuple[Reason, ...]) -> Attempts:
        prev = self.get_attempts(key)
        attempts = Attempts((prev.refreshes if prev else 0) + 1, tuple(reasons), utcnow())
        self.cache.set(f"{key}:attempts", attempts)
        return attempts

    def log_reject(self, key: str, item: dict) -> None:
        """Keep a rejected answer for inspection; it is never a result."""
        self.rejects.append({"key": key, "at": utcnow().isoformat(), **item})

    def log_call(self, record: dict) -> None:
        self.llm_log.append(record)

    # --- published days -----------------------------------------------------------
    def get_day(self, feed: str, date: dt.date) -> Day | None:
        return _upgrade_day(self.cache.get(f"{SCHEMA}:day:{feed}:{date.isoformat()}"))

    def day_dates(self, feed: str) -> list[dt.date]:
        """Published dates of a feed, newest first."""
        return sorted(self.cache.get(f"{SCHEMA}:days:{feed}", ()), reverse=True)

    def publish(self, day: Day, rendered: dict[tuple[str, str], RenderedDoc]) -> None:
        """Write the day, its date index and its feed documents atomically."""
        cache = self.cache  # one database throughout, even if a check reopens
        with cache.transact():
            cache.set(f"{SCHEMA}:day:{day.feed}:{day.date.isoformat()}", day)
            dates = set(cache.get(f"{SCHEMA}:days:{day.feed}", ()))
            dates.add(day.date)
            cache.set(f"{SCHEMA}:days:{day.feed}", sorted(dates))
            generation = cache.incr(f"{SCHEMA}:generation:{day.feed}")
            for entry in day.entries:
                key = f"{SCHEMA}:appears:{entry.paper.arxiv_id}"
                cache.set(key, sorted(set(cache.get(key, ())) | {(day.feed, day.date)}))
            for (fmt, base), doc in rendered.items():
                cache.set(f"{SCHEMA}:doc:{day.feed}:{fmt}:{base}", (generation, doc))
        self._mark_published()

    def _mark_published(self) -> None:
        """After the commit (a reader that sees the new mark reads the new generation): one
        byte appended to the mark, ~2 KB a year for 5 daily feeds. If it cannot be written,
        serving processes still read the generations at least every second (fastpath.BACKSTOP)."""
        try:
            with open(self.mark_path, "ab") as f:
                f.write(b".")
        except OSError as e:
            log.warning("cannot append to %s (%s): servers see this publication within a second", self.mark_path, e)

    def published_mark(self) -> tuple[int, int, int] | None:
        """Changes after every publication by any process (None: nothing marked yet)."""
        try:
            st = os.stat(self.mark_path)
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def published_in(self, feed: str, arxiv_id: str) -> dt.date | None:
        """The latest day of `feed` that carried this paper (any version)."""
        return next((date for f, date in self.appearances(arxiv_id) if f == feed), None)

    def generation(self, feed: str) -> int:
        return self.cache.get(f"{SCHEMA}:generation:{feed}", 0)

    def get_doc(self, feed: str, fmt: str, base: str) -> RenderedDoc | None:
        """The stored document, if it was rendered for the current generation of the feed."""
        found = self.cache.get(f"{SCHEMA}:doc:{feed}:{fmt}:{base}")
        if found is None or found[0] != self.generation(feed):
            return None
        return found[1]

    def put_doc(self, feed: str, fmt: str, base: str, doc: RenderedDoc, generation: int,
                expire: float | None = None) -> None:
        self.cache.set(f"{SCHEMA}:doc:{feed}:{fmt}:{base}", (generation, doc), expire=expire)

    def appearances(self, arxiv_id: str) -> list[tuple[str, dt.date]]:
        """(feed, date) of every published day that carries the paper, newest first."""
        return sorted(self.cache.get(f"{SCHEMA}:appears:{arxiv_id}", ()), key=lambda a: a[1], reverse=True)

    def generations(self, feeds: list[str]) -> tuple[int, ...]:
        """A stamp that moves whenever any of the feeds publishes (for cross-feed documents)."""
        return tuple(self.generation(f) for f in feeds)

    def get_site_doc(self, name: str, base: str, stamp: tuple[int, ...]) -> RenderedDoc | None:
        """A document that spans feeds (index, OPML, paper), if rendered for this stamp."""
        found = self.cache.get(f"{SCHEMA}:site:{name}:{base}")
        return found[1] if found is not None and found[0] == stamp else None

    def put_site_doc(self, name: str, base: str, stamp: tuple[int, ...], doc: RenderedDoc,
                     expire: float | None = None) -> None:
        self.cache.set(f"{SCHEMA}:site:{name}:{base}", (stamp, doc), expire=expire)

    # --- refresh status (for /healthz and the worker) ------------------------------------
    def put_status(self, result: RefreshResult) -> FeedStatus:
        cache = self.cache  # one database throughout, even if a check reopens
        prev = self.get_status(result.feed)
        status = FeedStatus(last_attempt=result,
                            last_success=result if result.ok else (prev.last_success if prev else None))
        with cache.transact():
            cache.set(f"{SCHEMA}:feedstatus:{result.feed}", status)
            cache.delete(f"{SCHEMA}:running:{result.feed}")
        return status

    def mark_running(self, feed: str, started: dt.datetime) -> None:
        """A refresh started; `put_status` clears it. One left behind is a killed run."""
        self.cache.set(f"{SCHEMA}:running:{feed}", started)

    def running_since(self, feed: str) -> dt.datetime | None:
        return self.cache.get(f"{SCHEMA}:running:{feed}")

    def get_status(self, feed: str) -> FeedStatus | None:
        found = self.cache.get(f"{SCHEMA}:feedstatus:{feed}")
        return found if isinstance(found, FeedStatus) else None

    # --- the last good feed specs (served when an edit breaks one) -----------------------
    def put_specs(self, specs: dict[str, FeedSpec]) -> None:
        self.cache.set(f"{SCHEMA}:specs", dict(specs))

    def get_specs(self) -> dict[str, FeedSpec] | None:
        found = self.cache.get(f"{SCHEMA}:specs")
        return found if isinstance(found, dict) and found else None

    # --- admin refresh jobs (any web worker answers for any job) -------------------------
    def put_job(self, job: Job) -> None:
        self.cache.set(f"{SCHEMA}:job:{job.id}", job, expire=JOB_TTL)

    def get_job(self, job_id: str) -> Job | None:
        found = self.cache.get(f"{SCHEMA}:job:{job_id}")
        return found if isinstance(found, Job) else None

    # --- Message Batches (service/batches.py): intent records, ids, the key index ----------
    def batch_lock(self, timeout: float) -> filelock.BaseFileLock:
        """Held from writing a batch's intent until its id is stored, and while polling:
        an intent without an id whose lock is free belongs to a process that died."""
        return filelock.FileLock(str(self.claims_dir / "batches.lock"), timeout=timeout)

    def put_batch(self, record) -> None:
        """Write a batch's intent (or store its id): open, with every analysis key it carries indexed.

        The record (prompts and texts: large, so diskcache keeps it in a file) is written
        once and never overwritten; the id goes in a small key of its own. Overwriting a
        file-backed value deletes the old file before the enclosing transaction commits,
        so a process killed in between left an open record that could not be read."""
        cache = self.cache
        with cache.transact():
            if f"{SCHEMA}:batch:{record.intent}" not in cache:
                cache.set(f"{SCHEMA}:batch:{record.intent}", replace(record, batch_id=None))
            cache.set(f"{SCHEMA}:batches:open", sorted(set(cache.get(f"{SCHEMA}:batches:open", ())) | {record.intent}))
            for item in record.items:
                cache.set(f"{SCHEMA}:batch-key:{item.key}", record.intent)
            if record.batch_id:
                cache.set(f"{SCHEMA}:batch-id:{record.intent}", record.batch_id)
                cache.set(f"{SCHEMA}:batch-ids", sorted(set(cache.get(f"{SCHEMA}:batch-ids", ())) | {record.batch_id}))

    def get_batch(self, intent: str):
        cache = self.cache
        record = cache.get(f"{SCHEMA}:batch:{intent}")
        if record is None:
            return None
        batch_id = cache.get(f"{SCHEMA}:batch-id:{intent}")  # records stored before it carry their own id
        return replace(record, batch_id=batch_id) if batch_id else record

    def open_batches(self, feed: str | None = None) -> list:
        """Batch records not finished yet (of one feed, or all), oldest first."""
        found = (self.get_batch(i) for i in self.cache.get(f"{SCHEMA}:batches:open", ()))
        return sorted((r for r in found if r is not None and (feed is None or r.feed == feed)),
                      key=lambda r: r.created)

    def batch_of_key(self, key: str) -> str | None:
        """The open batch (its intent id) that carries this analysis key, if any."""
        return self.cache.get(f"{SCHEMA}:batch-key:{key}")

    def known_batch_ids(self) -> set[str]:
        """Every batch id ever stored (a batch the server lists but we don't know is an orphan)."""
        return set(self.cache.get(f"{SCHEMA}:batch-ids", ()))

    def close_batch(self, record) -> None:
        """A batch whose results are all handled: no longer open, its keys free again; its
        record kept a while (its expiry touched, the record itself not rewritten)."""
        cache = self.cache
        with cache.transact():
            cache.set(f"{SCHEMA}:batches:open", sorted(set(cache.get(f"{SCHEMA}:batches:open", ())) - {record.intent}))
            for item in record.items:
                if cache.get(f"{SCHEMA}:batch-key:{item.key}") == record.intent:
                    cache.delete(f"{SCHEMA}:batch-key:{item.key}")
            cache.touch(f"{SCHEMA}:batch:{record.intent}", expire=JOB_TTL)
            cache.touch(f"{SCHEMA}:batch-id:{record.intent}", expire=JOB_TTL)

    # --- LLM spend (the budget's ledger) -----------------------------------------------
    def spent_micro(self, scope: str, day: str) -> int:
        return self.cache.get(f"{SCHEMA}:spend:{scope}:{day}", 0)

    def add_spend_micro(self, scopes: tuple[str, ...], day: str, amount: int) -> None:
        for scope in scopes:
            self.cache.incr(f"{SCHEMA}:spend:{scope}:{day}", amount, default=0)


def _close(one) -> None:
    """Close a Cache, Deque or their read-only stand-ins (this thread's connection)."""
    if one is None:  # never opened (a database that could not be)
        return
    inner = getattr(one, "cache", None)  # a Deque's Cache (`or` would not do: an empty Cache is falsy)
    (one if inner is None else inner).close()


def _reasons(reasons: tuple) -> tuple[Reason, ...]:
    """Reasons as `Reason`s; stores written before they were typed hold "code: detail" strings."""
    if all(isinstance(r, Reason) for r in reasons):
        return reasons
    return tuple(r if isinstance(r, Reason) else Reason(*(str(r).split(": ", 1) + [""])[:2]) for r in reasons)


def _upgrade_day(day: Day | None) -> Day | None:
    if day is None or all(isinstance(r, Reason) for e in day.entries for r in e.reasons):
        return day
    return replace(day, entries=tuple(replace(e, reasons=_reasons(e.reasons)) for e in day.entries))
