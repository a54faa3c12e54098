"""Any OpenAI-compatible endpoint behind the one LLM boundary, through the real `openai` SDK.

The loopback `OpenAIStub` speaks chat completions; the provider asks for a forced function
call, falls back to a JSON schema and then to plain JSON with one repair, and maps the
answer, its stop reason, usage and errors to the neutral `LLMReply`.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

from service.budget import cost_usd
from service.errors import LLMError
from service.models import EntryStatus, FeedSpec, FullText, PaperMeta, Price, TextSource
from service.pipeline import make_digest
from service.prompts import PromptLibrary
from service.providers import Endpoint, endpoint
from service.providers.openai import OpenAILLM

from .conftest import SEED_PAPERS
from .pdfs import sonic_pdf
from .stubs import OpenAIStub

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def openai_server():
    server = OpenAIStub()
    yield server
    server.close()


@pytest.fixture
def openai_stub(openai_server):
    openai_server.reset()
    yield openai_server
    openai_server.release.set()


def _paper(i: int = 0) -> PaperMeta:
    p = SEED_PAPERS[i]
    when = dt.datetime.fromisoformat(p["published"].replace("Z", "+00:00"))
    return PaperMeta(p["id"], p["version"], p["title"], tuple(p["authors"]), p["abstract"],
                     tuple(p["categories"]), when, when)


def _prompt(language: str = "en"):
    spec = FeedSpec(name="t", path=None, title="T", categories=("cs.CV",), language=language,
                    provider="openai", model="gpt-4o-mini")
    paper = _paper()
    return PromptLibrary().analysis(spec, paper, FullText(TextSource.ABSTRACT, paper.abstract)), paper


def _llm(stub, retries: int = 0) -> OpenAILLM:
    return OpenAILLM("sk-test", f"{stub.url}/v1", retries, 10.0)


def test_forced_function_call_becomes_the_neutral_reply(openai_stub):
    openai_stub.cached_tokens = 300
    prompt, paper = _prompt()
    reply = _llm(openai_stub).complete(prompt, "gpt-4o-mini")
    request = openai_stub.calls[0]["request"]
    assert request["tool_choice"] == {"type": "function", "function": {"name": "record_analysis"}}
    assert request["tools"][0]["function"]["parameters"] == prompt.tool["input_schema"]
    assert request["max_tokens"] == 8192  # a compatible server: the classic parameter
    assert set(reply.tool_input["sections"]) == set(prompt.tool["input_schema"]["properties"]["sections"]["properties"])
    assert reply.stop_reason == "tool_use" and reply.text == ""
    body = openai_stub.requests[0][2]
    # cached prompt tokens are reads, and leave input_tokens (uncached input, as Anthropic counts it)
    assert reply.cache_read_tokens == 300
    assert reply.input_tokens == len(body) // 4 - 300
    assert reply.output_tokens > 0 and reply.model == "gpt-4o-mini"


def test_cut_off_answer_says_max_tokens_and_is_not_repaired(openai_stub):
    prompt, paper = _prompt()
    openai_stub.script[paper.versioned_id] = ["max_tokens"]
    reply = _llm(openai_stub).complete(prompt, "gpt-4o-mini")
    assert reply.stop_reason == "max_tokens"  # finish_reason "length": the gate's "truncated"
    assert len(openai_stub.calls) == 1


def test_server_without_tools_is_asked_for_a_json_schema_then_remembered(openai_stub):
    openai_stub.tools = "reject"
    prompt, _ = _prompt()
    llm = _llm(openai_stub)
    first = llm.complete(prompt, "gpt-4o-mini")
    assert [c["form"] for c in openai_stub.calls] == ["json_schema"]  # the 400 is not an answer
    assert len(openai_stub.requests) == 2
    assert first.tool_input["sections"] and first.stop_reason == "end_turn"
    llm.complete(prompt, "gpt-4o-mini")
    assert len(openai_stub.requests) == 3  # learnt: straight to the schema


def test_llama_cpp_without_jinja_gets_the_json_schema(openai_stub):
    openai_stub.tools = "jinja"
    prompt, _ = _prompt()
    reply = _llm(openai_stub, retries=1).complete(prompt, "local-model")
    assert reply.tool_input["sections"]
    assert [c["form"] for c in openai_stub.calls] == ["json_schema"]


def test_a_bare_400_is_an_error_not_a_reason_to_drop_the_tools(openai_stub):
    """An over-long prompt must say so, not be hidden by asking in a weaker form."""
    openai_stub.faults["/v1/chat/completions"] = [{"status": 400, "body": json.dumps({"error": {
        "message": "the request exceeds the available context size", "type": "invalid_request_error"}}).encode()}]
    prompt, _ = _prompt()
    with pytest.raises(LLMError, match="context size"):
        _llm(openai_stub).complete(prompt, "local-model")
    assert len(openai_stub.requests) == 1


def test_server_that_ignores_tools_and_answers_prose(openai_stub):
    """llama.cpp without a tool template: prose for tools and for the schema, then plain JSON."""
    openai_stub.tools = openai_stub.json_schema = "ignore"
    prompt, _ = _prompt()
    llm = _llm(openai_stub)
    first = llm.complete(prompt, "local-model")
    assert [c["form"] for c in openai_stub.calls] == ["tools", "json_schema"]
    assert first.tool_input is None and first.text.startswith("Here is my analysis")  # the gate rejects it
    # both billed answers are counted
    sizes = [len(b) // 4 for _, _, b in openai_stub.requests]
    assert first.input_tokens == sum(sizes)
    second = llm.complete(prompt, "local-model")
    assert [c["form"] for c in openai_stub.calls[2:]] == ["json"]  # learnt: no third prose answer
    assert "JSON Schema" in openai_stub.calls[-1]["request"]["messages"][0]["content"]
    assert second.tool_input["sections"] and second.text == ""


def test_broken_json_gets_one_repair_request(openai_stub):
    openai_stub.tools = openai_stub.json_schema = "reject"
    prompt, paper = _prompt()
    openai_stub.script[paper.versioned_id] = ["bad_json"]
    reply = _llm(openai_stub).complete(prompt, "gpt-4o-mini")
    assert [c["form"] for c in openai_stub.calls] == ["json", "json"]
    repair = openai_stub.calls[1]["request"]["messages"]
    assert repair[-2]["role"] == "assistant" and repair[-2]["content"].endswith(",}")
    assert "not valid JSON" in repair[-1]["content"]
    assert reply.tool_input["sections"]


def test_broken_json_twice_is_an_unstructured_reply_not_a_third_call(openai_stub):
    openai_stub.tools = openai_stub.json_schema = "reject"
    prompt, paper = _prompt()
    openai_stub.script[paper.versioned_id] = ["bad_json", "bad_json"]
    reply = _llm(openai_stub).complete(prompt, "gpt-4o-mini")
    assert len(openai_stub.calls) == 2 == OpenAILLM.max_calls
    assert reply.tool_input is None and reply.text.endswith(",}")


def test_429_and_500_are_retried_by_the_sdk_after_retry_after(openai_stub):
    prompt, paper = _prompt()
    openai_stub.retry_after = "1"
    openai_stub.script[paper.versioned_id] = ["http_429", "http_500"]
    reply = _llm(openai_stub, retries=2).complete(prompt, "gpt-4o-mini")
    assert reply.tool_input["sections"]
    assert [c["behaviour"] for c in openai_stub.calls] == ["http_429", "http_500", "good"]
    times = [t for t, _ in openai_stub.times]
    assert times[1] - times[0] >= 0.9 and times[2] - times[1] >= 0.9  # Retry-After honoured


@pytest.mark.parametrize("fault, message", [
    ({"status": 500, "body": b'{"error":{"message":"boom"}}'}, "InternalServerError"),
    ({"status": 429, "body": b'{"error":{"message":"slow down"}}', "headers": {"Retry-After": "0"}}, "RateLimitError"),
    ({"status": 401, "body": b'{"error":{"message":"bad key"}}'}, "AuthenticationError"),
    ({"status": 200, "body": b"<html>not json</html>", "headers": {"Content-Type": "application/json"}}, "malformed"),
    ({"status": 200, "body": b'{"id":"x","object":"chat.completion"}', "headers": {"Content-Type": "application/json"}},
     "no choices"),
])
def test_failures_become_llm_errors(openai_stub, fault, message):
    openai_stub.faults["/v1/chat/completions"] = [fault]
    prompt, _ = _prompt()
    with pytest.raises(LLMError, match=message):
        _llm(openai_stub).complete(prompt, "gpt-4o-mini")


# --- a feed on an OpenAI-compatible endpoint, end to end ----------------------------------

def _openai_feed(feeds_dir, name: str, extra: str) -> None:
    (feeds_dir / f"{name}.toml").write_text(
        'title = "Vision via OpenAI"\ncategories = ["cs.CV"]\nlanguage = "zh"\nprovider = "openai"\n' + extra)


def test_openai_feed_publishes_a_full_day_through_the_sdk(env, feeds_dir, monkeypatch, openai_stub, llm_stub):
    _openai_feed(feeds_dir, "vision-oai", 'model = "gpt-4o-mini"\n')
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{openai_stub.url}/v1")
    d = make_digest()
    try:
        result = d.refresh("vision-oai")
        assert result.outcome == "published", result.message
        assert [p.status for p in result.papers] == [EntryStatus.ANALYSED] * 10
        day = d.day("vision-oai", dt.date(2026, 1, 28))
        assert day.summary is not None and day.summary_status is EntryStatus.ANALYSED
        assert all(e.analysis.model == "gpt-4o-mini" and e.findings for e in day.entries)
        assert len(openai_stub.calls) == 11 and not llm_stub.calls  # nothing went to Anthropic
        assert {c["authorization"] for c in openai_stub.calls} == {"Bearer sk-openai"}
        # priced at gpt-4o-mini's rates from the usage the server reported
        price = Price(0.15, 0.60, 0.15, 0.075)
        log = [c for c in d.call_log() if c["verdict"] == "pass"]
        assert {c["provider"] for c in log} == {"openai"}
        assert sum(c["cost_usd"] for c in log) == pytest.approx(
            sum(cost_usd(price, c["input_tokens"], c["output_tokens"]) for c in log), abs=1e-5)
        assert result.cost_usd == pytest.approx(day.cost_usd) and result.cost_usd > 0
        # the other feed (Anthropic) is untouched and still enabled
        assert d.refresh("cs-cv").outcome == "published" and len(llm_stub.calls) == 11
    finally:
        d.close()


def test_local_server_with_price_zero_gets_no_key_and_costs_nothing(env, feeds_dir, monkeypatch, openai_stub):
    """Ollama or llama.cpp: a `base_url` and `price = 0`; OPENAI_API_KEY must not travel there."""
    openai_stub.tools = openai_stub.json_schema = "ignore"  # and a server that answers prose
    _openai_feed(feeds_dir, "vision-local",
                 f'model = "qwen2.5:7b"\nbase_url = "{openai_stub.url}/v1"\nprice = 0\nbudget_usd = 0.01\n')
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    d = make_digest()
    try:
        result = d.refresh("vision-local")
        assert result.outcome == "published", result.message
        assert [p.status for p in result.papers] == [EntryStatus.ANALYSED] * 10
        assert result.cost_usd == 0 and d.budget.spent("vision-local") == 0
        assert {c["authorization"] for c in openai_stub.calls} == {"Bearer no-key"}
        assert openai_stub.calls[-1]["form"] == "json"
    finally:
        d.close()


def test_a_spec_names_its_endpoints_key(env, feeds_dir, monkeypatch, openai_stub):
    _openai_feed(feeds_dir, "vision-ds", f'model = "deepseek-chat"\nbase_url = "{openai_stub.url}/v1"\n'
                                         'api_key_env = "DEEPSEEK_API_KEY"\n'
                                         'price = { input = 0.28, output = 0.42, cache_read = 0.028 }\n')
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    d = make_digest()
    try:  # its key is not set: that feed publishes without analyses, the others go on
        assert not d.enricher.enabled_for(d.spec("vision-ds")) and d.enricher.enabled_for(d.spec("cs-cv"))
        result = d.refresh("vision-ds")
        assert [p.status for p in result.papers] == [EntryStatus.DISABLED] * 10
        assert "no LLM key" in result.message and not openai_stub.calls
    finally:
        d.close()
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-deepseek")
    d = make_digest()
    try:
        result = d.refresh("vision-ds")
        assert [p.status for p in result.papers] == [EntryStatus.ANALYSED] * 10
        assert {c["authorization"] for c in openai_stub.calls} == {"Bearer sk-deepseek"}
    finally:
        d.close()


def test_unstructured_answers_are_reserved_for_the_repair_call_too(env, feeds_dir, monkeypatch, openai_stub):
    """A `complete` may send two billed requests: both are reserved before the first is sent."""
    openai_stub.tools = openai_stub.json_schema = "reject"
    openai_stub.output_tokens = 8000
    for p in SEED_PAPERS:
        openai_stub.script[f"{p['id']}v{p['version']}"] = ["bad_json"]
    _openai_feed(feeds_dir, "vision-oai", 'model = "gpt-4o-mini"\nbudget_usd = 0.02\n')
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{openai_stub.url}/v1")
    d = make_digest()
    try:
        result = d.refresh("vision-oai")
        assert 0 < d.budget.spent("vision-oai") <= 0.02
        assert any(r.code == "budget" for p in result.papers for r in p.reasons)
    finally:
        d.close()


def test_shared_prefix_is_cached_on_later_papers_and_billed_at_the_read_price(env, feeds_dir, monkeypatch,
                                                                              openai_stub, arxiv_stub):
    """What every paper of a day shares (schema, system prompt, instructions) comes first, so
    an endpoint that caches prefixes (OpenAI does, from 1,024 tokens) reads it from its cache."""
    openai_stub.auto_cache = True
    # every paper with full text from its PDF: one framework, one prefix (~4,800 tokens)
    arxiv_stub.html.clear()
    for p in SEED_PAPERS:
        arxiv_stub.pdf.setdefault(f"{p['id']}v{p['version']}", sonic_pdf(p["abstract"]))
    monkeypatch.setenv("DIGEST_LLM_CONCURRENCY", "1")  # in order: the first paper writes the cache
    _openai_feed(feeds_dir, "vision-oai", 'model = "gpt-4o-mini"\nmax_papers = 0\n')
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{openai_stub.url}/v1")
    d = make_digest()
    try:
        d.refresh("vision-oai")
        calls = [c for c in d.call_log() if c["prompt_file"] == "analysis_fulltext.md"]
        reads = [c["cache_read_tokens"] for c in calls]
        assert len(calls) == 10 and reads[0] == 0 and all(r >= 1024 for r in reads[1:]), reads
        price = Price(0.15, 0.60, 0.15, 0.075)
        for c in calls:
            assert c["cost_usd"] == pytest.approx(cost_usd(price, c["input_tokens"], c["output_tokens"],
                                                           cache_read=c["cache_read_tokens"]), abs=2e-6)
        uncached = cost_usd(price, sum(c["input_tokens"] + c["cache_read_tokens"] for c in calls), 0)
        cached = cost_usd(price, sum(c["input_tokens"] for c in calls), 0, cache_read=sum(reads))
        assert cached < uncached
    finally:
        d.close()


def test_call_log_and_stub_agree_on_json_sent(openai_stub):
    """The request body is plain chat-completions JSON (no Anthropic-only fields leak)."""
    prompt, _ = _prompt("zh")
    _llm(openai_stub).complete(prompt, "gpt-4o-mini")
    body = json.loads(openai_stub.requests[0][2])
    assert set(body) == {"model", "messages", "max_tokens", "tools", "tool_choice"}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_an_anthropic_compatible_endpoint_of_the_spec_gets_its_own_key(env, feeds_dir, monkeypatch, llm_stub):
    """`provider = "anthropic"` with a `base_url`: ANTHROPIC_API_KEY stays home, the spec's key goes."""
    (feeds_dir / "vision-compat.toml").write_text(
        'title = "Vision via a compatible endpoint"\ncategories = ["cs.CV"]\nlanguage = "zh"\n'
        f'model = "claude-haiku-4-5"\nbase_url = "{llm_stub.url}"\napi_key_env = "COMPAT_API_KEY"\n')
    monkeypatch.setenv("COMPAT_API_KEY", "sk-compat")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # nothing listens: not used
    d = make_digest()
    try:
        spec = d.spec("vision-compat")
        assert endpoint(d.settings, spec) == Endpoint("anthropic", llm_stub.url, "sk-compat")
        assert endpoint(d.settings, d.spec("cs-cv")).api_key == "test-key"
        result = d.refresh("vision-compat")
        assert [p.status for p in result.papers] == [EntryStatus.ANALYSED] * 10 and len(llm_stub.calls) == 11
    finally:
        d.close()
