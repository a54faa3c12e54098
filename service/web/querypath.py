"""Readers' views and searches answered before Flask, from a bounded memory of rendered bytes.

A filtered feed (`/feeds/<feed>.atom?q=…`, `.rss`, `.json`) and a search (`/api/v1/search?q=…`,
`/search?q=…`) are rendered from what is stored and change only when a day is published,
like the stored documents the fast path (fastpath.py) serves. Through Flask a repeated one
cost 200–300 µs of CPU where the fast path answers in ~10 µs, and that gap, not the index,
kept their p99 over 50 ms under load (BENCHMARKS.md, "Search"). This layer is the fast path
with the query string in its key: the same freshness rule (the publication mark), the same
variants, conditional GETs and headers, so it answers exactly what Flask would
(tests/test_querypath.py compares them).

The query parameters are parsed as Flask parses them (werkzeug's `Request.args`) and checked
by the same functions the routes use; anything they refuse, and any error, goes to Flask,
which answers it (the 400s). Memory is its own bound (`MAX_BYTES`), apart from the stored
documents', so clients asking a new query each time cannot push the feeds out; nothing is
ever written to disk.
"""
from __future__ import annotations

import re
import threading

from werkzeug.wrappers import Request

from ..pipeline import Digest
from . import feeds, search
from .fastpath import FastPath, Kept, Route

#: Memory for rendered views and searches per worker (plain + gzip bytes).
MAX_BYTES = 4 * 1024 * 1024
#: Longest query string answered here; longer ones go to Flask (which checks each parameter).
MAX_QUERY = 1024

_FEED = re.compile(r"/feeds/([^/]+)\.(atom|rss|json)")
_SEARCH = {"/api/v1/search": search.api_document, "/search": search.page_document}


class Behind(Exception):
    """The index does not hold every publication yet: not kept, Flask answers."""


def route(path: str, query: str, specs, environ: dict) -> Route | None:
    """The view or search a request names, its parameters checked as Flask's routes check
    them (raising what they raise), or None (Flask decides)."""
    if path in _SEARCH:
        render = _SEARCH[path]
        args = Request(environ).args

        def fetch(d: Digest, base: str):
            doc, headers = render(d, args, base)
            held = d.index.generations() or {}
            if any(held.get(name) != d.store.generation(name) for name in d.specs):
                # answered from an index that could not be caught up (another process is
                # writing it): Flask answers, and asks again next time
                raise Behind(path)
            return doc, tuple(headers.items())
        return Route(None, ("search", path, query), fetch)
    if m := _FEED.fullmatch(path):
        feed, fmt = m.groups()
        if feed not in specs:
            return None
        view = feeds.view(Request(environ).args)
        return Route(feed, ("view", fmt, query), lambda d, base: (d.document(feed, fmt, base, view), ()))
    return None


class QueryPath(FastPath):
    """WSGI middleware behind the fast path: `FastPath(QueryPath(flask_wsgi, digest), digest)`."""

    def __init__(self, app, digest: Digest, max_bytes: int = MAX_BYTES, **kw):
        super().__init__(app, digest, max_bytes, **kw)
        self._local = threading.local()

    def __call__(self, environ: dict, start_response):
        method = environ.get("REQUEST_METHOD")
        query = environ.get("QUERY_STRING")
        if (method == "GET" or method == "HEAD") and query and len(query) <= MAX_QUERY and \
                "HTTP_RANGE" not in environ and "HTTP_IF_MATCH" not in environ:
            answer = self._answer(environ, method)
            if answer is not None:
                start_response(answer[0], list(answer[1]))
                return answer[2]
        return self.app(environ, start_response)

    def _answer(self, environ: dict, method: str):
        self._local.environ = environ  # for _kept: the fast path's _answer passes the path alone
        return super()._answer(environ, method)

    def _kept(self, path: str, base: str) -> Kept | None:
        environ = self._local.environ
        query = environ.get("QUERY_STRING", "")
        return self._cached((path, query, base), base, route, path, query, self.digest.specs, environ)
