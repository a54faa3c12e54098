"""Admin refresh: bearer token, constant-time compared; no token configured → 403 for all."""
from __future__ import annotations

import pytest

from service.pipeline import make_digest
from service.web import create_app


@pytest.fixture
def admin(env, monkeypatch):
    monkeypatch.setenv("DIGEST_ADMIN_TOKEN", "s3cret-token")
    d = make_digest()
    yield create_app(digest_obj=d).test_client()
    d.store.close()


def test_without_a_configured_token_admin_routes_are_forbidden(client, llm_stub, arxiv_stub):
    resp = client.post("/api/v1/feeds/cs-cv/refresh", headers={"Authorization": "Bearer anything"})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "forbidden"
    assert llm_stub.requests == [] and arxiv_stub.requests == []


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic czNjcmV0LXRva2Vu", "Bearer ", "s3cret-token"])
def test_wrong_credentials_are_refused_and_spend_nothing(admin, llm_stub, arxiv_stub, header):
    headers = {"Authorization": header} if header is not None else {}
    resp = admin.post("/api/v1/feeds/cs-cv/refresh", headers=headers)
    assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert llm_stub.requests == [] and arxiv_stub.requests == []


def test_the_right_token_refreshes(admin, llm_stub):
    resp = admin.post("/api/v1/feeds/cs-cv/refresh", headers={"Authorization": "Bearer s3cret-token"})
    assert resp.status_code == 200, resp.json
    assert resp.json["outcome"] == "published" and resp.json["llm_calls"] == 11
    assert len(resp.json["papers"]) == 10
    assert admin.get("/feeds/cs-cv.atom").status_code == 200


def test_admin_refresh_of_unknown_feed_is_404(admin, arxiv_stub):
    resp = admin.post("/api/v1/feeds/nope/refresh", headers={"Authorization": "Bearer s3cret-token"})
    assert resp.status_code == 404 and arxiv_stub.requests == []


def test_refresh_is_not_a_get(admin, llm_stub):
    assert admin.get("/api/v1/feeds/cs-cv/refresh").status_code in (404, 405)
    assert llm_stub.requests == []
