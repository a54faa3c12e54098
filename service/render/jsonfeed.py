"""JSON Feed 1.1 (jsonfeed.org/version/1.1) with an `_arxiv` extension per paper item."""
from __future__ import annotations

from ..models import Day, FeedSpec
from ..urls import Urls
from ..untrusted import scrub
from .api import analysis_json, dumps, finding_json, iso
from .atom import stable_id
from .entry import entry_html, entry_policy, labels, summary_html

JSONFEED_TYPE = "application/feed+json; charset=utf-8"
VERSION = "https://jsonfeed.org/version/1.1"


def render_jsonfeed(spec: FeedSpec, days: list[Day], base: str, hub: str | None = None) -> bytes:
    """The same items as the Atom feed; `_arxiv` carries what JSON Feed has no field for."""
    days = [scrub(d) for d in days]
    lab = labels(spec.language)
    items: list[dict] = []
    seen: set[str] = set()
    for day in days:
        items.append({
            "id": stable_id("summary", spec.name, day.date.isoformat()),
            "url": Urls(base).day(spec.name, day.date),
            "title": f"{spec.title} — {lab['summary_title']} {day.date.isoformat()}",
            "content_html": summary_html(day, spec.language),
            "date_published": iso(day.published), "date_modified": iso(day.updated),
            "authors": [{"name": "arxiv-digest"}], "author": {"name": "arxiv-digest"},
        })
        for entry in day.entries:
            p = entry.paper
            if p.arxiv_id in seen:
                continue
            seen.add(p.arxiv_id)
            a = entry.analysis
            items.append({
                "id": p.abs_url, "url": p.versioned_abs_url, "title": p.title,
                "content_html": entry_html(entry, spec.language, Urls(base).paper(p.arxiv_id)),
                "summary": p.abstract,
                "date_published": iso(p.published), "date_modified": iso(entry.updated or day.updated),
                # JSON Feed 1.0 readers (atoma, …) read only `author`: every name, comma-separated
                "authors": [{"name": n} for n in p.authors], "author": {"name": ", ".join(p.authors)},
                "tags": list(p.categories),
                "attachments": [{"url": p.pdf_url, "mime_type": "application/pdf", "title": "PDF"}],
                "_arxiv": {
                    "about": "https://arxiv.org/", "page": Urls(base).paper(p.arxiv_id),
                    "id": p.arxiv_id, "version": p.version, "categories": list(p.categories),
                    "doi": p.doi, "status": entry.status.value, "source": entry.source.value,
                    "findings": [finding_json(f) for f in entry.findings],
                    "why": list(entry.why), "score": entry.score,
                    "analysis": analysis_json(a, entry_policy(entry)) if a else None,
                },
            })
    return dumps({
        "version": VERSION, "title": spec.title,
        "home_page_url": Urls(base).index(), "feed_url": Urls(base).feed(spec.name, "json"),
        "description": f"arXiv {', '.join(spec.categories)}: daily papers with LLM analysis and evidence-backed findings",
        "language": spec.language, "authors": [{"name": "arxiv-digest"}], "author": {"name": "arxiv-digest"},
        "items": items,
        **({"hubs": [{"type": "WebSub", "url": hub}]} if hub else {}),
    })
