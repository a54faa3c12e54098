"""The optional second-opinion judge (`judge_model`): off by default; when on, every analysis the
rules pass is also judged by a cheap model behind the same LLM boundary (the loopback stub
here), its rejections carry reason code `judge`, and its calls are billed in the budget."""
from __future__ import annotations

import datetime as dt

import pytest

from service.config import load_feed_spec as load_spec
from service.errors import ConfigError
from service.models import EntryStatus
from service.pipeline import make_digest

BAD = "2601.19898v1"
DAY = "2026-01-28"


@pytest.fixture
def judged(env, feeds_dir):
    """The seed feed with a second opinion turned on."""
    path = feeds_dir / "cs-cv.toml"
    path.write_text(path.read_text("utf-8") + 'judge_model = "claude-haiku-4-5"\n', "utf-8")
    d = make_digest()
    yield d
    d.store.close()


def _judge_calls(llm_stub, key=None):
    return [c for c in llm_stub.calls if c["request"]["tool_choice"]["name"] == "record_judgement"
            and (key is None or c["key"] == key)]


def test_off_by_default(digest, llm_stub):
    assert digest.spec("cs-cv").judge_model is None
    digest.refresh("cs-cv")
    assert _judge_calls(llm_stub) == []


def test_every_analysis_is_judged_and_billed(judged, llm_stub):
    result = judged.refresh("cs-cv")
    analysed = [p for p in result.papers if p.status is EntryStatus.ANALYSED]
    assert len(analysed) == 10 and all(p.llm_calls == 2 for p in analysed)
    assert len(_judge_calls(llm_stub)) == 10
    call = _judge_calls(llm_stub, BAD)[0]["request"]
    assert call["model"] == "claude-haiku-4-5" and call["tool_choice"] == {"type": "tool", "name": "record_judgement"}
    user = call["messages"][0]["content"]
    assert '<paper id="2601.19898v1"' in user and "<analysis>" in user
    day = judged.store.get_day("cs-cv", dt.date(2026, 1, 28))
    assert all(e.analysis.provenance.judge_model == "claude-haiku-4-5" for e in day.entries)
    # the judge's cost is in the result and in the budget's ledger, not only the analyses'
    analyses_usd = sum(e.analysis.cost_usd for e in day.entries)
    judged_usd = sum(p.cost_usd for p in analysed)
    assert judged_usd > analyses_usd > 0
    assert judged.budget.spent("cs-cv") == pytest.approx(result.cost_usd, abs=1e-5)
    assert result.cost_usd >= judged_usd


def test_a_judge_rejection_is_retried_with_its_reason(judged, llm_stub):
    llm_stub.script[BAD] = ["good", "judge_wrong_paper"]  # analysis, its judgement; then defaults: good, good
    result = judged.refresh("cs-cv")
    outcome = next(p for p in result.papers if p.versioned_id == BAD)
    assert outcome.status is EntryStatus.ANALYSED and outcome.llm_calls == 4
    retry = [c for c in llm_stub.calls_for(BAD) if c["request"]["tool_choice"]["name"] == "record_analysis"][1]
    assert "judge" in retry["request"]["messages"][0]["content"]


def test_judge_rejections_keep_the_paper_pending_and_are_reported_separately(judged, llm_stub, env):
    llm_stub.script[BAD] = ["good", "judge_obeys", "good", "judge_wrong_paper"]
    result = judged.refresh("cs-cv")
    outcome = next(p for p in result.papers if p.versioned_id == BAD)
    assert outcome.status is EntryStatus.PENDING and {r.code for r in outcome.reasons} == {"judge"}
    from service.web import create_app
    q = create_app(digest_obj=judged).test_client().get(f"/api/v1/feeds/cs-cv/days/{DAY}/quality").json
    assert q["rejected"] == {"papers": 1, "reasons": {"judge": 1}, "judge": 1} and q["accepted"] == 9


def test_a_judge_without_a_valid_verdict_publishes_nothing(judged, llm_stub):
    llm_stub.script[BAD] = ["good", "judge_no_verdict"]
    result = judged.refresh("cs-cv")
    outcome = next(p for p in result.papers if p.versioned_id == BAD)
    assert outcome.status is EntryStatus.PENDING and outcome.llm_calls == 2
    assert any(r.code == "llm_error" and "no valid verdict" in r.detail for r in outcome.reasons)


def test_judge_model_is_checked_when_specs_load(tmp_path):
    path = tmp_path / "x.toml"
    for value, message in (('""', "must not be empty"), ('"no-such-model-7"', "no price")):
        path.write_text(f'title = "X"\ncategories = ["cs.CV"]\njudge_model = {value}\n', "utf-8")
        with pytest.raises(ConfigError, match=message):
            load_spec(path)
