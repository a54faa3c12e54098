"""Search results as the JSON API document and the HTML page, and the OpenSearch description.

Snippets and titles arrive as (text, matched) parts from `service.search`; every part is
escaped here (Jinja autoescape, or `Snippet.html()`), and only our own `<mark>` is markup.
"""
from __future__ import annotations

from lxml import etree

from ..models import FeedSpec
from ..search import Hit, Results
from ..urls import Urls
from .api import iso
from .html import _env

OPENSEARCH_TYPE = "application/opensearchdescription+xml"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"


def next_url(results: Results, urls: Urls, api: bool) -> str | None:
    if not results.has_next:
        return None
    build = urls.api_search if api else urls.search
    return build(results.query, results.feed, results.page + 1, results.per_page)


def prev_url(results: Results, urls: Urls, api: bool) -> str | None:
    if results.page <= 1:
        return None
    build = urls.api_search if api else urls.search
    return build(results.query, results.feed, results.page - 1, results.per_page)


def _hit_json(hit: Hit, urls: Urls) -> dict:
    return {"arxiv_id": hit.arxiv_id, "versioned_id": hit.versioned_id, "title": hit.title,
            "authors": list(hit.authors), "feed": hit.feed, "date": iso(hit.date), "score": round(-hit.rank, 4),
            "snippet": {"field": hit.snippet.field, "text": hit.snippet.text, "html": str(hit.snippet.html())},
            "links": {"paper": urls.paper(hit.arxiv_id), "day": f"{urls.day(hit.feed, hit.date)}#{hit.versioned_id}",
                      "api": urls.api_paper(hit.arxiv_id)}}


def render_search_api(results: Results, base: str) -> dict:
    """The API document (`SearchPage` in the OpenAPI description)."""
    urls = Urls(base)
    return {"query": results.query, "feed": results.feed, "page": results.page, "per_page": results.per_page,
            "total": results.total, "results": [_hit_json(h, urls) for h in results.hits],
            "next": next_url(results, urls, api=True)}


def render_search_page(results: Results | None, specs: dict[str, FeedSpec], base: str) -> bytes:
    """The search form, and the results when there is a query (`results` None: the form only)."""
    urls = Urls(base)
    hits = [{"hit": h, "paper": urls.paper(h.arxiv_id),
             "day": f"{urls.day(h.feed, h.date)}#{h.versioned_id}",
             "feed_title": specs[h.feed].title if h.feed in specs else h.feed} for h in (results.hits if results else ())]
    return _env().get_template("search.html").render(
        results=results, hits=hits, urls=urls, feeds=list(specs.values()), links=[],
        next=next_url(results, urls, api=False) if results else None,
        prev=prev_url(results, urls, api=False) if results else None).encode()


def render_opensearch(base: str) -> bytes:
    """OpenSearch 1.1: the HTML results for browsers, the JSON API for scripts."""
    urls = Urls(base)
    root = etree.Element(f"{{{OPENSEARCH_NS}}}OpenSearchDescription", nsmap={None: OPENSEARCH_NS})
    for tag, text in (("ShortName", "arxiv-digest"),
                      ("Description", "Search every published arXiv paper, analysis and finding"),
                      ("InputEncoding", "UTF-8"), ("OutputEncoding", "UTF-8")):
        etree.SubElement(root, f"{{{OPENSEARCH_NS}}}{tag}").text = text
    for media, url in (("text/html", urls.search()), ("application/json", urls.api_search())):
        etree.SubElement(root, f"{{{OPENSEARCH_NS}}}Url", type=media, method="get",
                         template=f"{url}?q={{searchTerms}}")
    etree.SubElement(root, f"{{{OPENSEARCH_NS}}}Url", type=OPENSEARCH_TYPE, rel="self", template=urls.opensearch())
    image = etree.SubElement(root, f"{{{OPENSEARCH_NS}}}Image", type="image/svg+xml", width="16", height="16")
    image.text = urls.static("favicon.svg")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
