"""Published documents answered before Flask: bytes, gzip bytes and headers kept in memory.

A day is written once and polled all day, so most requests are "these stored bytes, or
304". Through Flask each one costs routing, a request context, a Response object, header
objects, two SQLite reads and unpickling a ~75 KB record, even for a 304 (BENCHMARKS.md,
"In process"). This WSGI layer answers GET/HEAD for the stored-document routes from what
each worker keeps in memory, checked against the feed's generation (one SQLite read per
request; the site documents read every feed's), so a publish by any process is served
by every worker on its next request.

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

from werkzeug.http import http_date, is_resource_modified
from werkzeug.sansio.utils import get_host

from ..documents import PAGE_SIZE
from ..models import RenderedDoc
from ..pipeline import Digest
from ..render import NEVER
from .common import CSP, MIN_MAX_AGE, accepts_gzip, conditional_environ, max_age, parse_date, request_base

#: Memory for kept documents per worker (plain + gzip bytes). The polled set (every feed's
#: subscription documents, the index, recent days) is a few MiB; every document of 30 days
#: × 5 feeds is ~38 MiB, which would take a worker to ~100 MiB RSS (BENCHMARKS.md), so old
#: days fall out least-recently-used first and are read from the store when asked again.
MAX_BYTES = 16 * 1024 * 1024
#: Seconds a read generation is trusted (0: read on every request). See BENCHMARKS.md.
RECHECK = 0.0
#: What a kept document costs beyond its bytes (headers, tuples, the key), for the bound.
OVERHEAD = 1024

_FEED = re.compile(r"/feeds/([^/]+)\.(atom|rss|json)")
_DAY = re.compile(r"/feeds/([^/]+)/([^/]+?)(\.atom|\.md)?")
_API_DAYS = re.compile(r"/api/v1/feeds/([^/]+)/days")
_API_DAY = re.compile(r"/api/v1/feeds/([^/]+)/days/([^/]+)")
_SITE = {"/": "index", "/opml": "opml", "/api/v1/feeds": "feeds"}
_CSP = (("Content-Security-Policy", CSP),)
_DAY_FORMATS = {None: "html", ".atom": "atom", ".md": "md"}
#: Requests whose semantics Flask/werkzeug handle in ways not copied here.
_DECLINE = ("HTTP_RANGE", "HTTP_IF_MATCH")

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Route:
    """A stored document: `scope` is the feed whose generation it follows (None: every feed)."""

    scope: str | None
    key: tuple
    fetch: Callable[[Digest, str], tuple[RenderedDoc, Headers]]


@dataclass(frozen=True)
class Variant:
    """One encoding of a document, its headers ready up to Cache-Control."""

    body: bytes
    etag: str
    head: Headers


@dataclass(frozen=True)
class Kept:
    stamp: object
    plain: Variant
    gzip: Variant
    last_modified: str
    extra: Headers
    size: int
    #: Nothing published yet (a valid empty feed): readers are asked to come back soon.
    empty: bool = False


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


def _variant(doc: RenderedDoc, gz: bool, last_modified: str) -> Variant:
    body = doc.gzipped if gz else doc.body
    etag = f'"{doc.etag}-gz"' if gz else f'"{doc.etag}"'
    head = (("Content-Type", doc.content_type), ("Content-Length", str(len(body))), ("ETag", etag),
            ("Last-Modified", last_modified), ("Vary", "Accept-Encoding"))
    return Variant(body, etag, head + ((("Content-Encoding", "gzip"),) if gz else ()))


def keep(doc: RenderedDoc, extra: Headers, stamp: object) -> Kept:
    last_modified = http_date(doc.last_modified)
    return Kept(stamp, _variant(doc, False, last_modified), _variant(doc, True, last_modified), last_modified,
                extra, len(doc.body) + len(doc.gzipped) + OVERHEAD, empty=doc.last_modified <= NEVER)


class Clock:
    """Date and Cache-Control for the current second, as serve_doc would compute them.

    max_age() is computed at the middle of the second: Flask computes it at the request's
    microsecond, and the announcement times are whole seconds, so both truncate alike."""

    def __init__(self, now: Callable[[], float] = time.time):
        self.now = now
        self._second: tuple[int, str, str] = (-1, "", "")

    def headers(self) -> tuple[str, str]:
        second = int(self.now())
        cached = self._second
        if cached[0] != second:
            at = dt.datetime.fromtimestamp(second + 0.5, dt.timezone.utc)
            cached = self._second = (second, http_date(at.replace(microsecond=0)), f"public, max-age={max_age(at)}")
        return cached[1], cached[2]


class FastPath:
    """WSGI middleware: `app.wsgi_app = FastPath(app.wsgi_app, digest)`."""

    def __init__(self, app, digest: Digest, max_bytes: int = MAX_BYTES, clock: Clock | None = None,
                 recheck: float = RECHECK):
        self.app, self.digest, self.max_bytes, self.recheck = app, digest, max_bytes, recheck
        self.clock = clock or Clock()
        self.stamps: dict[str | None, tuple[float, object]] = {}
        self.kept: OrderedDict[tuple, Kept] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response):
        method = environ.get("REQUEST_METHOD")
        if (method != "GET" and method != "HEAD") or environ.get("QUERY_STRING") or \
                any(name in environ for name in _DECLINE):
            return self.app(environ, start_response)
        answer = self._answer(environ, method)
        if answer is None:
            return self.app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return body

    def _answer(self, environ: dict, method: str) -> tuple[str, list, list] | None:
        self.digest.reload_specs()  # as Flask's before_request does (a monotonic check at most every 2 s)
        target = route(environ.get("PATH_INFO", ""), self.digest.specs)
        if target is None:
            return None
        try:
            base = self._base(environ)
            kept = self._kept(target, base)
        except Exception:  # a refused host, an unknown day, a failing disk: Flask answers
            return None
        gz = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
        v = kept.gzip if gz else kept.plain
        date, cache_control = self.clock.headers()
        if kept.empty:  # as serve_doc: an empty feed is looked at again soon
            cache_control = f"public, max-age={MIN_MAX_AGE}"
        if _modified(environ, v.etag, kept.last_modified):
            headers = [*v.head, ("Cache-Control", cache_control), *kept.extra, ("Date", date)]
            return "200 OK", headers, [v.body] if method == "GET" else []
        headers = [("ETag", v.etag), ("Vary", "Accept-Encoding"), ("Cache-Control", cache_control),
                   *kept.extra, ("Date", date)]
        return "304 NOT MODIFIED", headers, []

    def _base(self, environ: dict) -> str:
        settings = self.digest.settings
        if settings.public_url:
            return settings.public_url
        scheme = environ.get("wsgi.url_scheme", "http")
        port = environ.get("SERVER_PORT")
        server = None
        if environ.get("SERVER_NAME") is not None:  # as werkzeug's Request.server
            try:
                server = (environ["SERVER_NAME"], int(port))
            except (TypeError, ValueError):
                server = (environ["SERVER_NAME"], None)
        host = get_host(scheme, environ.get("HTTP_HOST"), server)
        return request_base(settings, host, scheme, str(environ.get("SERVER_PORT", "")))

    def _stamp(self, scope: str | None) -> object:
        if self.recheck:
            now = time.monotonic()
            read = self.stamps.get(scope)
            if read is not None and now - read[0] < self.recheck:
                return read[1]
        stamp = self.digest.stamp(scope)
        if self.recheck:
            self.stamps[scope] = (now, stamp)
        return stamp

    def _kept(self, target: Route, base: str) -> Kept:
        key = (target.scope, *target.key, base)
        stamp = self._stamp(target.scope)  # before the lookup: a document is never older than its stamp
        with self.lock:
            kept = self.kept.get(key)
            if kept is not None and kept.stamp == stamp:
                self.kept.move_to_end(key)
                return kept
        doc, extra = target.fetch(self.digest, base)
        kept = keep(doc, extra, stamp)
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


def _modified(environ: dict, etag: str, last_modified: str) -> bool:
    """werkzeug's make_conditional decision (If-None-Match, then If-Modified-Since), with a
    future If-Modified-Since ignored as serve_doc does; the common exact-ETag case inline."""
    inm = environ.get("HTTP_IF_NONE_MATCH")
    ims = environ.get("HTTP_IF_MODIFIED_SINCE")
    if ims is None:
        if inm is None:
            return True
        if inm == etag:
            return False
    return is_resource_modified(conditional_environ(environ), etag, last_modified=last_modified)
