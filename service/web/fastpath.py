"""Published documents answered before Flask: bytes, gzip bytes and headers kept in memory.

A day is written once and polled all day, so most requests are "these stored bytes, or
304". Through Flask each one costs routing, a request context, a Response object, header
objects, two SQLite reads and unpickling a ~75 KB record, even for a 304 (BENCHMARKS.md,
"In process"). This WSGI layer answers GET/HEAD for the stored-document routes from what
each worker keeps in memory.

Freshness: every publication appends a byte to a mark file in the data directory after its
commit (`Store.published_mark`), and each request stat()s it (~2 µs, where reading the
generation from SQLite was ~10–30 µs). While the mark and the feed specs are unchanged, the
generations read after the mark was last seen are still current; when it moves, they are
read again. So a publication by any process is served by every worker on its next request
(no staleness window: the WebSub hub, pinged right after the publication, fetches the new
feed). The generations are read again at least every BACKSTOP seconds anyway, for a writer
that did not mark (an older release during a deploy, a mark that could not be written).

It answers exactly what Flask would (same bytes, same headers in the same order, same
304s; tests/test_fastpath.py compares them for every document) and hands everything else
to Flask unchanged: other paths and methods, query strings, Range and If-Match, unknown
feeds and dates, hosts `base_url()` refuses, and any error on the way.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from werkzeug.datastructures import ETags
from werkzeug.http import http_date, parse_date as parse_http_date, parse_etags
from werkzeug.sansio.utils import get_host

from ..documents import PAGE_SIZE
from ..models import RenderedDoc, utcnow
from ..pipeline import Digest
from ..render import NEVER
from .common import CSP, MIN_MAX_AGE, accepts_gzip, max_age, parse_date, request_base

#: Memory for kept documents per worker (plain + gzip bytes). The polled set (every feed's
#: subscription documents, the index, recent days) is a few MiB; every document of 30 days
#: × 5 feeds is ~38 MiB, which would take a worker to ~100 MiB RSS (BENCHMARKS.md), so old
#: days fall out least-recently-used first and are read from the store when asked again.
MAX_BYTES = 16 * 1024 * 1024
#: Seconds between two looks at the publication mark (0: every request, the default: a
#: publication is served at once). Larger values were measured (BENCHMARKS.md) and are
#: not used: they save a stat() and leave a window in which the WebSub hub gets old bytes.
INTERVAL = 0.0
#: Seconds a read generation is trusted at most, whatever the mark says.
BACKSTOP = 1.0
#: What a kept document costs beyond its bytes (headers, tuples, the key), for the bound.
OVERHEAD = 1024
#: Entries in each per-header-value memo (Accept-Encoding, If-None-Match, Host, paths):
#: clients choose these values, so each memo is emptied when it reaches this size.
MEMO = 512

_FEED = re.compile(r"/feeds/([^/]+)\.(atom|rss|json)")
_DAY = re.compile(r"/feeds/([^/]+)/([^/]+?)(\.atom|\.md)?")
_API_DAYS = re.compile(r"/api/v1/feeds/([^/]+)/days")
_API_DAY = re.compile(r"/api/v1/feeds/([^/]+)/days/([^/]+)")
_SITE = {"/": "index", "/opml": "opml", "/api/v1/feeds": "feeds"}
_CSP = (("Content-Security-Policy", CSP),)
_DAY_FORMATS = {None: "html", ".atom": "atom", ".md": "md"}
_MISSING = object()

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Route:
    """A stored document: `scope` is the feed whose generation it follows (None: every feed)."""

    scope: str | None
    key: tuple
    fetch: Callable[[Digest, str], tuple[RenderedDoc, Headers]]


class Variant:
    """One encoding of a document: body, ETag, and its 200 and 304 headers for the current
    second (Date and Cache-Control change once a second; everything else never)."""

    __slots__ = ("body", "etag", "bare_etag", "head", "extra", "empty", "_memo")

    def __init__(self, body: bytes, etag: str, head: Headers, extra: Headers, empty: bool):
        self.body, self.etag, self.bare_etag, self.head = body, etag, etag[1:-1], head
        self.extra, self.empty = extra, empty
        self._memo: tuple[int, Headers, Headers] = (-1, (), ())

    def headers(self, second: int, date: str, cache_control: str) -> tuple[Headers, Headers]:
        memo = self._memo
        if memo[0] != second:
            if self.empty:  # as serve_doc: an empty feed is looked at again soon
                cache_control = f"public, max-age={MIN_MAX_AGE}"
            cc, d = ("Cache-Control", cache_control), ("Date", date)
            ok = (*self.head, cc, *self.extra, d)
            not_modified = (("ETag", self.etag), ("Vary", "Accept-Encoding"), cc, *self.extra, d)
            memo = self._memo = (second, ok, not_modified)  # one assignment: threads see old or new
        return memo[1], memo[2]


@dataclass(frozen=True)
class Kept:
    stamp: object
    scope: str | None
    plain: Variant
    gzip: Variant
    #: Last-Modified as werkzeug compares it with If-Modified-Since (whole seconds, UTC).
    last_modified: dt.datetime
    size: int


def route(path: str, specs: Iterable[str]) -> Route | None:
    """The document a path names, as Flask's routes would resolve it, or None (Flask decides)."""
    if path in _SITE:
        name = _SITE[path]
        return Route(None, ("site", name), lambda d, base: (d.site_document(name, base),
                                                             _CSP if name == "index" else ()))
    if m := _FEED.fullmatch(path):
        feed, fmt = m.groups()
        return Route(feed, ("feed", fmt), lambda d, base: (d.document(feed, fmt, base), ())) \
            if feed in specs else None
    if m := _DAY.fullmatch(path):
        feed, raw, suffix = m.groups()
        return _day(feed, raw, _DAY_FORMATS[suffix], specs)
    if m := _API_DAY.fullmatch(path):
        return _day(m[1], m[2], "api", specs)
    if m := _API_DAYS.fullmatch(path):
        feed = m[1]

        def days(d: Digest, base: str) -> tuple[RenderedDoc, Headers]:
            doc, next_url = d.days_document(feed, 1, PAGE_SIZE, base)
            return doc, ((("Link", f'<{next_url}>; rel="next"'),) if next_url else ())
        return Route(feed, ("days", 1, PAGE_SIZE), days) if feed in specs else None
    return None


