"""Serving: wrk against the app under gunicorn and against nginx serving `export-site` output,
in the same run, on loopback; plus byte-for-byte equality and the gunicorn worker's RSS.

    .venv/bin/python -m bench.serve [--duration 5] [--connections 1,8,32]

Writes bench/results/serve.json. Needs wrk and nginx on PATH (`make bench` installs them).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
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

from .common import ROOT, seed_store, write_result

BASE = "http://bench.example"
FEEDS = ["f1", "f2", "f3", "f4", "f5"]
DAYS = 30


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
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) for k in ("VmRSS", "VmHWM")}


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", default="1,8,32")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers and nginx worker_processes")
    ap.add_argument("--worker-class", default="sync")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    conns = [int(c) for c in args.connections.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    tmp.chmod(0o755)  # nginx workers run as nobody
    procs: list[subprocess.Popen] = []
    try:
        seeded = seed_store(tmp / "var", FEEDS, DAYS)
        env = dict(os.environ, DIGEST_DATA_DIR=str(tmp / "var"), DIGEST_FEEDS_DIR=str(tmp / "feeds"),
                   DIGEST_PUBLIC_URL=BASE)
        env.pop("ANTHROPIC_API_KEY", None)
        app_port, nginx_port = free_port(), free_port()
        gunicorn = [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{app_port}", "--workers",
                    str(args.workers), "--worker-class", args.worker_class, "--threads", str(args.threads),
                    "--log-level", "warning", "wsgi:app"]
        app = subprocess.Popen(gunicorn, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(app)
        wait_port(app_port)
        app_url = f"http://127.0.0.1:{app_port}"
        # 1. the static export (same store, same base URL)
        t0 = time.perf_counter()
        export = subprocess.run([str(ROOT / ".venv/bin/arxiv-digest"), "export-site", str(tmp / "site"),
                                 "--base", BASE], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
        export_s = time.perf_counter() - t0
        manifest = json.loads((tmp / "site/etags.json").read_text("utf-8"))
        # 2. nginx on the exported directory, with the generated snippet (listen port changed)
        nginx = start_nginx(tmp, nginx_port, args.workers)
        procs.append(nginx)
        wait_port(nginx_port)
        nginx_url = f"http://127.0.0.1:{nginx_port}"
        # 3. byte for byte: body, gzip body, content type, ETag, 304 on both
        mismatches, checked = [], 0
        for url, info in manifest.items():
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
        # 4. load
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
        sizes = {name: len(get(app_url + path, h)[2]) for name, (path, h) in cases.items()}
        rows = []
        for name, (path, headers) in cases.items():
            for c in conns:
                row = {"case": name, "path": path, "headers": headers, "connections": c, "bytes": sizes[name]}
                for server, base in (("app", app_url), ("nginx", nginx_url)):
                    row[server] = wrk(base + path, c, args.duration, headers)
                row["ratio_rps"] = round(row["app"]["rps"] / row["nginx"]["rps"], 4)
                rows.append(row)
                print(f"{name:10} c={c:<3} app {row['app']['rps']:9.0f} req/s p50 {row['app']['p50_ms']:7.2f} "
                      f"p99 {row['app']['p99_ms']:7.2f} ms | nginx {row['nginx']['rps']:9.0f} req/s "
                      f"p99 {row['nginx']['p99_ms']:6.2f} ms | ratio {row['ratio_rps']:.3f}", flush=True)
        rss_after_load = {pid: rss_kb(pid) for pid in workers}
        result = {
            "command": "cd /work/main && .venv/bin/python -m bench.serve " + " ".join(sys.argv[1:]),
            "setup": {"gunicorn": " ".join(gunicorn[1:]), "nginx_worker_processes": args.workers,
                      "feeds": len(FEEDS), "days": DAYS, "documents": len(manifest), "base": BASE,
                      "wrk_duration_s": args.duration, "export": export.stdout.strip(),
                      "export_wall_s": round(export_s, 2)},
            "equality": {"requests_compared": checked, "mismatches": mismatches[:20],
                         "mismatch_count": len(mismatches)},
            "memory_kb": {"gunicorn_workers_after_serving_every_document": rss_after_walk,
                          "gunicorn_workers_after_load": rss_after_load},
            "cases": rows,
        }
        name = "serve" if args.worker_class == "sync" else f"serve-{args.worker_class}"
        print(f"equality: {checked} responses compared, {len(mismatches)} mismatches; "
              f"worker RSS after walk {rss_after_walk}; wrote {write_result(name, result)}")
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM if p is procs[0] else signal.SIGQUIT)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
