"""Message Batches through the real `anthropic` SDK against the loopback Batches API:
a `batch = true` feed sends its day's analyses as one batch (intent first, id at once),
later refreshes collect the results through the gate, failures stay pending, nothing is
ever submitted twice, and a refresh killed with SIGKILL between submit and results is
resumed by the next one without a second create."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import feedparser
import pytest

from service.budget import batch_factor, cost_usd, listed_price
from service.config import parse_feed_spec
from service.errors import ConfigError
from service.models import EntryStatus
from service.pipeline import make_digest

from .conftest import ROOT, SEED_PAPERS
from .pdfs import sonic_pdf

PAPERS = 10


def _batch_feed(feeds_dir, name: str = "cs-cv", extra: str = "") -> None:
    text = (ROOT / "feeds" / "cs-cv.toml").read_text("utf-8") + "\nbatch = true\n" + extra
    (feeds_dir / f"{name}.toml").write_text(text, "utf-8")


def _analysis_requests(stub) -> list[dict]:
    return [c for c in stub.calls if c["key"] != "summary"]


def _statuses(d, feed: str = "cs-cv") -> list[EntryStatus]:
    day = d.day(feed, d.store.day_dates(feed)[0])
    return [e.status for e in day.entries]


def test_batch_needs_the_anthropic_provider():
    base = {"title": "T", "categories": ["cs.CV"], "batch": True}
    assert parse_feed_spec(ROOT / "feeds/t.toml", base).batch is True
    with pytest.raises(ConfigError, match="batch.*need provider"):
        parse_feed_spec(ROOT / "feeds/t.toml", {**base, "provider": "openai", "model": "gpt-4o-mini"})


def test_a_batch_feed_publishes_its_day_as_results_arrive(env, feeds_dir, llm_stub):
    _batch_feed(feeds_dir)
    d = make_digest()
    try:
        first = d.refresh("cs-cv")
        # one create with every analysis; the summary (one call a day) stays synchronous
        assert len(llm_stub.creates) == 1 and len(llm_stub.creates[0]["custom_ids"]) == PAPERS
        assert _analysis_requests(llm_stub) == [] and [c["key"] for c in llm_stub.calls] == ["summary"]
        assert [p.status for p in first.papers] == [EntryStatus.PENDING] * PAPERS
        assert all(p.reasons[0].code == "batch" and "msgbatch_stub0001" in p.reasons[0].detail
                   for p in first.papers)
        reserved = d.budget.spent("cs-cv")

        again = d.refresh("cs-cv")  # still in progress: nothing new sent, still pending
        assert len(llm_stub.creates) == 1 and [p.status for p in again.papers] == [EntryStatus.PENDING] * PAPERS

        llm_stub.end_batch()
        done = d.refresh("cs-cv")
        assert [p.status for p in done.papers] == [EntryStatus.ANALYSED] * PAPERS
        assert _statuses(d) == [EntryStatus.ANALYSED] * PAPERS
        assert len(llm_stub.creates) == 1
        # billed at the batch price from the results' usage; the reservation settled
        calls = [c for c in d.call_log() if c["what"].startswith("analysis")]
        assert len(calls) == PAPERS and all("(batch msgbatch_stub0001)" in c["what"] for c in calls)
        price = listed_price("claude-haiku-4-5")
        for c in calls:
            full = cost_usd(price, c["input_tokens"], c["output_tokens"], c["cache_write_tokens"],
                            c["cache_read_tokens"])
            assert c["cost_usd"] == pytest.approx(full * batch_factor(), abs=2e-6) and batch_factor() == 0.5
        summary_usd = sum(c["cost_usd"] for c in d.call_log() if c["what"].startswith("summary"))
        assert reserved > sum(c["cost_usd"] for c in calls)  # the reservation was an upper bound
        assert d.budget.spent("cs-cv") == pytest.approx(sum(c["cost_usd"] for c in calls) + summary_usd, abs=1e-5)
        # the batch's requests cache the shared prefix too: the 2nd+ of each framework read it
        reads = [c["cache_read_tokens"] for c in calls]
        assert sum(r > 0 for r in reads) >= PAPERS - 2, reads
        llm_stub.calls.clear()
        assert d.refresh("cs-cv").outcome.value == "stale" and llm_stub.calls == []
    finally:
        d.close()


def test_results_pass_the_gate_and_failures_stay_pending_for_the_next_batch(env, feeds_dir, llm_stub):
    _batch_feed(feeds_dir)
    ids = [f"{p['id']}v{p['version']}" for p in SEED_PAPERS]
    llm_stub.script[ids[0]] = ["refusal"]  # answered, but garbage: gated, never cached
    llm_stub.script[ids[1]] = ["wrong_shape"]  # the tool's schema broken
    llm_stub.batch_outcome.update({ids[2]: "errored", ids[3]: "expired", ids[4]: "canceled"})
    d = make_digest()
    try:
        d.refresh("cs-cv")
        llm_stub.end_batch()
        result = d.refresh("cs-cv")
        status = {p.versioned_id: p.status for p in result.papers}
        assert [status[i] for i in ids[:5]] == [EntryStatus.PENDING] * 5
        assert all(status[i] is EntryStatus.ANALYSED for i in ids[5:])
        # the second refresh collected the first batch and sent the five again, in one new batch
        assert len(llm_stub.creates) == 2
        second = llm_stub.batches[llm_stub.creates[1]["id"]]["requests"]
        assert sorted(r["params"]["messages"][0]["content"].split('<paper id="')[1].split('"')[0]
                      for r in second) == sorted(ids[:5])
        # the rejected ones carry the retry note naming what was wrong; the others do not
        notes = {r["params"]["messages"][0]["content"].split('<paper id="')[1].split('"')[0]:
                 "could not be published" in r["params"]["messages"][0]["content"] for r in second}
        assert notes == {ids[0]: True, ids[1]: True, ids[2]: True, ids[3]: False, ids[4]: False}
        rejects = {r["key"].split(":")[2]: r["reasons"] for r in d.store.rejects}
        assert any(x.startswith("refusal") or x.startswith("no_structure") for x in rejects[ids[0]])
        assert any(x.startswith("schema") for x in rejects[ids[1]])
        assert d.store.get_attempts(next(k for k in _keys(d) if ids[3] in k)) is None  # expiry is no failure
        llm_stub.batch_outcome.clear()
        llm_stub.end_batch()
        assert [p.status for p in d.refresh("cs-cv").papers] == [EntryStatus.ANALYSED] * PAPERS
        assert len(llm_stub.creates) == 2
    finally:
        d.close()


def _keys(d) -> list[str]:
    return [r.key for rec in d.store.open_batches() for r in rec.items]


def test_a_key_in_an_open_batch_is_never_sent_again_by_another_feed(env, feeds_dir, llm_stub):
    """Two batch feeds with the same papers, model, language and prompt share analysis
    keys; a synchronous feed too. Only the first batch carries them."""
    _batch_feed(feeds_dir)
    _batch_feed(feeds_dir, "cs-cv-twin")
    sync = feeds_dir / "cs-cv-sync.toml"
    sync.write_text((ROOT / "feeds" / "cs-cv.toml").read_text("utf-8"), "utf-8")
    d = make_digest()
    try:
        d.refresh("cs-cv")
        twin = d.refresh("cs-cv-twin")
        plain = d.refresh("cs-cv-sync")
        assert len(llm_stub.creates) == 1
        assert _analysis_requests(llm_stub) == []  # the synchronous feed waits for the batch
        for r in (twin, plain):
            assert {p.status for p in r.papers} == {EntryStatus.PENDING}
            assert all(p.reasons[0].code == "batch" for p in r.papers)
        llm_stub.end_batch()
        assert {p.status for p in d.refresh("cs-cv").papers} == {EntryStatus.ANALYSED}
        # collecting it republished the other feeds' days that waited on it, from the cache
        for feed in ("cs-cv-twin", "cs-cv-sync"):
            assert set(_statuses(d, feed)) == {EntryStatus.ANALYSED}
            assert d.refresh(feed).outcome.value == "stale"
        # every analysis was answered in the batch: none was ever sent synchronously
        assert len(llm_stub.creates) == 1 and len(_analysis_requests(llm_stub)) == PAPERS
        assert all(c["batched"] for c in _analysis_requests(llm_stub))
    finally:
        d.close()


def test_an_intent_whose_create_failed_is_submitted_by_the_next_run(env, feeds_dir, llm_stub):
    _batch_feed(feeds_dir)
    llm_stub.faults["/v1/messages/batches"] = [{"status": 500, "body": b'{"type":"error","error":'
                                                b'{"type":"api_error","message":"down"}}'}]
    d = make_digest()
    try:
        first = d.refresh("cs-cv")
        assert llm_stub.creates == [] and {p.status for p in first.papers} == {EntryStatus.PENDING}
        [intent] = d.store.open_batches("cs-cv")
        assert intent.batch_id is None and len(intent.items) == PAPERS
        d.refresh("cs-cv")
        assert len(llm_stub.creates) == 1  # nothing was listed: the intent was sent now, once
        assert llm_stub.creates[0]["custom_ids"] == [i.custom_id for i in intent.items]
        assert len(d.store.open_batches("cs-cv")) == 1
    finally:
        d.close()


def _refresh_process(env_vars: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "service.cli", "refresh", "cs-cv"], cwd=ROOT,
                            env=dict(os.environ, **env_vars), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("create_delay", [3.0, 0.0], ids=["before-the-id-is-stored", "right-after-the-create"])
def test_kill_9_between_submit_and_results_never_submits_twice(env, feeds_dir, llm_stub, create_delay):
    """A real refresh process is SIGKILLed once the stub has logged its create (while the
    create is still unanswered, or just answered); the next run finds the batch and the
    stub sees exactly one create for those requests."""
    _batch_feed(feeds_dir)
    llm_stub.create_delay = create_delay
    proc = _refresh_process(env)
    try:
        _wait_for(lambda: llm_stub.creates)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    llm_stub.create_delay = 0.0
    [created] = llm_stub.creates
    d = make_digest()
    try:
        resumed = d.refresh("cs-cv")
        assert len(llm_stub.creates) == 1
        assert {p.status for p in resumed.papers} == {EntryStatus.PENDING}
        [record] = d.store.open_batches("cs-cv")
        assert record.batch_id == created["id"] and [i.custom_id for i in record.items] == created["custom_ids"]
        llm_stub.end_batch()
        assert [p.status for p in d.refresh("cs-cv").papers] == [EntryStatus.ANALYSED] * PAPERS
        assert len(llm_stub.creates) == 1
    finally:
        d.close()


def test_every_paper_with_full_text_shares_one_cached_prefix_in_the_batch(env, feeds_dir, arxiv_stub, llm_stub):
    arxiv_stub.html.clear()
    for p in SEED_PAPERS:
        arxiv_stub.pdf.setdefault(f"{p['id']}v{p['version']}", sonic_pdf(p["abstract"]))
    _batch_feed(feeds_dir)
    d = make_digest()
    try:
        d.refresh("cs-cv")
        llm_stub.end_batch()
        d.refresh("cs-cv")
        calls = [c for c in d.call_log() if c["what"].startswith("analysis")]
        assert [c["cache_read_tokens"] > 0 for c in calls].count(True) == PAPERS - 1
        assert [c["cache_write_tokens"] > 0 for c in calls].count(True) == 1
    finally:
        d.close()


def test_a_batch_collected_the_next_day_is_settled_on_the_day_that_reserved_it(env, feeds_dir, llm_stub,
                                                                               monkeypatch):
    import datetime as dt

    from service import budget as budget_module

    _batch_feed(feeds_dir)
    d = make_digest()
    try:
        d.refresh("cs-cv")
        today = budget_module.utcnow()
        reserved = d.store.spent_micro("cs-cv", today.date().isoformat())
        llm_stub.end_batch()
        tomorrow = today + dt.timedelta(days=1)
        monkeypatch.setattr(budget_module, "utcnow", lambda: tomorrow)
        d.refresh("cs-cv")
        calls = [c for c in d.call_log() if c["what"].startswith("analysis")]
        billed = sum(c["cost_usd"] for c in calls)
        assert len(calls) == PAPERS and billed > 0
        # the batch's day now holds what it really cost; the next day owes nothing for it
        first_day = d.store.spent_micro("cs-cv", today.date().isoformat()) / 1e6
        summary = sum(c["cost_usd"] for c in d.call_log() if c["what"].startswith("summary"))
        assert first_day == pytest.approx(billed + summary, abs=1e-5) and first_day < reserved / 1e6
        assert d.store.spent_micro("cs-cv", tomorrow.date().isoformat()) >= 0
    finally:
        d.close()


def test_a_batch_the_server_no_longer_knows_leaves_its_papers_for_the_next_batch(env, feeds_dir, llm_stub):
    _batch_feed(feeds_dir)
    d = make_digest()
    try:
        d.refresh("cs-cv")
        first = llm_stub.creates[0]["id"]
        del llm_stub.batches[first]  # deleted (or archived) on the server
        result = d.refresh("cs-cv")
        assert len(llm_stub.creates) == 2 and {p.status for p in result.papers} == {EntryStatus.PENDING}
        [record] = d.store.open_batches("cs-cv")
        assert record.batch_id == llm_stub.creates[1]["id"] and len(record.items) == PAPERS
        assert d.store.known_batch_ids() == {first, record.batch_id}
    finally:
        d.close()


def test_the_budget_is_reserved_at_the_batch_price_before_the_create(env, feeds_dir, llm_stub):
    """A daily budget that holds only part of the day at the batch price: those papers go
    in the batch, the rest stay pending with the budget's reason, and no more is reserved."""
    from service.budget import most_cost_usd, price_for

    _batch_feed(feeds_dir, extra="budget_usd = 0.25\n")
    d = make_digest()
    try:
        result = d.refresh("cs-cv")
        [create] = llm_stub.creates
        sent = len(create["custom_ids"])
        [record] = d.store.open_batches("cs-cv")
        price, factor = price_for(d.spec("cs-cv")), batch_factor()
        for item in record.items:  # each reservation is the call's upper bound at the batch price
            full = most_cost_usd(price, len(item.prompt.system) + len(item.prompt.user), item.prompt.max_tokens)
            assert item.reserved_usd == pytest.approx(full * factor)
        assert 0 < sent < PAPERS
        refused = [p for p in result.papers if p.reasons and p.reasons[0].code == "budget"]
        assert len(refused) == PAPERS - sent
        assert d.budget.spent("cs-cv") <= 0.25
    finally:
        d.close()


