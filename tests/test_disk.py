"""Disk full mid-refresh: a clear error, and the day already published is not damaged."""
from __future__ import annotations

import os
import subprocess
import sys

from service.pipeline import make_digest
from service.web import create_app

from .stubs import FIXTURES


REFRESH_ON_A_FILLING_DISK = """
import resource, signal, sys
from service.pipeline import make_digest
d = make_digest()                                   # the store opens while there is room
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
result = d.refresh("cs-cv", force=True)
print(result.outcome.value, result.message)
sys.exit(0 if result.ok else 1)
"""


def test_disk_full_mid_refresh_fails_clearly_and_keeps_the_published_day(env, arxiv_stub, llm_stub):
    d = make_digest()
    assert d.refresh("cs-cv").outcome == "published"
    client = create_app(digest_obj=d).test_client()
    before = client.get("/feeds/cs-cv.atom").data
    d.store.close()

    # the next evening's listing, refreshed by a process whose disk fills up once the store is
    # open: no file may be written past 16 kB (far less than what one publication writes)
    listing = (FIXTURES / "arxiv/listing-cs.CV-2026-01-28.xml").read_text().replace("Wed, 28 Jan 2026", "Thu, 29 Jan 2026")
    arxiv_stub.listing = listing.encode()
    # with a public URL the feeds are rendered at publish time: large writes inside the transaction
    child_env = dict(os.environ, DIGEST_PUBLIC_URL="http://digest.test")
    proc = subprocess.run([sys.executable, "-c", REFRESH_ON_A_FILLING_DISK, str(16 * 1024)], env=child_env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    # a failed result naming the feed and the cause, not a crash
    assert proc.stdout.startswith("failed cs-cv: cannot write to"), proc.stdout

    d = make_digest()
    client = create_app(digest_obj=d).test_client()
    assert d.store.day_dates("cs-cv")[0].isoformat() == "2026-01-28"
    assert client.get("/feeds/cs-cv.atom").data == before
    d.store.close()
