"""Money under concurrency: shared papers, repeated ids, budgets with calls in flight."""
from __future__ import annotations

import shutil
import threading

from service.models import EntryStatus, Outcome
from service.pipeline import make_digest

PAPERS = 10


def test_two_feeds_sharing_papers_refreshed_at_once_pay_each_paper_once(env, feeds_dir, llm_stub):
    shutil.copy(feeds_dir / "cs-cv.toml", feeds_dir / "cs-cv-twin.toml")
    digests = {name: make_digest() for name in ("cs-cv", "cs-cv-twin")}
    results, start = {}, threading.Barrier(2)

    def run(name):
        start.wait()
        results[name] = digests[name].refresh(name)

    threads = [threading.Thread(target=run, args=(n,)) for n in digests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(r.outcome is Outcome.PUBLISHED and r.count(EntryStatus.ANALYSED) == PAPERS for r in results.values())
    paper_calls = [c["key"] for c in llm_stub.calls if c["key"] != "summary"]
    assert len(paper_calls) == PAPERS and len(set(paper_calls)) == PAPERS  # each paper once, not twice
    assert len(llm_stub.calls_for("summary")) == 2  # each feed has its own summary
    assert sum(r.llm_calls for r in results.values()) == PAPERS + 2
    for d in digests.values():
        d.close()
