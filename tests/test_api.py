"""JSON API v1: typed documents, pagination, JSON errors, and the OpenAPI 3.1 description they follow."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from .conftest import SEED_PAPERS


def check(spec: dict, name: str, doc: dict) -> None:
    """Validate a response against a component schema of the served OpenAPI document."""
    Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]},
                         format_checker=Draft202012Validator.FORMAT_CHECKER).validate(doc)


@pytest.fixture
def spec(client) -> dict:
    resp = client.get("/openapi.json")
    assert resp.status_code == 200
    validate(resp.json)  # a valid OpenAPI 3.1 document
    return resp.json


def test_openapi_describes_every_route(client, spec):
    routes = {str(r.rule).replace("<", "{").replace(">", "}").replace("path:", "")
              for r in client.application.url_map.iter_rules() if r.endpoint != "static"}
    assert routes <= set(spec["paths"]), routes - set(spec["paths"])


def test_api_documents_follow_their_schemas(digest, client, spec):
    digest.refresh("cs-cv")
    feeds = client.get("/api/v1/feeds").json
    check(spec, "FeedList", feeds)
    assert feeds["feeds"][0]["name"] == "cs-cv" and feeds["feeds"][0]["latest_day"] == "2026-01-28"
    days = client.get("/api/v1/feeds/cs-cv/days").json
    check(spec, "DaysPage", days)
    assert [d["date"] for d in days["days"]] == ["2026-01-28"] and days["next"] is None
    day = client.get(days["days"][0]["links"]["self"]).json
    check(spec, "Day", day)
    assert len(day["entries"]) == 10 and day["summary"]["parts"]
    by_id = {e["paper"]["arxiv_id"]: e for e in day["entries"]}
    for expected in SEED_PAPERS:
        entry = by_id[expected["id"]]
        assert entry["paper"]["authors"] == expected["authors"] and entry["status"] == "analysed"
        assert all(f["evidence"] for f in entry["findings"])
    assert by_id["2601.19887"]["analysis"]["source"] == "html"
    paper = client.get("/api/v1/papers/2601.19887v1").json
    check(spec, "PaperAppearances", paper)
    assert paper["paper"]["versioned_id"] == "2601.19887v1"
    assert [(a["feed"], a["date"]) for a in paper["appearances"]] == [("cs-cv", "2026-01-28")]
    assert client.get("/api/v1/papers/2601.19887").json == paper


def test_days_are_paginated_with_link_next(digest, client, spec):
    digest.refresh("cs-cv")
    day = digest.store.get_day("cs-cv", dt.date(2026, 1, 28))
    for offset in range(1, 5):
        digest.publish(digest.spec("cs-cv"), replace(day, date=day.date - dt.timedelta(days=offset)))
    url, seen = "/api/v1/feeds/cs-cv/days?per_page=2", []
    while url:
        resp = client.get(url)
        check(spec, "DaysPage", resp.json)
        seen += [d["date"] for d in resp.json["days"]]
        url = resp.json["next"]
        if url:
            assert resp.headers["Link"] == f'<{url}>; rel="next"'
        else:
            assert "Link" not in resp.headers
    assert seen == [f"2026-01-{n}" for n in range(28, 23, -1)]
    assert client.get("/api/v1/feeds/cs-cv/days?page=9&per_page=2").status_code == 404


BAD = [
    ("/api/v1/feeds/nope/days", 404, "not_found"),
    ("/api/v1/feeds/cs-cv/days/2026-02-30", 400, "bad_request"),
    ("/api/v1/feeds/cs-cv/days/20260128", 400, "bad_request"),
    ("/api/v1/feeds/cs-cv/days/2026-01-27", 404, "not_found"),
    ("/api/v1/feeds/nope/days/2026-01-28", 404, "not_found"),
    ("/api/v1/feeds/cs-cv/days?page=0", 400, "bad_request"),
    ("/api/v1/feeds/cs-cv/days?per_page=1000", 400, "bad_request"),
    ("/api/v1/feeds/cs-cv/days?page=x", 400, "bad_request"),
    ("/api/v1/papers/not-an-id", 400, "bad_request"),
    ("/api/v1/papers/2601.00001", 404, "not_found"),
    ("/api/v1/nothing", 404, "not_found"),
    ("/feeds/nope.rss", 404, "not_found"),
    ("/feeds/cs-cv/tomorrow", 400, "bad_request"),
    ("/feeds/cs-cv/2026-01-27.md", 404, "not_found"),
]


def test_bad_parameters_get_json_errors(digest, client, spec):
    digest.refresh("cs-cv")
    for url, status, code in BAD:
        resp = client.get(url)
        assert resp.status_code == status and resp.content_type == "application/json", url
        check(spec, "Error", resp.json)
        assert resp.json["error"]["code"] == code and resp.json["error"]["message"], url


def test_wrong_method_is_a_json_405(client, spec):
    resp = client.post("/api/v1/feeds")
    assert resp.status_code == 405 and resp.json["error"]["code"] == "method_not_allowed"
    check(spec, "Error", resp.json)
