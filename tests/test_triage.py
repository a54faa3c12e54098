"""Rank before you pay: with `triage = true` one call a day scores every candidate from
its title and abstract (gated, logged, cached), and only the top `max_papers` get full
text and analyses; without usable scores the keyword ranking decides, as before."""
from __future__ import annotations

import pytest

from service.config import parse_feed_spec
from service.errors import ConfigError
from service.pipeline import make_digest

from .conftest import ROOT, SEED_PAPERS

IDS = [f"{p['id']}v{p['version']}" for p in SEED_PAPERS]


def _feed(feeds_dir, extra: str) -> None:
    text = (ROOT / "feeds" / "cs-cv.toml").read_text("utf-8").replace("max_papers = 10", "max_papers = 3")
    (feeds_dir / "cs-cv.toml").write_text(text + "\n" + extra, "utf-8")


def _day_ids(d) -> list[str]:
    day = d.day("cs-cv", d.store.day_dates("cs-cv")[0])
    return [e.paper.versioned_id for e in day.entries]


def test_only_the_top_scored_papers_get_full_text_and_analyses(env, feeds_dir, llm_stub, arxiv_stub):
    _feed(feeds_dir, "triage = true\n")
    llm_stub.triage_scores = {IDS[9]: 9, IDS[7]: 8, IDS[1]: 7}
    d = make_digest()
    try:
        d.refresh("cs-cv")
        assert sorted(_day_ids(d)) == sorted([IDS[9], IDS[7], IDS[1]])
        [call] = [c for c in llm_stub.calls if c["key"] == "triage"]
        user = call["request"]["messages"][0]["content"]
        assert all(f'<paper id="{i}"' in user for i in IDS)  # every candidate, title and abstract
        assert call["request"]["model"] == "claude-haiku-4-5"
        analysed = sorted(c["key"] for c in llm_stub.calls if c["key"] not in ("triage", "summary"))
        assert analysed == sorted([IDS[9], IDS[7], IDS[1]])
        # full text only for the chosen: the HTML paper (IDS[1]) was fetched, the PDF one (IDS[2]) not
        assert arxiv_stub.paths(f"/html/{IDS[1]}") and not arxiv_stub.paths(f"/pdf/{IDS[2]}")
        log = [c for c in d.call_log() if c["what"].startswith("triage")]
        assert len(log) == 1 and log[0]["verdict"] == "pass" and log[0]["prompt_file"] == "triage.md"
        llm_stub.calls.clear()
        d.refresh("cs-cv", force=True)  # the scores are cached with the day's candidates
        assert [c for c in llm_stub.calls if c["key"] == "triage"] == []
    finally:
        d.close()


def test_an_answer_naming_a_paper_that_is_no_candidate_is_rejected_and_retried(env, feeds_dir, llm_stub):
    _feed(feeds_dir, "triage = true\n")
    llm_stub.script["triage"] = ["unknown_id"]
    llm_stub.triage_scores = {IDS[4]: 10, IDS[5]: 9, IDS[6]: 8}
    d = make_digest()
    try:
        d.refresh("cs-cv")
        log = [c for c in d.call_log() if c["what"].startswith("triage")]
        assert [c["verdict"] for c in log] == ["reject", "pass"]
        assert any(r.startswith("unknown_id") for r in log[0]["reasons"])
        retry = [c for c in llm_stub.calls if c["key"] == "triage"][1]["request"]["messages"][0]["content"]
        assert "could not be published" in retry and "unknown_id" in retry
        assert sorted(_day_ids(d)) == sorted(IDS[4:7])
    finally:
        d.close()


@pytest.mark.parametrize("behaviour", ["missing_id", "refusal"])
def test_without_usable_scores_the_keyword_ranking_decides(env, feeds_dir, llm_stub, behaviour):
    _feed(feeds_dir, "triage = true\n")
    llm_stub.script["triage"] = [behaviour, behaviour]
    llm_stub.triage_scores = {IDS[9]: 10}
    d = make_digest()
    try:
        d.refresh("cs-cv")
        assert _day_ids(d) == IDS[:3]  # the listing's order: no keywords in this spec
        log = [c for c in d.call_log() if c["what"].startswith("triage")]
        assert [c["verdict"] for c in log] == ["reject", "reject"]
    finally:
        d.close()


def test_triage_model_is_the_model_of_the_call_and_must_be_priced(env, feeds_dir, llm_stub):
    base = {"title": "T", "categories": ["cs.CV"]}
    with pytest.raises(ConfigError, match="triage_model.*no price.*claude-tiny"):
        parse_feed_spec(ROOT / "feeds/t.toml", {**base, "triage_model": "claude-tiny"})
    _feed(feeds_dir, 'triage_model = "claude-3-5-haiku-latest"\n')
    d = make_digest()
    try:
        d.refresh("cs-cv")
        [call] = [c for c in llm_stub.calls if c["key"] == "triage"]
        assert call["request"]["model"] == "claude-3-5-haiku-latest"
        assert {c["request"]["model"] for c in llm_stub.calls if c["key"] != "triage"} == {"claude-haiku-4-5"}
    finally:
        d.close()
