"""Flask app factory: a thin client of the `Digest` façade; feeds are lookups of stored bytes."""
from __future__ import annotations

import logging
from html import escape

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import DigestError, NotFound
from ..pipeline import Digest, make_digest
from ..settings import Settings

#: Feeds change once a day; readers may cache briefly and revalidate with the ETag.
FEED_MAX_AGE = 300


def digest() -> Digest:
    return current_app.extensions["digest"]


def base_url() -> str:
    configured = digest().settings.public_url
    return configured or request.host_url.rstrip("/")


def error(status: int, code: str, message: str) -> Response:
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = status
    return resp


def serve_doc(doc) -> Response:
    """Stored bytes with ETag/Last-Modified, gzip when accepted, 304 when unchanged."""
    gz = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    resp = Response(doc.gzipped if gz else doc.body, content_type=doc.content_type)
    resp.set_etag(f"{doc.etag}-gz" if gz else doc.etag)
    resp.last_modified = doc.last_modified
    resp.vary.add("Accept-Encoding")
    if gz:
        resp.content_encoding = "gzip"
    resp.cache_control.public = True
    resp.cache_control.max_age = FEED_MAX_AGE
    return resp.make_conditional(request)


def create_app(settings: Settings | None = None, digest_obj: Digest | None = None) -> Flask:
    """Build the app; an invalid feed spec raises here, so the server does not start."""
    app = Flask(__name__)
    app.extensions["digest"] = digest_obj or make_digest(settings)
    app.json.ensure_ascii = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    @app.get("/")
    def index():
        d = digest()
        base = base_url()
        links, items = [], []
        for spec in d.specs.values():
            href = f"{base}/feeds/{spec.name}.atom"
            links.append(f'<link rel="alternate" type="application/atom+xml" '
                         f'title="{escape(spec.title)}" href="{escape(href)}">')
            items.append(f'<li><a href="{escape(href)}">{escape(spec.title)}</a> '
                         f'({escape(", ".join(spec.categories))}, {escape(spec.language)})</li>')
        html = ("<!doctype html><html><head><meta charset='utf-8'><title>arxiv-digest</title>"
                + "".join(links) + "</head><body><h1>arxiv-digest</h1><ul>" + "".join(items)
                + "</ul></body></html>")
        resp = Response(html, content_type="text/html; charset=utf-8")
        resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'self'"
        return resp

    @app.get("/feeds/<feed>.atom")
    def atom(feed: str):
        return serve_doc(digest().document(feed, "atom", base_url()))

    @app.get("/healthz")
    def healthz():
        return jsonify(digest().health())

    @app.errorhandler(NotFound)
    def not_found(e: NotFound):
        return error(404, "not_found", str(e))

    @app.errorhandler(DigestError)
    def digest_error(e: DigestError):
        return error(500, "internal", str(e))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        return error(e.code or 500, (e.name or "error").lower().replace(" ", "_"), e.description or e.name)

    return app
