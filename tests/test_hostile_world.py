"""A hostile world around a running service: its data directory deleted or replaced while it
serves, a corrupt database, arXiv answering endless or trickling bodies, the calendar moving on.

The serving tests run the product as `make run` runs it (gunicorn, two workers) and change the
data directory with real renames and deletions between requests."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from service.pipeline import make_digest

ROOT = Path(__file__).resolve().parent.parent
SEED_TITLE = b"VGGT-SLAM 2.0"
OTHER_TITLE = b"Replaced-Directory Paper"
#: (The old title also appears in the full text quoted by the analyses, so the replaced
#: directory is told apart by the new title.)
#: How long a served process may go on answering from a directory that was replaced or
#: deleted (store.IDENTITY_CHECK is 0.5 s; the rest is slack for a busy 2-core machine).
BOUND = 1.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def publish_into(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("DIGEST_DATA_DIR", str(data_dir))
    d = make_digest()
    assert d.refresh("cs-cv").outcome == "published"
    d.close()


class Gunicorn:
    def __init__(self, env: dict, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                      "--bind", f"127.0.0.1:{self.port}", "wsgi:app"], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(200):
            try:
                requests.get(f"{self.url}/healthz", timeout=30)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(self.proc.stderr.read().decode())

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=30, **kw)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def gunicorn(env):
    started: list[Gunicorn] = []

    def start() -> Gunicorn:
        started.append(Gunicorn(dict(os.environ)))
        return started[-1]
    yield start
    for g in started:
        g.stop()


def settle(server: Gunicorn, path: str, done, **kw) -> requests.Response:
    """After BOUND seconds every answer (both workers, the fast path's kept bytes included)
    must satisfy `done`."""
    time.sleep(BOUND)
    for _ in range(12):
        resp = server.get(path, **kw)
        assert done(resp), (path, resp.status_code, resp.content[:300])
    return resp


# --- 15: the data directory deleted or replaced while serving ----------------------------------
def test_a_replaced_then_deleted_then_restored_data_dir_is_noticed_by_gunicorn(env, gunicorn, arxiv_stub,
                                                                                monkeypatch, tmp_path):
    live = Path(env["DIGEST_DATA_DIR"])
    other = tmp_path / "other-var"
    arxiv_stub.api_patches = [(SEED_TITLE, OTHER_TITLE)]
    publish_into(other, monkeypatch)  # another directory: the same day, another title
    arxiv_stub.api_patches = []
    publish_into(live, monkeypatch)
    server = gunicorn()
    for _ in range(6):  # both workers keep the feed's bytes in memory
        feed = server.get("/feeds/cs-cv.atom")
        assert feed.status_code == 200 and SEED_TITLE in feed.content and OTHER_TITLE not in feed.content
    assert SEED_TITLE in server.get("/papers/2601.19887").content

    # replaced by another directory (mv away, mv in): its content is served, not the old bytes
    live.rename(tmp_path / "old-var")
    other.rename(live)
    settle(server, "/feeds/cs-cv.atom", lambda r: r.status_code == 200 and OTHER_TITLE in r.content)
    settle(server, "/papers/2601.19887", lambda r: r.status_code == 200 and OTHER_TITLE in r.content)
    assert server.get("/healthz").json()["feeds"]["cs-cv"]["latest_day"] == "2026-01-28"

    # deleted: every answer is a JSON 503 that says so, /healthz included
    shutil.rmtree(live)
    health = settle(server, "/healthz", lambda r: r.status_code == 503 and r.json()["status"] == "storage_error")
    assert "is gone" in health.json()["error"] and str(live) in health.json()["error"]
    for path in ("/feeds/cs-cv.atom", "/feeds/cs-cv/2026-01-28", "/papers/2601.19887", "/api/v1/feeds"):
        resp = settle(server, path, lambda r: r.status_code == 503)
        assert resp.json()["error"]["code"] == "storage" and "is gone" in resp.json()["error"]["message"]
    assert not live.exists()  # the web app does not plant an empty store in its place

    # restored: serving resumes without a restart
    (tmp_path / "old-var").rename(live)
    settle(server, "/feeds/cs-cv.atom", lambda r: r.status_code == 200 and SEED_TITLE in r.content
           and OTHER_TITLE not in r.content)
    settle(server, "/healthz", lambda r: r.json()["status"] != "storage_error"
           and r.json()["feeds"]["cs-cv"]["latest_day"] == "2026-01-28")


def test_a_day_published_into_a_replacement_directory_appears(env, gunicorn, monkeypatch, tmp_path):
    """New days appear: a worker that publishes into the directory now in place is served."""
    live = Path(env["DIGEST_DATA_DIR"])
    make_digest().close()  # an empty store, as a first start leaves it
    server = gunicorn()
    assert server.get("/healthz").json()["feeds"]["cs-cv"]["latest_day"] is None
    fresh = tmp_path / "fresh-var"
    publish_into(fresh, monkeypatch)
    shutil.rmtree(live)
    fresh.rename(live)
    settle(server, "/healthz", lambda r: r.json()["feeds"]["cs-cv"]["latest_day"] == "2026-01-28")
    settle(server, "/feeds/cs-cv/2026-01-28", lambda r: r.status_code == 200 and SEED_TITLE in r.content)


def test_the_store_reopens_a_replaced_directory_and_refuses_a_gone_one(digest, tmp_path):
    """In process: the same checks without gunicorn, and a refresh into a gone directory fails
    with a clear result instead of writing into a deleted database."""
    from service.store import IDENTITY_CHECK, Store, StoreGone

    store = digest.store
    before = store.identity
    live = Path(store.data_dir)
    shutil.rmtree(live)
    with pytest.raises(StoreGone, match="is gone"):
        store.check(force=True)
    result = digest.refresh("cs-cv")
    assert result.outcome == "failed" and "is gone" in result.message, result.message
    assert not live.exists()
    live.mkdir()  # an empty directory (an unmounted volume's mount point, say) is not a store
    time.sleep(IDENTITY_CHECK)
    assert "is gone" in digest.refresh("cs-cv").message
    assert [p.name for p in live.iterdir()] == []
    Store(live).close()  # a store made there on purpose (a process starting): used from now on
    time.sleep(IDENTITY_CHECK)
    assert digest.refresh("cs-cv").outcome == "published"
    assert store.identity != before and store.day_dates("cs-cv")


# --- 13 (the clock): the recorded listings are dated January 2026 and the tests must pass in 2031 ----
def test_the_listing_date_window_is_centred_on_the_configured_day_not_the_clock(env, monkeypatch):
    """The tests replay the recorded day with DIGEST_LISTING_TODAY pinned (conftest.py); this
    shows the setting is what the window uses: five years on, the same listing is refused."""
    assert make_digest().settings.listing_today.isoformat() == env["DIGEST_LISTING_TODAY"] == "2026-02-01"
    monkeypatch.setenv("DIGEST_LISTING_TODAY", "2031-06-01")
    d = make_digest()
    result = d.refresh("cs-cv")
    d.close()
    assert result.outcome == "failed" and "outside the plausible window" in result.message, result.message
    assert "2026-05-28 to 2031-06-03" in result.message


@pytest.mark.parametrize("value", ["2026-1-28", "20260128", "tomorrow", "2026-02-30"])
def test_a_listing_day_that_is_not_a_date_is_a_config_error(value):
    from service.errors import ConfigError
    from service.settings import load_settings

    with pytest.raises(ConfigError, match="DIGEST_LISTING_TODAY"):
        load_settings({"DIGEST_LISTING_TODAY": value})


# --- upstream bodies: endless, huge, trickling, paging forever ----------------------------------
class Hostile:
    """A loopback arXiv that misbehaves on the wire: `mode` is "endless" (a body that never
    ends, no Content-Length), "trickle" (a byte every 50 ms, forever), "huge" (declares a
    Content-Length of 100 GB) or "pages" (an API search that pages forever)."""

    def __init__(self, mode: str):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.mode, self.stop = mode, threading.Event()
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def do_GET(self):
                try:
                    hostile.answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, h) -> None:
        if self.mode == "pages":
            body = _endless_page()
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/atom+xml")
        if self.mode == "huge":
            h.send_header("Content-Length", str(100 * 2**30))
        h.end_headers()
        h.wfile.write(b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'>")
        block = b"<!-- " + b"x" * 65536 + b" -->"
        while not self.stop.is_set():
            if self.mode == "trickle":
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.05)
            else:
                h.wfile.write(block)

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def _endless_page() -> bytes:
    """An API page of one real entry whose totalResults says a billion."""
    from lxml import etree

    from .stubs import ATOM, FIXTURES

    root = etree.fromstring((FIXTURES / "arxiv/api-id_list-2026-01-28.xml").read_bytes())
    for entry in root.findall(f"{{{ATOM}}}entry")[1:]:
        root.remove(entry)
    root.find("{http://a9.com/-/spec/opensearch/1.1/}totalResults").text = "1000000000"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def hostile():
    made: list[Hostile] = []

    def make(mode: str) -> Hostile:
        made.append(Hostile(mode))
        return made[-1]
    yield make
    for h in made:
        h.close()


def _upstream(env: dict, hostile_url: str, timeout: str = "0.5"):
    from service.settings import load_settings
    from service.upstream import ArxivHTTP

    return ArxivHTTP(load_settings({**env, "DIGEST_ARXIV_API_URL": f"{hostile_url}/api/query",
                                    "DIGEST_ARXIV_LISTING_URL": f"{hostile_url}/rss/",
                                    "DIGEST_ARXIV_TIMEOUT": timeout}))


@pytest.mark.parametrize("mode", ["endless", "huge"])
def test_an_api_answer_past_the_size_cap_is_cut_with_a_clear_upstream_error(env, hostile, mode):
    from service.errors import UpstreamError
    from service.metadata import MAX_API_BYTES

    arxiv = _upstream(env, hostile(mode).url, timeout="30")
    started = time.monotonic()
    with pytest.raises(UpstreamError, match=f"arXiv API answer is larger than {MAX_API_BYTES} bytes"):
        arxiv.papers(["2601.19887v1"])
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("what", ["api", "listing", "search"])
def test_an_upstream_trickling_a_byte_at_a_time_is_given_up_at_the_transfer_deadline(env, hostile, what):
    """The read timeout (0.5 s here) never trips on a byte every 50 ms; the whole-body deadline
    (4 read timeouts) does, and the refresh gets a clear UpstreamError instead of hanging."""
    from service.errors import UpstreamError

    arxiv = _upstream(env, hostile("trickle").url)
    started = time.monotonic()
    with pytest.raises(UpstreamError, match="did not arrive within 2 s"):
        if what == "api":
            arxiv.papers(["2601.19887v1"])
        elif what == "listing":
            arxiv.listing(("cs.CV",))
        else:
            arxiv.submitted(("cs.CV",), dt.datetime(2026, 1, 26, tzinfo=dt.timezone.utc),
                            dt.datetime(2026, 1, 27, tzinfo=dt.timezone.utc))
    assert time.monotonic() - started < 10


def test_a_refresh_against_a_trickling_listing_fails_in_bounded_time(env, hostile, monkeypatch):
    h = hostile("trickle")
    monkeypatch.setenv("DIGEST_ARXIV_LISTING_URL", f"{h.url}/rss/")
    monkeypatch.setenv("DIGEST_ARXIV_TIMEOUT", "0.5")
    d = make_digest()
    started = time.monotonic()
    result = d.refresh("cs-cv")
    d.close()
    assert result.outcome == "failed" and "did not arrive within 2 s" in result.message, result.message
    assert time.monotonic() - started < 10


def test_an_api_search_paging_forever_is_refused(env, hostile):
    from service import metadata
    from service.errors import UpstreamError

    arxiv = _upstream(env, hostile("pages").url, timeout="30")
    with pytest.raises(UpstreamError, match="30 papers or more for one day"):  # 30 pages, not 10,000
        metadata.search_window(arxiv.client, ("cs.CV",), dt.datetime(2026, 1, 26, tzinfo=dt.timezone.utc),
                               dt.datetime(2026, 1, 27, tzinfo=dt.timezone.utc), limit=30)


# --- a corrupt database: the published days are kept as files and recovered byte for byte -----
def _corrupt(data_dir: Path) -> None:
    db = data_dir / "cache" / "cache.db"
    with open(db, "r+b") as f:  # garbage over the file in place (same inode: nothing to notice there)
        f.write(b"\xde\xad\xbe\xef garbage " * (db.stat().st_size // 16 + 1))
    for name in ("cache.db-wal", "cache.db-shm"):
        (db.parent / name).unlink(missing_ok=True)


def _published(base: str) -> dict[str, bytes]:
    from service.export_site import documents

    d = make_digest()
    try:
        return {url: doc.body for url, doc in documents(d, base)}
    finally:
        d.close()


def test_a_corrupt_database_loses_nothing_published(env, gunicorn, arxiv_stub, monkeypatch):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("DIGEST_PUBLIC_URL", base)
    live = Path(env["DIGEST_DATA_DIR"])
    publish_into(live, monkeypatch)
    arxiv_stub.listing = arxiv_stub.listing.replace(b"Wed, 28 Jan 2026", b"Thu, 29 Jan 2026")
    publish_into(live, monkeypatch)
    before = _published(base)
    assert "/feeds/cs-cv/2026-01-29" in before and "/papers/2601.19887" in before and len(before) > 40
    copied = sorted(p.relative_to(live / "published") for p in (live / "published").rglob("*") if p.is_file())
    assert Path("days/cs-cv/2026-01-28.day") in copied and Path("site/feeds/cs-cv.atom") in copied

    environ = {**os.environ, "DIGEST_PUBLIC_URL": base}
    server = Gunicorn(environ, port)
    try:
        assert server.get("/feeds/cs-cv.atom").content == before["/feeds/cs-cv.atom"]
        _corrupt(live)
        # the running server may still read pages it holds (SQLite's cache, the open WAL):
        # it answers the last good bytes or a JSON 503, never a traceback or an HTML 500
        time.sleep(BOUND)
        for path in ("/feeds/cs-cv.atom", "/papers/2601.19887", "/feeds/cs-cv/2026-01-28.md", "/healthz"):
            resp = server.get(path)
            assert resp.status_code in (200, 503), (path, resp.status_code, resp.content[:200])
            if resp.status_code == 503:
                assert resp.headers["Content-Type"] == "application/json", (path, resp.content[:200])
            elif path in before:
                assert resp.content == before[path], path
    finally:
        server.stop()

    # a restart on the corrupt database: it starts, and every answer is a JSON 503 saying why
    _corrupt(live)  # again: the stopping workers' last connections checkpoint their open WAL into the file
    server = Gunicorn(environ, port)
    try:
        for path in ("/feeds/cs-cv.atom", "/feeds/cs-cv/2026-01-28", "/papers/2601.19887", "/"):
            resp = server.get(path)
            assert resp.status_code == 503 and resp.headers["Content-Type"] == "application/json", path
            assert resp.json()["error"]["code"] == "storage" and "arxiv-digest recover" in resp.json()["error"]["message"]
        health = server.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "storage_error"
        assert health.json()["published_copy"]["days"] == 2
        assert "arxiv-digest recover" in health.json()["published_copy"]["recover"]

        proc = subprocess.run([sys.executable, "-m", "service.cli", "recover"], cwd=ROOT, env=dict(os.environ),
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "restored 2 published day(s)" in proc.stdout and "moved to" in proc.stdout
        assert "checked" in proc.stdout  # the copied document files were compared with the rebuilt store
        assert list(live.glob("cache.unreadable-*"))  # kept for a post-mortem, not deleted

        # the running server opens the rebuilt store (a new database file) by itself
        settle(server, "/feeds/cs-cv.atom", lambda r: r.status_code == 200)
        for url, body in before.items():
            resp = server.get(url)
            assert resp.status_code == 200 and resp.content == body, url
    finally:
        server.stop()
    assert _published(base) == before


def test_recover_on_a_healthy_store_changes_nothing_and_says_so(env, monkeypatch, capsys):
    from service.cli import main

    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://digest.example")
    publish_into(Path(env["DIGEST_DATA_DIR"]), monkeypatch)
    before = _published("https://digest.example")
    assert main(["recover"]) == 0
    out = capsys.readouterr().out
    assert "restored 0 published day(s), 1 already in the store" in out and "moved" not in out
    assert _published("https://digest.example") == before


def test_recover_skips_a_damaged_copy_and_restores_the_others(env, arxiv_stub, monkeypatch, capsys):
    from service.cli import main

    live = Path(env["DIGEST_DATA_DIR"])
    publish_into(live, monkeypatch)
    arxiv_stub.listing = arxiv_stub.listing.replace(b"Wed, 28 Jan 2026", b"Thu, 29 Jan 2026")
    publish_into(live, monkeypatch)
    (live / "published/days/cs-cv/2026-01-29.day").write_bytes(b"\x80\x05 truncated")
    _corrupt(live)
    assert main(["recover"]) == 1  # not everything came back: it says so
    captured = capsys.readouterr()
    assert "restored 1 published day(s)" in captured.out and "2026-01-29.day: unreadable" in captured.err
    d = make_digest()
    assert d.day_dates("cs-cv") == [dt.date(2026, 1, 28)]
    d.close()


def test_a_publication_whose_copy_cannot_be_written_is_still_published(env, monkeypatch, caplog):
    """The copy is a second line of defence: a full disk there is logged, the day is served."""
    live = Path(env["DIGEST_DATA_DIR"])
    make_digest().close()
    (live / "published").write_text("a file where the copy's directory goes")
    d = make_digest()
    assert d.refresh("cs-cv").outcome == "published"
    assert d.day_dates("cs-cv") and "could not be written" in caplog.text
    d.close()


# --- found in the adversarial pass --------------------------------------------------------------
@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("header, gz", [("gzip;q=0", False), ("identity, gzip;q=0.0", False),
                                        ("gzip; q=0.000, br", False), ("GZIP;Q=0", False),
                                        ("gzip;q=0.5", True), ("deflate, gzip", True), ("gzip;level=9", True), ("identity", False),
                                        ("", False), ("gzip;q=garbage", False)])
def test_gzip_refused_with_q_zero_is_not_sent(digest, header, gz, fast):
    """RFC 9110 §12.5.3: `gzip;q=0` means "not gzip"; a substring test sent it anyway, to a
    client that then cannot read the body. Both the fast path and Flask decide alike."""
    from service.web import create_app

    digest.refresh("cs-cv")
    client = create_app(digest_obj=digest, fast=fast).test_client()
    resp = client.get("/feeds/cs-cv.atom", headers={"Accept-Encoding": header})
    assert resp.status_code == 200
    assert (resp.headers.get("Content-Encoding") == "gzip") is gz
    assert resp.data.startswith(b"\x1f\x8b") is gz


@pytest.mark.parametrize("path", ["/papers/２６０１.１９８８７", "/api/v1/papers/２６０１.１９８８７",
                                  "/papers/2601.１9887v1", "/papers/math/０５01001"])
def test_an_id_in_other_digits_than_ascii_is_not_an_arxiv_id(client, path):
    """`\\d` matches every script's digits: fullwidth ２６０１.１９８８７ passed the id grammar
    (in routes and in upstream data, where it is a look-alike of a real id)."""
    from service.untrusted import is_versioned_id

    assert client.get(path).status_code == 400
    assert not is_versioned_id("２６０１.１９８８７", "1") and not is_versioned_id("2601.19887", "１")
    assert is_versioned_id("2601.19887", "1") and is_versioned_id("math/0501001", "2")


class TricklingLLM:
    """A Messages API endpoint that sends a well-formed answer a byte every 50 ms."""

    def __init__(self):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        answer = json.dumps({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
                             "content": [{"type": "text", "text": "x" * 2000}], "stop_reason": "end_turn",
                             "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}).encode()
        stop = self.stop = threading.Event()
        self.calls = 0
        trickling = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                trickling.calls += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                try:
                    for byte in answer:
                        if stop.is_set():
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.05)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def test_an_llm_endpoint_trickling_its_answer_cannot_hold_a_refresh(env, monkeypatch):
    """Each call gets DIGEST_LLM_TIMEOUT for its body too: 11 calls of a 2 kB answer at a byte
    per 50 ms took ~110 s each before; now the refresh ends within seconds, papers pending."""
    llm = TricklingLLM()
    try:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", llm.url)
        monkeypatch.setenv("DIGEST_LLM_TIMEOUT", "1")
        d = make_digest()
        started = time.monotonic()
        result = d.refresh("cs-cv")
        elapsed = time.monotonic() - started
        d.close()
    finally:
        llm.close()
    assert llm.calls >= 10 and elapsed < 40, (llm.calls, elapsed)
    assert result.pending == len(result.papers) == 10, result.message


@pytest.mark.parametrize("damage", ["latin-1", "nested", "fifo", "bom"])
def test_a_feed_spec_that_is_not_utf8_toml_keeps_the_last_good_specs_serving(digest, client, feeds_dir, damage):
    """A Latin-1 byte, 5000 nested arrays or a FIFO named *.toml raised UnicodeDecodeError,
    RecursionError or blocked forever inside the per-request spec check: every request failed
    (or hung) instead of the last good specs serving. A UTF-8 BOM (Windows editors) is fine."""
    digest.refresh("cs-cv")
    spec = feeds_dir / "cs-cv.toml"
    good = spec.read_bytes()
    if damage == "latin-1":
        spec.write_bytes(good + "\n# caf\xe9\n".encode("latin-1"))
    elif damage == "nested":
        spec.write_bytes(good + b"\nx = " + b"[" * 5000 + b"]" * 5000 + b"\n")
    elif damage == "fifo":
        os.mkfifo(feeds_dir / "other.toml")
    else:
        spec.write_bytes(b"\xef\xbb\xbf" + good)
    assert digest.reload_specs(force=True) is False
    assert client.get("/feeds/cs-cv.atom").status_code == 200
    error = client.get("/healthz").json["config_error"]
    if damage == "bom":
        assert error is None
    else:
        assert error and {"latin-1": "UTF-8", "nested": "nested", "fifo": "regular file"}[damage] in error


def test_a_gone_data_dir_while_the_sample_is_shown_is_a_json_503(env, gunicorn):
    """With nothing published the sample feed shows, and the spec check asks the store on every
    request, also in the fast path (outside Flask's error handlers)."""
    live = Path(env["DIGEST_DATA_DIR"])
    make_digest().close()
    server = gunicorn()
    assert server.get("/feeds/sample.atom").status_code == 200
    shutil.rmtree(live)
    time.sleep(2.5)  # past the spec check's interval (pipeline.SPECS_CHECK_INTERVAL) too
    for path in ("/feeds/sample.atom", "/feeds/cs-cv.atom", "/", "/healthz"):
        resp = server.get(path)
        assert resp.status_code == 503 and resp.headers["Content-Type"] == "application/json", \
            (path, resp.status_code, resp.content[:200])


def test_a_retry_after_of_days_is_capped():
    """urllib3 sleeps whatever Retry-After says: a 503 asking for a day held a refresh (and the
    worker) for three days over its retries."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from urllib3 import HTTPResponse

    from service.http import MAX_RETRY_AFTER, ArxivSession, get_limited

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(503)
            self.send_header("Retry-After", "86400")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        session = ArxivSession(0, timeout=(1.0, 1.0), max_retry_after=0.2)
        started = time.monotonic()
        status, _ = get_limited(session, f"http://127.0.0.1:{server.server_address[1]}/rss/cs.CV", 1000)
        assert status == 503 and time.monotonic() - started < 5
    finally:
        server.shutdown()
        server.server_close()
    retry = ArxivSession(3).get_adapter("https://export.arxiv.org/").max_retries
    asked = HTTPResponse(b"", headers={"Retry-After": "86400"}, status=503)
    assert retry.get_retry_after(asked) == MAX_RETRY_AFTER == 60
    assert retry.new(total=1).get_retry_after(asked) == 60  # urllib3's copies keep the cap


def test_the_worker_keeps_retrying_while_the_data_dir_is_gone(digest):
    """The announcement job asked the store whether each feed was done; with the directory gone
    that raised, the job ended without scheduling a retry, and the day waited a whole day."""
    from service.worker import Worker

    class Scheduled(list):
        def add_job(self, func, trigger, run_date, args, id, replace_existing):
            self.append((id, run_date))

    shutil.rmtree(digest.store.data_dir)
    worker = Worker(digest, clock=lambda: dt.datetime(2026, 1, 28, 1, 45, tzinfo=dt.timezone.utc))
    worker.scheduler = Scheduled()
    worker.announcement()
    assert [job for job, _ in worker.scheduler] == ["retry-1"]


def test_a_405_says_which_methods_are_allowed(client):
    """RFC 9110 §15.5.6: a 405 must carry Allow; the JSON error handler dropped werkzeug's."""
    resp = client.put("/feeds/cs-cv.atom")
    assert resp.status_code == 405 and resp.json["error"]["code"] == "method_not_allowed"
    assert {"GET", "HEAD"} <= {m.strip() for m in resp.headers["Allow"].split(",")}


def test_the_cli_on_a_corrupt_database_says_how_to_recover(env, monkeypatch):
    from service.errors import ConfigError
    from service.store import Store

    live = Path(env["DIGEST_DATA_DIR"])
    publish_into(live, monkeypatch)
    _corrupt(live)
    with pytest.raises(ConfigError, match="arxiv-digest recover"):
        Store(live)  # a refresh must not run on it; the web app (read_only_fallback) starts and answers 503
    broken = Store(live, read_only_fallback=True)
    with pytest.raises(sqlite3.Error, match="cannot be opened"):
        broken.day_dates("cs-cv")
    broken.close()


# --- upstream redirects stay on arXiv's hosts ----------------------------------------------

class Internal:
    """A loopback server standing for an internal service (a cloud metadata endpoint, an
    admin page) that a hostile upstream redirect points at; it records every request."""

    SECRET = "INTERNAL-ONLY secret token 5f3e9a"

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                seen.append(self.path)
                body = f"<html><body><article><p>{Internal.SECRET}</p></article></body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_redirect_off_arxivs_hosts_is_not_followed(env, arxiv_stub, llm_stub):
    """A hostile (or hijacked) upstream answering 302 to another host must not make the
    refresh fetch it: the body could be an internal service's, and it would reach the LLM and
    the feed. The configured hosts are 127.0.0.1; `localhost` is another host name."""
    internal = Internal()
    try:
        off_site = {"status": 302, "headers": {"Location": f"http://localhost:{internal.port}/latest/meta-data"}}
        arxiv_stub.faults["/html/"] = [dict(off_site) for _ in range(40)]
        arxiv_stub.faults["/pdf/"] = [dict(off_site) for _ in range(40)]
        d = make_digest()
        try:
            result = d.refresh("cs-cv")
        finally:
            d.close()
        assert result.outcome == "published"
        assert internal.seen == []
        assert not any(Internal.SECRET in str(r) for r in llm_stub.requests)
    finally:
        internal.close()


def test_a_redirect_within_arxivs_hosts_is_followed(env, arxiv_stub, llm_stub):
    """arXiv's own redirects (an unversioned page to its versioned one) keep working."""
    from .conftest import HTML_PAPER

    base = HTML_PAPER.rsplit("v", 1)[0]
    arxiv_stub.faults[f"/html/{HTML_PAPER}"] = [{"status": 301, "headers": {"Location": f"/html/{base}-moved"}}]
    arxiv_stub.faults[f"/html/{base}-moved"] = [{"status": 302, "headers": {
        "Location": f"{arxiv_stub.url}/html/{HTML_PAPER}"}}]
    d = make_digest()
    try:
        d.refresh("cs-cv")
        entry = next(e for e in d.day("cs-cv", d.store.day_dates("cs-cv")[0]).entries
                     if e.paper.versioned_id == HTML_PAPER)
    finally:
        d.close()
    assert f"/html/{base}-moved" in arxiv_stub.paths("/html/")
    assert entry.source.is_full_text
