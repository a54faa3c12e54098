"""HTML pages read back with lxml: discovery links, the day page, Highwire tags, sanitising, CSP."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

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
    meta = [(m.get("name"), m.get("content")) for m in doc.xpath("//head/meta[starts-with(@name, 'citation_')]")]
    titles = [v for n, v in meta if n == "citation_title"]
    assert sorted(titles) == sorted(p["title"] for p in SEED_PAPERS)
    # per paper: title, then its authors, date, arXiv id, DOI and PDF (Highwire Press groups)
    for expected in SEED_PAPERS:
        start = meta.index(("citation_title", expected["title"]))
        group = meta[start:start + len(expected["authors"]) + 12]
        assert [v for n, v in group if n == "citation_author"] == expected["authors"]
        values = dict(group)
        assert values["citation_publication_date"] == expected["published"][:10].replace("-", "/")
        assert values["citation_pdf_url"] == f"https://arxiv.org/pdf/{expected['id']}v{expected['version']}"
        assert values["citation_doi"] == f"10.48550/arXiv.{expected['id']}"
        article = doc.get_element_by_id(f"{expected['id']}v{expected['version']}")
        assert "关键发现" in article.text_content()


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
    assert evil in doc.xpath("//meta[@name='citation_title']/@content")  # kept as text, escaped


def test_favicon_is_served_not_a_404(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.content_type.startswith("image/svg+xml")
    assert b"<svg" in resp.data
