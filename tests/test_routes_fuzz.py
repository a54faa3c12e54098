"""Arbitrary paths, query strings and headers on every route: never a 5xx, every error JSON."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROUTES = [
    "/", "/opml", "/healthz", "/openapi.json", "/api/v1/feeds",
    "/feeds/{feed}.atom", "/feeds/{feed}.rss", "/feeds/{feed}.json",
    "/feeds/{feed}/{date}", "/feeds/{feed}/{date}.md", "/feeds/{feed}/{date}.atom",
    "/api/v1/feeds/{feed}/days", "/api/v1/feeds/{feed}/days/{date}", "/api/v1/papers/{paper}",
]
TRAVERSALS = ["..", "../../etc/passwd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%5c..%5cwindows", "%00", "cs-cv%00.toml",
              "....//....//", "%252e%252e", "\u202e", "cs-cv/../../var", "~root"]

segment = st.one_of(st.sampled_from(["cs-cv", "2026-01-28", "2601.19887", "2601.19887v1", "hep-th/9901001", "nope",
                                     "2026-02-30", "9999-99-99", "-1", ""] + TRAVERSALS),
                    st.text(min_size=0, max_size=40))
query = st.dictionaries(st.sampled_from(["page", "per_page", "force", "date", "format", "q", "x"]),
                        st.one_of(st.integers(-10**12, 10**12).map(str), st.text(max_size=20)), max_size=3)
headers = st.dictionaries(
    st.sampled_from(["If-None-Match", "If-Modified-Since", "Accept-Encoding", "Accept", "Range", "Authorization"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60), max_size=3)


def check(resp, path=""):
    if path == "/healthz":  # 503 is its answer for a stale feed (the seed day is old), by design
        assert resp.status_code in (200, 503) and resp.get_json()["feeds"]
        return
    assert resp.status_code < 500, (resp.status_code, resp.data[:300])
    if resp.status_code >= 400:
        body = resp.get_json(silent=True)
        assert body and set(body["error"]) == {"code", "message"}, resp.data[:300]


@pytest.fixture
def published(digest, client):
    assert digest.refresh("cs-cv").outcome == "published"
    return client


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), feed=segment, date=segment, paper=segment, q=query, h=headers)
def test_any_request_is_answered_without_5xx(published, route, feed, date, paper, q, h):
    path = route.format(feed=quote(feed, safe=""), date=quote(date, safe=""), paper=quote(paper, safe="/"))
    check(published.get(path, query_string=q, headers=h), path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.text(max_size=80), method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]))
def test_any_path_and_method(published, path, method, llm_stub):
    calls = len(llm_stub.calls)
    # PATH_INFO as a server passes it: a path that starts with "//" stays a path (the test
    # client would otherwise read "//host/…" as a network location).
    resp = published.open("/", method=method, environ_overrides={"PATH_INFO": ("/" + path).encode("utf-8", "surrogatepass").decode("latin-1")})
    if method != "HEAD":
        check(resp)
    assert len(llm_stub.calls) == calls  # no anonymous request ever costs an LLM call


@pytest.mark.parametrize("raw", TRAVERSALS)
def test_traversal_never_serves_a_file(published, raw):
    for route in ("/feeds/{x}.atom", "/feeds/cs-cv/{x}", "/feeds/cs-cv/{x}.md", "/api/v1/papers/{x}"):
        resp = published.get(route.format(x=raw))
        check(resp)
        assert b"root:" not in resp.data and b"[feeds]" not in resp.data


def test_oversized_body_is_refused(published):
    resp = published.post("/api/v1/feeds/cs-cv/refresh", data=b"x" * (1 << 20))
    assert resp.status_code in (403, 413)
    check(resp)
