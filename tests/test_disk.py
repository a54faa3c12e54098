"""Disk full mid-refresh: a clear error, and the day already published is not damaged."""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from service.pipeline import make_digest
from service.web import create_app

from .stubs import FIXTURES


def _limit_file_size(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_disk_full_mid_refresh_fails_clearly_and_keeps_the_published_day(env, arxiv_stub, llm_stub):
    d = make_digest()
    assert d.refresh("cs-cv").outcome == "published"
    client = create_app(digest_obj=d).test_client()
    before = client.get("/feeds/cs-cv.atom").data
    d.store.close()

    # the next evening's listing, refreshed by a process that may not grow any file
    listing = (FIXTURES / "arxiv/listing-cs.CV-2026-01-28.xml").read_text().replace("Wed, 28 Jan 2026", "Thu, 29 Jan 2026")
    arxiv_stub.listing = listing.encode()
    data = Path(env["DIGEST_DATA_DIR"])
    largest = max(p.stat().st_size for p in data.rglob("*") if p.is_file())
    # with a public URL the feeds are rendered at publish time: large writes inside the transaction
    child_env = dict(os.environ, DIGEST_PUBLIC_URL="http://digest.test")
    proc = subprocess.run([sys.executable, "-m", "service.cli", "refresh", "--force"], env=child_env,
                          capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size(largest + 128 * 1024))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    # it failed while publishing (not at start-up), with a message naming the feed and the cause
    assert "cs-cv: cannot write to" in proc.stderr, proc.stderr

    d = make_digest()
    client = create_app(digest_obj=d).test_client()
    assert d.store.day_dates("cs-cv")[0].isoformat() == "2026-01-28"
    assert client.get("/feeds/cs-cv.atom").data == before
    d.store.close()
