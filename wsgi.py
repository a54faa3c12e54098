"""WSGI entry point for gunicorn: `gunicorn --preload wsgi:app`.

A broken feed spec at start-up is one line on stderr and gunicorn stops (exit code 4,
its "app failed to load"), instead of a traceback per worker and endless respawns
(`--preload` loads the app once, in the master, before any worker starts). After
a bad edit on a server that ran before (a HUP, a restart), the last good specs serve and
the error is logged and shown in /healthz.
"""
import sys

from service.errors import ConfigError
from service.web import create_app

try:
    app = create_app(fallback=True)
except ConfigError as e:
    print(f"error: {e}", file=sys.stderr, flush=True)
    sys.exit(4)  # gunicorn.arbiter.Arbiter.APP_LOAD_ERROR: halt, do not respawn
# With --preload the app is built once, before the workers fork: SQLite connections must not
# cross a fork, so they are closed here and each worker opens its own on first use.
app.extensions["digest"].close()
