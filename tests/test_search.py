"""Search across everything published: FTS5 index written at publish, hostile queries,
Chinese terms, pagination, escaping, read-only data directories and OpenSearch."""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from service.cli import main
from service.pipeline import make_digest
from service.search import feed_token, parse_query
from service.web import create_app

from .test_api import check, spec  # noqa: F401 - spec is a fixture

DATE = dt.date(2026, 1, 28)
#: Added to one paper's analysis by the LLM stub; in no title or abstract.
MARKED = "2601.19887v1"
WORD = "quorblexing"
CHINESE = "该方法还借鉴了蜂巢采样思想。"


@pytest.fixture
def marked(llm_stub):
    llm_stub.extra[MARKED] = f"另外，作者使用 {WORD} 技巧。{CHINESE}"
    return llm_stub


@pytest.fixture
def published(marked, digest):
    assert digest.refresh("cs-cv").outcome == "published"
    return digest


def search(client, query: str, **params):
    return client.get("/api/v1/search", query_string={"q": query, **params})


def rows(digest) -> list[tuple]:
    """The indexed entries; the full-text index must hold exactly as many rows (none left over
    from a replaced day)."""
    with closing(sqlite3.connect(digest.index.path)) as con:
        found = con.execute("SELECT feed, date, arxiv_id FROM entries ORDER BY feed, date, arxiv_id").fetchall()
        indexed = con.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (f'feed : "{feed_token("cs-cv")}"',))
        assert indexed.fetchone()[0] == len(found)
    return found


def test_publishing_writes_the_index(published):
    """The publish step itself indexes the day: the file and the feed's generation are there."""
    assert published.index.path == published.store.data_dir / "search.sqlite"
    assert published.index.generations() == {"cs-cv": published.store.generation("cs-cv")}
    assert len(rows(published)) == 10


def test_a_word_of_the_analysis_alone_finds_the_paper(published, client, spec):
    day = published.day("cs-cv", DATE)
    entry = next(e for e in day.entries if e.paper.versioned_id == MARKED)
    assert WORD in "".join(body for _, body in entry.analysis.sections)  # the gate let it through
    assert not any(WORD in f"{e.paper.title} {e.paper.abstract}" for e in day.entries)
    resp = search(client, WORD)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    check(spec, "SearchPage", resp.json)
    [hit] = resp.json["results"]
    assert (hit["versioned_id"], hit["feed"], hit["date"]) == (MARKED, "cs-cv", "2026-01-28")
    assert hit["links"]["paper"] == "http://localhost/papers/2601.19887"
    assert hit["links"]["day"] == f"http://localhost/feeds/cs-cv/2026-01-28#{MARKED}"
    assert hit["snippet"]["field"] == "analysis"
    assert f"<mark>{WORD}</mark>" in hit["snippet"]["html"] and WORD in hit["snippet"]["text"]
    assert client.get(hit["links"]["paper"]).status_code == 200
    assert client.get(hit["links"]["day"].split("#")[0]).status_code == 200
    # another form of the word finds it too (Porter stems), whatever the case, and is marked
    [stem] = search(client, "Quorblexed").json["results"]
    assert stem["versioned_id"] == MARKED and f"<mark>{WORD}</mark>" in stem["snippet"]["html"]


@pytest.mark.parametrize("term", ["蜂巢", "采样思", "蜂巢采样", "借鉴了蜂巢"])
def test_chinese_terms_of_two_or_more_characters_find_the_paper(published, client, term):
    """Chinese is written without spaces: a 2- or 3-character term inside a sentence must match."""
    resp = search(client, term)
    assert [h["versioned_id"] for h in resp.json["results"]] == [MARKED], term
    assert f"<mark>{term}</mark>" in resp.json["results"][0]["snippet"]["html"]


def test_chinese_terms_not_written_do_not_match(published, client):
    # every character occurs ("蜂", "巢", "采", "样"), not in this order
    assert search(client, "巢蜂").json["total"] == 0
    assert search(client, "样采").json["total"] == 0
    # one character: the words that start with it
    assert [h["versioned_id"] for h in search(client, "蜂").json["results"]] == [MARKED]


def test_every_word_must_match(published, client):
    assert search(client, f"{WORD} Calligraphy").json["total"] == 0  # in another paper
    assert search(client, f"{WORD} VGGT").json["total"] == 1


