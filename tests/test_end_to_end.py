"""The seed day end to end: stubs → refresh → store → Atom over HTTP, read back with real parsers."""
from __future__ import annotations

import gzip
import datetime as dt
from datetime import date

import feedparser
import lxml.html
import pytest
from lxml import etree

from service.models import EntryStatus

from .conftest import HTML_PAPER, PDF_PAPER, SEED_PAPERS
from .stubs import FIXTURES

ATOM = "{http://www.w3.org/2005/Atom}"


def paper_calls(llm_stub):
    return [c for c in llm_stub.calls if c["key"] != "summary"]


def test_seed_day_publishes_ten_enriched_papers_and_a_summary(digest, client, llm_stub, arxiv_stub):
    result = digest.refresh("cs-cv")
    assert result.outcome == "published", result.message
    assert result.date == date(2026, 1, 28)
    assert [p.status for p in result.papers] == [EntryStatus.ANALYSED] * 10
    # one call per paper plus one daily summary
    assert result.llm_calls == 11 and len(llm_stub.calls) == 11

    resp = client.get("/feeds/cs-cv.atom")
    assert resp.status_code == 200
    assert resp.content_type.startswith("application/atom+xml")
    feed = feedparser.parse(resp.data)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Arxiv Computer Vision Papers"
    assert feed.feed.links[0].rel == "self"
    assert feed.feed.links[0].href == "http://localhost/feeds/cs-cv.atom"
    assert len(feed.entries) == 11
    summary, papers = feed.entries[0], feed.entries[1:]
    assert "2026-01-28" in summary.title
    assert "主要主题与趋势" in summary.content[0].value

    by_id = {e.id: e for e in papers}
    for expected in SEED_PAPERS:
        entry = by_id[f"https://arxiv.org/abs/{expected['id']}"]
        assert entry.title == expected["title"]
        assert [a.name for a in entry.authors] == expected["authors"]
        assert entry.published.startswith(expected["published"])
        assert [t.term for t in entry.tags] == expected["categories"]
        links = {link.rel: link for link in entry.links}
        vid = f"{expected['id']}v{expected['version']}"
        assert links["alternate"].href == f"https://arxiv.org/abs/{vid}"
        assert links["related"].href == f"https://arxiv.org/pdf/{vid}"
        assert links["related"].type == "application/pdf"
        assert entry.summary == " ".join(expected["abstract"].split())  # whitespace collapsed
        content = entry.content[0].value
        assert "关键发现" in content
        # every finding's evidence is quoted verbatim from the paper
        assert "原文依据" in content

    # the framework follows the source: 7 parts from full text, 5 from the abstract only
    fulltext = by_id["https://arxiv.org/abs/2601.19887"].content[0].value
    assert "arXiv HTML 全文" in fulltext and "方法设计详解" in fulltext
    pdf = by_id["https://arxiv.org/abs/2601.19884"].content[0].value
    assert "PDF 全文" in pdf and "实验分析" in pdf
    abstract_only = by_id["https://arxiv.org/abs/2601.19898"].content[0].value
    assert "仅基于摘要" not in abstract_only  # the label is ours, short form:
    assert "五段式摘要分析" in abstract_only and "方法设计详解" not in abstract_only


def test_atom_entry_links_carry_rel_and_type(digest, client):
    digest.refresh("cs-cv")
    root = etree.fromstring(client.get("/feeds/cs-cv.atom").data)
    entry = root.find(f"{ATOM}entry[{ATOM}id='https://arxiv.org/abs/2601.19887']")
    links = {(link.get("rel"), link.get("type")) for link in entry.findall(f"{ATOM}link")}
    assert links == {("alternate", "text/html"), ("related", "text/html"),  # the paper page
                     ("related", "application/pdf"), ("enclosure", "application/pdf")}
    assert entry.find(f"{ATOM}content").get("type") == "html"
    assert entry.find(f"{ATOM}summary").get("type") == "text"
    cats = entry.findall(f"{ATOM}category")
    assert [(c.get("term"), c.get("scheme")) for c in cats] == [
        ("cs.CV", "http://arxiv.org/schemas/atom"), ("cs.RO", "http://arxiv.org/schemas/atom")]
    assert cats[0].get("label") == "Computer Vision and Pattern Recognition"


