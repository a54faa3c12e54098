"""JSON API v1 and its OpenAPI description: stored documents, paginated day lists."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..documents import PAGE_SIZE
from .. import untrusted
from ..errors import BadRequest
from .common import base_url, digest, parse_date, serve_doc
from .openapi import openapi

bp = Blueprint("api", __name__)

MAX_PER_PAGE = 100


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() also takes "²" and "①", which int() refuses
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
        raise BadRequest(name, f"invalid {name} {raw!r}: expected an integer from {low} to {high}")
    return int(raw)


@bp.get("/api/v1/feeds")
def feeds():
    return serve_doc(digest().site_document("feeds", base_url()))


@bp.get("/api/v1/feeds/<feed>/days")
def days(feed: str):
    page = _int_arg("page", 1, 1, 1_000_000)
    per_page = _int_arg("per_page", PAGE_SIZE, 1, MAX_PER_PAGE)
    doc, next_url = digest().days_document(feed, page, per_page, base_url())
    return serve_doc(doc, {"Link": f'<{next_url}>; rel="next"'} if next_url else None)


@bp.get("/api/v1/feeds/<feed>/days/<date>")
def day(feed: str, date: str):
    return serve_doc(digest().day_document(feed, parse_date(date), "api", base_url()))


@bp.get("/api/v1/papers/<path:arxiv_id>")
def paper(arxiv_id: str):
    parsed = untrusted.arxiv_id(arxiv_id)  # the one grammar, as for ids from upstream
    if parsed is None:
        raise BadRequest("arxiv_id", f"invalid arXiv id {arxiv_id!r}: expected e.g. 2601.19887 or 2601.19887v1")
    return serve_doc(digest().paper_document(parsed[0], base_url()))


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi())
