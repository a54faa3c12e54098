"""Where a request's time goes, in process: 10k WSGI calls per route and encoding through the
app with and without the fast path (no server, no socket), timed and profiled with cProfile.

    .venv/bin/python -m bench.inproc [--requests 10000]

Writes bench/results/inproc.json. The store is the serving benchmark's (5 feeds × 30 days).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .common import seed_store, write_result

BASE = "http://bench.example"
FEEDS = ["f1", "f2", "f3", "f4", "f5"]

#: Frame groups for the profile: the first group whose marker is in a frame's file owns its time.
GROUPS = (("fast path (service/web/fastpath.py)", "service/web/fastpath.py"),
          ("store lookup (service/store.py, documents.py)", "service/store.py"),
          ("store lookup (service/store.py, documents.py)", "service/documents.py"),
          ("diskcache + sqlite + pickle", "diskcache"),
          ("diskcache + sqlite + pickle", "sqlite3"),
          ("diskcache + sqlite + pickle", "pickle"),
          ("serve_doc, max_age, schedule (service/web, schedule.py)", "service/web/"),
          ("serve_doc, max_age, schedule (service/web, schedule.py)", "service/schedule.py"),
          ("façade (service/pipeline.py)", "service/pipeline.py"),
          ("werkzeug (headers, conditional, response)", "werkzeug"),
          ("flask (dispatch, contexts)", "flask"),
          ("logging", "logging"))


def environ(path: str, headers: dict[str, str], method: str = "GET") -> dict:
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "SCRIPT_NAME": "", "wsgi.url_scheme": "http",
           "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
           "wsgi.multiprocess": True, "wsgi.run_once": False, "HTTP_HOST": "127.0.0.1:8000"}
    env.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    return env


def call(app, env: dict) -> tuple[str, int]:
    out = []
    body = app(env, lambda status, headers, exc_info=None: out.append(status))
    n = sum(len(b) for b in body)
    if hasattr(body, "close"):
        body.close()
    return out[0], n


def group_of(filename: str, func: str) -> str:
    """C functions have no file: pickle.load, sqlite3's execute/fetchall and io.open (diskcache
    reads a large value from its own file) are the store's; the rest are the interpreter's."""
    if filename == "~" and any(m in func for m in ("_pickle", "sqlite3", "io.open")):
        return "diskcache + sqlite + pickle"
    for name, marker in GROUPS:
        if marker in filename:
            return name
    return "other (stdlib, interpreter)"


def profile(app, env: dict, n: int) -> dict:
    """Self time per group (cProfile's tottime), as a share of the total, and the top functions."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        call(app, dict(env))
    prof.disable()
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())
    groups: dict[str, float] = {}
    calls = {}
    for (filename, line, func), (cc, nc, tt, ct, _) in stats.stats.items():
        group = group_of(filename, func)
        groups[group] = groups.get(group, 0) + tt
        calls[f"{Path(filename).name}:{line}({func})"] = (nc / n, tt)
    top = sorted(calls.items(), key=lambda kv: -kv[1][1])[:12]
    return {"groups_pct": {k: round(100 * v / total, 1) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
            "top_self": [(k, round(c, 2), round(1e6 * t / n, 2)) for k, (c, t) in top],
            "sqlite_selects_per_request": round(calls_of(stats, "execute") / n, 2)}


def calls_of(stats: pstats.Stats, func: str) -> int:
    return sum(v[1] for (f, _, name), v in stats.stats.items() if name == func or name.startswith(f"<method '{func}' of 'sqlite3"))


def timed(app, env: dict, n: int, rounds: int = 5) -> dict:
    per = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n // rounds):
            call(app, dict(env))
        per.append((time.perf_counter() - t0) / (n // rounds) * 1e6)
    return {"us_per_request_median": round(statistics.median(per), 1), "rounds_us": [round(p, 1) for p in per]}


def variant(app, **freshness):
    """The app with its fast path checking freshness otherwise (FastPath's interval/backstop)."""
    from service.web.fastpath import FastPath
    app.wsgi_app = FastPath(app.wsgi_app.app, app.extensions["digest"], **freshness)
    return app


#: How each mode builds its app; "fast" is the app as served.
MODES = {
    "flask": "the app without its fast path (every request through Flask)",
    "fast": "as served: the publication mark stat()ed per request, generations read when it moves",
    "fast_read": "the generation read from SQLite on every request, the mark ignored (what the mark saves)",
    "fast_interval": "the mark looked at most once a second (not used: a 1 s staleness window)",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--modes", default=",".join(MODES), help="; ".join(f"{k}: {v}" for k, v in MODES.items()))
    args = ap.parse_args()
    load_start = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-inproc-"))
    try:
        seeded = seed_store(tmp / "var", FEEDS, 30)
        os.environ.update(DIGEST_DATA_DIR=str(tmp / "var"), DIGEST_FEEDS_DIR=str(tmp / "feeds"),
                          DIGEST_PUBLIC_URL=BASE)
        os.environ.pop("ANTHROPIC_API_KEY", None)
        from service.pipeline import make_digest
        from service.web import create_app
        digest = make_digest()
        makers = {"flask": lambda: create_app(digest_obj=digest, fast=False), "fast": lambda: create_app(digest_obj=digest),
                  "fast_read": lambda: variant(create_app(digest_obj=digest), backstop=0),
                  "fast_interval": lambda: variant(create_app(digest_obj=digest), interval=1.0)}
        apps = {mode: makers[mode]() for mode in args.modes.split(",")}
        date = seeded["dates"][0]
        gz = {"Accept-Encoding": "gzip"}
        cases = {"atom_plain": ("/feeds/f1.atom", {}), "atom_gzip": ("/feeds/f1.atom", gz),
                 "api_day_gzip": (f"/api/v1/feeds/f1/days/{date}", gz),
                 "html_day_gzip": (f"/feeds/f1/{date}", gz), "index_gzip": ("/", gz)}
        etag = next(iter(apps.values())).test_client().get("/feeds/f1.atom").headers["ETag"]
        cases["atom_304"] = ("/feeds/f1.atom", {"If-None-Match": etag})
        rows = []
        for name, (path, headers) in cases.items():
            env = environ(path, headers)
            for mode, app in apps.items():
                status, size = call(app, dict(env))  # warm: rendered and stored once
                row = {"case": name, "mode": mode, "path": path, "headers": headers, "status": status,
                       "bytes": size, **timed(app, env, args.requests),
                       "profile": profile(app, env, args.requests)}
                rows.append(row)
                print(f"{name:14} {mode:13} {status:16} {size:6} B {row['us_per_request_median']:7.1f} µs/request  "
                      f"{row['profile']['sqlite_selects_per_request']} sqlite execute()/request", flush=True)
        result = {"command": ".venv/bin/python -m bench.inproc " + " ".join(sys.argv[1:]),
                  "load_average": {"start": load_start, "end": os.getloadavg()}, "modes": {m: MODES[m] for m in apps},
                  "requests_per_case": args.requests, "base": BASE, "cases": rows}
        print(f"wrote {write_result('inproc', result)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