# --- hostile queries --------------------------------------------------------------------
@pytest.mark.parametrize("query", ['"', "*", "NEAR(", "NEAR(VGGT SLAM, 2)", "VGGT OR", "OR", "-", "-VGGT",
                                   "title:VGGT", "authors:", "{title abstract}: VGGT", "VGGT*", "^VGGT",
                                   '"VGGT', "VGGT AND", "NOT", "(", ")", "+", "a\"b\"c", "''", "\\", "%_",
                                   "rowid=1", "'; DROP TABLE entries; --"])
def test_query_syntax_is_never_interpreted(published, client, query):
    """Every input is words or a 400 naming q; never FTS5 syntax, never a 500."""
    resp = search(client, query)
    assert resp.status_code in (200, 400), (query, resp.status_code, resp.data[:200])
    assert resp.headers["Content-Type"].startswith("application/json")
    if resp.status_code == 400:
        assert resp.json["error"]["code"] == "bad_request" and "q" in resp.json["error"]["message"]
    assert len(rows(published)) == 10


def test_operators_are_words(published, client):
    """`OR` would widen the query, `-`/`NOT` narrow it, `*` make a prefix, `title:` pick a
    column: as words they do none of these."""
    vggt = search(client, "VGGT").json["total"]
    assert vggt >= 1
    assert search(client, "Calligraphy").json["total"] == 1
    assert search(client, f"{WORD} OR Calligraphy").json["total"] == 0  # as syntax: two papers
    assert search(client, f"Calligraphy NOT {WORD}").json["total"] == 0  # as syntax: one paper
    assert search(client, "VGG*").json["total"] == 0  # as syntax: a prefix of VGGT
    assert search(client, "title:VGGT").json["total"] == 0  # "title" is not in those papers
    assert parse_query('a" OR title:b NEAR(c *')[0] == '"a" AND "OR" AND "title b" AND "NEAR c"'


def test_query_length_and_emptiness(published, client):
    assert search(client, "x" * 200).status_code == 200
    long = search(client, "x" * 201)
    assert long.status_code == 400 and "200" in long.json["error"]["message"]
    for url in ("/api/v1/search", "/api/v1/search?q=", "/api/v1/search?q=%20%20", "/api/v1/search?q=a&q=b",
                "/api/v1/search?q=%00VGGT", "/api/v1/search?q=VGGT%0d%0a"):
        resp = client.get(url)
        assert resp.status_code == 400 and resp.json["error"]["code"] == "bad_request", url
    assert search(client, " ".join("abcdefghijklmnopq")).status_code == 400  # 17 words
    # the page without a query is the empty form
    for url in ("/search", "/search?q=", "/search?q=+"):
        page = client.get(url)
        assert page.status_code == 200 and b'name="q"' in page.data and b"result" not in page.data, url


# --- pagination, order, filters ---------------------------------------------------------------
def test_pages_order_and_feed_filter(published, client, spec):
    spec_cv = published.spec("cs-cv")
    day = published.day("cs-cv", DATE)
    for offset in (1, 2, 3):
        published.publish(spec_cv, replace(day, date=DATE - dt.timedelta(days=offset)))
    total = search(client, WORD).json["total"]
    assert total == 4  # one paper, four days
    url, seen = f"/api/v1/search?q={WORD}&per_page=3", []
    while url:
        resp = client.get(url)
        check(spec, "SearchPage", resp.json)
        seen += [(h["score"], h["date"]) for h in resp.json["results"]]
        url = resp.json["next"]
        assert (resp.headers.get("Link") == f'<{url}>; rel="next"') if url else "Link" not in resp.headers
    # equal text: equal scores, newest day first
    assert [d for _, d in seen] == ["2026-01-28", "2026-01-27", "2026-01-26", "2026-01-25"]
    generic = search(client, "VGGT", per_page=100).json["results"]
    scores = [h["score"] for h in generic]
    assert scores == sorted(scores, reverse=True)
    assert client.get(f"/api/v1/search?q={WORD}&per_page=3&page=3").status_code == 404
    for bad in ("page=0", "page=%C2%B2", "page=-1", "page=1.0", "per_page=101", "per_page=0", "page=1e3"):
        resp = client.get(f"/api/v1/search?q={WORD}&{bad}")
        assert resp.status_code == 400 and resp.json["error"]["code"] == "bad_request", bad
    assert search(client, WORD, feed="cs-cv").json["total"] == 4
    unknown = search(client, WORD, feed="nope")
    assert unknown.status_code == 400 and "feed" in unknown.json["error"]["message"]


