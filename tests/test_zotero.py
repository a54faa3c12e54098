"""A library on zotero.org through the Zotero Web API v3 (a loopback stub speaking its wire
format, our real client): paging, versions and 304s, at most one fetch a day, a copy on disk
that outlives every kind of failure, and a key that never shows anywhere but in its header."""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from pathlib import Path

import pytest

from service.config import parse_feed_spec
from service.errors import ConfigError
from service.library import LibraryError, load
from service.models import ZoteroLibrary
from service.pipeline import make_digest
from service.zotero import PAGE_BYTES, Zotero

from .stubs import ZoteroStub

RANKING = Path(__file__).parent / "ranking"
SECRET = "P9pQ2secretZoteroKey77"
USER = ZoteroLibrary("users", 475425, "ZOTERO_API_KEY")
NOW = dt.datetime(2026, 1, 28, 8, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def zotero_server():
    server = ZoteroStub()
    yield server
    server.close()


@pytest.fixture
def api(zotero_server):
    zotero_server.reset()
    zotero_server.key = SECRET
    return zotero_server


def _theme_library(api: ZoteroStub, path: str = "users/475425") -> None:
    """The 30 papers of tests/ranking's library, as Zotero items, each with a PDF attachment
    and a child note, plus a standalone note (none of those is a paper)."""
    for obj in json.loads((RANKING / "library.json").read_text("utf-8")):
        year = obj["issued"]["date-parts"][0][0]
        api.add(path, {"itemType": "journalArticle", "title": obj["title"], "abstractNote": obj.get("abstract", ""),
                       "creators": [{"creatorType": "author", "firstName": a.get("given", ""),
                                     "lastName": a.get("family", "")} for a in obj["author"]],
                       "date": str(year), "dateAdded": f"{year}-03-01T10:00:00Z"})
        api.add(path, {"itemType": "attachment", "title": "Full Text PDF", "contentType": "application/pdf"})
        api.add(path, {"itemType": "note", "note": "<p>read again</p>"})
    api.add(path, {"itemType": "note", "note": "<p>ideas</p>"})


def _client(tmp_path: Path, api: ZoteroStub, **kw) -> Zotero:
    kw.setdefault("timeout", 2.0)
    kw.setdefault("max_wait", 0.5)
    return Zotero(api.url, tmp_path / "zotero", {"ZOTERO_API_KEY": SECRET}, **kw)


def test_a_library_is_read_page_by_page_with_only_its_papers(tmp_path, api):
    _theme_library(api)
    lib, notes = _client(tmp_path, api).load(USER, NOW)
    assert notes == () and lib.format == "Zotero Web API" and lib.path == "Zotero user 475425"
    assert len(lib.items) == 30  # attachments and notes are not papers
    first = lib.items[0]
    assert first.title == "ORB-SLAM: A Versatile and Accurate Monocular SLAM System"
    assert first.authors[0] == "Raúl Mur-Artal" and first.year == 2015 and first.added == dt.date(2015, 3, 1)
    assert [i.title for i in lib.items] == [i.title for i in load(RANKING / "library.json").items]
    # 61 items that are not attachments: pages of 100 from start 0, no attachment asked for
    paths = api.paths("/users/475425/items")
    assert len(paths) == 1 and "limit=100" in paths[0] and "itemType=-attachment" in paths[0]
    sent = api.headers_seen[0]
    assert sent["Zotero-API-Version"] == "3" and sent["Zotero-API-Key"] == SECRET
    assert all(SECRET not in p for p in paths)  # in the header only, never in a URL
    assert SECRET.encode() not in (tmp_path / "zotero" / "users-475425.json").read_bytes()


def test_paging_follows_total_results_and_groups_have_their_own_path(tmp_path, api):
    for n in range(250):
        api.add("groups/9", {"itemType": "preprint", "title": f"Paper {n}", "creators": [{"name": "A Team"}]})
        if n % 5 == 0:  # notes are items of the paging too, though not papers
            api.add("groups/9", {"itemType": "note", "note": "<p>see this</p>"})
    lib, _ = _client(tmp_path, api).load(ZoteroLibrary("groups", 9, "ZOTERO_API_KEY"), NOW)
    assert [i.title for i in lib.items] == [f"Paper {n}" for n in range(250)]
    assert lib.items[0].authors == ("A Team",)
    starts = [p.split("start=")[1].split("&")[0] for p in api.paths("/groups/9/items")]
    assert starts == ["0", "100", "200"]  # 300 items: 250 papers and 50 notes


def test_fetched_at_most_daily_then_unchanged_is_a_304_and_a_new_version_is_read(tmp_path, api):
    _theme_library(api)
    zotero = _client(tmp_path, api)
    first, _ = zotero.load(USER, NOW)
    zotero.load(USER, NOW + dt.timedelta(hours=23))
    assert len(api.paths()) == 1  # within a day: the copy, no request
    again, notes = zotero.load(USER, NOW + dt.timedelta(hours=25))
    assert len(api.paths()) == 2 and api.headers_seen[-1]["If-Modified-Since-Version"] == "100"
    assert again == first and notes == ()
    zotero.load(USER, NOW + dt.timedelta(hours=30))
    assert len(api.paths()) == 2  # the 304 counts as a check: another day before the next
    api.version = 101
    api.add("users/475425", {"itemType": "journalArticle", "title": "A New SLAM Paper"})
    fresh, _ = _client(tmp_path, api).load(USER, NOW + dt.timedelta(days=3))  # a new process: the copy on disk
    assert api.headers_seen[-1]["If-Modified-Since-Version"] == "100"
    assert len(fresh.items) == 31 and fresh.items[-1].title == "A New SLAM Paper"
    head = json.loads((tmp_path / "zotero" / "users-475425.json").read_bytes().split(b"\n")[0])
    assert head["version"] == 101


def _huge_page() -> dict:
    return {"status": 200, "headers": {"Last-Modified-Version": "200", "Content-Type": "application/json"},
            "body": b"[" + b'{"data": {"title": "x"}},' * (PAGE_BYTES // 24) + b"{}]"}


FAILURES = {
    "5xx": ([{"status": 500, "body": b"oops"}] * 3, "the API answered 500"),
    "rate-limited": ([{"status": 503, "headers": {"Retry-After": "3600"}}] * 3,
                     "rate-limiting or unavailable (503), still after retries"),
    "bad key": ([{"status": 403, "body": b"Forbidden"}], "the API refused access (403): the key is wrong"),
    "garbage": ([{"status": 200, "headers": {"Last-Modified-Version": "200"}, "body": b"<html>Zotero</html>"}],
                "the API's answer is not JSON"),
    "not a list": ([{"status": 200, "headers": {"Last-Modified-Version": "200"}, "body": b'{"data": 1}'}],
                   "not a list of items"),
    "timeout": ([{"delay": 3.5, "status": 200, "body": b"[]"}] * 3, "could not be reached (ConnectionError)"),
    "huge": ([_huge_page()], f"more than {PAGE_BYTES:,} bytes"),
    "off-site redirect": ([{"status": 302, "headers": {"Location": "http://localhost:1/users/475425/items"}}],
                          "could not be reached (OffsiteRedirect)"),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failing_api_keeps_the_last_good_copy_and_says_what_failed(tmp_path, api, failure, caplog):
    faults, problem = FAILURES[failure]
    _theme_library(api)
    zotero = _client(tmp_path, api, retries=2)
    good, _ = zotero.load(USER, NOW)
    api.version = 200
    api.faults["/users/475425/items"] = list(faults)
    with caplog.at_level(logging.DEBUG):
        lib, notes = zotero.load(USER, NOW + dt.timedelta(days=2))
    assert lib == good
    assert len(notes) == 1 and notes[0].startswith("library Zotero user 475425: ") and problem in notes[0], notes
    assert notes[0].endswith("ranked with the copy of 2026-01-28")
    assert problem in caplog.text and SECRET not in caplog.text and SECRET not in notes[0]
    # without a copy the same failure is an error naming the library, and no copy is made
    api.faults["/users/475425/items"] = list(faults)
    fresh = _client(tmp_path / "other", api, retries=2)
    with pytest.raises(LibraryError) as e:
        fresh.load(USER, NOW)
    assert problem in str(e.value) and "Zotero user 475425" in str(e.value) and SECRET not in str(e.value)
    assert not (tmp_path / "other" / "zotero" / "users-475425.json").exists()


def test_retry_after_and_backoff_are_honoured_but_capped(tmp_path, api):
    for n in range(150):
        api.add("users/475425", {"itemType": "book", "title": f"Book {n}"})
    api.faults["/users/475425/items"] = [{"status": 429, "headers": {"Retry-After": "86400"}}]
    api.backoff = "86400"  # "wait a day before the next request"
    zotero = _client(tmp_path, api, max_wait=0.3)
    started = time.monotonic()
    lib, notes = zotero.load(USER, NOW)
    assert len(lib.items) == 150 and notes == ()
    assert time.monotonic() - started < 10  # neither a day nor an hour: capped at max_wait
    (t0, _), (t1, _), (t2, _) = api.times
    assert t1 - t0 >= 0.25 and t2 - t1 >= 0.25  # the 429's wait, then the Backoff between pages
    zotero.load(USER, NOW + dt.timedelta(days=2))
    assert len(api.times) == 3  # still inside the API's Backoff: the copy, no request


def test_a_missing_key_variable_or_a_private_library_without_a_key_is_said_plainly(tmp_path, api):
    _theme_library(api)
    with pytest.raises(LibraryError, match="ZOTERO_API_KEY \\(key_env\\) is not set"):
        Zotero(api.url, tmp_path / "z", {}).load(USER, NOW)
    assert api.paths() == []
    with pytest.raises(LibraryError, match="not public; set key_env"):
        Zotero(api.url, tmp_path / "z", {}, timeout=2).load(ZoteroLibrary("users", 475425), NOW)


def test_spec_library_table_names_a_user_or_group_and_the_keys_variable(tmp_path):
    path = tmp_path / "mine.toml"
    base = {"title": "Mine", "categories": ["cs.CV"]}
    spec = parse_feed_spec(path, {**base, "library": {"zotero_user": 475425, "key_env": "ZOTERO_API_KEY"}})
    assert spec.zotero == USER and spec.library is None
    assert parse_feed_spec(path, {**base, "library": {"zotero_group": "12"}}).zotero == ZoteroLibrary("groups", 12)
    for bad, said in (({"zotero_user": 1, "zotero_group": 2}, "one of zotero_user or zotero_group"),
                      ({}, "one of zotero_user or zotero_group"),
                      ({"zotero_user": "me"}, "positive integer id"),
                      ({"zotero_user": -3}, "positive integer id"),
                      ({"zotero_user": 1, "key": SECRET}, "unknown key 'key'"),
                      ({"zotero_user": 1, "key_env": "DIGEST_ADMIN_TOKEN"}, "ending in _API_KEY")):
        with pytest.raises(ConfigError, match=said):
            parse_feed_spec(path, {**base, "library": bad})


def _with_zotero(feeds_dir: Path, max_papers: int) -> None:
    spec = feeds_dir / "cs-cv.toml"
    text = spec.read_text("utf-8").replace("max_papers = 10", f"max_papers = {max_papers}")
    spec.write_text(text + 'library = { zotero_user = 475425, key_env = "ZOTERO_API_KEY" }\n', "utf-8")


def test_a_zotero_library_ranks_the_day_and_a_dead_api_falls_back_without_showing_the_key(
        env, feeds_dir, llm_stub, api, monkeypatch, caplog):
    from service.web import create_app

    monkeypatch.setenv("DIGEST_ZOTERO_API", api.url)
    monkeypatch.setenv("ZOTERO_API_KEY", SECRET)
    _theme_library(api)
    _with_zotero(feeds_dir, 2)
    d = make_digest()
    result = d.refresh("cs-cv")
    assert result.ok, result.message
    day = d.store.get_day("cs-cv", dt.date(2026, 1, 28))
    # the same ranking as the exported file's (tests/test_library.py)
    assert [e.paper.arxiv_id for e in day.entries] == ["2601.19887", "2601.19753"]
    assert any(w.startswith("similar to your library: ") for w in day.entries[0].why)
    d.close()

    # no copy and a refused key: the feed is published on its other signals, the reason shown
    api.key = "another"
    (Path(env["DIGEST_DATA_DIR"]) / "zotero" / "users-475425.json").unlink()
    spec = feeds_dir / "cs-cv.toml"
    spec.write_text(spec.read_text("utf-8").replace("max_papers = 2", "max_papers = 10"), "utf-8")
    d = make_digest()
    with caplog.at_level(logging.DEBUG):
        result = d.refresh("cs-cv", force=True)
    assert result.ok
    assert "library Zotero user 475425: the API refused access (403)" in result.message
    day = d.store.get_day("cs-cv", dt.date(2026, 1, 28))
    assert len(day.entries) == 10 and all(e.why == () for e in day.entries)
    client = create_app(digest_obj=d).test_client()
    pages = [client.get(u).data.decode() for u in ("/feeds/cs-cv/2026-01-28", "/feeds/cs-cv.atom", "/healthz",
                                                   "/api/v1/feeds/cs-cv/days/2026-01-28")]
    assert "Zotero user 475425: the API refused access (403)" in pages[2]  # /healthz: the last result
    assert all(SECRET not in p for p in pages) and SECRET not in caplog.text and SECRET not in result.message
    d.close()


def test_check_warns_when_the_keys_variable_is_not_set(env, feeds_dir, capsys, monkeypatch):
    from service.cli import main

    _with_zotero(feeds_dir, 10)
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)
    assert main(["check"]) == 0
    assert "warning: cs-cv: library Zotero user 475425: the environment variable ZOTERO_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv("ZOTERO_API_KEY", SECRET)
    assert main(["check"]) == 0
    assert "ZOTERO_API_KEY" not in capsys.readouterr().err
