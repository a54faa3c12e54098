"""gunicorn serves wsgi:app on loopback: the product as `make run` runs it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import lxml.html
import requests

from service.pipeline import make_digest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_the_published_feed(env, llm_stub):
    d = make_digest()
    assert d.refresh("cs-cv").outcome == "published"
    d.store.close()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                             "wsgi:app"], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                health = requests.get(f"{url}/healthz", timeout=30)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError(proc.stderr.read1().decode())
        assert health.json()["feeds"]["cs-cv"]["latest_day"] == "2026-01-28"
        resp = requests.get(f"{url}/feeds/cs-cv.atom", timeout=30)
        assert resp.status_code == 200 and resp.headers["Content-Encoding"] == "gzip"
        again = requests.get(f"{url}/feeds/cs-cv.atom", headers={"If-None-Match": resp.headers["ETag"]}, timeout=30)
        assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == resp.headers["ETag"]
        feed = feedparser.parse(resp.content)
        assert len(feed.entries) == 11 and not feed.bozo
        assert feed.feed.links[0].href == f"{url}/feeds/cs-cv.atom"
        index = requests.get(url, timeout=30)
        links = lxml.html.fromstring(index.content).xpath("//link[@rel='alternate'][@type='application/atom+xml']/@href")
        assert f"{url}/feeds/cs-cv.atom" in links
        calls = len(llm_stub.calls)
        requests.get(f"{url}/feeds/cs-cv.atom", timeout=30)
        assert len(llm_stub.calls) == calls
    finally:
        proc.terminate()
        proc.wait(10)
