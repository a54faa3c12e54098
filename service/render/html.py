"""HTML pages (index, day page) from Jinja templates with autoescape; LLM text arrives sanitised."""
from __future__ import annotations

import datetime as dt
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ..models import Day, FeedSpec
from ..urls import Urls
from ..untrusted import scrub
from .api import DayNav
from .citations import coins
from .entry import entry_html, labels, summary_html

HTML_TYPE = "text/html; charset=utf-8"


@cache
def _env() -> Environment:
    return Environment(loader=PackageLoader("service.render", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       trim_blocks=True, lstrip_blocks=True)


def alternates(spec: FeedSpec, base: str) -> list[dict[str, str]]:
    """`<link rel="alternate">` discovery for every feed format of one feed."""
    return [{"type": t, "title": f"{spec.title} ({label})", "href": Urls(base).feed(spec.name, fmt)}
            for fmt, t, label in (("atom", "application/atom+xml", "Atom"),
                                  ("rss", "application/rss+xml", "RSS"),
                                  ("json", "application/feed+json", "JSON Feed"))]


def render_index(specs: list[FeedSpec], recent: dict[str, list[dt.date]], base: str,
                 notice: str | None = None) -> bytes:
    """The feeds and their recent days; `notice`: one sentence above them (e.g. that the
    only feed so far is the recorded sample, and how to publish a real day)."""
    feeds = [{"spec": s, "alternates": alternates(s, base), "days": recent.get(s.name, [])} for s in specs]
    links = [a for f in feeds for a in f["alternates"]]
    return _env().get_template("index.html").render(feeds=feeds, links=links, urls=Urls(base),
                                                    notice=notice).encode()


def render_day_page(spec: FeedSpec, day: Day, nav: DayNav, base: str) -> bytes:
    """The day's summary and papers. For the Zotero Connector each paper is a COinS span and
    the page has no page-level citation tags, so the Connector offers the papers as a
    selection instead of saving the page as one item; each paper's page is its citation."""
    day = scrub(day)
    lab = labels(spec.language)
    urls = Urls(base)
    papers = [{"paper": e.paper, "status": e.status.value, "page": urls.paper(e.paper.arxiv_id),
               "body": Markup(entry_html(e, spec.language, urls.paper(e.paper.arxiv_id))),
               "coins": coins(e.paper)} for e in day.entries]
    return _env().get_template("day.html").render(
        spec=spec, day=day, nav=nav, urls=urls, lab=lab, papers=papers,
        summary=Markup(summary_html(day, spec.language, contents=False)), links=alternates(spec, base),
    ).encode()
