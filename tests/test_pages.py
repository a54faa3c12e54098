"""HTML pages read back with lxml: discovery links, the day page, Highwire tags, sanitising, CSP."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from urllib.parse import parse_qs

import lxml.html

from service.models import Analysis, EntryStatus, Finding, TextSource
from service.render.api import DayNav
from service.render.html import render_day_page

from .conftest import SEED_PAPERS

FEED_TYPES = {"application/atom+xml": "atom", "application/rss+xml": "rss", "application/feed+json": "json"}


def alternates(doc) -> dict[str, str]:
    return {link.get("type"): link.get("href") for link in doc.xpath("//head/link[@rel='alternate']")}


def test_index_lists_feeds_with_discovery_links(digest, client):
    digest.refresh("cs-cv")
    resp = client.get("/")
    assert resp.status_code == 200 and "default-src 'none'" in resp.headers["Content-Security-Policy"]
    doc = lxml.html.fromstring(resp.data)
    assert alternates(doc) == {t: f"http://localhost/feeds/cs-cv.{ext}" for t, ext in FEED_TYPES.items()}
    assert doc.xpath("//h2/text()") == ["Arxiv Computer Vision Papers"]
    assert doc.xpath("//ul[@class='days']//a/@href") == ["http://localhost/feeds/cs-cv/2026-01-28"]
    for href in alternates(doc).values():
        assert client.get(href.removeprefix("http://localhost")).status_code == 200
    assert doc.xpath("//a[@class='zotero']/@href") == ["http://localhost/feeds/cs-cv.zotero.atom"]


def test_day_page_has_summary_contents_papers_and_citation_tags(digest, client):
    digest.refresh("cs-cv")
    resp = client.get("/feeds/cs-cv/2026-01-28")
    assert resp.status_code == 200 and resp.content_type == "text/html; charset=utf-8"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
    doc = lxml.html.fromstring(resp.data)
    assert set(alternates(doc)) == set(FEED_TYPES)
    assert "主要主题与趋势" in doc.get_element_by_id("summary").text_content()
    toc = doc.xpath("//nav[@id='toc']//a/@href")
    articles = doc.xpath("//article")
    assert toc == [f"#{a.get('id')}" for a in articles] and len(articles) == 10
    # no page-level citation tags: the Zotero Connector would save the page as one garbled item
    assert not doc.xpath("//meta[starts-with(@name, 'citation_')]")
    # one COinS per paper, so the Connector offers the papers as a multiple selection
    spans = doc.xpath("//article//span[@class='Z3988']/@title")
    assert len(spans) == len(SEED_PAPERS)
    for expected in SEED_PAPERS:
        article = doc.get_element_by_id(f"{expected['id']}v{expected['version']}")
        assert "关键发现" in article.text_content()
        assert article.xpath(".//h2/a/@href") == [f"http://localhost/papers/{expected['id']}"]
        co = parse_qs(article.xpath(".//span[@class='Z3988']/@title")[0])
        assert co["rft_val_fmt"] == ["info:ofi/fmt:kev:mtx:journal"] and co["rft.atitle"] == [expected["title"]]
        assert co["rft.au"] == expected["authors"] and co["rft.date"] == [expected["published"]]
        assert f"info:doi/10.48550/arXiv.{expected['id']}" in co["rft_id"]
        assert " ".join(co["rft.description"][0].split()) == " ".join(expected["abstract"].split())


def test_llm_and_paper_text_cannot_inject_markup(digest):
    digest.refresh("cs-cv")
    day = digest.store.get_day("cs-cv", dt.date(2026, 1, 28))
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    entry = day.entries[0]
    analysis = Analysis(framework="abstract", source=TextSource.ABSTRACT, language="zh", model="m",
                        prompt_hash="h", created=day.updated,
                        sections=(("标题 " + evil, f"[x](javascript:alert(3)) {evil}\n\n<iframe src=x>"),),
                        findings=(Finding(claim=evil, evidence=evil),))
    bad = replace(entry, status=EntryStatus.ANALYSED, analysis=analysis, findings=analysis.findings,
                  paper=replace(entry.paper, title=evil, abstract=evil, authors=(evil,)))
    html = render_day_page(digest.spec("cs-cv"), replace(day, entries=(bad,)), DayNav(), "http://h")
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//script | //img | //iframe | //*[@onerror]")
    assert not [h for h in doc.xpath("//a/@href") if h.startswith("javascript")]
    assert parse_qs(doc.xpath("//span[@class='Z3988']/@title")[0])["rft.atitle"] == [evil]  # kept as text


def test_favicon_is_served_not_a_404(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.content_type.startswith("image/svg+xml")
    assert b"<svg" in resp.data
