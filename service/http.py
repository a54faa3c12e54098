"""One polite HTTP session for all arXiv traffic: one connection, spacing, timeouts, retries.

arXiv asks for at most one request every three seconds over a single connection. Every
request to arXiv (listing, API through the `arxiv` package, HTML, PDF) goes through the
same `ArxivSession`, so the spacing holds across stages and threads.
"""
from __future__ import annotations

import threading
import time

import requests
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


class ArxivSession(requests.Session):
    """A `requests.Session` that spaces requests, sets timeouts and retries transient errors.

    Retries (urllib3's `Retry`) honour `Retry-After` on 429/503 and back off on other 5xx.
    """

    def __init__(self, delay: float, timeout=DEFAULT_TIMEOUT, retries: int = 3):
        super().__init__()
        self.throttle = Throttle(delay)
        self.timeout = timeout
        self.body_retries = retries
        self.headers["User-Agent"] = USER_AGENT
        retry = Retry(
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


class TooLarge(Exception):
    """A body past the caller's byte limit (declared or counted); the rest is not read."""


def get_limited(session: requests.Session, url: str, limit: int) -> tuple[int, bytes]:
    """(status, body) of a GET whose body is read in chunks and given up past `limit` bytes.

    Streaming moves the body read out of `ArxivSession.request`, so a body cut off
    mid-transfer is fetched again here, as often as the session would have."""
    retries = getattr(session, "body_retries", 0)
    for attempt in range(retries + 1):
        try:
            with session.get(url, stream=True) as resp:
                if resp.status_code != 200:
                    return resp.status_code, b""
                declared = resp.headers.get("Content-Length", "")
                if declared.isdecimal() and int(declared) > limit:
                    raise TooLarge(f"{url} is {int(declared)} bytes, more than the {limit} read")
                body = bytearray()
                for chunk in resp.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > limit:
                        raise TooLarge(f"{url} is more than the {limit} bytes read")
                return 200, bytes(body)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            if attempt == retries:
                raise
            delay = getattr(getattr(session, "throttle", None), "delay", 0)
            time.sleep(delay or 0.1)
    raise AssertionError("unreachable")
