"""A hostile world around a running service: its data directory deleted or replaced while it
serves, a corrupt database, arXiv answering endless or trickling bodies, the calendar moving on.

The serving tests run the product as `make run` runs it (gunicorn, two workers) and change the
data directory with real renames and deletions between requests."""
from __future__ import annotations

import os
import shutil
import socket
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
    def __init__(self, env: dict):
        self.port = free_port()
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


# --- 13 (the clock): the recorded listing is dated 2026-01-28 and the tests must pass in 2031 ------
def test_the_listing_date_window_is_centred_on_the_configured_day_not_the_clock(env, monkeypatch):
    """The tests replay the recorded day with DIGEST_LISTING_TODAY pinned (conftest.py); this
    shows the setting is what the window uses: five years on, the same listing is refused."""
    assert make_digest().settings.listing_today.isoformat() == env["DIGEST_LISTING_TODAY"] == "2026-01-28"
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