def _day(feed: str, raw: str, fmt: str, specs: Iterable[str]) -> Route | None:
    if feed not in specs:
        return None
    try:
        date = parse_date(raw)
    except Exception:  # Flask answers the 400
        return None
    extra = _CSP if fmt == "html" else ()
    return Route(feed, ("day", date, fmt), lambda d, base: (d.day_document(feed, date, fmt, base), extra))


def _variant(doc: RenderedDoc, gz: bool, last_modified: str, extra: Headers) -> Variant:
    body = doc.gzipped if gz else doc.body
    etag = f'"{doc.etag}-gz"' if gz else f'"{doc.etag}"'
    head = (("Content-Type", doc.content_type), ("Content-Length", str(len(body))), ("ETag", etag),
            ("Last-Modified", last_modified), ("Vary", "Accept-Encoding"))
    if gz:
        head += (("Content-Encoding", "gzip"),)
    return Variant(body, etag, head, extra, doc.last_modified <= NEVER)


def keep(doc: RenderedDoc, extra: Headers, stamp: object, scope: str | None = None) -> Kept:
    last_modified = http_date(doc.last_modified)
    return Kept(stamp, scope, _variant(doc, False, last_modified, extra), _variant(doc, True, last_modified, extra),
                parse_http_date(last_modified), len(doc.body) + len(doc.gzipped) + OVERHEAD)


