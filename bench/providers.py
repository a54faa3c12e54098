"""The seed day through each provider against the loopback stubs: tokens, cache reads,
requests and dollars per paper, with the real price table.

    .venv/bin/python -m bench.providers

Every paper gets full text (the seed's HTML page, PDFs typeset for the others), so all
share one prompt prefix. Feeds: Haiku 4.5 (Anthropic SDK), gpt-4o-mini (openai SDK, the
stub caching prefixes as OpenAI does), a local model (`price = 0`) on a server that
ignores tools and answers prose. Input tokens are the stubs' proxy (a quarter of the
request's bytes); every answer reports `--output-tokens` (default 4000, an estimate for an
analysis as long as the seed's Chinese ones; 1231 is the canned answer's count in
bench/results/refresh.json). The two stubs' own output proxies differ (escaped vs raw
Chinese), so they are not used. The dollars are the price table applied to those counts.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine, write_result  # noqa: E402
from tests.conftest import HTML_PAPER, SEED_PAPERS  # noqa: E402
from tests.pdfs import sonic_pdf  # noqa: E402
from tests.stubs import FIXTURES, AnthropicStub, ArxivStub, OpenAIStub  # noqa: E402

FEEDS = {
    "haiku": 'model = "claude-haiku-4-5"\n',
    "gpt-4o-mini": 'provider = "openai"\nmodel = "gpt-4o-mini"\n',
    "local": 'provider = "openai"\nmodel = "qwen2.5:14b"\nbase_url = "{local}/v1"\nprice = 0\n',
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--output-tokens", type=int, default=4000, help="reported output tokens per answer")
    args = ap.parse_args()
    arxiv, anthropic, openai, local = ArxivStub(), AnthropicStub(), OpenAIStub(), OpenAIStub()
    arxiv.html[HTML_PAPER] = (FIXTURES / "html" / f"{HTML_PAPER}.html").read_bytes()
    for p in SEED_PAPERS:
        arxiv.pdf[f"{p['id']}v{p['version']}"] = sonic_pdf(p["abstract"])
    openai.auto_cache = True
    local.tools = local.json_schema = "ignore"
    for stub in (anthropic, openai, local):
        stub.output_tokens = args.output_tokens
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        feeds = Path(tmp) / "feeds"
        feeds.mkdir()
        for name, extra in FEEDS.items():
            (feeds / f"{name}.toml").write_text(
                f'title = "Bench {name}"\ncategories = ["cs.CV"]\nlanguage = "zh"\nmax_papers = 0\n'
                + extra.format(local=local.url))
        os.environ.update(
            ANTHROPIC_API_KEY="bench", ANTHROPIC_BASE_URL=anthropic.url, OPENAI_API_KEY="bench",
            OPENAI_BASE_URL=f"{openai.url}/v1", DIGEST_DATA_DIR=str(Path(tmp) / "var"),
            DIGEST_FEEDS_DIR=str(feeds), DIGEST_ARXIV_LISTING_URL=f"{arxiv.url}/rss/",
            DIGEST_ARXIV_API_URL=f"{arxiv.url}/api/query", DIGEST_ARXIV_HTML_URL=f"{arxiv.url}/html/",
            DIGEST_ARXIV_PDF_URL=f"{arxiv.url}/pdf/", DIGEST_ARXIV_DELAY="0", DIGEST_LLM_CONCURRENCY="1",
            NO_PROXY="127.0.0.1,localhost")
        from service.pipeline import make_digest

        d = make_digest()
        for name in FEEDS:
            result = d.refresh(name)
            calls = [c for c in d.call_log() if c.get("provider") and c["what"].startswith("analysis")
                     and c["at"] >= result_started(result)]
            n = max(1, len(result.papers))
            results[name] = {
                "message": result.message,
                "papers": len(result.papers), "analysed": sum(p.status == "analysed" for p in result.papers),
                "llm_calls": result.llm_calls,
                "per_paper": {
                    "input_tokens": round(sum(c["input_tokens"] for c in calls) / n),
                    "cache_read_tokens": round(sum(c["cache_read_tokens"] for c in calls) / n),
                    "output_tokens": round(sum(c["output_tokens"] for c in calls) / n),
                    "usd": round(sum(c["cost_usd"] for c in calls) / n, 5),
                },
                "day_usd_incl_summary": result.cost_usd,
            }
        d.close()
    requests = {"haiku": len(anthropic.requests), "gpt-4o-mini": len(openai.requests), "local": len(local.requests)}
    for name, count in requests.items():
        results[name]["http_requests"] = count
    results["local"]["forms"] = [f"{c['key']}:{c['form']}" for c in local.calls]
    for stub in (arxiv, anthropic, openai, local):
        stub.close()
    out = {"machine": machine(), "command": " ".join([".venv/bin/python -m bench.providers", *sys.argv[1:]]),
           "output_tokens": args.output_tokens, "feeds": results}
    path = write_result(f"providers-{args.output_tokens}", out)
    print(f"{'feed':<12} {'in/paper':>9} {'cached':>7} {'out':>6} {'$/paper':>9} {'calls':>6} {'requests':>9}")
    for name, r in results.items():
        pp = r["per_paper"]
        print(f"{name:<12} {pp['input_tokens']:>9} {pp['cache_read_tokens']:>7} {pp['output_tokens']:>6} "
              f"{pp['usd']:>9.5f} {r['llm_calls']:>6} {r['http_requests']:>9}")
    print(f"→ {path}")


def result_started(result) -> str:
    return result.started.isoformat() if result.started else ""


if __name__ == "__main__":
    main()