def test_feeds_are_told_apart(marked, env, feeds_dir):
    """The feed filter, with one feed's name a prefix of another's, and a feed removed from feeds/."""
    (feeds_dir / "cs-cv-more.toml").write_text((feeds_dir / "cs-cv.toml").read_text("utf-8"), "utf-8")
    d = make_digest()
    try:
        assert d.refresh("cs-cv").outcome == "published"
        day = d.day("cs-cv", DATE)
        d.publish(d.spec("cs-cv-more"), replace(day, feed="cs-cv-more", date=DATE - dt.timedelta(days=1)))
        client = create_app(digest_obj=d).test_client()
        both = search(client, WORD).json["results"]
        assert [(h["feed"], h["date"]) for h in both] == [("cs-cv", "2026-01-28"), ("cs-cv-more", "2026-01-27")]
        for feed, date in (("cs-cv", "2026-01-28"), ("cs-cv-more", "2026-01-27")):
            resp = search(client, WORD, feed=feed).json
            assert resp["feed"] == feed and [(h["feed"], h["date"]) for h in resp["results"]] == [(feed, date)]
        (feeds_dir / "cs-cv-more.toml").unlink()
        d.reload_specs(force=True)
        assert [h["feed"] for h in search(client, WORD).json["results"]] == ["cs-cv"]
    finally:
        d.close()


def test_republishing_a_day_replaces_its_rows(published, client, llm_stub):
    before = rows(published)
    day = published.day("cs-cv", DATE)
    assert search(client, WORD).json["total"] == 1  # now remembered by this process
    published.publish(published.spec("cs-cv"), replace(day, entries=tuple(
        e for e in day.entries if e.paper.versioned_id != MARKED)))
    assert search(client, WORD).json["total"] == 0  # not the remembered answer: a new publication
    published.publish(published.spec("cs-cv"), day)
    published.publish(published.spec("cs-cv"), replace(day, entries=day.entries[:4]))
    assert rows(published) == sorted(r for r in before if r[2] in {e.paper.arxiv_id for e in day.entries[:4]})
    published.publish(published.spec("cs-cv"), day)
    assert rows(published) == before
    assert published.refresh("cs-cv", force=True).outcome == "published"
    assert rows(published) == before
    assert search(client, WORD).json["total"] == 1


# --- escaping ---------------------------------------------------------------------------------
def test_snippets_and_titles_are_escaped(published, client):
    """Text that looks like our own markers or like HTML stays text, in the page and the API."""
    day = published.day("cs-cv", DATE)
    e = day.entries[0]
    hostile = replace(e.paper, title="<mark>forged</mark> <script>alert(1)</script> zorbification",
                      abstract='"><img src=x onerror=alert(1)> zorbification &amp; <b>bold</b>')
    published.publish(published.spec("cs-cv"), replace(day, entries=(replace(e, paper=hostile), *day.entries[1:])))
    page = client.get("/search?q=zorbification")
    assert page.status_code == 200
    html = page.data.decode()
    assert "<script>alert" not in html and "<img" not in html and "<mark>forged" not in html and "<b>bold" not in html
    assert "&lt;script&gt;" in html and "&lt;mark&gt;forged&lt;/mark&gt;" in html
    assert "<mark>zorbification</mark>" in html
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]
    [hit] = search(client, "zorbification").json["results"]
    assert "<img" not in hit["snippet"]["html"] and "&lt;img" in hit["snippet"]["html"]
    assert "&amp;amp;" in hit["snippet"]["html"] and "<mark>zorbification</mark>" in hit["snippet"]["html"]
    assert hit["title"] == hostile.title  # JSON carries the text as text


