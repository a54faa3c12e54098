"""A refresh killed half-way resumes without paying again, and no half day is ever served."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from service.models import EntryStatus
from service.pipeline import make_digest
from service.web import create_app

ORDER = ["2601.19898v1", "2601.19887v1", "2601.19884v1", "2601.19850v1", "2601.19849v1",
         "2601.19821v1", "2601.19798v1", "2601.19785v1", "2601.19753v1", "2601.19750v1"]


def test_sigkill_mid_refresh_then_resume(env, llm_stub, monkeypatch):
    monkeypatch.setenv("DIGEST_LLM_CONCURRENCY", "1")  # one call at a time: a precise kill point
    llm_stub.script[ORDER[5]] = ["hang"]
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "refresh", "cs-cv"],
                            env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert llm_stub.hanging.wait(60), proc.stderr.read1().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        llm_stub.release.set()
    paid_before = [c["key"] for c in llm_stub.calls]
    assert paid_before == ["summary"] + ORDER[:6]

    d = make_digest()
    client = create_app(digest_obj=d).test_client()
    assert d.store.day_dates("cs-cv") == []  # nothing half-written was published
    assert b"<entry>" not in client.get("/feeds/cs-cv.atom").data  # an empty feed, no half day

    llm_stub.calls.clear()
    result = d.refresh("cs-cv")
    # the five finished analyses and the summary are not paid again
    assert [c["key"] for c in llm_stub.calls] == ORDER[5:]
    assert [p.status for p in result.papers] == [EntryStatus.ANALYSED] * 10
    assert client.get("/feeds/cs-cv.atom").status_code == 200
    d.store.close()


def test_a_killed_run_shows_in_healthz_until_the_next_refresh(env, arxiv_stub, llm_stub):
    """kill -9 mid-refresh: /healthz says so (the run never recorded an end); the next
    refresh resumes and clears it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    llm_stub.script["2601.19898v1"] = ["hang"]
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "refresh", "cs-cv"], env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert llm_stub.hanging.wait(60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    llm_stub.release.set()
    time.sleep(0.2)
    client = create_app(digest_obj=(d := make_digest())).test_client()
    health = client.get("/healthz").json["feeds"]["cs-cv"]
    assert "killed_run" in health and health["killed_run"]["started"]
    assert d.refresh("cs-cv").outcome == "published"
    assert "killed_run" not in client.get("/healthz").json["feeds"]["cs-cv"]
    d.close()
