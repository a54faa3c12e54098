"""The worker and backfill as a user runs them: a start-up line at once, a clean stop,
no endless retries when arXiv is unreachable, no future dates."""
from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from service.cli import main
from service.models import Outcome

from .conftest import ROOT


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_worker(env: dict) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()
    return proc, first


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_worker_says_what_it_will_do_and_stops_cleanly_even_offline(env, sig):
    offline = dict(os.environ, DIGEST_ARXIV_LISTING_URL=f"http://127.0.0.1:{_closed_port()}/rss/",
                   DIGEST_ARXIV_API_URL=f"http://127.0.0.1:{_closed_port()}/api/query")
    started = time.monotonic()
    proc, first = _start_worker(offline)
    try:
        assert first.startswith("worker: feeds cs-cv; next announcement "), first
        assert "catch up: cs-cv:" in first
        assert time.monotonic() - started < 30  # the line comes before any network work
        time.sleep(1.0)  # let the catch-up job start (and fail against the closed ports)
        proc.send_signal(sig)
        rest = proc.communicate(timeout=30)[1]
    finally:
        proc.kill()
    assert proc.returncode == 0, rest
    assert "stopping" in rest and rest.rstrip().endswith("worker: stopped"), rest
    assert "Traceback" not in rest, rest


def test_backfill_refuses_days_not_announced_yet(env, capsys):
    future = dt.date.today() + dt.timedelta(days=30)
    assert main(["backfill", "cs-cv", "--from", "2026-01-26", "--to", future.isoformat()]) == 2
    assert "has not been announced yet" in capsys.readouterr().err


def test_backfill_stops_after_three_failed_days_in_a_row(env, monkeypatch, capsys):
    monkeypatch.setenv("DIGEST_ARXIV_API_URL", f"http://127.0.0.1:{_closed_port()}/api/query")
    from service.pipeline import make_digest

    d = make_digest()
    results = d.backfill("cs-cv", dt.date(2026, 1, 5), dt.date(2026, 1, 23))  # 15 announcement days
    assert [r.outcome for r in results] == [Outcome.FAILED] * 4
    assert "stopped after 3 failed days in a row" in results[-1].message
    d.close()