def test_a_batch_write_rolled_back_or_killed_before_commit_leaves_the_record_readable(env, feeds_dir, llm_stub):
    """diskcache keeps a large value (a record with its prompts and texts) in a file and,
    inside an enclosing transaction, deletes the old file before the COMMIT: a process
    killed (or failing) between the two left the open record's row pointing at nothing,
    so the next run could neither resume nor collect the batch (a SIGKILL under load
    caught it). Here the COMMIT never comes because the enclosing transaction fails."""
    _batch_feed(feeds_dir)
    d = make_digest()
    try:
        d.refresh("cs-cv")
        [record] = d.store.open_batches("cs-cv")
        assert record.batch_id == llm_stub.creates[0]["id"]
        for write in (lambda: d.store.put_batch(replace(record, batch_id="msgbatch_other")),
                      lambda: d.store.close_batch(record)):
            with pytest.raises(RuntimeError):
                with d.store.cache.transact():
                    write()
                    raise RuntimeError("killed before the COMMIT")
            assert d.store.get_batch(record.intent) == record
            assert d.store.open_batches("cs-cv") == [record]
        d.store.close_batch(record)  # committed: closed, still readable, its keys free
        assert d.store.open_batches("cs-cv") == [] and d.store.get_batch(record.intent) == record
        assert all(d.store.batch_of_key(i.key) is None for i in record.items)
    finally:
        d.close()


