"""HTML pages: the index of feeds, the readable day page and the page of each paper."""
from __future__ import annotations

from flask import Blueprint

from ..urls import CITATION_EXTENSIONS
from .api import paper_id
from .common import CSP, base_url, digest, parse_date, serve_doc

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return serve_doc(digest().site_document("index", base_url()), {"Content-Security-Policy": CSP})


@bp.get("/feeds/<feed>/<date>")
def day(feed: str, date: str):
    doc = digest().day_document(feed, parse_date(date), "html", base_url())
    return serve_doc(doc, {"Content-Security-Policy": CSP})


@bp.get("/papers/<path:arxiv_id>")
def paper(arxiv_id: str):
    """A paper's page (`/papers/2601.19887`, or with a version: the same page), or its
    citation: `.bib`, `.ris`, `.json` (CSL-JSON)."""
    fmt = next((f for f, ext in CITATION_EXTENSIONS.items() if arxiv_id.endswith(ext)), "html")
    if fmt != "html":
        arxiv_id = arxiv_id[: -len(CITATION_EXTENSIONS[fmt])]
    doc = digest().paper_document(paper_id(arxiv_id), base_url(), fmt)
    return serve_doc(doc, {"Content-Security-Policy": CSP} if fmt == "html" else None)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask every site for it; answer with the SVG icon instead of a 404."""
    from flask import current_app

    resp = current_app.send_static_file("favicon.svg")
    resp.cache_control.max_age = 86400
    return resp
