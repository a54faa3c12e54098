"""Time `arxiv-digest refresh` of the seed day against the loopback stubs, twice.

    .venv/bin/python -m bench.refresh_seed

Prints LLM calls and wall time of the first (cold) and second (cached) refresh. The stubs
answer instantly, so this measures our own overhead, not arXiv's or the LLM's latency.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import HTML_PAPER, PDF_PAPER, SEED_PAPERS  # noqa: E402
from tests.pdfs import sonic_pdf  # noqa: E402
from tests.stubs import FIXTURES, AnthropicStub, ArxivStub  # noqa: E402


def main() -> None:
    arxiv, llm = ArxivStub(), AnthropicStub()
    arxiv.html[HTML_PAPER] = (FIXTURES / "html" / f"{HTML_PAPER}.html").read_bytes()
    arxiv.pdf[PDF_PAPER] = sonic_pdf(next(p["abstract"] for p in SEED_PAPERS if p["id"] == PDF_PAPER[:-2]))
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, ANTHROPIC_API_KEY="bench", ANTHROPIC_BASE_URL=llm.url,
                   DIGEST_DATA_DIR=tmp, DIGEST_FEEDS_DIR=str(ROOT / "feeds"),
                   DIGEST_ARXIV_LISTING_URL=f"{arxiv.url}/rss/", DIGEST_ARXIV_API_URL=f"{arxiv.url}/api/query",
                   DIGEST_ARXIV_HTML_URL=f"{arxiv.url}/html/", DIGEST_ARXIV_PDF_URL=f"{arxiv.url}/pdf/",
                   DIGEST_ARXIV_DELAY="0")
        runs = []
        for label in ("first", "second"):
            before = len(llm.calls)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "service.cli", "refresh"], env=env, check=True,
                           capture_output=True)
            runs.append({"run": label, "wall_s": round(time.perf_counter() - start, 3),
                         "llm_calls": len(llm.calls) - before,
                         "full_text_fetches": len(arxiv.paths("/html/")) + len(arxiv.paths("/pdf/"))})
            arxiv.requests.clear()
    print(json.dumps(runs, indent=1))
    arxiv.close(), llm.close()


if __name__ == "__main__":
    main()
