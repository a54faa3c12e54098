"""Spend only what is allowed: per-feed and global daily budgets, costs visible in the API."""
from __future__ import annotations

import pytest

from service.budget import cost_usd, price_of
from service.models import EntryStatus
from service.pipeline import make_digest


def test_prices_come_from_the_table():
    assert price_of("claude-haiku-4-5").input == 1.0
    assert price_of("claude-haiku-4-5-20251001").output == 5.0  # dated ids price like their family
    assert price_of("some-local-model").input == 15.0  # unknown: the most expensive, to err low
    assert cost_usd("claude-haiku-4-5", 1_000_000, 100_000) == pytest.approx(1.5)
    assert cost_usd("claude-haiku-4-5", 0, 0, cache_write=1_000_000, cache_read=1_000_000) == pytest.approx(1.35)


def test_costs_per_paper_and_per_day_in_the_api(digest, client, llm_stub):
    result = digest.refresh("cs-cv")
    day = client.get("/api/v1/feeds/cs-cv/days/2026-01-28").json
    costs = [e["analysis"]["usage"]["cost_usd"] for e in day["entries"]]
    assert all(c > 0 for c in costs)
    assert all(e["analysis"]["usage"]["input_tokens"] > 0 for e in day["entries"])
    assert day["summary"]["usage"]["cost_usd"] > 0
    assert day["cost_usd"] == pytest.approx(sum(costs) + day["summary"]["usage"]["cost_usd"], abs=1e-5)
    assert result.cost_usd == pytest.approx(day["cost_usd"], abs=1e-5)
    assert digest.budget.spent("cs-cv") == pytest.approx(result.cost_usd, abs=1e-5)


@pytest.mark.parametrize("where", ["feed", "global"])
def test_budget_stops_spending_and_says_why(env, feeds_dir, monkeypatch, llm_stub, client, where):
    limit = 0.15  # a few calls' worth, with four calls in flight at once (the default)
    llm_stub.output_tokens = 6000  # long answers, as the seed's full-text analyses are (~$0.03 each)
    if where == "feed":
        spec = feeds_dir / "cs-cv.toml"
        spec.write_text(spec.read_text() + f"budget_usd = {limit}\n")
    else:
        monkeypatch.setenv("DIGEST_DAILY_BUDGET_USD", str(limit))
    d = make_digest()
    result = d.refresh("cs-cv")
    assert result.outcome == "published"
    # each call is reserved at its most before it is sent: concurrency never overshoots
    assert 0 < d.budget.spent("cs-cv") <= limit
    assert d.budget.spent("cs-cv") == pytest.approx(result.cost_usd, abs=1e-5)
    assert 0 < len(llm_stub.calls) < 11
    pending = [p for p in result.papers if p.status is EntryStatus.PENDING]
    assert pending and all(p.reasons[0].code == "budget" for p in pending)
    assert "budget" in result.message
    from service.web import create_app

    health = create_app(digest_obj=d).test_client().get("/healthz").json["feeds"]["cs-cv"]
    assert health["last_attempt"]["budget"].startswith("budget")
    # over budget is not a failed attempt of the paper: nothing is marked unavailable
    assert not [p for p in result.papers if p.status is EntryStatus.UNAVAILABLE]
    d.store.close()
