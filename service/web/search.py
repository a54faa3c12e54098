"""Search: the JSON API, the HTML page and the OpenSearch description.

Answered from the search index (service/search.py), never from upstream or an LLM.
Responses are rendered per request and kept nowhere; they change only when a day is
published, so they carry an ETag and the same Cache-Control as the stored documents.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from pathlib import Path

from flask import Blueprint, request

from ..errors import BadRequest, NotFound
from ..models import RenderedDoc
from ..pipeline import Digest
from ..render import NEVER, make_doc
from ..render.api import JSON_TYPE, dumps
from ..render.html import HTML_TYPE
from ..render.search import OPENSEARCH_TYPE, render_opensearch, render_search_api, render_search_page
from ..search import Results
from ..urls import Urls
from .api import _int_arg
from .common import CSP, base_url, digest, serve_doc

bp = Blueprint("search", __name__)

#: Results per page unless asked (`per_page`): 10, as the web's search engines show; each hit
#: is a snippet cut, highlighted and rendered in Python, the most of a new query's CPU after
#: the index (BENCHMARKS.md, "Search").
DEFAULT_PER_PAGE, MAX_PER_PAGE = 10, 100
#: The search page submits its own form (every other page keeps `form-action 'none'`).
SEARCH_CSP = CSP.replace("form-action 'none'", "form-action 'self'")


def _one(name: str, args) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise BadRequest(name, f"give {name} once, not {len(values)} times")
    return values[0] if values else None


def _results(d: Digest, args, require_q: bool) -> Results | None:
    q, feed = _one("q", args), _one("feed", args) or None
    if q is None or (not q.strip() and not require_q):
        if require_q:
            raise BadRequest("q", "q is missing: /api/v1/search?q=words")
        return None
    page = _int_arg("page", 1, 1, 1_000_000, args)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE, args)
    results = d.search(q, feed, page, per_page)
    if page > 1 and not results.hits:
        raise NotFound("page", str(page), f"page {page} is past the last page of results ({results.total} results)")
    return results


def _changed(d: Digest) -> dt.datetime:
    """Results change only when the index is written (a day published): its file's mtime."""
    try:
        return dt.datetime.fromtimestamp(d.index.path.stat().st_mtime, dt.timezone.utc)
    except OSError:
        return NEVER


#: Rendered responses of the results the façade remembers (`Digest.search` hands back the
#: same `Results` object while the index has not moved), per process.
MAX_RENDERED = 128
_rendered: OrderedDict[tuple[str, str, int], tuple[Results, RenderedDoc]] = OrderedDict()
_rendered_lock = threading.Lock()


def _render(kind: str, base: str, results: Results, render: Callable[[], RenderedDoc]) -> RenderedDoc:
    key = (kind, base, id(results))
    with _rendered_lock:
        found = _rendered.get(key)
        if found is not None and found[0] is results:
            _rendered.move_to_end(key)
            return found[1]
    doc = render()
    with _rendered_lock:
        _rendered[key] = (results, doc)  # holding `results` keeps its id from being reused
        while len(_rendered) > MAX_RENDERED:
            _rendered.popitem(last=False)
    return doc


def api_document(d: Digest, args, base: str) -> tuple[RenderedDoc, dict[str, str]]:
    """The API's answer to these query parameters and its extra headers (Flask's route and
    the query path, querypath.py, both serve this)."""
    results = _results(d, args, require_q=True)
    doc = _render("api", base, results, lambda: make_doc(dumps(render_search_api(results, base)), JSON_TYPE,
                                                         _changed(d)))
    headers = {}
    if results.has_next:
        headers["Link"] = f'<{Urls(base).api_search(results.query, results.feed, results.page + 1, results.per_page)}>; rel="next"'
    return doc, headers


def page_document(d: Digest, args, base: str) -> tuple[RenderedDoc, dict[str, str]]:
    """The HTML search page (the form alone without `q`) and its extra headers."""
    results = _results(d, args, require_q=False)

    def render() -> RenderedDoc:
        return make_doc(render_search_page(results, d.specs, base), HTML_TYPE, _changed(d))

    doc = render() if results is None else _render("html", base, results, render)
    return doc, {"Content-Security-Policy": SEARCH_CSP}


@bp.get("/api/v1/search")
def api_search():
    return serve_doc(*api_document(digest(), request.args, base_url()))


@bp.get("/search")
def page():
    return serve_doc(*page_document(digest(), request.args, base_url()))


@cache
def _opensearch(base: str) -> RenderedDoc:
    changed = dt.datetime.fromtimestamp(Path(__file__).stat().st_mtime, dt.timezone.utc)
    return make_doc(render_opensearch(base), OPENSEARCH_TYPE, changed)


@bp.get("/opensearch.xml")
def opensearch():
    return serve_doc(_opensearch(base_url()))