class Clock:
    """Date and Cache-Control for the current second, as serve_doc would compute them.

    max_age() is computed at the middle of the second: Flask computes it at the request's
    microsecond, and the announcement times are whole seconds, so both truncate alike."""

    def __init__(self, now: Callable[[], float] = time.time):
        self.now = now
        self._second: tuple[int, str, str] = (-1, "", "")

    def headers(self) -> tuple[int, str, str]:
        second = int(self.now())
        cached = self._second
        if cached[0] != second:
            at = dt.datetime.fromtimestamp(second + 0.5, dt.timezone.utc)
            cached = self._second = (second, http_date(at.replace(microsecond=0)), f"public, max-age={max_age(at)}")
        return cached


class Freshness:
    """The stamps (generation, spec) of the documents a worker keeps, current as of this
    request: read from the store once, then trusted while the publication mark and the specs
    are unchanged and for at most BACKSTOP seconds."""

    def __init__(self, digest: Digest, interval: float = INTERVAL, backstop: float = BACKSTOP,
                 monotonic: Callable[[], float] = time.monotonic):
        self.digest, self.interval, self.backstop, self.monotonic = digest, interval, backstop, monotonic
        self.mark = digest.store.published_mark
        #: (specs, mark, read since, mark looked at, stamps by scope): replaced whole, never edited
        #: except to add a stamp read after its mark was seen.
        self._state: tuple = (None, None, -1e18, -1e18, {})

    def stamps(self) -> dict:
        now = self.monotonic()
        specs, mark, since, looked, stamps = self._state
        if specs is self.digest.specs and now - since < self.backstop:
            if now - looked < self.interval:
                return stamps
            seen = self.mark()
            if seen == mark:
                if self.interval:
                    self._state = (specs, mark, since, now, stamps)
                return stamps
        else:
            seen = self.mark()
        # The mark is read before any stamp of the new state: a stamp in it is at least as new
        # as the publication that left this mark (the mark is written after the commit).
        stamps = {}
        self._state = (self.digest.specs, seen, now, now, stamps)
        return stamps

    def stamp(self, scope: str | None) -> object:
        stamps = self.stamps()
        stamp = stamps.get(scope, _MISSING)
        if stamp is _MISSING:
            stamp = stamps[scope] = self.digest.stamp(scope)
        return stamp


