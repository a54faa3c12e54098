"""A read-only data directory (a read-only mount, say): the web app boots and serves what is
stored; writes fail like a full disk and are only logged."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from service.pipeline import make_digest
from service.store import Store
from service.web import create_app


@pytest.fixture
def read_only_data(env, tmp_path):
    """The published seed day, then the data directory bind-mounted read-only (root only)."""
    d = make_digest()
    assert d.refresh("cs-cv").outcome == "published"
    d.close()
    source, mounted = Path(env["DIGEST_DATA_DIR"]), tmp_path / "ro"
    mounted.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "--bind", str(source), str(mounted)]).returncode != 0:
        pytest.skip("needs root to bind-mount a read-only directory")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(mounted)], check=True)
        yield mounted
    finally:
        subprocess.run(["umount", "-l", str(mounted)], check=False)  # lazy: open handles may remain


def test_the_web_app_serves_a_read_only_data_dir(read_only_data, monkeypatch):
    with pytest.raises(OSError):
        (read_only_data / "probe").write_text("x")  # really read-only
    monkeypatch.setenv("DIGEST_DATA_DIR", str(read_only_data))
    app = create_app(fallback=True)  # as wsgi.py builds it
    client = app.test_client()
    assert app.extensions["digest"].store.read_only
    for path in ("/", "/feeds/cs-cv.atom", "/feeds/cs-cv/2026-01-28", "/api/v1/feeds/cs-cv/days/2026-01-28",
                 "/api/v1/papers/2601.19887", "/feeds/cs-cv.rss?author=Carlone"):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.data[:200])
    assert b"VGGT-SLAM 2.0" in client.get("/feeds/cs-cv.atom").data
    assert client.get("/healthz").json["feeds"]["cs-cv"]["latest_day"] == "2026-01-28"


def test_the_cli_does_not_fall_back_to_read_only(read_only_data, monkeypatch):
    """A refresh must write: without the web app's fallback a read-only store is an error."""
    from service.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot use data directory"):
        Store(read_only_data)
