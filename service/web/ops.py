"""Operations routes: `/healthz` for uptime checks and the admin refresh.

Admin routes need `Authorization: Bearer $DIGEST_ADMIN_TOKEN` (compared in constant time);
with no token configured they answer 403, so no anonymous request can spend LLM money
or make the service fetch anything upstream.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, jsonify, request

from .common import digest, error

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


@bp.post("/api/v1/feeds/<feed>/refresh")
def refresh(feed: str):
    """Refresh one feed now, synchronously; 409 if a refresh of it is already running."""
    ok, denial = _authorised()
    if not ok:
        return denial
    d = digest()
    d.spec(feed)  # unknown feed → 404 before anything runs
    force = request.args.get("force", "false").lower() in ("1", "true", "yes")
    result = d.refresh(feed, force=force)  # RefreshBusy → 409 by the app's error handler
    body = {"feed": feed, "outcome": result.outcome.value, "message": result.message,
            "day": result.date.isoformat() if result.date else None, "llm_calls": result.llm_calls,
            "cost_usd": result.cost_usd, "missing": list(result.missing),
            "papers": [{"id": p.versioned_id, "status": p.status.value, "reasons": [str(r) for r in p.reasons]}
                       for p in result.papers]}
    resp = jsonify(body)
    resp.status_code = 200 if result.ok else 502
    return resp
