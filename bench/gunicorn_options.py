"""gunicorn.conf.py plus the options bench.serve compares (`-c bench/gunicorn_options.py`).

BENCH_GUNICORN_OPTIONS is a comma-separated list, applied on top of the repo's settings so
the bare app and the app get exactly the same ones:

    freeze      gc.collect() + gc.freeze() in the master before each fork (the preloaded app's
                objects never traversed by a worker's collections, nor copied by them); since
                gunicorn.conf.py does this itself, runs before that commit measured it here
    nofreeze    without gunicorn.conf.py's pre_fork (gc.freeze), as before that commit
    gen0=N      gc.set_threshold(N, 10, 10) in each worker (CPython's default: 700)
    switch=S    sys.setswitchinterval(S) in each worker (CPython's default: 0.005 s)
    reuseport   reuse_port = True (gunicorn 27: one SO_REUSEPORT listener per worker, so the
                kernel spreads new connections over the workers)
    noreuseport reuse_port = False
    mallopt=N   mallopt(M_ARENA_MAX, N) in the master when this file is loaded, before any
                thread exists (what MALLOC_ARENA_MAX=N in the environment does at start-up)
    gclog=DIR   each worker appends every garbage collection of 1 ms or more to DIR/gc-<pid>.log
                ("<generation> <ms> <unix time>"), to see whether collections line up with the tail
"""
import gc
import os
import runpy
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
globals().update({k: v for k, v in runpy.run_path(os.path.join(_ROOT, "gunicorn.conf.py")).items()
                  if not k.startswith("__")})

_OPTIONS = dict(o.partition("=")[::2] for o in os.environ.get("BENCH_GUNICORN_OPTIONS", "").split(",") if o)


def _chain(name, extra):
    """Run `extra` after the repo's own hook of that name (pre_fork, post_fork: two arguments)."""
    before = globals().get(name)

    def hook(server, worker):
        if before is not None:
            before(server, worker)
        extra(server, worker)
    globals()[name] = hook


if "nofreeze" in _OPTIONS:
    globals().pop("pre_fork", None)
if "reuseport" in _OPTIONS:
    reuse_port = True
if "noreuseport" in _OPTIONS:
    reuse_port = False
if "freeze" in _OPTIONS:
    def _freeze(server, worker):
        gc.collect()
        gc.freeze()
    _chain("pre_fork", _freeze)
if "gen0" in _OPTIONS:
    _chain("post_fork", lambda server, worker: gc.set_threshold(int(_OPTIONS["gen0"]), 10, 10))
if "switch" in _OPTIONS:
    _chain("post_fork", lambda server, worker: sys.setswitchinterval(float(_OPTIONS["switch"])))
if "mallopt" in _OPTIONS:
    import ctypes
    ctypes.CDLL(None).mallopt(-8, int(_OPTIONS["mallopt"]))  # M_ARENA_MAX
if "gclog" in _OPTIONS:
    def _gclog(server, worker):
        import time
        start, path = [0.0], os.path.join(_OPTIONS["gclog"], f"gc-{os.getpid()}.log")

        def callback(phase, info):
            if phase == "start":
                start[0] = time.perf_counter()
            elif (ms := (time.perf_counter() - start[0]) * 1e3) >= 1:
                with open(path, "a") as f:
                    f.write(f"{info['generation']} {ms:.2f} {time.time():.3f}\n")
        gc.callbacks.append(callback)
    _chain("post_fork", _gclog)
