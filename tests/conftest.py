"""Fixtures: loopback stubs for arXiv and Anthropic, an isolated environment per test."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from service.pipeline import make_digest
from service.web import create_app

from .pdfs import sonic_pdf
from .stubs import FIXTURES, AnthropicStub, ArxivStub

ROOT = Path(__file__).resolve().parent.parent
SEED_PAPERS = json.loads((FIXTURES / "arxiv/papers-2026-01-28.json").read_text("utf-8"))
HTML_PAPER = "2601.19887v1"
PDF_PAPER = "2601.19884v1"


@pytest.fixture(scope="session")
def arxiv_server():
    server = ArxivStub()
    yield server
    server.close()


@pytest.fixture(scope="session")
def llm_server():
    server = AnthropicStub()
    yield server
    server.close()


@pytest.fixture(scope="session")
def seed_pdf() -> bytes:
    abstract = next(p["abstract"] for p in SEED_PAPERS if f"{p['id']}v{p['version']}" == PDF_PAPER)
    return sonic_pdf(abstract)


@pytest.fixture
def arxiv_stub(arxiv_server, seed_pdf):
    """The seed day: one paper with LaTeXML HTML, one with only a PDF, the rest abstract-only."""
    arxiv_server.reset()
    arxiv_server.html[HTML_PAPER] = (FIXTURES / "html" / f"{HTML_PAPER}.html").read_bytes()
    arxiv_server.pdf[PDF_PAPER] = seed_pdf
    return arxiv_server


@pytest.fixture
def llm_stub(llm_server):
    llm_server.reset()
    yield llm_server
    llm_server.release.set()


@pytest.fixture
def feeds_dir(tmp_path) -> Path:
    d = tmp_path / "feeds"
    d.mkdir()
    shutil.copy(ROOT / "feeds" / "cs-cv.toml", d / "cs-cv.toml")
    return d


@pytest.fixture
def env(tmp_path, feeds_dir, arxiv_stub, llm_stub, monkeypatch) -> dict[str, str]:
    """Every contract variable pointed at loopback stubs and a fresh data dir."""
    values = {
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": llm_stub.url,
        "DIGEST_DATA_DIR": str(tmp_path / "var"),
        "DIGEST_FEEDS_DIR": str(feeds_dir),
        "DIGEST_ARXIV_LISTING_URL": f"{arxiv_stub.url}/rss/",
        "DIGEST_ARXIV_API_URL": f"{arxiv_stub.url}/api/query",
        "DIGEST_ARXIV_HTML_URL": f"{arxiv_stub.url}/html/",
        "DIGEST_ARXIV_PDF_URL": f"{arxiv_stub.url}/pdf/",
        "DIGEST_ARXIV_DELAY": "0",
        "DIGEST_LLM_MAX_RETRIES": "0",
        # the recorded listings (2026-01-28 to 01-31) are checked against this day, not the clock,
        # so the tests do not start failing five years on
        "DIGEST_LISTING_TODAY": "2026-02-01",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    for name in ("DIGEST_PUBLIC_URL", "DIGEST_ADMIN_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


@pytest.fixture
def digest(env):
    d = make_digest()
    yield d
    d.store.close()


@pytest.fixture
def client(digest):
    return create_app(digest_obj=digest).test_client()
