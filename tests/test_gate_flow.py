"""Garbage from the LLM is retried once, then pending; it never reaches the cache or a feed."""
from __future__ import annotations

import feedparser
import pytest
from lxml import etree

from service.models import EntryStatus
from service.store import analysis_key

BAD = "2601.19898v1"
ATOM = "{http://www.w3.org/2005/Atom}"


def entry_content(client, arxiv_id):
    feed = feedparser.parse(client.get("/feeds/cs-cv.atom").data)
    return next(e for e in feed.entries if e.id == f"https://arxiv.org/abs/{arxiv_id}").content[0].value


@pytest.mark.parametrize("behaviour, reason", [
    ("refusal", "refusal"),
    ("echo", "template_echo"),
    ("max_tokens", "truncated"),
    ("ungrounded", "ungrounded"),
    ("loop", "repetition"),
    ("english", "language"),
    ("injected_link", "foreign_link"),
])
def test_rejected_twice_is_pending_and_never_published(digest, client, llm_stub, behaviour, reason):
    llm_stub.script[BAD] = [behaviour, behaviour]
    result = digest.refresh("cs-cv")
    assert result.outcome == "published"
    outcome = next(p for p in result.papers if p.versioned_id == BAD)
    assert outcome.status is EntryStatus.PENDING
    assert outcome.llm_calls == 2  # the answer and one corrected retry
    assert any(r.code == reason for r in outcome.reasons), outcome.reasons
    # the retry names what was wrong
    retry = llm_stub.calls_for(BAD)[1]["request"]["messages"][0]["content"]
    assert "could not be published because" in retry and reason in retry

    content = entry_content(client, "2601.19898")
    assert "分析待定" in content
    for garbage in ("请您提供", "evil.example", "...", "该方法通过引入新的模块显著提升了性能表现"):
        assert garbage not in content
    # nothing of it was cached as a result; the rejects log kept it for inspection
    paper = digest.store.get_paper(BAD)
    prompt = digest.prompts.analysis(digest.specs["cs-cv"], paper, digest.store.get_full_text(BAD))
    assert digest.store.get_result(analysis_key(paper, "claude-haiku-4-5", prompt.prompt_hash, "zh")) is None
    assert any(r["key"].startswith("v1:analysis:" + BAD) for r in digest.store.rejects)


def test_one_bad_answer_then_a_good_retry_is_published(digest, client, llm_stub):
    llm_stub.script[BAD] = ["refusal"]
    result = digest.refresh("cs-cv")
    outcome = next(p for p in result.papers if p.versioned_id == BAD)
    assert outcome.status is EntryStatus.ANALYSED and outcome.llm_calls == 2
    assert "主要贡献" in entry_content(client, "2601.19898")


def test_pending_is_filled_in_by_the_next_refresh(digest, client, llm_stub):
    llm_stub.script[BAD] = ["refusal", "refusal"]
    llm_stub.script["summary"] = ["echo", "echo"]
    first = digest.refresh("cs-cv")
    assert next(p for p in first.papers if p.versioned_id == BAD).status is EntryStatus.PENDING
    before = client.get("/feeds/cs-cv.atom")
    assert "每日总结待定" in feedparser.parse(before.data).entries[0].content[0].value

    llm_stub.calls.clear()
    second = digest.refresh("cs-cv")
    # only the pending paper and the pending summary are asked again
    assert sorted(c["key"] for c in llm_stub.calls) == [BAD, "summary"]
    assert all(p.status is EntryStatus.ANALYSED for p in second.papers)
    after = client.get("/feeds/cs-cv.atom")
    assert after.headers["ETag"] != before.headers["ETag"]
    feed = feedparser.parse(after.data)
    assert "主要主题与趋势" in feed.entries[0].content[0].value
    assert "主要贡献" in entry_content(client, "2601.19898")
    # the entry that changed moved its `updated`; an unchanged one kept it
    def atom_updated(body: bytes) -> dict[str, str]:
        root = etree.fromstring(body)
        return {e.findtext(f"{ATOM}id"): e.findtext(f"{ATOM}updated") for e in root.iter(f"{ATOM}entry")}

    old, new = atom_updated(before.data), atom_updated(after.data)
    assert new["https://arxiv.org/abs/2601.19898"] != old["https://arxiv.org/abs/2601.19898"]
    assert new["https://arxiv.org/abs/2601.19887"] == old["https://arxiv.org/abs/2601.19887"]


def test_repeated_failures_become_unavailable_and_stop_spending(digest, client, llm_stub):
    llm_stub.script[BAD] = ["refusal"] * 20
    results = [digest.refresh("cs-cv") for _ in range(3)]
    assert [next(p for p in r.papers if p.versioned_id == BAD).status for r in results] == [
        EntryStatus.PENDING, EntryStatus.PENDING, EntryStatus.UNAVAILABLE]
    assert len(llm_stub.calls_for(BAD)) == 6
    assert "分析不可用" in entry_content(client, "2601.19898")
    # given up: the day counts as complete, so nothing more is spent on it
    assert digest.refresh("cs-cv").outcome == "stale"
    assert digest.refresh("cs-cv", force=True).outcome == "published"
    assert len(llm_stub.calls_for(BAD)) == 6


@pytest.mark.parametrize("status", ["http_500", "http_529", "http_429"])
def test_llm_errors_leave_the_paper_pending(digest, llm_stub, status):
    llm_stub.script[BAD] = [status]
    result = digest.refresh("cs-cv")
    assert result.outcome == "published"
    outcome = next(p for p in result.papers if p.versioned_id == BAD)
    assert outcome.status is EntryStatus.PENDING
    assert outcome.reasons[0].code == "llm_error"
    assert digest.refresh("cs-cv").papers[0].status is EntryStatus.ANALYSED


def test_every_llm_call_is_logged_with_tokens_and_verdict(digest, llm_stub):
    llm_stub.script[BAD] = ["refusal"]
    digest.refresh("cs-cv")
    log = list(digest.store.llm_log)
    assert len(log) == 12
    rejected = [r for r in log if r["verdict"] == "reject"]
    assert len(rejected) == 1 and rejected[0]["what"] == f"analysis {BAD}"
    assert all(r["input_tokens"] > 0 and r["prompt_hash"] for r in log)
    assert {r["prompt_file"] for r in log} == {"analysis_fulltext.md", "analysis_abstract.md", "summary.md"}
