"""The store's write mechanism: what a publication costs, and the first read after it.

    .venv/bin/python -m bench.store [--papers 200] [--repeat 5] [--rounds 4] [--before DIR]

One real refresh of a synthetic day (bench.common's corpus, loopback stubs, no latency)
gives a `Day` of `--papers` analysed papers and the documents `Documents.for_publication`
renders for it with DIGEST_PUBLIC_URL set. That day is then republished over itself into
fresh stores, layouts alternating cell by cell: `files` (diskcache's default: values of
32 KB and more in files of their own) and `inline` (every value in its SQLite row), and,
with `--before DIR` (a checkout of the previous code, e.g. `git archive main | tar -x -C DIR`),
the same `files` layout by that code. Per publication: `Store.publish` wall time, then a
reader's first read of the day and of every stored document (what each serving process
reads once per generation), and the day's Atom feed read again and again (the Flask path
reads a document per request). The code trees run alternately, `--rounds` times each, medians
over every publication. Writes bench/results/store.json.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, LatencyArxiv, LatencyLLM, digest_in, make_corpus, stub_env, write_feeds, write_result

FEED = "bench"
LAYOUTS = {"files": 2**15, "inline": 2**26}  # disk_min_file_size: diskcache's default, INLINE_MAX


def build_input(tmp: Path, papers: int) -> Path:
    """Refresh one synthetic day for real; pickle the day and its rendered documents."""
    listing, entries, pages = make_corpus(papers)
    arxiv, llm = LatencyArxiv(delay=0, service=0), LatencyLLM(0, 0, 0)
    arxiv.listing, arxiv.api_entries, arxiv.html = listing, entries, pages
    try:
        write_feeds(tmp / "feeds", [FEED], max_papers=0)
        env = stub_env(arxiv, llm, tmp / "var", tmp / "feeds", DIGEST_ARXIV_DELAY=0,
                       DIGEST_PUBLIC_URL="https://digest.example")
        subprocess.run([sys.executable, "-m", "service.cli", "refresh", FEED], env=env, cwd=ROOT, check=True,
                       capture_output=True)
        d = digest_in(env)
        spec = d.specs[FEED]
        day = d.store.get_day(FEED, d.store.day_dates(FEED)[0])
        rendered = d.documents.for_publication(spec, day)
        d.close()
    finally:
        arxiv.close(), llm.close()
    path = tmp / "input.pickle"
    path.write_bytes(pickle.dumps((day, rendered)))
    return path


def measure(path: Path, layouts: list[str], repeat: int, tmp: Path) -> dict:
    """Run in the code tree under test (PYTHONPATH): publish and read, layouts alternating."""
    from service.store import Store

    day, rendered = pickle.loads(path.read_bytes())
    stores, readers = {}, {}
    for name in layouts:
        writer = stores[name] = Store(tmp / name)
        writer.cache.reset("disk_min_file_size", LAYOUTS[name])
        writer.publish(day, rendered)  # the first publication inserts; the timed ones overwrite
        readers[name] = Store(tmp / name)
        readers[name].cache.reset("disk_min_file_size", LAYOUTS[name])
    out = {name: {"publish_ms": [], "first_read_ms": []} for name in layouts}
    for _ in range(repeat):
        for name in layouts:
            start = time.perf_counter()
            stores[name].publish(day, rendered)
            out[name]["publish_ms"].append((time.perf_counter() - start) * 1000)
            reader = readers[name]
            start = time.perf_counter()
            assert reader.get_day(day.feed, day.date) == day
            for key, base in rendered:
                assert reader.get_doc(day.feed, key, base) is not None
            out[name]["first_read_ms"].append((time.perf_counter() - start) * 1000)
    atom = next(k for k in rendered if k[0].endswith(":atom"))
    for name in layouts:  # a document read again and again (the Flask path reads one per request)
        reader, times = readers[name], []
        for _ in range(20 * repeat):
            start = time.perf_counter()
            reader.get_doc(day.feed, *atom)
            times.append((time.perf_counter() - start) * 1e6)
        out[name]["atom_read_us"] = times
    for name in layouts:
        stores[name].close(), readers[name].close()
        cache = tmp / name / "cache"
        files = [p for p in cache.rglob("*.val")]
        db = sum(p.stat().st_size for p in cache.glob("cache.db*"))
        out[name].update(value_files=len(files), value_files_bytes=sum(p.stat().st_size for p in files),
                         database_bytes_incl_wal=db)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5, help="publications per layout and round")
    ap.add_argument("--rounds", type=int, default=4, help="runs of each code tree, alternating")
    ap.add_argument("--before", type=Path, help="a checkout of the previous code, measured as `before`")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--layouts", default=",".join(LAYOUTS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:  # the child: print the figures of this code tree
        with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
            print(json.dumps(measure(args.measure, args.layouts.split(","), args.repeat, Path(tmp))))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        path = build_input(tmp, args.papers)
        day, rendered = pickle.loads(path.read_bytes())
        sizes = sorted(len(pickle.dumps(doc)) for doc in rendered.values())
        runs = {"after": (ROOT, ",".join(LAYOUTS))}
        if args.before:
            runs["before"] = (args.before.resolve(), "files")
        figures: dict = {}
        for _ in range(args.rounds):  # the code trees alternate, so the machine's load hits both alike
            for run, (tree, layouts) in runs.items():
                env = dict(os.environ, PYTHONPATH=str(tree))
                proc = subprocess.run([sys.executable, "-m", "bench.store", "--measure", str(path), "--layouts",
                                       layouts, "--repeat", str(args.repeat)], env=env, cwd=tree, check=True,
                                      capture_output=True, text=True)
                for name, f in json.loads(proc.stdout).items():
                    into = figures.setdefault(run, {}).setdefault(name, {})
                    for k, v in f.items():
                        into[k] = into.get(k, []) + v if isinstance(v, list) else v
        for layouts in figures.values():
            for f in layouts.values():
                for k in ("publish_ms", "first_read_ms"):
                    f[f"{k}_all"] = [round(x, 2) for x in f[k]]
                    f[k] = round(statistics.median(f[k]), 2)
                f["atom_read_us"] = round(statistics.median(f["atom_read_us"]), 1)
        result = {"command": ".venv/bin/python -m bench.store " + " ".join(sys.argv[1:]),
                  "papers": len(day.entries), "documents": len(rendered),
                  "day_pickle_bytes": len(pickle.dumps(day)),
                  "atom_pickle_bytes": len(pickle.dumps(rendered[next(k for k in rendered if k[0].endswith(":atom"))])),
                  "document_pickle_bytes": {"min": sizes[0], "median": sizes[len(sizes) // 2], "max": sizes[-1],
                                            "sum": sum(sizes)},
                  "repeat": args.repeat, "rounds": args.rounds, "load_avg": os.getloadavg(), "figures": figures}
        out = write_result("store", result)
        print(json.dumps({k: v for k, v in result.items() if k != "figures"}, indent=1))
        for run, layouts in figures.items():
            for name, f in layouts.items():
                print(f"{run:6} {name:6} publish {f['publish_ms']:8.2f} ms  first read {f['first_read_ms']:7.2f} ms  "
                      f"atom again {f['atom_read_us']:7.1f} µs  "
                      f"files {f['value_files']:4}  db {f['database_bytes_incl_wal']:>10}")
        print(f"wrote {out}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