def test_llm_requests_carry_the_right_framework_and_delimited_text(digest, llm_stub):
    digest.refresh("cs-cv")
    requests = {c["key"]: c["request"] for c in paper_calls(llm_stub)}
    html_req = requests[HTML_PAPER]["messages"][0]["content"]
    # the framework's task is in the system prompt (the prefix shared by a day's papers)
    assert "方法设计详解" in requests[HTML_PAPER]["system"][0]["text"]
    # full text from LaTeXML HTML: method and experiments in, references and page chrome out
    assert "23 percent less pose error" in html_req
    assert "Teed and Deng. DROID-SLAM" not in html_req and "Report Issue" not in html_req
    assert "Generated  on" not in html_req and "failed: tcolorbox" not in html_req
    assert html_req.count('<paper id="2601.19887v1" source="html">') == 1
    pdf_req = requests[PDF_PAPER]["messages"][0]["content"]
    assert 'source="pdf"' in pdf_req and "78.4 percent top-1" in pdf_req
    assert "Deep residual learning" not in pdf_req
    # no full text: the abstract framework, never the full-text one
    abstract_req = requests["2601.19898v1"]["messages"][0]["content"]
    assert 'source="abstract"' in abstract_req
    abstract_system = requests["2601.19898v1"]["system"][0]["text"]
    assert "方法设计详解" not in abstract_system and "关键创新与方法" in abstract_system
    assert "Only the title and abstract" in abstract_req
    tool = requests["2601.19898v1"]["tools"][0]
    assert list(tool["input_schema"]["properties"]["sections"]["properties"]) == [
        "contribution", "innovations", "impact", "applications", "limitations"]
    assert requests["2601.19898v1"]["tool_choice"] == {"type": "tool", "name": "record_analysis"}


def test_second_refresh_makes_no_llm_calls_and_no_full_text_fetches(digest, client, llm_stub, arxiv_stub):
    digest.refresh("cs-cv")
    first = client.get("/feeds/cs-cv.atom")
    llm_stub.calls.clear()
    arxiv_stub.requests.clear()

    again = digest.refresh("cs-cv")
    # the listing still shows a complete, published day: recognised, nothing redone
    assert again.outcome == "stale" and again.ok
    assert arxiv_stub.paths() == ["/rss/cs.CV"] and llm_stub.calls == []
    # forced, the day is rebuilt from the caches: still nothing paid or fetched again
    forced = digest.refresh("cs-cv", force=True)
    assert forced.outcome == "published"
    assert forced.llm_calls == 0 and llm_stub.calls == []
    assert arxiv_stub.paths("/html/") == [] and arxiv_stub.paths("/pdf/") == []
    assert arxiv_stub.paths("/api/") == []  # metadata is cached too
    second = client.get("/feeds/cs-cv.atom")
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.data == first.data


