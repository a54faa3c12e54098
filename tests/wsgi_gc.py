"""A WSGI app for tests/test_launchers.py: is what the master loaded (with preload_app) still
traversed by a worker's garbage collections, or frozen before the fork (gunicorn.conf.py)?"""
from __future__ import annotations

import gc
import json


class Loaded:
    """Stands for the preloaded app's objects: created in the master, before the fork."""


LOADED = [Loaded() for _ in range(100)]


def app(environ, start_response):
    tracked = {id(o) for o in gc.get_objects()}  # generations 0–2: what a collection traverses
    body = json.dumps({"frozen": gc.get_freeze_count(),
                       "loaded_traversed": sum(id(o) in tracked for o in LOADED)}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
