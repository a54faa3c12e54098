"""gunicorn settings for arxiv-digest's web process (`gunicorn -c gunicorn.conf.py wsgi:app`).

The workload: feed readers poll the same few stored documents all day, most answers are a
304 or ~10–90 KB of bytes held in memory by the fast path (service/web/fastpath.py), and
nothing a request does blocks for long (no upstream calls; an admin refresh runs in a
background thread). Figures are from `make bench` (BENCHMARKS.md) on a 2-core machine.
Command-line flags override these (`make run` and the Procfile pass --bind), and so does
GUNICORN_CMD_ARGS, e.g. GUNICORN_CMD_ARGS="--threads 8 --access-logfile -".
"""
import gc
import os

#: Loopback by default: exposing the service is a decision (Procfile binds 0.0.0.0:$PORT).
bind = "127.0.0.1:8000"

#: One more worker than the cores this process may run on (3 on the 2-core bench machine).
#: A worker is one interpreter, so one GIL; a third worker keeps both cores busy while one
#: worker waits (its GIL handed between threads, a send to a slow socket, the scheduler), and
#: that is what cuts the tail: against 2 workers × 4 threads, 3 × 2 had a lower p99 in 15 of
#: 16 cells over three runs (median 0.65× the p99, 1.03× the throughput; 8 and 32
#: connections; bench/results/serve-tune*.json, BENCHMARKS.md), and in 7 of 10 at 32
#: connections in the two full runs since (all 5 under load, 2 of 5 on a quieter machine). 2 × 2 was not better than
#: 2 × 4 (8 of 16), 4 × 2 and 4 × 1 were measured in one run only. RSS is ~50–80 MiB a
#: worker. WEB_CONCURRENCY is the platform convention (Heroku, Render, Dokku) for overriding
#: it; sched_getaffinity counts the cores this process may use, not the host's.
workers = int(os.environ.get("WEB_CONCURRENCY", len(os.sched_getaffinity(0)) + 1))

#: gthread, not sync: a sync worker closes the connection after every response, and since
#: gunicorn 27 waits for the client's FIN (close_graceful: a third of a sync worker's
#: samples in the py-spy profile of BENCHMARKS.md's earlier revision). gthread keeps connections alive, so a reader or a proxy reusing its
#: connection skips accept + close, and one slow client no longer holds a whole worker.
worker_class = "gthread"

#: Threads per worker. A fast-path answer is ~5 µs of Python under the GIL; gthread keeps
#: idle keep-alive connections in its poller, not in threads, so threads are only needed to
#: overlap one request's socket writes with another's CPU work. Two do that; more only line
#: up for the GIL inside the worker, which shows in the tail: in one run each (3 cells at
#: 32 connections), 2 × 8 had twice the p99 of 2 × 4 and 3 × 4 1.2×, where 3 × 2 had 0.65×
#: over all three. With 1 thread (2 × 1) the main loop and the one request thread hand
#: every connection back and forth: 0.7× the throughput, 3× the p99.
threads = 2

#: Seconds an idle keep-alive connection is kept. 5 s lets a reader fetching several
#: documents (a day page, then its feed) or a proxy reuse its connection; an idle one costs a
#: socket in the poller, not a thread. Not longer: readers poll every few minutes, so a long
#: timeout would only hold sockets that are never reused, up to worker_connections (1000 a
#: worker) before gunicorn stops accepting. A proxy that pools connections to gunicorn must
#: close idle ones sooner than this (nginx: `keepalive_timeout 4s;` in the upstream block;
#: its default 60 s would send requests into connections gunicorn is closing).
keepalive = 5

#: Pending connections the kernel queues before gunicorn accepts them. gunicorn's default
#: (2048) is kept: at 32 connections the queue never grows (accepts keep up); the kernel caps
#: it at net.core.somaxconn anyway. A burst of new connections beyond it gets refused, which
#: for a feed reader is a retry at its next poll.
backlog = 2048

#: No access log by default: a line formatted and written by the worker on every request,
#: where the fast path's whole answer is ~15 µs (not measured separately here). The reverse
#: proxy or CDN logs requests; to have gunicorn log them: GUNICORN_CMD_ARGS="--access-logfile -".
accesslog = None
errorlog = "-"
loglevel = "info"

#: Preload: the app is built once in the master, so a broken feed spec at start-up is one line
#: and exit 4 (without it two workers race to fail and gunicorn prints its own traceback).
#: wsgi.py closes the store's SQLite connections before the fork; each worker opens its own.
preload_app = True



def pre_fork(server, worker):
    """Freeze what the master has loaded (the app, its imports) just before a worker is forked.

    A worker's garbage collections then skip those objects: its first full collection no longer
    walks (and, by writing their GC headers, copies) every page of the preloaded app. Measured
    (bench/gunicorn_options.py's gclog, BENCHMARKS.md): a full collection in a worker took
    66–117 ms unfrozen and 2.5 ms frozen. Full collections are rare while serving (none in a walk
    over every document plus 10 s of load; the fast path allocates almost nothing that survives),
    so this removes a rare long pause and keeps those pages shared; it did not move the p99 at 32
    connections beyond the machine's noise. The frozen objects are never collected: they live as
    long as the process anyway. gc.collect() first, so no garbage is frozen with them."""
    gc.collect()
    gc.freeze()


#: No control socket in ~/.gunicorn (shared by every instance on the machine, outside the tree).
control_socket_disable = True

#: A request never waits on arXiv or the LLM (refreshes run in the worker process or a
#: background thread), so 30 s is a hung worker, not a slow answer.
timeout = 30
graceful_timeout = 30