class FastPath:
    """WSGI middleware: `app.wsgi_app = FastPath(app.wsgi_app, digest)`."""

    def __init__(self, app, digest: Digest, max_bytes: int = MAX_BYTES, clock: Clock | None = None,
                 interval: float = INTERVAL, backstop: float = BACKSTOP):
        self.app, self.digest, self.max_bytes = app, digest, max_bytes
        self.clock = clock or Clock()
        self.fresh = Freshness(digest, interval, backstop)
        #: (path, base) → the kept document, least recently used first.
        self.kept: OrderedDict[tuple[str, str], Kept] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()
        self._gzip: dict[str, bool] = {}
        self._etags: dict[str, ETags] = {}
        self._dates: dict[str, dt.datetime | None] = {}
        self._bases: dict[tuple, str] = {}

    def __call__(self, environ: dict, start_response):
        method = environ.get("REQUEST_METHOD")
        if (method == "GET" or method == "HEAD") and not environ.get("QUERY_STRING") and \
                "HTTP_RANGE" not in environ and "HTTP_IF_MATCH" not in environ:
            # Range and If-Match: semantics Flask/werkzeug handle and this layer does not copy
            answer = self._answer(environ, method)
            if answer is not None:
                start_response(answer[0], list(answer[1]))
                return answer[2]
        return self.app(environ, start_response)

    def _answer(self, environ: dict, method: str) -> tuple[str, Headers, list] | None:
        self.digest.reload_specs()  # as Flask's before_request does (a monotonic check at most every 2 s)
        path = environ.get("PATH_INFO", "")
        try:
            base = self._base(environ)
            kept = self._kept(path, base)
        except Exception:  # a refused host, an unknown day, a failing disk: Flask answers
            return None
        if kept is None:
            return None
        ae = environ.get("HTTP_ACCEPT_ENCODING", "")
        gz = self._gzip.get(ae)
        if gz is None:
            gz = accepts_gzip(ae)  # serve_doc's rule, so both paths pick the same variant
            self._remember(self._gzip, ae, gz)
        v = kept.gzip if gz else kept.plain
        ok, not_modified = v.headers(*self.clock.headers())
        if self._modified(environ, v, kept):
            return "200 OK", ok, [v.body] if method == "GET" else []
        return "304 NOT MODIFIED", not_modified, []

    def _base(self, environ: dict) -> str:
        settings = self.digest.settings
        if settings.public_url:
            return settings.public_url
        key = (environ.get("HTTP_HOST"), environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
               environ.get("wsgi.url_scheme", "http"))
        base = self._bases.get(key)
        if base is None:
            host_header, name, port, scheme = key
            server = None
            if name is not None:  # as werkzeug's Request.server
                try:
                    server = (name, int(port))
                except (TypeError, ValueError):
                    server = (name, None)
            host = get_host(scheme, host_header, server)
            base = request_base(settings, host, scheme, str(port if port is not None else ""))  # raises if refused
            self._remember(self._bases, key, base)
        return base

    def _kept(self, path: str, base: str) -> Kept | None:
        return self._cached((path, base), base, route, path, self.digest.specs)

    def _cached(self, key: tuple, base: str, find, *args) -> Kept | None:
        """The document kept under `key` while its stamp holds, else `find(*args)`'s route
        fetched, kept and returned (None: not a document this layer serves)."""
        kept = self.kept.get(key)
        if kept is not None:
            if kept.stamp == self.fresh.stamp(kept.scope):
                with self.lock:
                    if key in self.kept:
                        self.kept.move_to_end(key)
                return kept
        target = find(*args)
        if target is None:
            return None
        stamp = self.fresh.stamp(target.scope)  # before the fetch: a document is never older than its stamp
        doc, extra = target.fetch(self.digest, base)
        kept = keep(doc, extra, stamp, target.scope)
        self._store(key, kept)
        return kept

    def _store(self, key: tuple, kept: Kept) -> None:
        if kept.size > self.max_bytes:
            return
        with self.lock:
            old = self.kept.pop(key, None)
            if old is not None:
                self.size -= old.size
            self.kept[key] = kept
            self.size += kept.size
            while self.size > self.max_bytes:
                _, dropped = self.kept.popitem(last=False)
                self.size -= dropped.size

    def _modified(self, environ: dict, v: Variant, kept: Kept) -> bool:
        """werkzeug's make_conditional decision without If-Match and Range (those go to Flask):
        a non-empty If-None-Match decides alone, by weak comparison; else If-Modified-Since,
        ignored when later than our clock (as common.conditional_environ). Parsed header
        values are remembered, so a reader polling with the same headers is a dict lookup."""
        inm = environ.get("HTTP_IF_NONE_MATCH")
        if inm is not None:
            if inm == v.etag:
                return False
            etags = self._etags.get(inm)
            if etags is None:
                etags = parse_etags(inm)
                self._remember(self._etags, inm, etags)
            if etags:
                return not etags.contains_weak(v.bare_etag)
        ims = environ.get("HTTP_IF_MODIFIED_SINCE")
        if ims is None:
            return True
        since = self._dates.get(ims, _MISSING)
        if since is _MISSING:
            since = parse_http_date(ims)
            self._remember(self._dates, ims, since)
        if since is None or since > utcnow():
            return True
        return not kept.last_modified <= since

    @staticmethod
    def _remember(memo: dict, key, value) -> None:
        if len(memo) >= MEMO:
            memo.clear()
        memo[key] = value
