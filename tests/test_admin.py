"""Admin refresh: bearer token, constant-time compared; no token configured → 403 for all."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from service.models import Job, JobState
from service.store import Store

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


AUTH = {"Authorization": "Bearer s3cret-token"}


def _wait(admin, url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = admin.get(url, headers=AUTH).json
        if job["state"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {url} still running after {timeout} s")


def test_the_right_token_starts_a_refresh_that_answers_at_once(admin, llm_stub):
    llm_stub.script["summary"] = ["hang"]  # the refresh cannot finish while the request answers
    resp = admin.post("/api/v1/feeds/cs-cv/refresh", headers=AUTH)
    assert resp.status_code == 202, resp.json
    assert resp.json["state"] == "running" and resp.json["result"] is None
    assert resp.headers["Location"] == resp.json["url"] and "/api/v1/jobs/" in resp.json["url"]
    job_url = resp.json["url"].replace("http://localhost", "")
    assert admin.get(job_url, headers=AUTH).json["state"] == "running"
    # never twice at once: a second request is refused while the first runs
    busy = admin.post("/api/v1/feeds/cs-cv/refresh", headers=AUTH)
    assert busy.status_code == 409 and busy.json["error"]["code"] == "already_running"
    llm_stub.release.set()
    job = _wait(admin, job_url)
    assert job["state"] == "done" and job["finished"]
    assert job["result"]["outcome"] == "published" and job["result"]["llm_calls"] == 11
    assert len(job["result"]["papers"]) == 10
    assert admin.get("/feeds/cs-cv.atom").status_code == 200
    # the job is the admin's: no token, no job
    assert admin.get(job_url).status_code == 401
    assert admin.get("/api/v1/jobs/nope", headers=AUTH).status_code == 404


def test_admin_refresh_of_unknown_feed_is_404(admin, arxiv_stub):
    resp = admin.post("/api/v1/feeds/nope/refresh", headers={"Authorization": "Bearer s3cret-token"})
    assert resp.status_code == 404 and arxiv_stub.requests == []


def test_refresh_is_not_a_get(admin, llm_stub):
    assert admin.get("/api/v1/feeds/cs-cv/refresh").status_code in (404, 405)
    assert llm_stub.requests == []


def test_a_job_whose_process_died_reads_as_interrupted(admin, env):
    store = Store(Path(env["DIGEST_DATA_DIR"]))
    store.put_job(Job("deadbeef", "cs-cv", False, JobState.RUNNING, dt.datetime.now(dt.timezone.utc)))
    store.close()
    job = admin.get("/api/v1/jobs/deadbeef", headers=AUTH).json
    assert job["state"] == "interrupted" and job["result"] is None
