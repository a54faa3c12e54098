"""Refresh: a 200-paper day against loopback stubs with realistic latency, then the cached
re-run, the refresh's peak RSS, and tokens and dollars per paper.

    .venv/bin/python -m bench.refresh [--papers 200] [--scale 0.1] [--concurrency 4]

Latency is real arXiv/Anthropic latency times `--scale` (default 0.1: arXiv spacing 0.3 s
instead of 3 s, LLM 0.2–0.8 s instead of 2–8 s), every part scaled alike, so the ratio
wall / ideal is what a full-scale run would show (our CPU time is not scaled, which makes
the ratio conservative). 3 % of LLM calls are answered 529 with `retry-after-ms` (scaled).

Ideal (latency-bound) = arXiv requests × spacing + Σ LLM latency / concurrency.
Writes bench/results/refresh.json.
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, LatencyArxiv, LatencyLLM, make_corpus, stub_env, write_feeds, write_result

FEED = "bench200"
#: Smallest cacheable prompt prefix per model (Anthropic prompt-caching docs): shorter
#: prefixes are processed without caching even with cache_control.
MIN_CACHEABLE = {"claude-haiku-4-5": 4096, "claude-sonnet-4-5": 1024, "claude-opus-4-5": 4096}


def run_cli(env: dict, *args: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    inner = re.search(r", ([\d.]+) s(;|$)", proc.stdout.strip())
    return {"command": "arxiv-digest " + " ".join(args), "exit": proc.returncode, "process_wall_s": round(wall, 3),
            "refresh_s": float(inner.group(1)) if inner else None, "message": proc.stdout.strip(),
            # ru_maxrss of children is the max over all children so far; the first run is the big one
            "maxrss_kb_children_so_far": maxrss if maxrss != before or before == 0 else maxrss}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=200)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--overloaded", type=float, default=0.03)
    args = ap.parse_args()
    delay = 3.0 * args.scale
    tmp = Path(tempfile.mkdtemp(prefix="bench-refresh-"))
    listing, entries, pages = make_corpus(args.papers)
    arxiv = LatencyArxiv(delay=delay, service=0.05 * delay)
    arxiv.listing, arxiv.api_entries, arxiv.html = listing, entries, pages
    llm = LatencyLLM(2.0 * args.scale, 8.0 * args.scale, args.overloaded)
    try:
        write_feeds(tmp / "feeds", [FEED], max_papers=0)
        env = stub_env(arxiv, llm, tmp / "var", tmp / "feeds", DIGEST_ARXIV_DELAY=delay,
                       DIGEST_LLM_CONCURRENCY=args.concurrency, DIGEST_LLM_MAX_RETRIES=3)
        first = run_cli(env, "refresh", FEED)
        arxiv_requests = len(arxiv.requests)
        llm_requests = len(llm.requests)
        llm_latency = sum(llm.sleeps)
        ideal_arxiv = arxiv_requests * delay
        ideal_llm = llm_latency / args.concurrency
        ideal = ideal_arxiv + ideal_llm
        first_rss = first["maxrss_kb_children_so_far"]
        # cached re-run: the day is complete, so the refresh reads the listing and stops; and
        # --force rebuilds the day from the cache (metadata, full texts, analyses)
        arxiv.requests.clear()
        n_llm = len(llm.requests)
        again = run_cli(env, "refresh", FEED)
        again.update(llm_calls=len(llm.requests) - n_llm, arxiv_requests=len(arxiv.requests),
                     full_text_fetches=len([p for _, p, _ in arxiv.requests if p.startswith(("/html/", "/pdf/"))]))
        arxiv.requests.clear()
        n_llm = len(llm.requests)
        forced = run_cli(env, "refresh", FEED, "--force")
        forced.update(llm_calls=len(llm.requests) - n_llm, arxiv_requests=len(arxiv.requests),
                      full_text_fetches=len([p for _, p, _ in arxiv.requests if p.startswith(("/html/", "/pdf/"))]))
        cost = cost_report(env, llm, arxiv.html, args.papers)
        result = {
            "command": "cd /work/main && .venv/bin/python -m bench.refresh " + " ".join(sys.argv[1:]),
            "scale": args.scale, "arxiv_delay_s": delay,
            "llm_latency_s": [2.0 * args.scale, 8.0 * args.scale], "llm_529_share": args.overloaded,
            "concurrency": args.concurrency, "papers": args.papers,
            "first": {**first, "arxiv_requests": arxiv_requests, "arxiv_spacing_violations": len(arxiv.violations),
                      "llm_http_requests": llm_requests, "llm_529": llm.overloads,
                      "llm_max_in_flight": llm.max_inflight, "llm_latency_sum_s": round(llm_latency, 3),
                      "ideal_s": round(ideal, 3), "ideal_arxiv_s": round(ideal_arxiv, 3),
                      "ideal_llm_s": round(ideal_llm, 3),
                      "ratio_refresh_to_ideal": round(first["refresh_s"] / ideal, 3),
                      "ratio_process_to_ideal": round(first["process_wall_s"] / ideal, 3),
                      "pipelined_bound_s": round(max(ideal_arxiv, ideal_llm), 3),
                      "peak_rss_kb": first_rss},
            "cached_rerun": again, "forced_rebuild_from_cache": forced, "cost": cost,
        }
        path = write_result("refresh", result)
        print(json.dumps({k: result[k] for k in ("first", "cached_rerun", "forced_rebuild_from_cache")},
                         indent=1, ensure_ascii=False)[:4000])
        print(json.dumps(cost, indent=1)[:3000])
        print(f"wrote {path}")
    finally:
        arxiv.close(), llm.close()
        shutil.rmtree(tmp, ignore_errors=True)


def cost_report(env: dict, llm: LatencyLLM, pages: dict[str, bytes], papers: int) -> dict:
    """Tokens and dollars per paper from the stub's reported usage and the real price table,
    and what full-text trimming and prompt caching change."""
    from service import fulltext
    from service.budget import cost_usd, price_of
    from service.store import Store

    store = Store(Path(env["DIGEST_DATA_DIR"]))
    calls = list(store.llm_log)
    store.close()
    model = "claude-haiku-4-5"
    analyses = [c for c in calls if c["what"].startswith("analysis") and c["verdict"] != "error"]
    summaries = [c for c in calls if c["what"].startswith("summary") and c["verdict"] != "error"]
    tin = sum(c["input_tokens"] for c in calls)
    tout = sum(c["output_tokens"] for c in calls)
    usd = sum(c["cost_usd"] for c in calls)
    # the cacheable prefix (tools + system, which precede messages) of an analysis request, in
    # the stub's own token measure (request bytes / 4)
    reqs = [c["request"] for c in llm.calls if c["request"]["tool_choice"]["name"] == "record_analysis"]
    prefix_tokens = [len(json.dumps(r["tools"]).encode()) // 4 + len(json.dumps(r["system"]).encode()) // 4
                     for r in reqs]
    prefix = round(sum(prefix_tokens) / max(1, len(prefix_tokens)))
    n = len(reqs)
    p = price_of(model)
    cache_min = MIN_CACHEABLE.get(model, 1024)
    # caching: first call writes the prefix (1.25x), the rest read it (0.1x), within the 5-minute TTL
    saved_if_cached = (prefix * n * p.input - (prefix * 1.25 + prefix * 0.1 * (n - 1)) * p.input) / 1e6
    # trimming: characters the budget removed from the full texts, at 4 characters a token
    cut_chars = 0
    trimmed_papers = 0
    for page in pages.values():
        sections = fulltext.html_to_sections(page)
        whole = sum(len(s.title) + len(s.text) + 2 for s in sections)
        text, trimmed = fulltext.trim_to_budget(sections, fulltext.TOKEN_BUDGET * fulltext.CHARS_PER_TOKEN)
        if trimmed:
            trimmed_papers += 1
            cut_chars += whole - len(text)
    untrimmed_extra = cut_chars / fulltext.CHARS_PER_TOKEN * p.input / 1e6
    return {
        "model": model, "price_per_mtok": {"input": p.input, "output": p.output},
        "llm_calls_logged": len(calls), "analysis_calls": len(analyses), "summary_calls": len(summaries),
        "input_tokens": tin, "output_tokens": tout, "usd_total": round(usd, 4),
        "summary_usd": round(sum(c["cost_usd"] for c in summaries), 5),
        "analysis_usd_per_paper": round(sum(c["cost_usd"] for c in analyses) / max(1, len(analyses)), 5),
        "per_paper": {"input_tokens": round(tin / papers), "output_tokens": round(tout / papers),
                      "usd": round(usd / papers, 5)},
        "trimming": {"papers_over_budget": trimmed_papers, "chars_cut": cut_chars,
                     "usd_per_paper_without_trimming": round((usd + untrimmed_extra) / papers, 5),
                     "usd_saved_per_paper": round(untrimmed_extra / papers, 5)},
        "prompt_caching": {"cacheable_prefix_tokens": prefix, "min_cacheable_tokens": cache_min,
                           "applies": prefix >= cache_min,
                           "usd_per_paper_if_prefix_cached": round((usd - saved_if_cached) / papers, 5),
                           "usd_saved_per_paper_if_cached": round(saved_if_cached / papers, 5)},
        "batches_api_usd_per_paper": round(usd / papers / 2, 5),
        "check_cost_formula": round(cost_usd(model, tin, tout), 4),
    }


if __name__ == "__main__":
    main()
