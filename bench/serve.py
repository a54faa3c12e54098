"""Serving, in one run on loopback: wrk against nginx (serving `export-site` output), a bare
WSGI app returning the same bytes under the same gunicorn settings (the ceiling), the app
as `make run` serves it, and the app with its fast path off (the "before"); every case at
every concurrency, repeated, medians. Plus byte-for-byte equality with nginx and the
gunicorn workers' RSS after every document has been served.

    .venv/bin/python -m bench.serve [--duration 3] [--repeat 3] [--connections 1,8,32] [--threads N]
        [--servers nginx,bare,app,app_before,app_interval,app_read] [--tune w2t4,w3t2] [--cases ...] [--no-walk]
        [--options freeze,reuseport,...] [--memory app,app+mallopt=2,...]

--options adds, for each option set, the bare app and the app under gunicorn.conf.py plus those
options (bench/gunicorn_options.py; `+` joins several, e.g. `freeze+switch=0.001`): servers
`bare+<set>` and `app+<set>`. `arenaenv=N` is MALLOC_ARENA_MAX=N in the server's environment.
--memory walks every document (plain and gzip) on each listed server and records its workers'
memory (RSS, PSS, private), as the app's walk does.

Writes bench/results/serve.json (or serve-<tag>.json with --tag). Needs wrk and nginx on
PATH (`make bench` installs them).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import statistics
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from .common import BASE, DAYS, FEEDS, ROOT, served_env, write_result


def start_nginx(tmp: Path, port: int, workers: int) -> subprocess.Popen:
    """nginx on loopback serving `tmp/site` with export-site's generated snippet (port changed)."""
    snippet = (tmp / "site/nginx.conf").read_text("utf-8").replace("listen 127.0.0.1:8080;",
                                                                   f"listen 127.0.0.1:{port};")
    (tmp / "snippet.conf").write_text(snippet, "utf-8")
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(workers=workers, tmp=tmp, snippet=tmp / "snippet.conf"),
                                    "utf-8")
    return subprocess.Popen(["nginx", "-c", str(tmp / "nginx.conf"), "-p", str(tmp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def rss_kb(pid: int) -> dict:
    """RSS (what the target counts), and PSS and private memory (pages shared with the master
    and the other workers after the fork counted once / not at all), in kB."""
    status = Path(f"/proc/{pid}/status").read_text()
    out = {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) for k in ("VmRSS", "VmHWM")}
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        kb = {k: int(v) for k, v in re.findall(r"^(\w+):\s+(\d+) kB", rollup, re.M)}
        out.update(Pss=kb["Pss"], Private=kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0))
    except (OSError, KeyError):
        pass
    return out


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(x) for x in (task / "children").read_text().split()]
    return out


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNIT[m.group(2)]


def wrk(url: str, connections: int, duration: float, headers: dict) -> dict:
    cmd = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "5s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"command": " ".join(f"'{c}'" if " " in c else c for c in cmd),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": _ms(lat["50"]), "p99_ms": _ms(lat["99"]),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "non_2xx_3xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else None}


NGINX_CONF = """worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    # tcp_nopush (Debian's default) stalls the 85 KB plain Atom 40 ms at p99 (delayed ACK):
    # off, nginx serves it 2x faster, so the ratios are against the faster nginx.
    tcp_nopush off;
    keepalive_requests 1000000;
    include {snippet};
}}
"""


SERVERS = ("nginx", "bare", "app", "app_before", "app_read", "app_interval")
#: Fast-path variants (bench.wsgi_apps:variant()): the generation read on every request (the
#: fast path before the publication mark), and the mark looked at once a second.
VARIANTS = {"app_read": {"BENCH_BACKSTOP": "0"}, "app_interval": {"BENCH_INTERVAL": "1"}}
DESCRIBE = {"app_read": "the fast path reading the generation from SQLite on every request (the mark ignored)",
            "app_interval": "the fast path looking at the mark once a second (a 1 s staleness window)"}


