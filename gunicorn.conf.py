"""gunicorn settings for arxiv-digest's web process (`gunicorn -c gunicorn.conf.py wsgi:app`).

The workload: feed readers poll the same few stored documents all day, most answers are a
304 or ~10–90 KB of bytes held in memory by the fast path (service/web/fastpath.py), and
nothing a request does blocks for long (no upstream calls; an admin refresh runs in a
background thread). Figures are from `make bench` (BENCHMARKS.md) on a 2-core machine.
Command-line flags override these (`make run` and the Procfile pass --bind), and so does
GUNICORN_CMD_ARGS, e.g. GUNICORN_CMD_ARGS="--threads 8 --access-logfile -".
"""
import os

#: Loopback by default: exposing the service is a decision (Procfile binds 0.0.0.0:$PORT).
bind = "127.0.0.1:8000"

#: One process per core: a worker is one Python interpreter, so one GIL. WEB_CONCURRENCY
#: is the platform convention (Heroku, Render, Dokku) for overriding it.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

#: gthread, not sync: a sync worker closes the connection after every response, and since
#: gunicorn 27 waits for the client's FIN (close_graceful: a third of a sync worker's
#: samples in the py-spy profile of BENCHMARKS.md's earlier revision). gthread keeps connections alive, so a reader or a proxy reusing its
#: connection skips accept + close, and one slow client no longer holds a whole worker.
worker_class = "gthread"

#: Threads per worker. Requests are short CPU work under the GIL, so threads add
#: concurrency for slow clients and idle keep-alive connections, not throughput: past a
#: few, they only queue inside the worker. 4 is what bench.serve measures (8 was not
#: compared in a run quiet enough to tell them apart; GUNICORN_CMD_ARGS="--threads 8").
threads = 4

#: Seconds an idle keep-alive connection is kept. gunicorn's default (2 s) is shorter than
#: most proxies' idle pools; 5 s lets a reverse proxy or a reader fetching several
#: documents reuse its connection, and costs only an idle socket in the poller.
keepalive = 5

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

#: No control socket in ~/.gunicorn (shared by every instance on the machine, outside the tree).
control_socket_disable = True

#: A request never waits on arXiv or the LLM (refreshes run in the worker process or a
#: background thread), so 30 s is a hung worker, not a slow answer.
timeout = 30
graceful_timeout = 30
