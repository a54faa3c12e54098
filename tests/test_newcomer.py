"""What a newcomer meets in the first minutes."""
from __future__ import annotations

from service.web.common import MIN_MAX_AGE


def test_an_empty_feed_asks_readers_to_come_back_soon(client):
    for path in ("/feeds/cs-cv.atom", "/feeds/cs-cv.rss", "/feeds/cs-cv.json"):
        resp = client.get(path)
        assert resp.status_code == 200 and resp.cache_control.max_age == MIN_MAX_AGE, path



def _served(env):
    from service.web import create_app

    return create_app()  # as gunicorn builds it: the served app, not a test's own digest


def test_before_any_day_the_served_app_shows_a_labelled_sample_day(env, llm_stub, arxiv_stub):
    import feedparser

    app = _served(env)
    client = app.test_client()
    index = client.get("/").data.decode()
    assert "This is a sample built from a recorded day" in index and "arxiv-digest refresh" in index
    assert "/feeds/sample/2026-01-28" in index
    feed = feedparser.parse(client.get("/feeds/sample.atom").data)
    assert feed.feed.title.startswith("Sample (recorded day)")
    assert len(feed.entries) == 11  # the summary and ten papers
    page = client.get("/feeds/sample/2026-01-28").data.decode()
    assert "VGGT-SLAM 2.0" in page and "主要贡献" in page
    day = client.get("/api/v1/feeds/sample/days/2026-01-28").json
    statuses = [e["status"] for e in day["entries"]]
    # the seed's seven good analyses pass the gate; the three it omitted are not invented
    assert statuses.count("analysed") == 7 and statuses.count("unavailable") == 3
    assert all(e["analysis"] is None for e in day["entries"] if e["status"] != "analysed")
    assert day["summary"] is not None
    # nothing was fetched or paid for it
    assert llm_stub.requests == [] and arxiv_stub.requests == []
    # /healthz is about real feeds only
    assert list(client.get("/healthz").json["feeds"]) == ["cs-cv"]


def test_the_sample_goes_away_with_the_first_real_day(env, llm_stub):
    from service.pipeline import make_digest

    app = _served(env)
    client = app.test_client()
    assert client.get("/feeds/sample.atom").status_code == 200
    d = make_digest()  # the worker or the CLI, in another process
    assert d.refresh("cs-cv").outcome == "published"
    d.close()
    app.extensions["digest"].reload_specs(force=True)
    assert client.get("/feeds/sample.atom").status_code == 404
    assert "recorded day" not in client.get("/").data.decode()
    assert [f["name"] for f in client.get("/api/v1/feeds").json["feeds"]] == ["cs-cv"]
