"""Search, in one run: wrk against the app for search requests and, as the reference, the
plain Atom feed (the fast path) and a filtered feed; ratios within the run, since the
machine is shared. Plus the tokenizer measurement behind service/search.py's choice: which
Chinese 2- and 3-character terms each FTS5 tokenizer finds, index size, query time.

    .venv/bin/python -m bench.search [--duration 3] [--repeat 2] [--connections 8,32]

Writes bench/results/search.json. Needs wrk on PATH (`make bench` installs it).
"""
from __future__ import annotations

import argparse
import os
import random
import json
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from .common import DAYS, FEEDS, ROOT, served_env, write_result
from .serve import _ms, free_port, get, start_gunicorn, wrk

#: A word in every paper's analysis, one in a few titles, a Chinese term of every analysis,
#: and one that is nowhere (the index answers from its term list alone).
QUERIES = {"search_common": "reconstruction", "search_rare": "calligraphy", "search_zh": "设计动机",
           "search_none": "zzyzx"}


#: Distinct queries per run: more than the app remembers (pipeline.MAX_SEARCHES), so most
#: requests of the "search_distinct" case are answered from the index, not from memory.
VOCABULARY = 1000

LUA = """-- one query per request, drawn from words of the published text
local paths = {{
{paths}
}}
math.randomseed({seed})
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {{["Accept-Encoding"] = "gzip"}})
end
"""


def vocabulary(data_dir: Path, n: int = VOCABULARY, seed: int = 5) -> list[str]:
    """Words and Chinese bigrams of the indexed text, for queries that differ request by request."""
    from service import search

    with sqlite3.connect(data_dir / "search.sqlite") as con:
        text = " ".join(r[0] for r in con.execute("SELECT DISTINCT title || ' ' || abstract || ' ' || analysis "
                                                  "FROM entries"))
    words = {w.lower() for w in re.findall(r"[A-Za-z]{4,}", text)}
    words |= {run[i:i + 2] for run in search._CJK.findall(text) for i in range(len(run) - 1)}
    words = sorted(words)
    random.Random(seed).shuffle(words)
    return words[:n]


def wrk_script(url: str, connections: int, duration: float, script: Path) -> dict:
    """`bench.serve.wrk` with a Lua script choosing each request's path."""
    cmd = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "5s",
           "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"command": " ".join(cmd), "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": _ms(lat["50"]), "p99_ms": _ms(lat["99"]),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "non_2xx_3xx": int(non2xx.group(1)) if non2xx else 0}


def inproc(env: dict, words: list[str], batch: int = 200, batches: int = 5) -> dict:
    """CPU time per request in this process (time.process_time, so other load on the machine
    counts far less than in wall-clock figures): WSGI calls straight into the app, medians of
    batches. "search_distinct" uses every word once, so none is answered from memory."""
    from .inproc import call, environ

    old = dict(os.environ)
    os.environ.update({k: env[k] for k in ("DIGEST_DATA_DIR", "DIGEST_FEEDS_DIR", "DIGEST_PUBLIC_URL")})
    try:
        from service.web import create_app

        app = create_app()
    finally:
        os.environ.clear()
        os.environ.update(old)

    def env_of(path: str, headers: dict) -> dict:
        p, _, q = path.partition("?")
        return {**environ(p, headers), "QUERY_STRING": q}

    out = {}
    for name, (path, headers) in cases(FEEDS[0]).items():
        call(app, env_of(path, headers))
        per = []
        for _ in range(batches):
            t0 = time.process_time()
            for _ in range(batch):
                status, _ = call(app, env_of(path, headers))
            per.append((time.process_time() - t0) / batch)
            assert status.startswith("200"), (name, status)
        out[name] = round(statistics.median(per) * 1e6, 1)
    per = []
    for b in range(batches):
        chunk = words[b * batch:(b + 1) * batch]
        t0 = time.process_time()
        for w in chunk:
            status, _ = call(app, env_of(f"/api/v1/search?q={quote(w)}", {"Accept-Encoding": "gzip"}))
            assert status.startswith("200"), (w, status)
        per.append((time.process_time() - t0) / len(chunk))
    out["search_distinct"] = round(statistics.median(per) * 1e6, 1)
    app.extensions["digest"].close()
    return {"cpu_us_per_request": out,
            "vs_atom": {k: round(v / out["atom_plain"], 1) for k, v in out.items()}}


def cases(feed: str) -> dict[str, tuple[str, dict]]:
    gz = {"Accept-Encoding": "gzip"}
    out = {"atom_plain": (f"/feeds/{feed}.atom", {}),
           "filtered_feed": (f"/feeds/{feed}.atom?q=reconstruction", {})}
    out.update({name: (f"/api/v1/search?q={quote(q)}", gz) for name, q in QUERIES.items()})
    out["search_html"] = (f"/search?q={quote(QUERIES['search_common'])}", gz)
    return out


