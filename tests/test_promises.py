"""Promises the README makes about re-analysis and failures, each held to a test.

- Editing a prompt file re-analyses what it shapes; nothing else does (a forced rebuild,
  a changed feed title).
- Entries published without an LLM key are analysed once a key is set, without --force.
- An unreachable upstream is reported as such, never as an unwritable data directory.
"""
from __future__ import annotations

import shutil

from service.models import EntryStatus, Outcome
from service.pipeline import make_digest

from .conftest import ROOT

PAPERS = 10


def _keys(llm_stub) -> list[str]:
    return sorted(c["key"] for c in llm_stub.calls)


def test_only_a_prompt_edit_reanalyses(env, tmp_path, monkeypatch, llm_stub, feeds_dir):
    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", prompts)
    monkeypatch.setenv("DIGEST_PROMPTS_DIR", str(prompts))
    d = make_digest()
    assert d.refresh("cs-cv").outcome is Outcome.PUBLISHED
    assert len(llm_stub.calls) == PAPERS + 1
    d.close()

    # a forced rebuild and a new feed title: every analysis comes from the cache
    spec = feeds_dir / "cs-cv.toml"
    spec.write_text(spec.read_text("utf-8").replace('title = "', 'title = "Renamed: ', 1), "utf-8")
    llm_stub.calls.clear()
    d = make_digest()
    assert d.spec("cs-cv").title.startswith("Renamed: ")
    assert d.refresh("cs-cv", force=True).outcome is Outcome.PUBLISHED
    assert llm_stub.calls == []
    d.close()

    # the abstract framework's prompt changes: the abstract-only papers are analysed again,
    # the full-text papers (other template) and the summary are not
    template = prompts / "analysis_abstract.md"
    template.write_text(template.read_text("utf-8") + "\nBe precise.\n", "utf-8")
    d = make_digest()
    result = d.refresh("cs-cv", force=True)
    assert result.outcome is Outcome.PUBLISHED
    day = d.day("cs-cv", result.date)
    abstract_only = sorted(e.paper.versioned_id for e in day.entries if not e.source.is_full_text)
    assert abstract_only and len(abstract_only) < PAPERS
    assert _keys(llm_stub) == abstract_only
    assert all(e.status is EntryStatus.ANALYSED for e in day.entries)
    d.close()


def test_entries_published_without_a_key_are_analysed_once_a_key_is_set(env, monkeypatch, llm_stub):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    d = make_digest()
    first = d.refresh("cs-cv")
    assert first.outcome is Outcome.PUBLISHED and first.count(EntryStatus.DISABLED) == PAPERS
    assert llm_stub.calls == []
    assert d.refresh("cs-cv").outcome is Outcome.STALE  # complete for a service without a key
    d.close()

    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    d = make_digest()
    again = d.refresh("cs-cv")  # no --force
    assert again.outcome is Outcome.PUBLISHED and again.count(EntryStatus.ANALYSED) == PAPERS
    day = d.day("cs-cv", again.date)
    assert all(e.status is EntryStatus.ANALYSED and e.analysis for e in day.entries)
    assert day.summary_status is EntryStatus.ANALYSED
    assert d.refresh("cs-cv").outcome is Outcome.STALE
    d.close()


def test_an_unreachable_upstream_is_not_reported_as_a_disk_problem(env, monkeypatch):
    import socket

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DIGEST_ARXIV_LISTING_URL", f"http://127.0.0.1:{port}/rss/")
    d = make_digest()
    result = d.refresh("cs-cv")
    assert result.outcome is Outcome.FAILED
    assert "listing request failed" in result.message and "cannot write" not in result.message
    assert d.status("cs-cv").last_attempt == result
    d.close()