def _api_statuses(client, date) -> list[str]:
    body = client.get(f"/api/v1/feeds/cs-cv/days/{date}").get_json()
    return [e["status"] for e in body["entries"]]


def test_results_collected_by_a_later_day_republish_the_day_they_belong_to(env, feeds_dir, arxiv_stub, llm_stub):
    """Day 1 is published pending in a batch; the batch ends; the refresh of day 2 collects
    it. Day 1 is republished from the cache at once (its Atom and API day show the
    analyses), with no second create and no synchronous analysis call; an errored request
    leaves its entry pending, with its `updated` unmoved."""
    from service.web import create_app

    _batch_feed(feeds_dir)
    first_id = f"{SEED_PAPERS[0]['id']}v{SEED_PAPERS[0]['version']}"
    llm_stub.batch_outcome[first_id] = "errored"
    d = make_digest()
    try:
        d.refresh("cs-cv")
        [day1] = d.store.day_dates("cs-cv")
        before = {e.paper.versioned_id: e for e in d.day("cs-cv", day1).entries}
        assert {e.status for e in before.values()} == {EntryStatus.PENDING}
        llm_stub.end_batch()
        arxiv_stub.listing = arxiv_stub.listing.replace(b"Wed, 28 Jan 2026", b"Thu, 29 Jan 2026")
        second = d.refresh("cs-cv")
        assert second.date != day1 and len(llm_stub.creates) == 2  # the errored one goes in a new batch
        assert not any(c.get("batched") is not True for c in _analysis_requests(llm_stub))  # none synchronous
        after = {e.paper.versioned_id: e for e in d.day("cs-cv", day1).entries}
        assert after[first_id].status is EntryStatus.PENDING and after[first_id] == before[first_id]
        rest = [v for v in after if v != first_id]
        assert all(after[v].status is EntryStatus.ANALYSED and after[v].analysis is not None for v in rest)
        assert all(after[v].updated > before[v].updated for v in rest)
        client = create_app(digest_obj=d).test_client()
        statuses = _api_statuses(client, day1)
        assert statuses.count("analysed") == PAPERS - 1 and statuses.count("pending") == 1
        atom = feedparser.parse(client.get(f"/feeds/cs-cv/{day1}.atom").data)
        papers = [e for e in atom.entries if "dc_identifier" in e]
        assert len(papers) == PAPERS
        shown = [e for e in papers if (vid := e.link.rsplit("/", 1)[-1]) in rest
                 and after[vid].analysis.sections[0][0] in e.content[0].value]
        assert len(shown) == PAPERS - 1
    finally:
        d.close()