def start_gunicorn(app: str, port: int, env: dict, args, config: str = "gunicorn.conf.py"
                   ) -> tuple[subprocess.Popen, list[str]]:
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / config), "--bind", f"127.0.0.1:{port}",
           "--log-level", "warning"]
    cmd += ["--workers", str(args.workers)] if args.workers else []
    cmd += ["--threads", str(args.threads)] if args.threads else []
    cmd += ["--worker-class", args.worker_class] if args.worker_class else []
    p = subprocess.Popen(cmd + [app], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_port(port)
    return p, cmd[1:] + [app]


def option_env(options: str) -> tuple[dict, str]:
    """An option set (`freeze+switch=0.001`, `arenaenv=2`) → (environment, description)."""
    env, conf = {}, []
    for o in options.split("+"):
        if o.startswith("arenaenv="):
            env["MALLOC_ARENA_MAX"] = o.partition("=")[2]
        else:
            conf.append(o)
    if conf:
        env["BENCH_GUNICORN_OPTIONS"] = ",".join(conf)
    return env, " ".join(f"{k}={v}" for k, v in env.items())


def walk(url: str, paths: list[str]) -> None:
    """GET every document, plain and gzip (what fills a worker's kept documents)."""
    for path in paths:
        for gz in (False, True):
            get(url + path, {"Accept-Encoding": "gzip"} if gz else {})


def capture(url: str, paths: list[str], out: Path) -> None:
    """The app's answers (headers and bytes, plain and gzip) for the bare WSGI app to replay."""
    answers = {}
    for path in paths:
        for gz in (False, True):
            req = urllib.request.Request(url + path, headers={"Accept-Encoding": "gzip"} if gz else {})
            with urllib.request.urlopen(req, timeout=10) as r:
                body = r.read()
                headers = [(k, v) for k, v in r.headers.items() if k.lower() not in ("date", "server", "connection")]
            etag = dict(headers)["ETag"]
            not_modified = [(k, v) for k, v in headers if k.lower() in ("etag", "vary", "cache-control")]
            answers[(path, gz)] = (etag, headers, not_modified, body)
    out.write_bytes(pickle.dumps(answers))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--connections", default="1,8,32")
    ap.add_argument("--workers", type=int, default=0, help="override gunicorn.conf.py's workers")
    ap.add_argument("--threads", type=int, default=0, help="override gunicorn.conf.py's threads")
    ap.add_argument("--worker-class", default="", help="override gunicorn.conf.py's worker class")
    ap.add_argument("--cases", default="", help="comma-separated subset of the cases")
    ap.add_argument("--servers", default="nginx,bare,app,app_before,app_interval")
    ap.add_argument("--tag", default="", help="results in serve-<tag>.json")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--no-walk", action="store_true", help="skip the equality walk over every document (A/B runs)")
    ap.add_argument("--options", default="", help="option sets for bare+<set> and app+<set> (bench/gunicorn_options.py)")
    ap.add_argument("--memory", default="", help="extra servers to walk and measure the memory of, e.g. app+arenaenv=2")
    ap.add_argument("--tune", default="w2t4", help="gunicorn settings to compare for the app in the same run, e.g. "
                    "'w2t4,w2t2,w3t2,w4t1' (workers w, threads t): servers app_w2t4, ...; default: the settings "
                    "before gunicorn.conf.py's 3 × 2")
    args = ap.parse_args()
    conns = [int(c) for c in args.connections.split(",")]
    tuned = {f"app_{t}": tuple(int(x) for x in re.fullmatch(r"w(\d+)t(\d+)", t).groups())
             for t in args.tune.split(",") if t}
    optioned = {f"{base}+{o}": (base, o) for o in args.options.split(",") if o for base in ("bare", "app")}
    optioned.update({s: tuple(s.split("+", 1)) for s in args.memory.split(",") if "+" in s})
    servers = args.servers.split(",") + list(tuned) + [s for s in optioned if s not in args.memory.split(",")
                                                        or s.split("+", 1)[1] in args.options.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    tmp.chmod(0o755)  # nginx workers run as nobody
    procs: list[subprocess.Popen] = []
    load_start = os.getloadavg()  # the machine before this run's own load (wrk and the servers)
    try:
        seeded, env = served_env(tmp)
        ports = {name: free_port() for name in (*SERVERS, *tuned, *optioned)}
        app, app_cmd = start_gunicorn("wsgi:app", ports["app"], env, args)
        procs.append(app)
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        # 1. the static export (same store, same base URL), and nginx on it
        t0 = time.perf_counter()
        export = subprocess.run([str(ROOT / ".venv/bin/arxiv-digest"), "export-site", str(tmp / "site"),
                                 "--base", BASE], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
        export_s = time.perf_counter() - t0
        manifest = json.loads((tmp / "site/etags.json").read_text("utf-8"))
        nginx = start_nginx(tmp, ports["nginx"], os.cpu_count())
        procs.append(nginx)
        wait_port(ports["nginx"])
        app_url, nginx_url = urls["app"], urls["nginx"]
        # 2. byte for byte: body, gzip body, content type, ETag, 304 on both
        mismatches, checked = [], 0
        for url, info in (() if args.no_walk else manifest.items()):
            for gz in (False, True):
                hdrs = {"Accept-Encoding": "gzip"} if gz else {}
                a, b = get(app_url + url, hdrs), get(nginx_url + url, hdrs)
                checked += 1
                for what, x, y in (("status", a[0], b[0]), ("body", a[2], b[2]),
                                   ("content-type", a[1].get("content-type"), b[1].get("content-type")),
                                   ("etag", a[1].get("etag"), b[1].get("etag")),
                                   ("content-encoding", a[1].get("content-encoding"), b[1].get("content-encoding"))):
                    if x != y:
                        mismatches.append({"url": url, "gzip": gz, "what": what,
                                           "app": str(x)[:80], "nginx": str(y)[:80]})
                if gz and b[2] and gzip.decompress(b[2]) != get(nginx_url + url)[2]:
                    mismatches.append({"url": url, "what": "gunzip"})
                etag = a[1].get("etag")
                c, d = get(app_url + url, {**hdrs, "If-None-Match": etag}), get(nginx_url + url, {**hdrs, "If-None-Match": etag})
                if not (c[0] == d[0] == 304):
                    mismatches.append({"url": url, "gzip": gz, "what": "304", "app": c[0], "nginx": d[0]})
        workers = children(app.pid)
        rss_after_walk = {pid: rss_kb(pid) for pid in workers}
        # 3. the cases, and the references under the same gunicorn settings
        feed, date = FEEDS[0], seeded["dates"][0]
        atom = f"/feeds/{feed}.atom"
        etag = manifest[atom]["etag"]
        cases = {
            "atom_plain": (atom, {}),
            "atom_gzip": (atom, {"Accept-Encoding": "gzip"}),
            "atom_304": (atom, {"If-None-Match": f'"{etag}"'}),
            "api_day": (f"/api/v1/feeds/{feed}/days/{date}", {"Accept-Encoding": "gzip"}),
            "html_day": (f"/feeds/{feed}/{date}", {"Accept-Encoding": "gzip"}),
        }
        if args.cases:
            cases = {k: v for k, v in cases.items() if k in args.cases.split(",")}
        capture(app_url, sorted({path for path, _ in cases.values()}), tmp / "bare.pickle")
        commands = {"app": app_cmd}
        if "bare" in servers:
            p, commands["bare"] = start_gunicorn("bench.wsgi_apps:bare()", ports["bare"],
                                                 dict(env, BENCH_BARE_FILE=str(tmp / "bare.pickle")), args)
            procs.append(p)
        for name, extra in VARIANTS.items():
            if name in servers:
                p, commands[name] = start_gunicorn("bench.wsgi_apps:variant()", ports[name], dict(env, **extra), args)
                procs.append(p)
        for name, (w, t) in tuned.items():
            p, commands[name] = start_gunicorn("wsgi:app", ports[name], env,
                                               argparse.Namespace(**{**vars(args), "workers": w, "threads": t}))
            procs.append(p)
        for name, (base, options) in optioned.items():
            extra, describe = option_env(options)
            app_spec = "bench.wsgi_apps:bare()" if base == "bare" else "wsgi:app"
            benv = dict(env, BENCH_BARE_FILE=str(tmp / "bare.pickle")) if base == "bare" else env
            p, commands[name] = start_gunicorn(app_spec, ports[name], dict(benv, **extra), args,
                                               "bench/gunicorn_options.py")
            commands[name].insert(0, describe)
            procs.append(p)
        memory_walks = {}
        for name in args.memory.split(","):
            if name and not (name == "app" and not args.no_walk):  # the equality walk did the app's
                walk(urls[name], list(manifest))
                memory_walks[name] = {pid: rss_kb(pid) for pid in children(_proc(procs, ports[name]).pid)}
        if "app_before" in servers:
            p, commands["app_before"] = start_gunicorn("bench.wsgi_apps:flask_only()", ports["app_before"], env, args)
            procs.append(p)
        sizes = {}
        for name, (path, h) in cases.items():
            sizes[name] = {s: len(get(urls[s] + path, h)[2]) for s in servers}
            assert len(set(sizes[name].values())) == 1, (name, sizes[name])  # the same bytes everywhere
        rows = []
        for name, (path, headers) in cases.items():
            for c in conns:
                runs: dict[str, list[dict]] = {s: [] for s in servers}
                load = os.getloadavg()
                for _ in range(args.repeat):  # servers alternate within each repetition
                    for server in servers:
                        runs[server].append(wrk(urls[server] + path, c, args.duration, headers))
                row = {"case": name, "path": path, "headers": headers, "connections": c, "load_average": load,
                       "bytes": sizes[name][servers[0]], "runs": runs,
                       "median": {s: {k: statistics.median(r[k] for r in runs[s]) for k in ("rps", "p50_ms", "p99_ms")}
                                  for s in servers},
                       "errors": {s: sum(r["non_2xx_3xx"] for r in runs[s]) for s in servers}}
                med = row["median"]
                row["ratio"] = {f"{s}/{ref}": round(med[s]["rps"] / med[ref]["rps"], 3)
                                for s in ("app", "app_before", *VARIANTS) for ref in ("nginx", "bare")
                                if s in med and ref in med}
                row["ratio"].update({f"{s}/bare+{o}": round(med[s]["rps"] / med[f"bare+{o}"]["rps"], 3)
                                     for s, (base, o) in optioned.items()
                                     if base == "app" and s in med and f"bare+{o}" in med})
                rows.append(row)
                print(f"{name:10} c={c:<3} load {load[0]:.2f} " + " | ".join(f"{s} {med[s]['rps']:7.0f} p99 {med[s]['p99_ms']:6.2f}"
                                                         for s in servers) + f" | {row['ratio']}", flush=True)
        rss_after_load = {pid: rss_kb(pid) for pid in workers}
        python_servers = {s: _proc(procs, ports[s]) for s in servers if s != "nginx" and s != "app"}
        others_after_load = {s: {pid: rss_kb(pid) for pid in children(p.pid)} for s, p in python_servers.items() if p}
        result = {
            "command": ".venv/bin/python -m bench.serve " + " ".join(sys.argv[1:]),
            "load_average": {"start": load_start, "end": os.getloadavg()},
            "setup": {"gunicorn": commands, "nginx_worker_processes": os.cpu_count(),
                      "servers": {**{n: DESCRIBE[n] for n in servers if n in DESCRIBE},
                                  **{n: f"the app, gunicorn --workers {w} --threads {t}" for n, (w, t) in tuned.items()},
                                  **{n: f"the {'bare app' if b == 'bare' else 'app'} with {option_env(o)[1]}"
                                     for n, (b, o) in optioned.items()}},
                      "feeds": len(FEEDS), "days": DAYS, "documents": len(manifest), "base": BASE,
                      "wrk_duration_s": args.duration, "repeat": args.repeat, "export": export.stdout.strip(),
                      "export_wall_s": round(export_s, 2)},
            "equality": {"requests_compared": checked, "mismatches": mismatches[:20],
                         "mismatch_count": len(mismatches)},
            "memory_kb": {"gunicorn_workers_after_serving_every_document": rss_after_walk,
                          "gunicorn_workers_after_load": rss_after_load,
                          "other_servers_after_serving_every_document": memory_walks,
                          "other_servers_after_load": others_after_load},
            "cases": rows,
        }
        name = f"serve-{args.tag}" if args.tag else "serve"
        print(f"equality: {checked} responses compared, {len(mismatches)} mismatches; "
              f"worker RSS after walk {rss_after_walk}; wrote {write_result(name, result)}")
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGQUIT if p is nginx_proc(procs) else signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _proc(procs: list[subprocess.Popen], port: int) -> subprocess.Popen | None:
    """The gunicorn master bound to `port` (from its command line)."""
    return next((p for p in procs if isinstance(p.args, list) and f"127.0.0.1:{port}" in p.args), None)


def nginx_proc(procs: list[subprocess.Popen]) -> subprocess.Popen | None:
    return next((p for p in procs if p.args and p.args[0] == "nginx"), None)


if __name__ == "__main__":
    main()
