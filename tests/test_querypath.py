"""Readers' views (`?q=`, `?author=`, `?keyword=`, `?min_score=`) and searches answered before
Flask (service/web/querypath.py) exactly as Flask answers them: status, every header in
order, every byte, conditional GETs; whatever Flask refuses still goes to Flask; a new
publication is served at once; memory stays within its bound whatever clients ask."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from urllib.parse import quote

import pytest

from service.pipeline import make_digest
from service.web import create_app
from service.web.querypath import QueryPath

from .test_fastpath import FEED, Counting, call, published, same  # noqa: F401 (published: a fixture)

QUERIES = [f"/feeds/{FEED}.{fmt}?{q}" for fmt in ("atom", "rss", "json")
           for q in ("q=reconstruction", "author=Xu", "keyword=SLAM", "min_score=0", "q=zzyzx", "x=1")] + [
    "/api/v1/search?q=reconstruction", "/api/v1/search?q=reconstruction&per_page=1",
    "/api/v1/search?q=reconstruction&per_page=1&page=2", f"/api/v1/search?q=the&feed={FEED}",
    f"/api/v1/search?q={quote('设计动机')}", "/api/v1/search?q=zzyzx",
    "/search?q=reconstruction", "/search?q=reconstruction&per_page=2", "/search?q="]


@pytest.fixture
def apps(published):  # noqa: F811
    flask_app = create_app(digest_obj=published, fast=False)
    fast_app = create_app(digest_obj=published)
    query_path = fast_app.wsgi_app.app
    assert isinstance(query_path, QueryPath)
    behind = query_path.app = Counting(query_path.app)
    return flask_app, fast_app, behind


def test_views_and_searches_are_answered_as_flask_does_without_flask(apps):
    flask_app, fast_app, behind = apps
    for path in QUERIES:
        for enc in ({}, {"Accept-Encoding": "gzip"}):
            status, headers, body = same(flask_app, fast_app, path, headers=enc)
            assert status == "200 OK" and body, path
            h = dict(headers)
            assert ("Content-Encoding" in h) == bool(enc)
            assert ("Content-Security-Policy" in h) == path.startswith("/search"), path
            if path.startswith("/api/") and not enc:  # a next page: in the document and its Link
                assert ("Link" in h) == (json.loads(body)["next"] is not None), path
            etag, last_modified = h["ETag"], h["Last-Modified"]
            for cond, expect in (({"If-None-Match": etag}, "304 NOT MODIFIED"),
                                 ({"If-None-Match": '"other"'}, "200 OK"),
                                 ({"If-Modified-Since": last_modified}, "304 NOT MODIFIED")):
                for method in ("GET", "HEAD"):
                    assert same(flask_app, fast_app, path, method, {**enc, **cond})[0] == expect, (path, cond)
    assert behind.calls == 0  # every one of those was answered before Flask


@pytest.mark.parametrize("path, status", [
    ("/feeds/cs-cv.atom?q=" + "x" * 101, "400 BAD REQUEST"),
    ("/feeds/cs-cv.atom?q=a&q=b", "400 BAD REQUEST"),
    ("/feeds/cs-cv.atom?min_score=abc", "400 BAD REQUEST"),
    ("/feeds/cs-cv.atom?author=%01", "400 BAD REQUEST"),
    ("/feeds/nope.atom?q=x", "404 NOT FOUND"),
    ("/api/v1/search?q=", "400 BAD REQUEST"),
    ("/api/v1/search?per_page=3", "400 BAD REQUEST"),
    ("/api/v1/search?q=reconstruction&page=999", "404 NOT FOUND"),
    ("/api/v1/search?q=reconstruction&per_page=101", "400 BAD REQUEST"),
    ("/api/v1/search?q=reconstruction&feed=nope", "400 BAD REQUEST"),
    ("/api/v1/search?q=" + "x" * 201, "400 BAD REQUEST"),
    ("/search?q=" + "a+" * 17, "400 BAD REQUEST"),
    ("/api/v1/feeds/cs-cv/days?page=2&per_page=1", "200 OK"),  # not a view or a search
])
def test_what_flask_refuses_or_the_query_path_does_not_serve_goes_to_flask(apps, path, status):
    flask_app, fast_app, behind = apps
    assert same(flask_app, fast_app, path)[0] == status
    assert behind.calls >= 1


def test_a_publication_is_in_views_and_searches_at_once(apps, published, env):  # noqa: F811
    flask_app, fast_app, behind = apps
    paths = [f"/feeds/{FEED}.atom?q=reconstruction", "/api/v1/search?q=reconstruction"]
    before = [same(flask_app, fast_app, p) for p in paths]
    other = make_digest()  # another process publishes
    try:
        newest = other.day_dates(FEED)[0]
        new_date = newest + dt.timedelta(days=1)
        other.publish(other.spec(FEED), replace(other.day(FEED, newest), date=new_date))
    finally:
        other.store.close()
    for path, old in zip(paths, before):
        new = same(flask_app, fast_app, path)
        assert new[2] != old[2] and new_date.isoformat().encode() in new[2], path
    assert behind.calls == 0


def test_memory_is_bounded_whatever_queries_clients_send(published):  # noqa: F811
    fast_app = create_app(digest_obj=published)
    small = QueryPath(fast_app.wsgi_app.app.app, published, max_bytes=100_000)
    for i in range(300):
        for path in (f"/feeds/{FEED}.atom?q=the&x={i}", f"/api/v1/search?q=the&per_page={1 + i % 100}"):
            assert call(small, path)[0] == "200 OK"
            assert small.size <= 100_000
    assert 0 < len(small.kept) < 300


def test_a_search_page_has_ten_results_unless_asked(apps):
    flask_app, fast_app, _ = apps
    first = json.loads(same(flask_app, fast_app, "/api/v1/search?q=the")[2])
    assert first["total"] > 10 and first["per_page"] == 10 and len(first["results"]) == 10
    assert first["next"].endswith("page=2&per_page=10")
    everything = json.loads(same(flask_app, fast_app, "/api/v1/search?q=the&per_page=100")[2])
    assert [r["versioned_id"] for r in everything["results"][:10]] == [r["versioned_id"] for r in first["results"]]
