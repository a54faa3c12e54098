"""Flask app factory: a thin client of the `Digest` façade; every document is a lookup of stored bytes.

Routes live in blueprints (feeds, pages, api). Every error, on every route, is JSON
`{"error": {"code", "message"}}` with its status, the HTML page routes included: a
browser shows it readably and a script can parse it, and it never leaks a stack trace.
"""
from __future__ import annotations

import logging
import sqlite3

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from ..errors import DigestError
from ..pipeline import Digest, make_digest
from ..settings import Settings
from ..store import StoreUnavailable
from . import api, feeds, ops, pages, search
from .common import error
from .fastpath import FastPath
from .querypath import QueryPath


def create_app(settings: Settings | None = None, digest_obj: Digest | None = None,
               fallback: bool = False, fast: bool = True) -> Flask:
    """Build the app. An invalid feed spec raises `ConfigError` here, so the server does not
    start, unless `fallback` and a last good set of specs exists (a restart after a bad edit).

    Published documents are answered by the fast path in front of Flask (fastpath.py);
    `fast=False` builds the Flask path alone, which the tests and benchmarks compare it with."""
    app = Flask(__name__)
    app.extensions["digest"] = digest_obj or make_digest(settings, fallback=fallback)
    if digest_obj is None:  # a served app (not a test's own digest) shows the sample until a day exists
        app.extensions["digest"].show_sample_until_published()
    app.json.ensure_ascii = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # no route takes a body worth more
    for module in (feeds, pages, api, ops, search):
        app.register_blueprint(module.bp)

    @app.before_request
    def pick_up_feed_specs():
        """Added, edited and removed feeds/*.toml take effect without a restart."""
        app.extensions["digest"].reload_specs()

    @app.errorhandler(DigestError)
    def digest_error(e: DigestError):
        """Every error of ours, mapped by the status and code it carries (errors.py)."""
        if e.status >= 500:
            app.logger.error("%s %s: %s", request.method, request.path, e)
        return error(e.status, e.code, str(e))

    @app.errorhandler(sqlite3.Error)
    def storage_error(e: sqlite3.Error):
        """The store cannot be read (a corrupt or replaced database): a JSON 503, logged."""
        app.logger.error("%s %s: store unreadable: %s", request.method, request.path, e)
        if isinstance(e, StoreUnavailable):  # gone, or a database that cannot be opened: it says why
            return error(503, "storage", str(e))
        return error(503, "storage", f"the stored documents cannot be read right now ({type(e).__name__}); "
                                     "the operator has been told in the log and /healthz")

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        resp = error(e.code or 500, (e.name or "error").lower().replace(" ", "_"), e.description or e.name)
        for name, value in e.get_headers():  # Allow on a 405, Retry-After, WWW-Authenticate…
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    if fast:
        # readers' views and searches (query strings) behind it: querypath.py
        app.wsgi_app = FastPath(QueryPath(app.wsgi_app, app.extensions["digest"]), app.extensions["digest"])
    return app
