"""Operations routes: `/healthz` for uptime checks and the admin refresh.

Admin routes need `Authorization: Bearer $DIGEST_ADMIN_TOKEN` (compared in constant time);
with no token configured they answer 403, so no anonymous request can spend LLM money
or make the service fetch anything upstream.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, jsonify, request

from ..models import Job, RefreshResult
from ..urls import Urls
from .common import base_url, digest, error

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    body, status = digest().health()
    resp = jsonify(body)
    resp.status_code = status
    resp.cache_control.no_store = True
    return resp


def _authorised() -> tuple[bool, object]:
    token = digest().settings.admin_token
    if not token:
        return False, error(403, "forbidden", "admin routes are disabled: DIGEST_ADMIN_TOKEN is not set")
    given = request.headers.get("Authorization", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(), token.encode()):
        resp = error(401, "unauthorized", "a valid 'Authorization: Bearer <token>' header is required")
        resp.headers["WWW-Authenticate"] = 'Bearer realm="arxiv-digest"'
        return False, resp
    return True, None


def _result_json(result: RefreshResult) -> dict:
    return {"feed": result.feed, "outcome": result.outcome.value, "message": result.message,
            "day": result.date.isoformat() if result.date else None, "llm_calls": result.llm_calls,
            "cost_usd": result.cost_usd, "missing": list(result.missing),
            "papers": [{"id": p.versioned_id, "status": p.status.value, "reasons": [str(r) for r in p.reasons]}
                       for p in result.papers]}


def _job_json(job: Job) -> dict:
    return {"id": job.id, "feed": job.feed, "force": job.force, "state": job.state.value,
            "started": job.started.isoformat(), "finished": job.finished.isoformat() if job.finished else None,
            "url": Urls(base_url()).job(job.id),
            "result": _result_json(job.result) if job.result else None}


@bp.post("/api/v1/feeds/<feed>/refresh")
def refresh(feed: str):
    """Start a refresh of one feed and answer at once: 202 with the job's URL.

    The refresh runs outside the request (a gunicorn timeout cannot kill it halfway);
    409 if a refresh of the feed is already running (the app's error handler)."""
    ok, denial = _authorised()
    if not ok:
        return denial
    force = request.args.get("force", "false").lower() in ("1", "true", "yes")
    job = digest().start_refresh(feed, force=force)  # unknown feed → 404 before anything runs
    resp = jsonify(_job_json(job))
    resp.status_code = 202
    resp.headers["Location"] = _job_json(job)["url"]
    resp.cache_control.no_store = True
    return resp


@bp.get("/api/v1/jobs/<job_id>")
def job(job_id: str):
    """A refresh job: running, done (with its result) or interrupted."""
    ok, denial = _authorised()
    if not ok:
        return denial
    resp = jsonify(_job_json(digest().job(job_id)))
    resp.cache_control.no_store = True
    return resp