# --- tokenizers -----------------------------------------------------------------------------
def tokenizers(work: Path, samples: int = 200, seed: int = 3) -> dict:
    """Each candidate over the Chinese analyses of the quality corpus (tests/corpus/analyses,
    real model output, mixed with English terms): recall of Chinese 2- and 3-character terms
    (truth: the documents whose text has the term), precision, index size, median query time."""
    from service import search

    work.mkdir(parents=True, exist_ok=True)
    texts = [p.read_text("utf-8") for p in sorted((ROOT / "tests/corpus/analyses").glob("*.md"))]
    texts = [t for t in texts if search._CJK.search(t)]
    runs = [m for t in texts for m in search._CJK.findall(t) if len(m) >= 3]
    rng = random.Random(seed)
    terms = {n: sorted({(r := rng.choice(runs))[(i := rng.randrange(len(r) - n + 1)):i + n]
                        for _ in range(samples)}) for n in (2, 3)}
    candidates = {
        "unicode61": ("unicode61 remove_diacritics 2", lambda t: t, lambda q: '"' + q + '"'),
        "trigram": ("trigram", lambda t: t, lambda q: '"' + q + '"'),
        "unicode61+cjk-bigrams (chosen)": (search._TOKENIZE, search.segment,
                                           lambda q: '"' + search.segment(q).strip() + '"'),
    }
    out = {}
    for name, (tokenize, prepare, query) in candidates.items():
        path = work / f"tok-{re.sub(r'[^a-z0-9]', '', name)}.sqlite"
        with sqlite3.connect(path) as con:
            con.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{tokenize}')")
            con.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", ((i, prepare(x)) for i, x in enumerate(texts)))
        con.close()
        row = {"tokenize": tokenize, "index_bytes": path.stat().st_size}
        with sqlite3.connect(path) as con:
            for n, group in terms.items():
                found = relevant = 0
                times = []
                for term in group:
                    truth = {i for i, t in enumerate(texts) if term in t}
                    t0 = time.perf_counter()
                    got = {r[0] for r in con.execute("SELECT rowid FROM t WHERE t MATCH ?", (query(term),))}
                    times.append(time.perf_counter() - t0)
                    found += len(got & truth)
                    relevant += len(truth)
                    row.setdefault(f"terms_{n}_found_any", 0)
                    row[f"terms_{n}_found_any"] += bool(got & truth)
                row[f"recall_{n}char"] = round(found / relevant, 4) if relevant else None
                hits = sum(len({r[0] for r in con.execute("SELECT rowid FROM t WHERE t MATCH ?", (query(t),))})
                           for t in group)
                row[f"precision_{n}char"] = round(found / hits, 4) if hits else None
                row[f"query_median_us_{n}char"] = round(statistics.median(times) * 1e6, 1)
                row[f"terms_{n}char"] = len(group)
        row["documents"] = len(texts)
        con.close()
        out[name] = row
        path.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--connections", default="8,32")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--worker-class", default="")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    conns = [int(c) for c in args.connections.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bench-search-"))
    proc = None
    try:
        seeded, env = served_env(tmp)
        t0 = time.perf_counter()
        reindex = subprocess.run([str(ROOT / ".venv/bin/arxiv-digest"), "reindex"], env=env, cwd=ROOT,
                                 capture_output=True, text=True, check=True)
        reindex_s = time.perf_counter() - t0
        index_bytes = (tmp / "var/search.sqlite").stat().st_size
        port = free_port()
        proc, command = start_gunicorn("wsgi:app", port, env, args)
        url = f"http://127.0.0.1:{port}"
        found = {}
        for name, (path, headers) in cases(FEEDS[0]).items():
            status, _, body = get(url + path, headers)
            assert status == 200, (name, status, body[:200])
            found[name] = len(body)
        totals = {name: json.loads(get(url + f"/api/v1/search?q={quote(q)}")[2])["total"]
                  for name, q in QUERIES.items()}
        words = vocabulary(tmp / "var")
        script = tmp / "distinct.lua"
        script.write_text(LUA.format(seed=11, paths=",\n".join(
            f'"/api/v1/search?q={quote(w)}"' for w in words)), "utf-8")
        distinct_status = [get(url + f"/api/v1/search?q={quote(w)}")[0] for w in words[:50]]
        assert set(distinct_status) == {200}, distinct_status
        all_cases = {**cases(FEEDS[0]), "search_distinct": (f"(one of {len(words)} words per request)", {})}
        found["search_distinct"] = None
        cpu = inproc(env, words)
        print(f"in process, CPU µs per request: {cpu}", flush=True)
        rows = []
        for c in conns:
            runs: dict[str, list[dict]] = {name: [] for name in all_cases}
            for _ in range(args.repeat):  # cases alternate within each repetition
                for name, (path, headers) in all_cases.items():
                    runs[name].append(wrk_script(url, c, args.duration, script) if name == "search_distinct"
                                      else wrk(url + path, c, args.duration, headers))
            med = {name: {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "p99_ms")}
                   for name, rs in runs.items()}
            ref = med["atom_plain"]
            for name, m in med.items():
                row = {"case": name, "connections": c, "path": all_cases[name][0], "bytes": found[name],
                       "median": m, "rps_vs_atom": round(m["rps"] / ref["rps"], 3),
                       "p99_vs_atom": round(m["p99_ms"] / ref["p99_ms"], 2),
                       "errors": sum(r["non_2xx_3xx"] for r in runs[name]), "runs": runs[name]}
                rows.append(row)
                print(f"c={c:<3} {name:14} {m['rps']:8.0f} req/s  p50 {m['p50_ms']:6.2f} ms  p99 {m['p99_ms']:6.2f} ms"
                      f"  ({row['rps_vs_atom']}x atom rps, {row['p99_vs_atom']}x atom p99)", flush=True)
        tok = tokenizers(tmp)
        for name, t in tok.items():
            print(f"tokenizer {name}: {t}")
        result = {"command": ".venv/bin/python -m bench.search " + " ".join(sys.argv[1:]),
                  "setup": {"gunicorn": command, "feeds": len(FEEDS), "days": DAYS,
                            "papers_per_day": seeded["papers_per_day"], "wrk_duration_s": args.duration,
                            "repeat": args.repeat, "reindex": reindex.stdout.strip(),
                            "reindex_wall_s": round(reindex_s, 2), "index_bytes": index_bytes,
                            "result_totals": totals},
                  "inproc": cpu, "cases": rows, "tokenizers": tok}
        print(f"wrote {write_result('search-' + args.tag if args.tag else 'search', result)}")
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
