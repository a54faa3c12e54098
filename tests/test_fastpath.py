"""The fast path answers exactly what the Flask path answers, for every stored document.

Two apps over one store: `create_app(fast=False)` (Flask alone) and `create_app()` (the
fast path in front). Both are called as WSGI apps, so status, every header in order and
every byte are compared as a server would send them. The Flask app behind the fast path
is wrapped to count calls: a comparison only counts when the fast path answered itself.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from werkzeug.http import http_date
from werkzeug.test import EnvironBuilder

from service.pipeline import make_digest
from service.urls import Urls
from service.web import create_app
from service.web.fastpath import BACKSTOP, MEMO, FastPath

FEED = "cs-cv"
ROOT = Path(__file__).resolve().parent.parent


class Counting:
    """The Flask app behind the fast path, counting the requests that reached it."""

    def __init__(self, app):
        self.app, self.calls = app, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


@pytest.fixture
def published(digest):
    """The seed day and two earlier days (so day pages have neighbours)."""
    digest.refresh(FEED)
    newest = digest.day_dates(FEED)[0]
    day = digest.day(FEED, newest)
    for back in (1, 2):
        digest.publish(digest.spec(FEED), replace(day, date=newest - dt.timedelta(days=back)))
    return digest


@pytest.fixture
def apps(published):
    flask_app = create_app(digest_obj=published, fast=False)
    fast_app = create_app(digest_obj=published)
    assert isinstance(fast_app.wsgi_app, FastPath)
    behind = fast_app.wsgi_app.app = Counting(fast_app.wsgi_app.app)
    return flask_app, fast_app, behind


def call(app, path: str, method: str = "GET", headers: dict | None = None, **environ) -> tuple:
    """One WSGI request: (status, [(name, value), ...] as sent, body)."""
    path, _, query = path.partition("?")
    env = EnvironBuilder(path=path, method=method, headers=headers or {}, query_string=query,
                         base_url="http://localhost").get_environ()
    env.update(environ)
    out = []
    body = app(env, lambda status, hdrs, exc_info=None: out.append((status, list(hdrs))))
    data = b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return out[0][0], out[0][1], data


def same(flask_app, fast_app, path: str, method: str = "GET", headers: dict | None = None, **environ) -> tuple:
    """Both answers, asked within one second: Date and max-age move with the clock, and Flask
    may read the clock for them on either side of a second, so a pair that straddles one is
    asked again (a real difference repeats)."""
    for _ in range(5):
        a = call(flask_app, path, method, headers, **environ)
        b = call(fast_app, path, method, headers, **environ)
        if all(dict(a[1]).get(h) == dict(b[1]).get(h) for h in ("Date", "Cache-Control")):
            break
    assert a == b, (path, method, headers)
    return b


def documents(digest) -> list[str]:
    urls = Urls("")
    paths = [urls.feed(FEED, fmt) for fmt in ("atom", "rss", "json")]
    for date in digest.day_dates(FEED):
        paths += [urls.day(FEED, date, fmt) for fmt in ("html", "md", "atom", "api")]
    return paths + [urls.index(), urls.opml(), urls.api_feeds(), urls.api_days(FEED)]


def _max_age(headers) -> int:
    return int(re.search(r"max-age=(\d+)", dict(headers)["Cache-Control"]).group(1))


def test_every_document_encoding_and_condition_is_answered_as_flask_does(apps, published):
    flask_app, fast_app, behind = apps
    paths = documents(published)
    assert len(paths) == 3 + 3 * 4 + 4
    future = http_date(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2))
    past = http_date(dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc))
    for path in paths:
        for enc in ({}, {"Accept-Encoding": "gzip, deflate, br"}):
            status, headers, body = same(flask_app, fast_app, path, headers=enc)
            assert status == "200 OK" and body, path
            h = dict(headers)
            assert h["Vary"] == "Accept-Encoding" and ("Content-Encoding" in h) == bool(enc)
            html = path == "/" or (path.startswith("/feeds/") and "." not in path.rsplit("/", 1)[1])
            assert ("Content-Security-Policy" in h) == html, path
            etag, last_modified = h["ETag"], h["Last-Modified"]
            head = same(flask_app, fast_app, path, "HEAD", enc)
            assert head[0] == status and head[2] == b""
            # the same headers; max-age counts down per second, and the two requests may straddle one
            assert [x for x in head[1] if x[0] not in ("Date", "Cache-Control")] == \
                [x for x in headers if x[0] not in ("Date", "Cache-Control")]
            assert abs(_max_age(head[1]) - _max_age(headers)) <= 1
            for cond, expect in (({"If-None-Match": etag}, "304 NOT MODIFIED"),
                                 ({"If-None-Match": f"W/{etag}, \"other\""}, "304 NOT MODIFIED"),
                                 ({"If-None-Match": "*"}, "304 NOT MODIFIED"),
                                 ({"If-None-Match": '"other"'}, "200 OK"),
                                 ({"If-Modified-Since": last_modified}, "304 NOT MODIFIED"),
                                 ({"If-None-Match": '"other"', "If-Modified-Since": last_modified}, "200 OK"),
                                 ({"If-Modified-Since": future}, "200 OK"),
                                 ({"If-Modified-Since": "yesterday"}, "200 OK"),
                                 ({"If-Modified-Since": past}, "200 OK"),
                                 # a list: the first tag another version's, ours weak, last
                                 ({"If-None-Match": f'"a", W/"b", W/{etag}'}, "304 NOT MODIFIED"),
                                 ({"If-None-Match": f'"a",{etag}'}, "304 NOT MODIFIED"),
                                 ({"If-None-Match": f"w/{etag}"}, "304 NOT MODIFIED"),
                                 ({"If-None-Match": etag.strip('"')}, "304 NOT MODIFIED"),  # unquoted
                                 ({"If-None-Match": f'"{etag[1:-1]}x"'}, "200 OK"),
                                 ({"If-None-Match": ""}, "200 OK"),
                                 ({"If-None-Match": "", "If-Modified-Since": last_modified}, "304 NOT MODIFIED"),
                                 # If-None-Match decides alone when present, a future date or not
                                 ({"If-None-Match": etag, "If-Modified-Since": future}, "304 NOT MODIFIED"),
                                 ({"If-None-Match": etag, "If-Modified-Since": past}, "304 NOT MODIFIED"),
                                 ({"If-None-Match": '"other"', "If-Modified-Since": future}, "200 OK")):
                for method in ("GET", "HEAD"):
                    got = same(flask_app, fast_app, path, method, {**enc, **cond})
                    assert got[0] == expect, (path, cond, got[0])
    assert behind.calls == 0  # every one of those was the fast path's own answer


def test_every_accept_encoding_picks_the_variant_flask_picks(apps):
    flask_app, fast_app, behind = apps
    for value in ("gzip", "GZIP", "x-gzip", "gzip;q=0", "deflate", "br, identity", "identity", "*", ""):
        for path in ("/feeds/cs-cv.atom", "/"):
            status, headers, _ = same(flask_app, fast_app, path, headers={"Accept-Encoding": value})
            assert status == "200 OK" and dict(headers)["Vary"] == "Accept-Encoding"
            etag = dict(headers)["ETag"]
            got = same(flask_app, fast_app, path, headers={"Accept-Encoding": value, "If-None-Match": etag})
            assert got[0] == "304 NOT MODIFIED"
    assert behind.calls == 0


def test_header_values_clients_choose_are_remembered_within_a_bound(apps):
    """Accept-Encoding, If-None-Match, If-Modified-Since and Host are parsed once per value
    and remembered; a client sending a new value on every request grows nothing."""
    flask_app, fast_app, behind = apps
    fast = fast_app.wsgi_app
    for i in range(3 * MEMO):
        headers = {"Accept-Encoding": f"gzip;v={i}", "If-None-Match": f'"tag{i}"',
                   "If-Modified-Since": http_date(dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=i))}
        assert call(fast_app, "/feeds/cs-cv.atom", headers=headers)[0] == "200 OK"
    assert 0 < max(len(fast._gzip), len(fast._etags), len(fast._dates)) <= MEMO
    assert behind.calls == 0


def test_the_first_request_after_a_publish_gets_the_new_day_from_every_worker(apps, published, env):
    flask_app, fast_app, behind = apps
    before = same(flask_app, fast_app, "/feeds/cs-cv.atom")
    index_before = same(flask_app, fast_app, "/")
    other = make_digest()  # another worker's (or the refresh process's) own store connection
    try:
        newest = other.day_dates(FEED)[0]
        new_date = newest + dt.timedelta(days=1)
        other.publish(other.spec(FEED), replace(other.day(FEED, newest), date=new_date))
    finally:
        other.store.close()
    after = same(flask_app, fast_app, "/feeds/cs-cv.atom")
    assert after[2] != before[2] and new_date.isoformat().encode() in after[2]
    assert dict(after[1])["ETag"] != dict(before[1])["ETag"]
    assert same(flask_app, fast_app, "/")[2] != index_before[2]
    status, _, body = same(flask_app, fast_app, f"/feeds/cs-cv/{new_date.isoformat()}")
    assert status == "200 OK" and new_date.isoformat().encode() in body
    assert behind.calls == 0


@pytest.mark.parametrize("path, method, headers, environ, status", [
    ("/feeds/cs-cv.atom?x=1", "GET", {}, {}, "200 OK"),  # query strings: Flask's
    ("/api/v1/feeds/cs-cv/days?page=2&per_page=1", "GET", {}, {}, "200 OK"),
    ("/api/v1/feeds/cs-cv/days?page=0", "GET", {}, {}, "400 BAD REQUEST"),
    ("/feeds/nope.atom", "GET", {}, {}, "404 NOT FOUND"),
    ("/feeds/cs-cv/2026-13-01", "GET", {}, {}, "400 BAD REQUEST"),
    ("/feeds/cs-cv/1999-01-01.md", "GET", {}, {}, "404 NOT FOUND"),
    ("/feeds/cs-cv.atom/", "GET", {}, {}, "404 NOT FOUND"),
    ("/feeds/cs-cv.atom", "POST", {}, {}, "405 METHOD NOT ALLOWED"),
    ("/feeds/cs-cv.atom", "GET", {"Host": "evil.example"}, {}, "400 BAD REQUEST"),
    ("/feeds/cs-cv.atom", "GET", {"Host": "localhost:1234"}, {}, "400 BAD REQUEST"),
    ("/feeds/cs-cv.atom", "GET", {"Range": "bytes=0-10"}, {}, "200 OK"),
    ("/feeds/cs-cv.atom", "GET", {"If-Match": '"nope"'}, {}, "412 PRECONDITION FAILED"),
    ("/healthz", "GET", {}, {}, None),
])
def test_what_the_fast_path_does_not_answer_goes_to_flask_unchanged(apps, path, method, headers, environ, status):
    flask_app, fast_app, behind = apps
    got = same(flask_app, fast_app, path, method, headers, **environ)
    assert status is None or got[0] == status
    assert behind.calls >= 1


def test_an_allowed_host_is_served_fast_with_its_own_links(apps):
    flask_app, fast_app, behind = apps
    for host in ("localhost", "LOCALHOST", "127.0.0.1", "localhost:80"):
        status, _, body = same(flask_app, fast_app, "/feeds/cs-cv.atom", headers={"Host": host})
        assert status == "200 OK" and f"http://{host.lower().removesuffix(':80')}".encode() in body
    assert behind.calls == 0


def test_memory_is_bounded_whatever_clients_ask(published):
    fast_app = create_app(digest_obj=published)
    small = FastPath(fast_app.wsgi_app.app, published, max_bytes=60_000)
    paths = documents(published)
    for host in ("localhost", "127.0.0.1"):
        for path in paths:
            call(small, path, headers={"Host": host})
            assert small.size <= 60_000
    assert 0 < len(small.kept) < 2 * len(paths)
    kept = len(small.kept)
    for i in range(200):  # refused hosts keep nothing
        assert call(small, "/feeds/cs-cv.atom", headers={"Host": f"h{i}.example"})[0] == "400 BAD REQUEST"
    assert len(small.kept) <= kept and small.size <= 60_000
    # what no longer fits is still served, identically
    flask_app = create_app(digest_obj=published, fast=False)
    for path in paths:
        same(flask_app, small, path, headers={"Accept-Encoding": "gzip"})


def test_an_edited_spec_is_served_at_once_by_the_fast_path(env, feeds_dir, llm_stub):
    """The fast path keeps bytes per feed generation *and* spec: a new title shows without
    a publication, and the fast path itself picks up the edit (no Flask request needed)."""
    import time

    from service.pipeline import SPECS_CHECK_INTERVAL, make_digest
    from service.web import create_app

    d = make_digest()
    d.refresh("cs-cv")
    client = create_app(digest_obj=d).test_client()
    assert b"<title>Edited: " not in client.get("/feeds/cs-cv.atom").data
    spec = feeds_dir / "cs-cv.toml"
    spec.write_text(spec.read_text("utf-8").replace('title = "', 'title = "Edited: ', 1), "utf-8")
    time.sleep(SPECS_CHECK_INTERVAL + 0.1)
    assert b"<title>Edited: " in client.get("/feeds/cs-cv.atom").data
    d.close()


def _publish_next_day(digest) -> dt.date:
    newest = digest.day_dates(FEED)[0]
    new_date = newest + dt.timedelta(days=1)
    digest.publish(digest.spec(FEED), replace(digest.day(FEED, newest), date=new_date))
    return new_date


def test_publications_within_one_tick_of_the_file_clock_are_each_served_at_once(apps, published):
    """The mark grows by a byte per publication, so publications that leave it with the same
    mtime (file systems with a coarse clock: ext4 on older kernels ticks every few ms, FAT
    every 2 s; simulated here by setting the mtime back) still move it."""
    flask_app, fast_app, behind = apps
    mark = published.store.mark_path
    other = make_digest()
    try:
        for _ in range(3):
            new_date = _publish_next_day(other)
            os.utime(mark, ns=(10**18, 10**18))
            got = same(flask_app, fast_app, "/feeds/cs-cv.atom")
            assert new_date.isoformat().encode() in got[2]
    finally:
        other.store.close()
    assert behind.calls == 0


def test_a_publication_that_could_not_be_marked_is_served_within_the_backstop(apps, published, caplog):
    """A writer that does not leave the mark (an older release during a deploy, a mark that
    cannot be written) is still seen: the generations are read again after BACKSTOP seconds."""
    flask_app, fast_app, behind = apps
    same(flask_app, fast_app, "/feeds/cs-cv.atom")
    mark = Path(published.store.mark_path)
    mark.unlink(missing_ok=True)
    mark.mkdir()  # appending to it fails; the publication itself succeeds
    other = make_digest()
    try:
        new_date = _publish_next_day(other)
        published_at = time.monotonic()
    finally:
        other.store.close()
    assert "cannot append" in caplog.text
    new = new_date.isoformat().encode()
    while new not in call(fast_app, "/feeds/cs-cv.atom")[2]:
        assert time.monotonic() - published_at < BACKSTOP + 0.5, "not served within the backstop"
        time.sleep(0.02)
    assert behind.calls == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PUBLISH = textwrap.dedent("""
    import dataclasses, datetime as dt
    from service.pipeline import make_digest
    d = make_digest()
    newest = d.day_dates("cs-cv")[0]
    new = newest + dt.timedelta(days=1)
    d.publish(d.spec("cs-cv"), dataclasses.replace(d.day("cs-cv", newest), date=new))
    d.store.close()
    print(new.isoformat())
""")


def test_gunicorn_workers_serve_a_publication_by_another_process_on_their_next_request(published):
    """Real processes: gunicorn with two workers (the product's settings) keeps the feed in
    memory; a separate process publishes a day; every request answered after that process
    has exited carries the new day, in either worker, with no waiting."""
    published.store.close()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                             "--workers", "2", "wsgi:app"], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/feeds/cs-cv.atom"

    def many(n: int = 64) -> list[bytes]:
        """n requests on their own connections, 8 at a time: the kernel spreads the
        connections over both workers' accept loops."""
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda _: requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=30).content,
                                 range(n)))
    try:
        for _ in range(100):
            try:
                requests.get(url, timeout=30)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError(proc.stderr.read1().decode())
        before = many()
        assert len(set(before)) == 1  # both workers keep the same feed
        done = subprocess.run([sys.executable, "-c", PUBLISH], cwd=ROOT, env=os.environ.copy(),
                              capture_output=True, text=True, check=True)
        new_date = done.stdout.strip()
        after = many()
        assert all(new_date.encode() in body for body in after), new_date  # requests gunzips
        assert new_date.encode() not in before[0]
    finally:
        proc.terminate()
        proc.wait(10)
