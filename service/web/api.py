"""JSON API v1 and its OpenAPI description: stored documents, paginated day lists."""
from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path

from flask import Blueprint, request

from ..documents import PAGE_SIZE
from ..errors import BadRequest
from ..models import RenderedDoc
from ..render import make_doc
from ..render.api import JSON_TYPE, dumps
from . import openapi as openapi_module
from .common import base_url, digest, parse_date, serve_doc
from .openapi import openapi

bp = Blueprint("api", __name__)

#: New-style (2601.19887, optional version) and old-style (hep-th/9901001) arXiv ids.
ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z][a-z.-]*(\.[A-Z]{2})?/\d{7})(v\d+)?$")
MAX_PER_PAGE = 100


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
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
    m = ARXIV_ID.match(arxiv_id)
    if not m:
        raise BadRequest("arxiv_id", f"invalid arXiv id {arxiv_id!r}: expected e.g. 2601.19887 or 2601.19887v1")
    return serve_doc(digest().paper_document(m.group(1), base_url()))


@cache
def _openapi_doc() -> RenderedDoc:
    """Stored like every document, so it gets an ETag and Last-Modified too (the time the
    description's module was installed: the same in every worker)."""
    changed = dt.datetime.fromtimestamp(Path(openapi_module.__file__).stat().st_mtime, dt.timezone.utc)
    return make_doc(dumps(openapi()), JSON_TYPE, changed)


@bp.get("/openapi.json")
def openapi_json():
    return serve_doc(_openapi_doc())
