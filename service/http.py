"""One polite HTTP session for all arXiv traffic: one connection, spacing, timeouts, retries.

arXiv asks for at most one request every three seconds over a single connection. Every
request to arXiv (listing, API through the `arxiv` package, HTML, PDF) goes through the
same `ArxivSession`, so the spacing holds across stages and threads.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "arxiv-digest/0.1 (+https://github.com/arxiv-digest)"
#: (connect, read) seconds.
DEFAULT_TIMEOUT = (10.0, 60.0)


class Throttle:
    """Lets one caller through every `delay` seconds, across threads."""

    def __init__(self, delay: float):
        self.delay = delay
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now < self._next:
                time.sleep(self._next - now)
                now = time.monotonic()
            self._next = now + self.delay


#: Longest wait a `Retry-After` gets (seconds). urllib3 sleeps whatever a server asks: a 503
#: with `Retry-After: 86400` held a refresh (and the worker) for three days over its retries;
#: past this the next try comes sooner, and a server still refusing is a failed refresh that
#: the worker retries on its own schedule.
MAX_RETRY_AFTER = 60.0


class CappedRetry(Retry):
    """urllib3's `Retry`, with a server's `Retry-After` capped at `max_retry_after` seconds."""

    max_retry_after = MAX_RETRY_AFTER

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.max_retry_after)


class ArxivSession(requests.Session):
    """A `requests.Session` that spaces requests, sets timeouts and retries transient errors.

    Retries (urllib3's `Retry`) honour `Retry-After` on 429/503 and back off on other 5xx.
    """

    def __init__(self, delay: float, timeout=DEFAULT_TIMEOUT, retries: int = 3,
                 max_retry_after: float = MAX_RETRY_AFTER, hosts: Iterable[str] = ()):
        super().__init__()
        #: Host names a redirect may lead to, with their subdomains (the configured arXiv
        #: URLs'); empty: any.
        self.hosts = frozenset(h.lower() for h in hosts)
        self.throttle = Throttle(delay)
        self.timeout = timeout
        #: Seconds a whole body may take (`read_body`): TRANSFER_TIMEOUTS read timeouts.
        self.transfer_timeout = TRANSFER_TIMEOUTS * (timeout[1] if isinstance(timeout, tuple) else timeout)
        self.body_retries = retries
        self.headers["User-Agent"] = USER_AGENT
        # a class attribute: urllib3 copies a Retry with `new()`, which passes only its own parameters
        retry = type("Retry", (CappedRetry,), {"max_retry_after": max_retry_after})(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=max(delay, 0.1),
            backoff_max=60,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=1, pool_block=True)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def get_redirect_target(self, resp):
        """Redirects are followed only to the configured arXiv hosts and their subdomains
        (arxiv.org's own moves stay allowed): a hostile or hijacked
        upstream must not make us fetch another host (an internal service's answer would
        reach the LLM and the feed)."""
        target = super().get_redirect_target(resp)
        if target is not None and self.hosts:
            host = (urlsplit(urljoin(resp.url, target)).hostname or "").lower()
            if host not in self.hosts and not any(host.endswith(f".{h}") for h in self.hosts):
                resp.close()  # its connection back to the pool (one connection, blocking: else a hang)
                raise OffsiteRedirect(f"{resp.url} redirected to {host or target!r}, which is not one of "
                                      f"the configured arXiv hosts ({', '.join(sorted(self.hosts))})")
        return target

    def request(self, method, url, *args, **kwargs):  # noqa: D401 - same contract as requests
        """Throttled; a body cut off mid-transfer is fetched again (urllib3 retries only the head)."""
        kwargs.setdefault("timeout", self.timeout)
        for attempt in range(self.body_retries + 1):
            self.throttle.wait()
            try:
                return super().request(method, url, *args, **kwargs)
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
                if attempt == self.body_retries:
                    raise
                time.sleep(self.throttle.delay or 0.1)


class OffsiteRedirect(requests.exceptions.InvalidURL):
    """An upstream redirect to a host that is not arXiv's: not followed. A `RequestException`,
    so callers treat it as a failed request."""


class TooLarge(Exception):
    """A body past the caller's byte limit (declared or counted); the rest is not read."""


class TooSlow(requests.exceptions.ReadTimeout):
    """A body that did not arrive within the transfer deadline. `requests`' read timeout
    bounds each socket read, so a server trickling a byte a second would never trip it;
    this bounds the whole body. A `RequestException`, so callers treat it as a failed request."""


#: A whole body gets this many read timeouts (ArxivSession's `transfer_timeout`).
TRANSFER_TIMEOUTS = 4
#: Transfer deadline of a session that sets none (seconds).
DEFAULT_TRANSFER = 4 * DEFAULT_TIMEOUT[1]
_CHUNK = 64 * 1024


def read_body(resp: requests.Response, url: str, limit: int, seconds: float) -> bytes:
    """The body of a streamed response, given up past `limit` bytes (`TooLarge`, after
    reading at most one chunk more) or past `seconds` (`TooSlow`, after at most one more
    read timeout). urllib3's errors come out as `requests`' own, as `Response.content` does."""
    declared = resp.headers.get("Content-Length", "")
    if declared.isdecimal() and int(declared) > limit:
        raise TooLarge(f"{url} is {int(declared)} bytes, more than the {limit} read")
    end = time.monotonic() + seconds
    body = bytearray()
    while True:
        try:
            chunk = resp.raw.read1(_CHUNK, decode_content=True)  # what has arrived, not a full chunk
        except urllib3.exceptions.ProtocolError as e:
            raise requests.exceptions.ChunkedEncodingError(e) from e
        except urllib3.exceptions.DecodeError as e:
            raise requests.exceptions.ContentDecodingError(e) from e
        except urllib3.exceptions.ReadTimeoutError as e:
            raise requests.exceptions.ConnectionError(e) from e
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"{url} is more than the {limit} bytes read")
        if time.monotonic() > end:
            raise TooSlow(f"{url}: the body did not arrive within {seconds:g} s ({len(body)} bytes came); "
                          "given up")


def fetch_limited(session: requests.Session, url: str, limit: int, **kwargs) -> requests.Response:
    """A GET whose body (if 200; others are left unread) is read by `read_body` into the
    response, so `.content` is safe to use.

    Streaming moves the body read out of `ArxivSession.request`, so a body cut off
    mid-transfer is fetched again here, as often as the session would have."""
    retries = getattr(session, "body_retries", 0)
    seconds = getattr(session, "transfer_timeout", DEFAULT_TRANSFER)
    for attempt in range(retries + 1):
        try:
            with session.get(url, stream=True, **kwargs) as resp:
                body = read_body(resp, url, limit, seconds) if resp.status_code == 200 else b""
            resp._content, resp._content_consumed = body, True
            return resp
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            if attempt == retries:
                raise
            delay = getattr(getattr(session, "throttle", None), "delay", 0)
            time.sleep(delay or 0.1)
    raise AssertionError("unreachable")


def get_limited(session: requests.Session, url: str, limit: int) -> tuple[int, bytes]:
    """(status, body) of a GET whose body is read under `limit` bytes and the session's
    transfer deadline (`read_body`); the body is empty unless the status is 200."""
    resp = fetch_limited(session, url, limit)
    return resp.status_code, resp.content


class LimitedGets:
    """What the `arxiv` package asks of its session (`get(url, headers=...)`, then
    `.status_code` and `.content`), through `fetch_limited`: the package reads whole bodies,
    so an endless or trickling API answer would hold a refresh forever."""

    def __init__(self, session: requests.Session, limit: int):
        self.session, self.limit = session, limit

    def get(self, url: str, **kwargs) -> requests.Response:
        return fetch_limited(self.session, url, self.limit, **kwargs)


def deadline_transport(seconds: float):
    """An `httpx2` transport (the HTTP library of the anthropic and openai SDKs) that gives a
    response body `seconds` to arrive once its headers came. httpx's read timeout, like
    requests', bounds each read: an endpoint trickling its answer a byte at a time held one
    LLM call for minutes (a 200-byte answer at a byte per 0.3 s took 66 s with timeout=1),
    and a refresh for hours. Past the deadline the read raises `httpx2.ReadTimeout`, which
    the SDKs report as their timeout error."""
    import httpx2

    class DeadlineStream(httpx2.SyncByteStream):
        def __init__(self, inner, request):
            self.inner, self.request = inner, request
            self.end = time.monotonic() + seconds

        def __iter__(self):
            for chunk in self.inner:
                if time.monotonic() > self.end:
                    raise httpx2.ReadTimeout(f"the response body did not arrive within {seconds:g} s",
                                             request=self.request)
                yield chunk

        def close(self) -> None:
            self.inner.close()

    class DeadlineTransport(httpx2.HTTPTransport):
        def handle_request(self, request):
            response = super().handle_request(request)
            response.stream = DeadlineStream(response.stream, request)
            return response

    return DeadlineTransport()