def test_the_search_page_lists_hits_with_their_links(published, client):
    page = client.get(f"/search?q={WORD}")
    html = page.data.decode()
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'href="http://localhost/papers/2601.19887"' in html
    assert f'href="http://localhost/feeds/cs-cv/2026-01-28#{MARKED}"' in html
    assert f"<mark>{WORD}</mark>" in html
    # linked from the other pages, with the OpenSearch description
    for path in ("/", "/feeds/cs-cv/2026-01-28", "/papers/2601.19887", "/search"):
        doc = etree.HTML(client.get(path).data)
        assert doc.xpath('//a[@href="http://localhost/search"]'), path
        [link] = doc.xpath('//link[@rel="search"]')
        assert (link.get("type"), link.get("href")) == ("application/opensearchdescription+xml",
                                                        "http://localhost/opensearch.xml"), path


def test_opensearch_description_parses(client):
    resp = client.get("/opensearch.xml")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/opensearchdescription+xml"
    root = etree.fromstring(resp.data)
    ns = {"os": "http://a9.com/-/spec/opensearch/1.1/"}
    assert root.tag == "{http://a9.com/-/spec/opensearch/1.1/}OpenSearchDescription"
    assert root.findtext("os:ShortName", namespaces=ns) == "arxiv-digest"
    templates = {u.get("type"): u.get("template") for u in root.findall("os:Url", ns)}
    assert templates["text/html"] == "http://localhost/search?q={searchTerms}"
    assert templates["application/json"] == "http://localhost/api/v1/search?q={searchTerms}"
    assert templates["application/opensearchdescription+xml"] == "http://localhost/opensearch.xml"
    assert client.get("/opensearch.xml", headers={"If-None-Match": resp.headers["ETag"]}).status_code == 304


# --- where the index comes from -------------------------------------------------------------------
def test_a_missing_or_behind_index_is_built_from_the_store(published, client):
    published.index.path.unlink()
    assert search(client, WORD).json["total"] == 1  # rebuilt lazily
    # a day stored without the publish hook (the hook failed, say) is caught up on the next search
    day = published.day("cs-cv", DATE)
    published.store.publish(replace(day, date=DATE - dt.timedelta(days=7)), {})
    assert search(client, WORD).json["total"] == 2
    assert published.index.generations() == {"cs-cv": published.store.generation("cs-cv")}


def test_reindex_command(published, capsys):
    published.index.path.unlink()
    assert main(["reindex"]) == 0
    assert "10 entries" in capsys.readouterr().out
    assert len(rows(published)) == 10


def test_search_spends_nothing_and_stores_nothing(published, client, marked, arxiv_stub):
    search(client, WORD)  # the first search may catch the index up
    calls, fetches = len(marked.calls), len(arxiv_stub.requests)
    data = Path(published.store.data_dir)

    def files():
        return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in data.rglob("*") if p.is_file()}

    before = files()
    for n in range(30):
        assert client.get(f"/api/v1/search?q=VGGT+{n}").status_code == 200
        assert client.get(f"/search?q=word{n}").status_code == 200
    assert files() == before
    assert (len(marked.calls), len(arxiv_stub.requests)) == (calls, fetches)


# --- a read-only data directory ----------------------------------------------------------------
def _mount_read_only(source: Path, mounted: Path):
    mounted.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "--bind", str(source), str(mounted)]).returncode != 0:
        pytest.skip("needs root to bind-mount a read-only directory")
    subprocess.run(["mount", "-o", "remount,ro,bind", str(mounted)], check=True)


@pytest.mark.parametrize("index", ["present", "missing"])
def test_a_read_only_data_dir(marked, env, tmp_path, monkeypatch, index):
    d = make_digest()
    assert d.refresh("cs-cv").outcome == "published"
    if index == "missing":
        d.index.path.unlink()
    d.close()
    mounted = tmp_path / "ro"
    _mount_read_only(Path(env["DIGEST_DATA_DIR"]), mounted)
    try:
        monkeypatch.setenv("DIGEST_DATA_DIR", str(mounted))
        app = create_app(fallback=True)
        assert app.extensions["digest"].store.read_only
        client = app.test_client()
        resp = search(client, WORD)
        if index == "present":
            assert resp.status_code == 200 and resp.json["total"] == 1
            assert client.get(f"/search?q={WORD}").status_code == 200
        else:
            assert resp.status_code == 503 and resp.json["error"]["code"] == "search_unavailable"
            assert "reindex" in resp.json["error"]["message"]
            assert client.get("/feeds/cs-cv.atom").status_code == 200  # the rest still serves
        app.extensions["digest"].close()
    finally:
        subprocess.run(["umount", "-l", str(mounted)], check=False)
