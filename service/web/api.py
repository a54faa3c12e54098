"""JSON API v1 and its OpenAPI description: stored documents, paginated day lists."""
from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from flask import Blueprint, request

from ..documents import PAGE_SIZE
from .. import untrusted
from ..errors import BadRequest
from ..models import RenderedDoc
from ..render import make_doc
from ..render.api import JSON_TYPE, dumps
from . import openapi as openapi_module
from .common import base_url, digest, parse_date, serve_doc
from .openapi import openapi

bp = Blueprint("api", __name__)

MAX_PER_PAGE = 100


def _int_arg(name: str, default: int, low: int, high: int, args=None) -> int:
    raw = (request.args if args is None else args).get(name)
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


@bp.get("/api/v1/feeds/<feed>/days/<date>/quality")
def day_quality(feed: str, date: str):
    return serve_doc(digest().day_document(feed, parse_date(date), "quality", base_url()))


@bp.get("/api/v1/papers/<path:arxiv_id>")
def paper(arxiv_id: str):
    return serve_doc(digest().paper_document(paper_id(arxiv_id), base_url()))


def paper_id(value: str) -> str:
    """The version-less id of a paper route, by the one arXiv id grammar (as for ids from
    upstream); anything else is a 400."""
    parsed = untrusted.arxiv_id(value)
    if parsed is None:
        raise BadRequest("arxiv_id", f"invalid arXiv id {value!r}: expected e.g. 2601.19887 or 2601.19887v1")
    return parsed[0]


@cache
def _openapi_doc() -> RenderedDoc:
    """Stored like every document, so it gets an ETag and Last-Modified too (the time the
    description's module was installed: the same in every worker)."""
    changed = dt.datetime.fromtimestamp(Path(openapi_module.__file__).stat().st_mtime, dt.timezone.utc)
    return make_doc(dumps(openapi()), JSON_TYPE, changed)


@bp.get("/openapi.json")
def openapi_json():
    return serve_doc(_openapi_doc())
