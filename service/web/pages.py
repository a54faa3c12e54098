"""HTML pages: the index of feeds and the readable day page."""
from __future__ import annotations

from flask import Blueprint

from .common import CSP, base_url, digest, parse_date, serve_doc

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return serve_doc(digest().site_document("index", base_url()), {"Content-Security-Policy": CSP})


@bp.get("/feeds/<feed>/<date>")
def day(feed: str, date: str):
    doc = digest().day_document(feed, parse_date(date), "html", base_url())
    return serve_doc(doc, {"Content-Security-Policy": CSP})


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask every site for it; answer with the SVG icon instead of a 404."""
    from flask import current_app

    resp = current_app.send_static_file("favicon.svg")
    resp.cache_control.max_age = 86400
    return resp
