"""Feed documents: subscription feeds, day archives, the Markdown view, OPML. All stored bytes."""
from __future__ import annotations

from flask import Blueprint

from .common import base_url, digest, parse_date, serve_doc

bp = Blueprint("feeds", __name__)


@bp.get("/feeds/<feed>.atom")
def atom(feed: str):
    return serve_doc(digest().document(feed, "atom", base_url()))


@bp.get("/feeds/<feed>.rss")
def rss(feed: str):
    return serve_doc(digest().document(feed, "rss", base_url()))


@bp.get("/feeds/<feed>.zotero.atom")
def zotero(feed: str):
    """The Atom feed for Zotero subscriptions: papers with the arXiv abstract, no analysis."""
    return serve_doc(digest().document(feed, "zotero", base_url()))


@bp.get("/feeds/<feed>.json")
def jsonfeed(feed: str):
    return serve_doc(digest().document(feed, "json", base_url()))


@bp.get("/feeds/<feed>/<date>.atom")
def archive(feed: str, date: str):
    return serve_doc(digest().day_document(feed, parse_date(date), "atom", base_url()))


@bp.get("/feeds/<feed>/<date>.md")
def markdown(feed: str, date: str):
    return serve_doc(digest().day_document(feed, parse_date(date), "md", base_url()))


@bp.get("/feeds/<feed>/<date>.bib")
def day_bibtex(feed: str, date: str):
    return serve_doc(digest().day_document(feed, parse_date(date), "bib", base_url()))


@bp.get("/feeds/<feed>/<date>.ris")
def day_ris(feed: str, date: str):
    return serve_doc(digest().day_document(feed, parse_date(date), "ris", base_url()))


@bp.get("/feeds/<feed>/<date>.json")
def day_csl(feed: str, date: str):
    """The day's papers as CSL-JSON."""
    return serve_doc(digest().day_document(feed, parse_date(date), "csl", base_url()))


@bp.get("/opml")
def opml():
    return serve_doc(digest().site_document("opml", base_url()))
