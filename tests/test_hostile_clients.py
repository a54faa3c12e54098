"""Hostile clients: what a request controls must not grow the disk, poison links, or turn
a full disk into errors for readers."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

from service.pipeline import make_digest
from service.web import create_app

DOCS = ["/", "/opml", "/api/v1/feeds", "/feeds/cs-cv.atom", "/feeds/cs-cv.rss", "/feeds/cs-cv.json",
        "/feeds/cs-cv/2026-01-28", "/feeds/cs-cv/2026-01-28.md", "/feeds/cs-cv/2026-01-28.atom",
        "/api/v1/feeds/cs-cv/days", "/api/v1/feeds/cs-cv/days/2026-01-28", "/api/v1/papers/2601.19887"]


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _hosts(n: int) -> list[str]:
    rnd = random.Random(7)
    return [f"{''.join(rnd.choices('abcdefghij', k=8))}.example:{rnd.randrange(1, 65535)}" for _ in range(n)] + \
        ["localhost:1", "127.0.0.1:2", "evil.example", "localhost.evil.example", "[::1]:3"]


def test_random_host_headers_neither_grow_the_store_nor_reach_links(digest, client):
    digest.refresh("cs-cv")
    for path in DOCS:  # the allowed host renders and stores each document once
        assert client.get(path).status_code == 200, path
    data = Path(digest.settings.data_dir)
    before = _size(data)
    for host in _hosts(60):
        for path in ("/feeds/cs-cv.atom", "/", "/feeds/cs-cv/2026-01-28"):
            resp = client.get(path, headers={"Host": host})
            assert resp.status_code == 400, (host, resp.status_code)
            assert resp.json["error"]["code"] == "bad_request" and "DIGEST_PUBLIC_URL" in resp.json["error"]["message"]
            assert b"<feed" not in resp.data and b"<html" not in resp.data
    # diskcache's own bookkeeping may move a little; documents for 60 hosts would be megabytes
    assert _size(data) - before < 64 * 1024
    ok = client.get("/feeds/cs-cv.atom", headers={"Host": "localhost"})
    assert ok.status_code == 200 and b'href="http://localhost/feeds/cs-cv.atom"' in ok.data


def test_with_a_public_url_the_host_header_is_ignored(env, monkeypatch):
    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://digest.example.org")
    d = make_digest()
    d.refresh("cs-cv")
    client = create_app(digest_obj=d).test_client()
    first = client.get("/feeds/cs-cv.atom")
    before = _size(Path(d.settings.data_dir))
    for host in _hosts(30):
        resp = client.get("/feeds/cs-cv.atom", headers={"Host": host})
        assert resp.status_code == 200 and resp.data == first.data
        assert b"https://digest.example.org/feeds/cs-cv.atom" in resp.data
    assert _size(Path(d.settings.data_dir)) - before < 64 * 1024
    d.close()


def test_allowed_hosts_are_configurable(env, monkeypatch):
    monkeypatch.setenv("DIGEST_ALLOWED_HOSTS", "digest.lan, 192.168.1.5")
    d = make_digest()
    client = create_app(digest_obj=d).test_client()
    assert client.get("/feeds/cs-cv.atom", headers={"Host": "digest.lan"}).status_code == 200
    assert client.get("/feeds/cs-cv.atom", headers={"Host": "192.168.1.5"}).status_code == 200
    assert client.get("/feeds/cs-cv.atom", headers={"Host": "localhost"}).status_code == 400
    d.close()


SERVE_WITH_A_FULL_DISK = textwrap.dedent("""
    import resource, signal, sys
    from service.web import create_app
    client = create_app().test_client()
    # the disk fills up while serving: no file may grow from here on
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
    for path in sys.argv[2:]:
        resp = client.get(path)
        print(path, resp.status_code, len(resp.data), flush=True)
""")


def test_a_full_disk_still_serves_every_document(env):
    d = make_digest()
    assert d.refresh("cs-cv").outcome == "published"
    d.close()
    # small: a rendered feed (tens of kB) cannot be written as a file, and the database
    # files cannot grow past what they hold
    limit = 16 * 1024
    paths = [p for p in DOCS for _ in range(2)]  # twice: the second time nothing was stored either
    proc = subprocess.run([sys.executable, "-c", SERVE_WITH_A_FULL_DISK, str(limit), *paths],
                          env=dict(os.environ), capture_output=True, text=True, timeout=120)
    lines = [line.split() for line in proc.stdout.splitlines()]
    assert [(p, s) for p, s, _ in lines] == [(p, "200") for p in paths], proc.stdout + proc.stderr
    assert all(int(n) > 0 for _, _, n in lines)


def test_a_corrupt_database_is_a_json_503_and_healthz_says_why(digest, client):
    digest.refresh("cs-cv")
    assert client.get("/healthz").json["status"] != "storage_error"
    db = Path(digest.settings.data_dir) / "cache" / "cache.db"
    digest.store.cache.close()  # as if another process replaced the file under us
    db.write_bytes(b"this is not a database" * 4096)
    for name in ("cache.db-wal", "cache.db-shm"):
        (db.parent / name).unlink(missing_ok=True)
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["status"] == "storage_error"
    assert "cannot be read" in health.json["error"] and list(health.json["feeds"]) == ["cs-cv"]
    feed = client.get("/feeds/cs-cv/2026-01-28.md")
    assert feed.status_code == 503 and feed.json["error"]["code"] == "storage"
