"""A feed chooses how long its analyses are (`analysis_length`): the prompt's length
instruction and the output budget follow, and so does what the budget reserves."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.config import parse_feed_spec
from service.errors import ConfigError
from service.models import FeedSpec, FullText, TextSource
from service.pipeline import make_digest
from service.prompts import PromptLibrary

from .test_openai_provider import _paper

BASE = {"title": "T", "categories": ["cs.CV"], "language": "zh"}


def test_the_default_is_todays_behaviour_and_unknown_lengths_are_refused():
    spec = parse_feed_spec(Path("feeds/t.toml"), dict(BASE))
    assert spec.analysis_length == "standard"
    assert parse_feed_spec(Path("feeds/t.toml"), {**BASE, "analysis_length": "concise"}).analysis_length == "concise"
    with pytest.raises(ConfigError, match="analysis_length.*expected one of standard, concise, full, got 'short'"):
        parse_feed_spec(Path("feeds/t.toml"), {**BASE, "analysis_length": "short"})


def _prompt(length: str):
    spec = FeedSpec(name="t", path=None, title="T", categories=("cs.CV",), language="zh", analysis_length=length)
    paper = _paper()
    return PromptLibrary().analysis(spec, paper, FullText(TextSource.HTML, paper.abstract))


def test_each_length_has_its_instruction_budget_and_cache_key():
    concise, standard, full = (_prompt(n) for n in ("concise", "standard", "full"))
    assert (concise.max_tokens, standard.max_tokens, full.max_tokens) == (4096, 8192, 16384)
    assert "Length: concise" in concise.system and "Length: full" in full.system
    assert "Length:" not in standard.system
    assert len({concise.prompt_hash, standard.prompt_hash, full.prompt_hash}) == 3
    # the instruction is part of the shared prefix, not of the paper's message
    assert concise.user == standard.user == full.user


def test_a_concise_feed_asks_for_its_budget_and_reserves_less(env, feeds_dir, llm_stub):
    spec = feeds_dir / "cs-cv.toml"
    spec.write_text(spec.read_text("utf-8") + '\nanalysis_length = "concise"\n', "utf-8")
    d = make_digest()
    try:
        assert d.spec("cs-cv").analysis_length == "concise"
        d.refresh("cs-cv")
        analyses = [c["request"] for c in llm_stub.calls if c["key"] != "summary"]
        assert analyses and {r["max_tokens"] for r in analyses} == {4096}
        assert all("Length: concise" in r["system"][0]["text"] for r in analyses)
        summary = [c["request"] for c in llm_stub.calls if c["key"] == "summary"]
        assert [r["max_tokens"] for r in summary] == [8192]  # the day's summary keeps its budget
    finally:
        d.close()
