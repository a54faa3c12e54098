"""What every blueprint needs: the façade, the base URL, JSON errors and serving stored bytes."""
from __future__ import annotations

import datetime as dt
import re

from flask import Response, current_app, jsonify, request
from werkzeug.http import parse_date as parse_http_date

from ..errors import BadRequest
from ..models import RenderedDoc, utcnow
from ..render import NEVER
from ..pipeline import Digest
from ..settings import Settings
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
    return request_base(digest().settings, request.host, request.scheme,
                        str(request.environ.get("SERVER_PORT", "")))


def request_base(settings: Settings, host: str, scheme: str, server_port: str) -> str:
    """`base_url()`'s rule on plain values, so the fast path (fastpath.py) applies the same one."""
    if settings.public_url:
        return settings.public_url
    lowered = host.lower()
    m = _HOST.fullmatch(lowered)
    name, port = (m[1].strip("[]"), m[2] or "") if m else ("", "")
    ports = {server_port, {"http": "80", "https": "443"}.get(scheme, "")}
    if name not in settings.allowed_hosts or (port and port not in ports):
        raise BadRequest("Host", f"unknown host {host!r}: this service answers as "
                         f"{', '.join(settings.allowed_hosts)} (set DIGEST_PUBLIC_URL for a public address, "
                         "or DIGEST_ALLOWED_HOSTS)")
    return f"{scheme}://{lowered}"


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


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header accepts gzip: named with a quality above 0 (RFC 9110
    §12.5.3: `gzip;q=0` refuses it). The usual header has no parameters and is decided by a
    substring test; the fast path asks this on every request."""
    lowered = header.lower()
    if "gzip" not in lowered:
        return False
    if ";" not in lowered:
        return True
    for part in lowered.split(","):
        coding, _, params = part.partition(";")
        if coding.strip() in ("gzip", "x-gzip"):
            for param in params.split(";"):
                name, _, value = param.partition("=")
                if name.strip() == "q":
                    try:
                        return float(value.strip()) > 0
                    except ValueError:  # a malformed quality: not a clear yes
                        return False
            return True
    return False


def serve_doc(doc: RenderedDoc, headers: dict[str, str] | None = None) -> Response:
    """Stored bytes with ETag/Last-Modified, gzip when accepted, 304 (no body) when unchanged."""
    gz = accepts_gzip(request.headers.get("Accept-Encoding", ""))
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
    return resp.make_conditional(conditional_environ(request.environ))


def conditional_environ(environ: dict, now: dt.datetime | None = None) -> dict:
    """The request as conditional GET should see it: an If-Modified-Since later than our clock
    is not a date we ever sent, so it is ignored (RFC 9110 §13.1.3; RFC 2616 §14.25 calls it
    invalid) instead of answering 304 to a client whose clock runs ahead."""
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        when = parse_http_date(since)
        if when is not None and when > (now or utcnow()):
            return {k: v for k, v in environ.items() if k != "HTTP_IF_MODIFIED_SINCE"}
    return environ
