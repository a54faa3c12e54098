"""What every blueprint needs: the façade, the base URL, JSON errors and serving stored bytes."""
from __future__ import annotations

import datetime as dt
import re

from flask import Response, current_app, jsonify, request

from ..errors import BadRequest
from ..models import RenderedDoc, utcnow
from ..render import NEVER
from ..pipeline import Digest
from ..schedule import last_announcement, next_announcement

#: Floor of Cache-Control max-age, so a refresh running late is still picked up soon.
MIN_MAX_AGE = 300
#: After an announcement, how long a new day may still be in the making.
PUBLISHING_WINDOW = dt.timedelta(hours=6)
#: A Host header: a name or a bracketed IPv6 address, and an optional port.
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?")
#: Every response's Content-Security-Policy: no script, no inline style, nothing remote.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' https:; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")


def digest() -> Digest:
    return current_app.extensions["digest"]


def base_url() -> str:
    """The base of every self link: `DIGEST_PUBLIC_URL`, else this request's own address if
    its host is one of `DIGEST_ALLOWED_HOSTS` and its port the one we listen on. Documents
    are stored per base, so a base a client could choose freely would fill the disk (and
    put the client's host into links that shared caches hand to others)."""
    settings = digest().settings
    if settings.public_url:
        return settings.public_url
    host = request.host.lower()
    m = _HOST.fullmatch(host)
    name, port = (m[1].strip("[]"), m[2] or "") if m else ("", "")
    ports = {str(request.environ.get("SERVER_PORT", "")), {"http": "80", "https": "443"}.get(request.scheme, "")}
    if name not in settings.allowed_hosts or (port and port not in ports):
        raise BadRequest("Host", f"unknown host {request.host!r}: this service answers as "
                         f"{', '.join(settings.allowed_hosts)} (set DIGEST_PUBLIC_URL for a public address, "
                         "or DIGEST_ALLOWED_HOSTS)")
    return f"{request.scheme}://{host}"


def error(status: int, code: str, message: str) -> Response:
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = status
    return resp


def parse_date(value: str) -> dt.date:
    """YYYY-MM-DD or a 400 (fromisoformat alone would also take 20260128)."""
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise BadRequest("date", f"invalid date {value!r}: expected YYYY-MM-DD")


def max_age(now: dt.datetime | None = None) -> int:
    """Seconds until the next expected announcement: nothing can change before it.

    In the hours after an announcement the new day may still be on its way (the worker's
    margin, the refresh itself, its retries), so caches must check back soon: a 24-hour
    max-age handed out at 20:40 ET would hide the day from a CDN until tomorrow.
    """
    now = now or utcnow()
    if now - last_announcement(now) < PUBLISHING_WINDOW:
        return MIN_MAX_AGE
    return max(MIN_MAX_AGE, int((next_announcement(now) - now).total_seconds()))


def serve_doc(doc: RenderedDoc, headers: dict[str, str] | None = None) -> Response:
    """Stored bytes with ETag/Last-Modified, gzip when accepted, 304 (no body) when unchanged."""
    gz = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    resp = Response(doc.gzipped if gz else doc.body, content_type=doc.content_type)
    resp.set_etag(f"{doc.etag}-gz" if gz else doc.etag)
    resp.last_modified = doc.last_modified
    resp.vary.add("Accept-Encoding")
    if gz:
        resp.content_encoding = "gzip"
    resp.cache_control.public = True
    # nothing published yet: a reader that subscribes now must look again soon, not tonight
    resp.cache_control.max_age = MIN_MAX_AGE if doc.last_modified <= NEVER else max_age()
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    since = request.if_modified_since
    if since is not None and since > utcnow():
        # RFC 9110 13.1.3: a date later than the server's current time is invalid: ignore it
        environ = {k: v for k, v in request.environ.items() if k != "HTTP_IF_MODIFIED_SINCE"}
        return resp.make_conditional(environ)
    return resp.make_conditional(request)
