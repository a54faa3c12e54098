"""Feed documents: subscription feeds, day archives, the Markdown view, OPML. All stored bytes."""
from __future__ import annotations

import re

from flask import Blueprint, request

from ..errors import BadRequest
from ..select import View
from .common import base_url, digest, parse_date, serve_doc

bp = Blueprint("feeds", __name__)

#: Longest filter a feed URL takes (a name, a word, a few words).
MAX_FILTER = 100
#: `?min_score=`: a plain decimal number, at most 10 characters, 0 to MAX_SCORE.
_SCORE = re.compile(r"[0-9]{1,6}(\.[0-9]{1,3})?")
MAX_SCORE = 1000


def view(args=None) -> View:
    """`?q=`, `?author=`, `?keyword=`, `?min_score=` of a feed URL, checked where they enter
    (`args`: the request's, or those the query path (querypath.py) parsed the same way)."""
    args = request.args if args is None else args
    values: dict = {}
    for name in ("q", "author", "keyword"):
        raw = args.get(name, "")
        if len(args.getlist(name)) > 1 or len(raw) > MAX_FILTER or any(ord(c) < 32 for c in raw):
            raise BadRequest(name, f"invalid {name}: one value of at most {MAX_FILTER} printable characters")
        values[name] = " ".join(raw.split())
    if "min_score" in args:
        raw = args.get("min_score", "")
        if len(args.getlist("min_score")) > 1 or not _SCORE.fullmatch(raw) or float(raw) > MAX_SCORE:
            raise BadRequest("min_score", f"invalid min_score: one number from 0 to {MAX_SCORE} "
                             "with at most 3 decimals, e.g. 5 or 12.5")
        values["min_score"] = float(raw)
    return View(**values)


@bp.get("/feeds/<feed>.atom")
def atom(feed: str):
    return serve_doc(digest().document(feed, "atom", base_url(), view()))


@bp.get("/feeds/<feed>.rss")
def rss(feed: str):
    return serve_doc(digest().document(feed, "rss", base_url(), view()))


@bp.get("/feeds/<feed>.zotero.atom")
def zotero(feed: str):
    """The Atom feed for Zotero subscriptions: papers with the arXiv abstract, no analysis."""
    return serve_doc(digest().document(feed, "zotero", base_url()))


@bp.get("/feeds/<feed>.json")
def jsonfeed(feed: str):
    return serve_doc(digest().document(feed, "json", base_url(), view()))


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