def test_feed_honours_conditional_get_and_gzip(digest, client):
    digest.refresh("cs-cv")
    resp = client.get("/feeds/cs-cv.atom")
    etag = resp.headers["ETag"]
    assert client.get("/feeds/cs-cv.atom", headers={"If-None-Match": etag}).status_code == 304
    since = resp.headers["Last-Modified"]
    assert client.get("/feeds/cs-cv.atom", headers={"If-Modified-Since": since}).status_code == 304
    gz = client.get("/feeds/cs-cv.atom", headers={"Accept-Encoding": "gzip, deflate"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in gz.headers["Vary"]
    assert gzip.decompress(gz.data) == resp.data
    assert gz.headers["ETag"] != etag


def test_no_api_key_publishes_metadata_and_says_analysis_is_disabled(env, monkeypatch, llm_stub, arxiv_stub):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    from service.pipeline import make_digest
    from service.web import create_app

    d = make_digest()
    result = d.refresh("cs-cv")
    assert result.outcome == "published"
    assert all(p.status is EntryStatus.DISABLED for p in result.papers)
    assert llm_stub.requests == []  # no LLM traffic at all
    assert arxiv_stub.paths("/html/") == [] and arxiv_stub.paths("/pdf/") == []
    feed = feedparser.parse(create_app(digest_obj=d).test_client().get("/feeds/cs-cv.atom").data)
    assert len(feed.entries) == 11
    assert "每日总结未启用" in feed.entries[0].content[0].value
    for entry in feed.entries[1:]:
        content = entry.content[0].value
        assert "分析未启用" in content
        assert "方法设计详解" not in content and "主要贡献" not in content
    # abstract-based findings are the abstract's own sentences
    duwat = next(e for e in feed.entries if e.id.endswith("2601.19898")).content[0].value
    assert "To address this gap, we present DuwatBench" in duwat


def test_empty_listing_is_no_announcement_not_an_empty_day(digest, client, arxiv_stub, llm_stub):
    arxiv_stub.listing = (FIXTURES / "arxiv/listing-cs.CV-empty.xml").read_bytes()
    result = digest.refresh("cs-cv")
    assert result.outcome == "no_announcement" and result.ok
    assert "no announcement on 2026-01-31" in result.message
    assert digest.store.day_dates("cs-cv") == []  # no empty day was published
    assert llm_stub.calls == [] and arxiv_stub.paths("/api/") == []
    assert client.get("/feeds/cs-cv/2026-01-31").status_code == 404


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_before_the_first_day_the_feed_is_valid_and_empty(client, fmt):
    """Subscribing right after `make run` works: the reader gets a valid feed, entries follow."""
    resp = client.get(f"/feeds/cs-cv.{fmt}")
    assert resp.status_code == 200
    if fmt == "json":
        assert resp.json["items"] == [] and resp.json["version"] == "https://jsonfeed.org/version/1.1"
    else:
        feed = feedparser.parse(resp.data)
        assert not feed.bozo and feed.entries == [] and feed.feed.title == "Arxiv Computer Vision Papers"


def test_healthz_reports_last_refresh(digest, client, monkeypatch):
    import service.health
    from service.models import utcnow

    digest.refresh("cs-cv")
    # /healthz reads the clock: pin it to the next Wednesday noon UTC, hours after Tuesday's
    # announcement (just after 00:00 UTC the feed would rightly be "waiting", not stale).
    now = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    now += dt.timedelta(days=(2 - now.weekday()) % 7 or 7)
    monkeypatch.setattr(service.health, "utcnow", lambda: now)
    resp = client.get("/healthz")
    feed = resp.json["feeds"]["cs-cv"]
    assert feed["latest_day"] == "2026-01-28"
    assert feed["last_attempt"]["outcome"] == "published"
    assert feed["last_attempt"]["age_seconds"] >= 0
    assert feed["last_attempt"]["papers"] == 10 and feed["last_attempt"]["llm_calls"] == 11
    assert feed["last_success"]["day"] == "2026-01-28"
    # the seed day is long past: arXiv has announced since, so the feed is stale → 503
    assert feed["state"] == "stale" and resp.status_code == 503 and resp.json["stale_feeds"] == ["cs-cv"]


def test_markup_in_llm_output_never_reaches_the_feed(digest, client, llm_stub, monkeypatch):
    from tests import stubs

    original = stubs.good_section

    def evil(key, index, lang):
        return original(key, index, lang) + '\n\n<script>alert(1)</script><img src=x onerror="alert(2)">'

    monkeypatch.setattr(stubs, "good_section", evil)
    digest.refresh("cs-cv")
    root = etree.fromstring(client.get("/feeds/cs-cv.atom").data)
    for content in root.iter(f"{ATOM}content"):
        doc = lxml.html.fromstring(f"<div>{content.text}</div>")
        assert not doc.xpath("//script|//img")
        assert not [a for el in doc.iter() for a in el.attrib if a.startswith("on")]


def test_arxiv_requests_are_spaced_by_the_configured_delay(env, monkeypatch, arxiv_stub, llm_stub):
    from service.pipeline import make_digest

    monkeypatch.setenv("DIGEST_ARXIV_DELAY", "0.25")
    d = make_digest()
    assert d.refresh("cs-cv").outcome == "published"
    times = [t for t, _ in arxiv_stub.times]
    # listing + 1 API batch + HTML/PDF attempts, all through one throttled session
    assert len(times) >= 12 and len(arxiv_stub.paths("/api/")) == 1
    gaps = [b - a for a, b in zip(times, times[1:])]
    # Arrival times are stamped by the stub's thread, which a loaded machine may schedule late:
    # a late arrival (by up to one delay) shortens the next gap by what it adds to its own, so
    # no single gap is held to the delay. Together the gaps must span the spacing, and no
    # three requests may arrive within one delay (unthrottled, they would all but coincide).
    assert times[-1] - times[0] >= 0.25 * (len(times) - 1) * 0.95, gaps
    assert min(c - a for a, c in zip(times, times[2:])) >= 0.25 * 0.9, gaps
    d.close()
