"""A reader's library on zotero.org, through the part of the Zotero Web API v3 we need.

pyzotero pins bibtexparser<2 (we use 2) and speaks httpx, so the few requests are ours, on
`requests` with `http.py`'s guards (timeouts, a whole-body deadline, byte caps, retries that
honour a capped `Retry-After`, no redirect off the API's host):

    GET <base>/users/<id>/items (or /groups/<id>/items)?format=json&limit=100&start=…
    Zotero-API-Version: 3, Zotero-API-Key: <key>, If-Modified-Since-Version: <stored version>

A library is fetched at most once a day (`MAX_AGE`) and kept on disk as its items and
`Last-Modified-Version`; a 304 keeps the copy. Whatever fails (5xx, a refused key, garbage,
a timeout, a huge answer) keeps the last good copy with a note saying what failed; without
one it is a `LibraryError` and the feed ranks by its other signals. The key is sent in a
header only: it is never in a URL, a message, a log line or the copy on disk.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import requests

from .http import ArxivSession, TooLarge, fetch_limited
from .library import MAX_BYTES, MAX_ITEMS, Library, LibraryError, LibraryItem, _date, _item
from .models import ZoteroLibrary

log = logging.getLogger(__name__)

#: How long a fetched (or confirmed unchanged) copy is used without asking again.
MAX_AGE = dt.timedelta(days=1)
#: Items per request (the API's maximum).
PAGE = 100
#: One page's body at most (100 items with long abstracts are a few hundred kB).
PAGE_BYTES = 8 * 1024 * 1024
#: Longest wait a `Backoff` or `Retry-After` gets; past it the copy on disk is used.
MAX_WAIT = 60.0
FORMAT = "Zotero Web API"
#: Item types that are not papers.
_NOT_PAPERS = frozenset({"attachment", "note", "annotation"})


class Zotero:
    """Fetches, keeps and reads zotero.org libraries; one per process (`pipeline.Digest`)."""

    def __init__(self, base_url: str, cache_dir: Path, keys: Mapping[str, str], timeout: float = 30.0,
                 retries: int = 2, max_wait: float = MAX_WAIT):
        self.base_url, self.cache_dir, self.keys = base_url.rstrip("/"), cache_dir, keys
        self.max_wait = max_wait
        host = urlsplit(self.base_url).hostname or ""
        self.session = ArxivSession(0.0, timeout=(min(10.0, timeout), timeout), retries=retries,
                                    max_retry_after=max_wait, hosts=(host,))
        self._lock = threading.Lock()
        self._locks: dict[ZoteroLibrary, threading.Lock] = {}
        #: Parsed copies by source, with the copy's modification stamp.
        self._parsed: dict[tuple[str, int], tuple[tuple[int, int], Library]] = {}
        #: Sources the API asked us (`Backoff`) not to ask again before this monotonic time.
        self._not_before: dict[tuple[str, int], float] = {}

    def close(self) -> None:
        self.session.close()

    def load(self, source: ZoteroLibrary, now: dt.datetime | None = None) -> tuple[Library, tuple[str, ...]]:
        """The library and notes for the reader (the API failed, the last good copy is used);
        `LibraryError` when it failed and there is no copy."""
        now = now or dt.datetime.now(dt.timezone.utc)
        with self._lock:
            lock = self._locks.setdefault(source, threading.Lock())
        with lock:  # two feeds on one library fetch it once
            copy = self._read_copy(source)
            if copy is not None and now - copy[1] < MAX_AGE:
                return self._library(source), ()
            if time.monotonic() < self._not_before.get((source.kind, source.id), 0.0) and copy is not None:
                return self._library(source), ()
            key = self.keys.get(source.key_env) if source.key_env else None
            if source.key_env and not key:
                problem = f"the environment variable {source.key_env} (key_env) is not set"
            else:
                try:
                    fetched = self._fetch(source, key, copy[0] if copy else None)
                    self._write_copy(source, fetched[0] if fetched else copy[0], now,
                                     fetched[1] if fetched else None)
                    return self._library(source), ()
                except LibraryError as e:
                    problem = _scrub(e.problem, key)
            if copy is None:
                raise LibraryError(source, problem)
            log.warning("library %s: %s; using the copy of %s", source, problem, f"{copy[1]:%Y-%m-%d}")
            return self._library(source), (f"library {source}: {problem}; ranked with the copy of "
                                           f"{copy[1]:%Y-%m-%d}",)

    # --- the API --------------------------------------------------------------------------
    def _fetch(self, source: ZoteroLibrary, key: str | None,
               version: int | None) -> tuple[int, list[LibraryItem]] | None:
        """(library version, items), or None when unchanged since `version` (a 304)."""
        url = f"{self.base_url}/{source.kind}/{source.id}/items"
        headers = {"Zotero-API-Version": "3", "Accept": "application/json"}
        if key:
            headers["Zotero-API-Key"] = key
        items: list[LibraryItem] = []
        start, read, first_version = 0, 0, None
        for _ in range(2 * MAX_ITEMS // PAGE + 1):
            sent = dict(headers)
            if start == 0 and version is not None:
                sent["If-Modified-Since-Version"] = str(version)
            params = {"format": "json", "limit": PAGE, "start": start, "itemType": "-attachment"}
            try:
                resp = fetch_limited(self.session, url, PAGE_BYTES, params=params, headers=sent)
            except TooLarge:
                raise LibraryError(source, f"one page of the API's answer is more than {PAGE_BYTES:,} bytes") from None
            except requests.RequestException as e:
                raise LibraryError(source, f"the Zotero API could not be reached ({type(e).__name__})") from None
            if resp.status_code == 304 and start == 0 and version is not None:
                self._backoff(source, resp)
                return None
            if resp.status_code != 200:
                raise LibraryError(source, _status_problem(resp.status_code, key))
            read += len(resp.content)
            if read > MAX_BYTES:
                raise LibraryError(source, f"the API's answer is more than {MAX_BYTES:,} bytes")
            total = _int(resp.headers.get("Total-Results"))
            if total is not None and total > 2 * MAX_ITEMS:
                raise LibraryError(source, f"{total:,} items is more than the {MAX_ITEMS:,} used; "
                                   "use a group or a smaller library")
            returned, page = _page(source, resp.content)
            if first_version is None:
                first_version = _int(resp.headers.get("Last-Modified-Version"))
                if first_version is None:
                    raise LibraryError(source, "the API's answer has no Last-Modified-Version")
            items += [i for i in page if i is not None]
            if len(items) > MAX_ITEMS:
                raise LibraryError(source, f"more than the {MAX_ITEMS:,} items used; "
                                   "use a group or a smaller library")
            start += returned  # notes and annotations are items of the API's paging too
            more = "next" in resp.links and returned and (total is None or start < total)
            if not more:
                self._backoff(source, resp)
                if not items:
                    raise LibraryError(source, "no items with a title in this library (is it empty?)")
                return first_version, items
            wait = self._backoff(source, resp)
            if wait:
                time.sleep(wait)
        raise LibraryError(source, "the API kept announcing more pages than a library has")

    def _backoff(self, source: ZoteroLibrary, resp: requests.Response) -> float:
        """Seconds the API asked us (`Backoff`) to wait, capped; remembered for the next load."""
        seconds = _float(resp.headers.get("Backoff"))
        if not seconds:
            return 0.0
        self._not_before[(source.kind, source.id)] = time.monotonic() + seconds
        return min(seconds, self.max_wait)

    # --- the copy on disk -----------------------------------------------------------------
    def _path(self, source: ZoteroLibrary) -> Path:
        return self.cache_dir / f"{source.kind}-{source.id}.json"

    def _read_copy(self, source: ZoteroLibrary) -> tuple[int, dt.datetime] | None:
        """(version, when last fetched or confirmed) of the copy on disk, None without one."""
        try:
            with self._path(source).open("rb") as fh:
                head = json.loads(fh.readline())
            return int(head["version"]), dt.datetime.fromisoformat(head["checked"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_copy(self, source: ZoteroLibrary, version: int, now: dt.datetime,
                    items: list[LibraryItem] | None) -> None:
        """A header line (version, when checked), then one item a line; items None: the same
        items (a 304), only the header is new. Written whole, then renamed into place."""
        path = self._path(source)
        path.parent.mkdir(parents=True, exist_ok=True)
        if items is None:
            with path.open("rb") as fh:
                fh.readline()
                body = fh.read()
        else:
            body = b"".join(json.dumps([i.title, i.abstract, list(i.authors), i.year,
                                        i.added.isoformat() if i.added else None]).encode() + b"\n"
                            for i in items)
        head = json.dumps({"version": version, "checked": now.isoformat()}).encode() + b"\n"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(head + body)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _library(self, source: ZoteroLibrary) -> Library:
        """The copy on disk as a `Library`, parsed once per version of the copy."""
        path = self._path(source)
        st = path.stat()
        stamp, key = (st.st_mtime_ns, st.st_size), (source.kind, source.id)
        hit = self._parsed.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        items = []
        with path.open("rb") as fh:
            fh.readline()
            for line in fh:
                title, abstract, authors, year, added = json.loads(line)
                items.append(LibraryItem(title, abstract, tuple(authors), year, _date(added) if added else None))
        library = Library(str(source), FORMAT, tuple(items))
        self._parsed[key] = (stamp, library)
        return library


def _page(source: ZoteroLibrary, body: bytes) -> tuple[int, list[LibraryItem | None]]:
    """How many items one page returned, and its papers, checked: the API's answer is
    untrusted like any file."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise LibraryError(source, "the API's answer is not JSON") from None
    if not isinstance(doc, list):
        raise LibraryError(source, "the API's answer is not a list of items")
    out = []
    for obj in doc:
        data = obj.get("data") if isinstance(obj, dict) else None
        if not isinstance(data, dict) or data.get("itemType") in _NOT_PAPERS:
            continue
        authors = []
        for c in data.get("creators") or ():
            if isinstance(c, dict):
                name = c.get("name") or " ".join(str(c[k]) for k in ("firstName", "lastName")
                                                 if isinstance(c.get(k), str) and c[k])
                authors.append(name)
        out.append(_item(data.get("title"), data.get("abstractNote", ""), authors, data.get("date"),
                         _date(data.get("dateAdded")) if isinstance(data.get("dateAdded"), str) else None))
    return len(doc), out


def _status_problem(status: int, key: str | None) -> str:
    if status == 403:
        return ("the API refused access (403): the key is wrong or cannot read this library" if key
                else "the API refused access (403): the library is not public; set key_env")
    if status == 404:
        return "the API has no such library (404)"
    if status in (429, 503):
        return f"the API is rate-limiting or unavailable ({status}), still after retries"
    return f"the API answered {status}"


def _scrub(text: str, key: str | None) -> str:
    return text.replace(key, "[key]") if key else text


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdecimal() and len(value) < 16 else None


def _float(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 < seconds < 10**7 else None
