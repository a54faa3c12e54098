"""Ranking by meaning through an OpenAI-compatible /v1/embeddings endpoint (the real openai
SDK against a loopback stub): what it adds to words, its cache, its key rule, its failures."""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from service.config import parse_feed_spec
from service.embeddings import BATCH, Embedder, EmbeddingsError
from service.errors import ConfigError
from service.library import Library, LibraryItem
from service.models import AnnounceType, EmbeddingsEndpoint, FeedSpec, ListingItem
from service.pipeline import make_digest
from service.select import rank_all
from service.settings import Settings, load_settings

from .stubs import EmbeddingsStub

TODAY = dt.date(2026, 1, 28)


@pytest.fixture
def stub():
    server = EmbeddingsStub()
    yield server
    server.close()


def _settings(**env) -> Settings:
    return load_settings({"DIGEST_LLM_MAX_RETRIES": "0", "NO_PROXY": "127.0.0.1", **env})


def _library() -> Library:
    titles = ["Automobile trajectory forecasting for highway merging",
              "Vehicle re-identification across city cameras",
              "Learning lane changes of automobiles from fleet logs"]
    items = tuple(LibraryItem(title=t, abstract=f"{t}. We study automobiles and vehicles.", authors=(),
                              year=2025) for t in titles)
    return Library("lib.json", "CSL-JSON", items)


def _item(n: int, title: str, abstract: str) -> ListingItem:
    return ListingItem(f"2601.0000{n}", 1, AnnounceType.NEW, title, abstract, ("A. Author",), ("cs.CV",))


DAY = (_item(1, "Folding proteins with diffusion", "Enzymes and peptides: a folding model for proteins."),
       _item(2, "What a driver sees", "Cars in traffic: a dataset of driving scenes recorded from cars."),
       _item(3, "Counting galaxies", "A telescope survey of galaxies for cosmology."),
       _item(4, "Stellar spectra", "Stellar populations seen by a telescope."))


def test_meaning_ranks_a_paper_that_shares_no_word_with_the_library_first_and_says_why(stub, tmp_path):
    spec = FeedSpec(name="f", path=None, title="f", categories=("cs.CV",))
    endpoint = EmbeddingsEndpoint("embed-small", f"{stub.url}/v1")
    by_words = rank_all(spec, DAY, _library(), TODAY)
    # no word in common ("cars", "driving" vs "automobiles", "vehicles"): words alone can't see it
    assert by_words["2601.00002"].score <= max(r.score for r in by_words.values() if r is not by_words["2601.00002"])
    embedder = Embedder(_settings(), tmp_path / "emb")
    ranked = rank_all(spec, DAY, _library(), TODAY, None, lambda t: embedder.vectors(endpoint, t))
    best = max(ranked, key=lambda k: ranked[k].score)
    assert best == "2601.00002"
    assert ranked[best].score > 0 and all(ranked[k].score < ranked[best].score for k in ranked if k != best)
    assert any("similar to your library" in w and ("Automobile" in w or "Vehicle" in w) for w in ranked[best].reasons)


def test_each_text_is_embedded_once_in_batches_and_kept_on_disk(stub, tmp_path):
    endpoint = EmbeddingsEndpoint("embed-small", f"{stub.url}/v1")
    texts = [f"paper number {i} about vehicles" for i in range(BATCH + 5)]
    first = Embedder(_settings(), tmp_path / "emb").vectors(endpoint, texts + texts[:3])
    assert first.shape == (BATCH + 8, EmbeddingsStub.DIMS)
    assert all(math.isclose(float((row ** 2).sum()), 1.0, rel_tol=1e-5) for row in first)
    assert len(stub.paths("/v1/embeddings")) == 2 and stub.texts() == texts  # two requests, no repeats
    # another process (a new Embedder) on the same disk asks only for what is new
    again = Embedder(_settings(), tmp_path / "emb").vectors(endpoint, ["a new one"] + texts)
    assert stub.texts() == texts + ["a new one"]
    assert (again[1:] == first[:BATCH + 5]).all()
    # another model is another space: nothing reused
    Embedder(_settings(), tmp_path / "emb").vectors(EmbeddingsEndpoint("embed-large", f"{stub.url}/v1"), texts[:1])
    assert stub.texts()[-1] == texts[0]


def test_the_key_rule_is_the_llms(stub, tmp_path):
    texts = ["one text"]
    settings = _settings(OPENAI_API_KEY="sk-openai-secret", EMBED_API_KEY="sk-embed")
    # a base_url without api_key_env: no key at all (OPENAI_API_KEY is never sent elsewhere)
    Embedder(settings, tmp_path / "a").vectors(EmbeddingsEndpoint("m", f"{stub.url}/v1"), texts)
    assert stub.headers_seen[-1]["authorization"] == "Bearer no-key"
    Embedder(settings, tmp_path / "b").vectors(EmbeddingsEndpoint("m", f"{stub.url}/v1", "EMBED_API_KEY"), texts)
    assert stub.headers_seen[-1]["authorization"] == "Bearer sk-embed"
    with pytest.raises(EmbeddingsError, match="MISSING_API_KEY is not set"):
        Embedder(settings, tmp_path / "c").vectors(EmbeddingsEndpoint("m", f"{stub.url}/v1", "MISSING_API_KEY"), texts)
    assert len(stub.headers_seen) == 2


