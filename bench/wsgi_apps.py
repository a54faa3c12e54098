"""WSGI apps bench.serve runs under the same gunicorn settings as the app (gunicorn.conf.py).

    gunicorn -c gunicorn.conf.py 'bench.wsgi_apps:bare()'         # the ceiling
    gunicorn -c gunicorn.conf.py 'bench.wsgi_apps:flask_only()'   # the app before the fast path
    gunicorn -c gunicorn.conf.py 'bench.wsgi_apps:variant()'      # the fast path, other freshness checks
"""
from __future__ import annotations

import os
import pickle


def bare():
    """The same bytes and headers as the app, captured from it (BENCH_BARE_FILE), returned by a
    plain function: one dict lookup, no framework, no store. What gunicorn can do at most."""
    with open(os.environ["BENCH_BARE_FILE"], "rb") as f:
        answers: dict[tuple[str, bool], tuple[str, list, list, bytes]] = pickle.load(f)

    def app(environ, start_response):
        gz = "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")
        etag, headers, not_modified, body = answers[(environ["PATH_INFO"], gz)]
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            start_response("304 NOT MODIFIED", not_modified)
            return []
        start_response("200 OK", headers)
        return [body]
    return app


def flask_only():
    """The app with every request through Flask (create_app(fast=False)): the "before"."""
    from service.web import create_app
    app = create_app(fast=False)
    app.extensions["digest"].close()
    return app


def variant():
    """The app with its fast path checking freshness otherwise: BENCH_INTERVAL seconds between
    looks at the publication mark, BENCH_BACKSTOP (0: the generation read on every request,
    as before the mark existed)."""
    from service.web import create_app
    from service.web.fastpath import BACKSTOP, INTERVAL, FastPath
    app = create_app()
    app.extensions["digest"].close()  # as wsgi.py: no SQLite connection across the fork
    app.wsgi_app = FastPath(app.wsgi_app.app, app.extensions["digest"],
                            interval=float(os.environ.get("BENCH_INTERVAL", INTERVAL)),
                            backstop=float(os.environ.get("BENCH_BACKSTOP", BACKSTOP)))
    return app
