"""What stands in the way of serving faster: a py-spy profile of a gunicorn worker under load,
and the ceiling, i.e. the same bytes from a bare WSGI callable and from a one-route Flask app
under the same gunicorn, against nginx, in one run.

    .venv/bin/python -m bench.ceiling [--duration 5]

Writes bench/results/ceiling.json (and bench/results/profile-atom-gzip.txt).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import RESULTS, ROOT, seed_store, write_result
from .serve import BASE, FEEDS, free_port, get, start_nginx, wait_port, wrk

#: wsgi modules for the ceiling: the stored Atom document (gzip) served with no framework, and by Flask
CEILING_APPS = '''
import os
from pathlib import Path
from flask import Flask, Response
BODY = Path(os.environ["CEILING_FILE"]).read_bytes()
HEADERS = [("Content-Type", "application/atom+xml; charset=utf-8"), ("Content-Encoding", "gzip"),
           ("ETag", '"x-gz"'), ("Vary", "Accept-Encoding"), ("Content-Length", str(len(BODY)))]

def raw(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]

flask_app = Flask(__name__)

@flask_app.get("/feeds/<feed>.atom")
def atom(feed):
    return Response(BODY, headers=HEADERS[:-1])
'''


def gunicorn(app: str, port: int, env: dict, workers: int) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--log-level", "warning", app]
    p = subprocess.Popen(cmd, env=env, cwd=env.get("CEILING_CWD", ROOT), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_port(port)
    return p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ceiling-"))
    tmp.chmod(0o755)
    procs = []
    try:
        seed_store(tmp / "var", FEEDS, 30)
        env = dict(os.environ, DIGEST_DATA_DIR=str(tmp / "var"), DIGEST_FEEDS_DIR=str(tmp / "feeds"),
                   DIGEST_PUBLIC_URL=BASE)
        env.pop("ANTHROPIC_API_KEY", None)
        subprocess.run([str(ROOT / ".venv/bin/arxiv-digest"), "export-site", str(tmp / "site"), "--base", BASE],
                       env=env, cwd=ROOT, check=True, capture_output=True)
        (tmp / "ceiling_apps.py").write_text(CEILING_APPS, "utf-8")
        cenv = dict(env, CEILING_FILE=str(tmp / "site/feeds/f1.atom.gz"), CEILING_CWD=str(tmp),
                    PYTHONPATH=str(tmp))
        ports = {name: free_port() for name in ("app", "raw", "flask", "nginx")}
        procs.append(gunicorn("wsgi:app", ports["app"], env, args.workers))
        procs.append(gunicorn("ceiling_apps:raw", ports["raw"], cenv, args.workers))
        procs.append(gunicorn("ceiling_apps:flask_app", ports["flask"], cenv, args.workers))
        procs.append(start_nginx(tmp, ports["nginx"], args.workers))
        wait_port(ports["nginx"])
        path, headers = "/feeds/f1.atom", {"Accept-Encoding": "gzip"}
        sizes = {n: len(get(f"http://127.0.0.1:{p}{path}", headers)[2]) for n, p in ports.items()}
        rows = {}
        for c in (8, 32):
            for name, port in ports.items():
                rows[f"{name}_c{c}"] = wrk(f"http://127.0.0.1:{port}{path}", c, args.duration, headers)
                print(f"{name:6} c={c:<3} {rows[f'{name}_c{c}']['rps']:9.0f} req/s "
                      f"p99 {rows[f'{name}_c{c}']['p99_ms']:.2f} ms", flush=True)
        # profile one worker of the real app while wrk loads it
        workers = [int(x) for x in Path(f"/proc/{procs[0].pid}/task/{procs[0].pid}/children").read_text().split()]
        load = subprocess.Popen(["wrk", "-t2", "-c8", f"-d{args.duration + 4}s", "-H", "Accept-Encoding: gzip",
                                 f"http://127.0.0.1:{ports['app']}{path}"], stdout=subprocess.DEVNULL)
        time.sleep(1)
        spy = ROOT / ".venv/bin/py-spy"
        prof = RESULTS / "profile-atom-gzip.txt"
        out = subprocess.run([str(spy), "record", "--pid", str(workers[0]), "--duration", str(args.duration),
                              "--rate", "500", "--format", "raw", "--output", str(tmp / "raw.txt"), "--nonblocking"],
                             capture_output=True, text=True)
        load.wait()
        top = summarize(tmp / "raw.txt") if (tmp / "raw.txt").exists() else {"error": out.stderr[-500:]}
        prof.write_text(format_top(top), "utf-8")
        result = {"command": "cd /work/main && .venv/bin/python -m bench.ceiling " + " ".join(sys.argv[1:]),
                  "case": "GET /feeds/f1.atom, Accept-Encoding: gzip (the same stored gzip bytes everywhere)",
                  "bytes": sizes, "gunicorn_workers": args.workers, "wrk": rows,
                  "profile": {"command": f"{spy} record --pid <worker> --rate 500 --format raw --nonblocking "
                                         f"(under wrk -t2 -c8 on the atom gzip case)", **top}}
        print(format_top(top))
        print(f"wrote {write_result('ceiling', result)}")
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGQUIT if p is procs[-1] else signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def summarize(raw: Path) -> dict:
    """Inclusive share of samples per frame group (ours, Flask/werkzeug, gunicorn, diskcache/sqlite…)."""
    total = 0
    inclusive: dict[str, int] = {}
    groups = {"gunicorn (sync worker: accept, parse, write, close)": 0, "flask+werkzeug routing/response": 0,
              "service.web serve_doc + max_age": 0, "service.pipeline/store lookup (diskcache+sqlite+pickle)": 0,
              "idle/accept wait": 0}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        seen = set()
        for f in frames:
            name = f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0] + ")" if " (" in f else f
            if name not in seen:
                inclusive[name] = inclusive.get(name, 0) + n
                seen.add(name)
        if any("select" in f and "selectors" in f or "wait (gunicorn" in f for f in frames[-3:]) or \
                any("accept" in f.split(" (")[0] for f in frames[-2:]):
            groups["idle/accept wait"] += n
        elif any("service/store.py" in f or "diskcache" in f for f in frames):
            groups["service.pipeline/store lookup (diskcache+sqlite+pickle)"] += n
        elif any("service/web/common.py" in f for f in frames):
            groups["service.web serve_doc + max_age"] += n
        elif any("flask" in f or "werkzeug" in f for f in frames):
            groups["flask+werkzeug routing/response"] += n
        else:
            groups["gunicorn (sync worker: accept, parse, write, close)"] += n
    top = sorted(inclusive.items(), key=lambda kv: -kv[1])[:40]
    return {"samples": total,
            "groups_pct": {k: round(100 * v / max(1, total), 1) for k, v in groups.items()},
            "top_inclusive_pct": [(k, round(100 * v / max(1, total), 1)) for k, v in top]}


def format_top(top: dict) -> str:
    if "samples" not in top:
        return str(top)
    lines = [f"samples: {top['samples']}", "groups (% of worker samples):"]
    lines += [f"  {v:5.1f}  {k}" for k, v in top["groups_pct"].items()]
    lines += ["top frames, inclusive %:"] + [f"  {v:5.1f}  {k}" for k, v in top["top_inclusive_pct"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