@pytest.mark.parametrize("broken,words", [("nan", "finite"), ("short", "3 vectors for 4 texts"),
                                          ("ragged", "different lengths"), ("shape", "finite")])
def test_an_unusable_answer_is_a_clear_error_and_nothing_is_cached(stub, tmp_path, broken, words):
    stub.broken = broken
    endpoint = EmbeddingsEndpoint("m", f"{stub.url}/v1")
    with pytest.raises(EmbeddingsError, match=words):
        Embedder(_settings(), tmp_path / "emb").vectors(endpoint, ["a", "b", "c", "d"])
    stub.broken = None
    Embedder(_settings(), tmp_path / "emb").vectors(endpoint, ["a", "b", "c", "d"])
    assert stub.texts()[-4:] == ["a", "b", "c", "d"]  # asked again: the broken answer was not kept


def test_a_model_that_changed_behind_its_name_is_asked_again_not_mixed(stub, tmp_path):
    endpoint = EmbeddingsEndpoint("m", f"{stub.url}/v1")
    Embedder(_settings(), tmp_path / "emb").vectors(endpoint, ["a", "b"])
    stub.DIMS = 32  # the server now runs another model under the same name
    vecs = Embedder(_settings(), tmp_path / "emb").vectors(endpoint, ["a", "c"])
    assert vecs.shape == (2, 32) and stub.texts() == ["a", "b", "c", "a"]


def test_a_failing_endpoint_is_reported_and_the_day_is_ranked_by_words(env, feeds_dir, llm_stub, stub):
    from tests.test_library import RANKING, _with_library

    (feeds_dir / "lib.json").write_bytes((RANKING / "library.json").read_bytes())
    _with_library(feeds_dir, "lib.json", 2)
    spec = feeds_dir / "cs-cv.toml"
    spec.write_text(spec.read_text("utf-8") + f'embeddings = {{ model = "embed-small", base_url = "{stub.url}/v1" }}\n')
    stub.faults["/v1/embeddings"] = [{"status": 500, "body": b'{"error": {"message": "model not loaded"}}'}] * 5
    d = make_digest()
    result = d.refresh("cs-cv")
    assert result.ok, result.message
    assert "embeddings endpoint (embed-small)" in result.message and "ranked by words only" in result.message
    day = d.store.get_day("cs-cv", TODAY)
    # the same two papers the library chooses by words (test_library)
    assert [e.paper.arxiv_id for e in day.entries] == ["2601.19887", "2601.19753"]
    d.close()


def test_a_working_endpoint_takes_part_in_a_refresh(env, feeds_dir, llm_stub, stub):
    from tests.test_library import RANKING, _with_library

    (feeds_dir / "lib.json").write_bytes((RANKING / "library.json").read_bytes())
    _with_library(feeds_dir, "lib.json", 2)
    spec = feeds_dir / "cs-cv.toml"
    spec.write_text(spec.read_text("utf-8") + f'embeddings = {{ model = "embed-small", base_url = "{stub.url}/v1" }}\n')
    d = make_digest()
    result = d.refresh("cs-cv")
    assert result.ok and "embeddings" not in result.message, result.message
    embedded = stub.texts()
    assert len(embedded) == 30 + len(set(embedded[30:])) and len(embedded) > 30  # the library, then the day
    day = d.store.get_day("cs-cv", TODAY)
    assert day.entries[0].score > 0 and any("similar to your library" in w for w in day.entries[0].why)
    d.close()


@pytest.mark.parametrize("value,problem", [
    ({}, "model must be"), ({"model": " "}, "model must be"), ({"model": "m", "url": "x"}, "unknown key 'url'"),
    ({"model": "m", "base_url": "ftp://h"}, r"expected an http\(s\) URL"),
    ({"model": "m", "api_key_env": "DIGEST_ADMIN_TOKEN"}, "ending in _API_KEY")])
def test_a_bad_embeddings_table_is_a_clear_config_error(tmp_path, value, problem):
    base = {"title": "T", "categories": ["cs.CV"]}
    with pytest.raises(ConfigError, match=problem) as e:
        parse_feed_spec(tmp_path / "f.toml", {**base, "embeddings": value})
    assert e.value.key == "embeddings"
    good = parse_feed_spec(tmp_path / "f.toml", {**base, "embeddings": {"model": "nomic-embed-text",
                                                                       "base_url": "http://localhost:11434/v1/"}})
    assert good.embeddings == EmbeddingsEndpoint("nomic-embed-text", "http://localhost:11434/v1")
