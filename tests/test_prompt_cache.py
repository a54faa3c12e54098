"""Prompt caching that caches: what every paper of a day shares (tools, rules, guide,
framework task) is one prefix marked for caching, longer than the model's minimum
cacheable length; the loopback Anthropic stub reports cache writes and reads in the real
wire format, and the 2nd and later papers read the prefix, billed at the read price."""
from __future__ import annotations

import json

import pytest

from service.budget import cost_usd, listed_price, prices
from service.llm import AnthropicLLM
from service.models import FeedSpec, FullText, TextSource
from service.pipeline import make_digest
from service.prompts import PromptLibrary

from .conftest import SEED_PAPERS
from .pdfs import sonic_pdf
from .stubs import cache_minimum
from .test_openai_provider import _paper


def _spec(language: str, model: str = "claude-haiku-4-5") -> FeedSpec:
    return FeedSpec(name="t", path=None, title="T", categories=("cs.CV",), language=language, model=model)


def _prefix_tokens(prompt) -> int:
    """The stub's measure of the cached prefix (a quarter of its JSON's characters)."""
    return len(json.dumps([prompt.tool, {"type": "text", "text": prompt.system,
                                         "cache_control": {"type": "ephemeral"}}], sort_keys=True)) // 4


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("source", [TextSource.ABSTRACT, TextSource.HTML])
def test_the_shared_prefix_is_longer_than_every_listed_models_minimum(language, source):
    table, _ = prices()
    minimums = {m: p.cache_min for m, p in table.items() if m.startswith("claude")}
    assert minimums["claude-haiku-4-5"] == 4096 and minimums["claude-sonnet-4-5"] == 1024
    paper = _paper()
    prompt = PromptLibrary().analysis(_spec(language), paper, FullText(source, paper.abstract))
    assert _prefix_tokens(prompt) >= max(minimums.values()) * 1.1  # a margin for real tokenizers


def test_the_user_message_is_only_the_paper_and_the_system_is_the_same_for_every_paper():
    lib = PromptLibrary()
    a, b = (lib.analysis(_spec("zh"), _paper(i), FullText(TextSource.HTML, f"text {i}")) for i in (0, 1))
    assert a.system == b.system and a.tool == b.tool
    assert "Method in detail" not in a.user and "evidence quote" not in a.user
    assert a.user.count("<paper ") == 1 and "(source: html)" in a.user
    # the task itself is in the prefix
    assert "方法设计详解" in a.system and "Analysis guide" in a.system


def test_the_2nd_and_later_papers_read_the_prefix_and_are_billed_at_the_read_price(env, arxiv_stub, llm_stub,
                                                                                  monkeypatch):
    arxiv_stub.html.clear()
    for p in SEED_PAPERS:  # every paper with full text: one framework, one prefix
        arxiv_stub.pdf.setdefault(f"{p['id']}v{p['version']}", sonic_pdf(p["abstract"]))
    monkeypatch.setenv("DIGEST_LLM_CONCURRENCY", "1")  # in order: the first paper writes the cache
    d = make_digest()
    try:
        d.refresh("cs-cv")
        calls = [c for c in d.call_log() if c["prompt_file"] == "analysis_fulltext.md"]
        writes = [c["cache_write_tokens"] for c in calls]
        reads = [c["cache_read_tokens"] for c in calls]
        assert len(calls) == 10
        assert writes[0] >= cache_minimum("claude-haiku-4-5") and reads[0] == 0
        assert writes[1:] == [0] * 9 and reads[1:] == [writes[0]] * 9, (writes, reads)
        price = listed_price("claude-haiku-4-5")
        for c in calls:
            assert c["cost_usd"] == pytest.approx(cost_usd(price, c["input_tokens"], c["output_tokens"],
                                                           c["cache_write_tokens"], c["cache_read_tokens"]), abs=2e-6)
        # what caching saved: the same tokens all billed as uncached input would cost more
        paid = sum(c["cost_usd"] for c in calls)
        plain = sum(cost_usd(price, c["input_tokens"] + c["cache_write_tokens"] + c["cache_read_tokens"],
                             c["output_tokens"]) for c in calls)
        assert paid < plain
    finally:
        d.close()


def test_a_prefix_below_the_minimum_is_not_cached_by_the_stub(llm_stub):
    """The stub keeps the server's rule, so the tests above could fail: a short marked
    prefix (the summary's: rules only) is neither written nor read, however often sent."""
    llm = AnthropicLLM("k", llm_stub.url, 0, 10.0)
    lib = PromptLibrary()
    papers = [_paper(i) for i in range(3)]
    prompt = lib.summary(_spec("en"), "2026-01-28", [(p, "") for p in papers])
    replies = [llm.complete(prompt, "claude-haiku-4-5") for _ in range(2)]
    assert [(r.cache_write_tokens, r.cache_read_tokens) for r in replies] == [(0, 0), (0, 0)]
    # the same request to a model with a lower minimum (Sonnet: 1,024) is cached
    big = lib.analysis(_spec("en"), papers[0], FullText(TextSource.ABSTRACT, papers[0].abstract))
    first, second = (llm.complete(big, "claude-sonnet-4-5") for _ in range(2))
    assert first.cache_write_tokens > 1024 and first.cache_read_tokens == 0
    assert second.cache_read_tokens == first.cache_write_tokens and second.cache_write_tokens == 0
