"""Upstream faults injected by the loopback servers, each with what must happen."""
from __future__ import annotations

import threading

import feedparser
import pytest

from service.models import EntryStatus, TextSource
from service.pipeline import make_digest

from .stubs import FIXTURES

DUWAT = "2601.19898v1"


def fresh(monkeypatch=None, **env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return make_digest()


@pytest.mark.parametrize("fault", [
    {"status": 503, "headers": {"Retry-After": "0"}, "body": b"busy"},
    {"status": 429, "headers": {"Retry-After": "0"}, "body": b"slow down"},
    {"status": 500, "body": b"oops"},
    {"reset": True},
    {"truncate": True, "status": 200, "body": (FIXTURES / "arxiv/listing-cs.CV-2026-01-28.xml").read_bytes()[:500]},
    {"delay": 1.5, "status": 200, "body": b""},
])
def test_transient_listing_faults_are_retried(env, monkeypatch, arxiv_stub, fault):
    monkeypatch.setenv("DIGEST_ARXIV_TIMEOUT", "1")
    arxiv_stub.faults["/rss/"] = [fault, fault]
    d = make_digest()
    result = d.refresh("cs-cv")
    assert result.outcome == "published", result.message
    assert len(arxiv_stub.paths("/rss/")) == 3  # two faults, then the real answer
    d.store.close()


def test_retry_after_is_honoured(env, arxiv_stub):
    arxiv_stub.faults["/rss/"] = [{"status": 429, "headers": {"Retry-After": "1"}, "body": b""}]
    d = make_digest()
    assert d.refresh("cs-cv").outcome == "published"
    rss = [t for t, p in arxiv_stub.times if p.startswith("/rss/")]
    assert rss[1] - rss[0] >= 0.95
    d.store.close()


@pytest.mark.parametrize("fault, message", [
    ({"status": 503, "headers": {"Retry-After": "0"}, "body": b""}, "listing answered HTTP 503"),
    ({"reset": True}, "listing request failed"),
    ({"truncate": True, "status": 200, "body": b"<rss>"}, "listing request failed"),
    ({"status": 200, "body": b"<rss><channel><item>"}, "not well-formed XML"),
])
def test_persistent_listing_faults_fail_clearly_and_keep_the_previous_day(env, digest, client, arxiv_stub,
                                                                          fault, message):
    assert digest.refresh("cs-cv").outcome == "published"
    before = client.get("/feeds/cs-cv.atom").data
    arxiv_stub.faults["/rss/"] = [fault] * 10
    result = digest.refresh("cs-cv", force=True)
    assert result.outcome == "failed" and message in result.message, result.message
    assert len(arxiv_stub.paths("/rss/")) <= 1 + 5  # bounded
    assert client.get("/feeds/cs-cv.atom").data == before


def test_api_faults_are_retried(env, digest, arxiv_stub):
    arxiv_stub.faults["/api/"] = [{"status": 503, "headers": {"Retry-After": "0"}, "body": b""},
                                  {"reset": True}]
    assert digest.refresh("cs-cv").outcome == "published"


def test_malformed_api_answer_fails_clearly(env, digest, arxiv_stub):
    arxiv_stub.faults["/api/"] = [{"status": 200, "body": b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>"}] * 5
    result = digest.refresh("cs-cv")
    assert result.outcome == "failed"
    assert "without any entry" in result.message and "malformed" in result.message


def test_api_leaving_ids_out_retries_then_lists_them_missing(env, digest, client, arxiv_stub, llm_stub):
    arxiv_stub.drop_ids = {"2601.19850v1": 1, "2601.19849v1": 5}
    result = digest.refresh("cs-cv")
    assert result.outcome == "published"
    assert result.missing == ("2601.19849v1",)  # the other one came on the retry
    assert "1 missing from the API: 2601.19849v1" in result.message
    health = client.get("/healthz").json["feeds"]["cs-cv"]
    assert health["last_attempt"]["missing"] == ["2601.19849v1"]
    # the day is incomplete, so the next refresh is not "stale": it fetches the missing paper
    arxiv_stub.drop_ids = {}
    again = digest.refresh("cs-cv")
    assert again.outcome == "published" and again.missing == ()
    assert len(feedparser.parse(client.get("/feeds/cs-cv.atom").data).entries) == 11
    # the summary and the newly fetched paper, in either order (they run concurrently)
    assert sorted(c["key"] for c in llm_stub.calls[-2:]) == ["2601.19849v1", "summary"]


def test_corrupt_pdf_falls_back_to_the_abstract(env, digest, arxiv_stub, llm_stub):
    arxiv_stub.pdf["2601.19884v1"] = b"%PDF-1.4 this is not really a pdf"
    result = digest.refresh("cs-cv")
    assert result.outcome == "published"
    day = digest.store.get_day("cs-cv", result.date)
    sonic = next(e for e in day.entries if e.paper.versioned_id == "2601.19884v1")
    assert sonic.analysis.source is TextSource.ABSTRACT and sonic.analysis.framework == "abstract"
    request = llm_stub.calls_for("2601.19884v1")[0]["request"]["messages"][0]["content"]
    assert 'source="abstract"' in request


def test_html_server_error_falls_back_and_is_retried_next_time(env, digest, arxiv_stub):
    arxiv_stub.faults["/html/2601.19887v1"] = [{"status": 500, "body": b""}] * 4
    result = digest.refresh("cs-cv")
    day = digest.store.get_day("cs-cv", result.date)
    vggt = next(e for e in day.entries if e.paper.versioned_id == "2601.19887v1")
    assert vggt.source is TextSource.ABSTRACT
    # a 5xx is not final: the full text is not cached as "abstract", so it is tried again
    assert digest.store.get_full_text("2601.19887v1") is None


def test_llm_timeout_leaves_the_call_pending(env, monkeypatch, llm_stub):
    monkeypatch.setenv("DIGEST_LLM_TIMEOUT", "0.5")
    monkeypatch.setenv("DIGEST_LLM_CONCURRENCY", "1")  # the summary is asked first
    llm_stub.faults["/v1/messages"] = [{"delay": 1.5, "status": 200, "body": b"{}"}]
    d = make_digest()
    result = d.refresh("cs-cv")
    assert result.outcome == "published" and result.count(EntryStatus.ANALYSED) == 10
    day = d.store.get_day("cs-cv", result.date)
    assert day.summary is None and day.summary_status is EntryStatus.PENDING
    errors = [r for r in d.store.llm_log if r["verdict"] == "error"]
    assert len(errors) == 1 and "Timeout" in errors[0]["reasons"][0]
    llm_stub.calls.clear()
    assert d.refresh("cs-cv").outcome == "published"  # incomplete day: not stale, summary retried
    assert [c["key"] for c in llm_stub.calls] == ["summary"]
    d.store.close()


@pytest.mark.parametrize("body", [b"this is not json", b'{"type": "message", "content": "nope"}'])
def test_invalid_llm_json_is_pending_not_a_crash(env, llm_stub, monkeypatch, body):
    monkeypatch.setenv("DIGEST_LLM_CONCURRENCY", "1")  # calls in submission order: summary, paper 1, …
    digest = make_digest()
    llm_stub.faults["/v1/messages"] = [{"status": 200, "body": body, "headers": {"Content-Type": "application/json"}}] * 2
    result = digest.refresh("cs-cv")
    assert result.outcome == "published"
    day = digest.day("cs-cv", result.date)
    # the two broken answers hit the first two calls: the summary and the first paper
    assert day.summary_status is EntryStatus.PENDING and day.entries[0].status is EntryStatus.PENDING
    assert all(e.status is EntryStatus.ANALYSED for e in day.entries[1:])
    errors = [r for r in digest.call_log() if r["verdict"] == "error"]
    assert len(errors) == 2 and all("malformed response" in r["reasons"][0] or "APIResponseValidation" in r["reasons"][0]
                                    for r in errors), errors


def test_llm_tool_input_of_the_wrong_shape_is_rejected(env, digest, llm_stub):
    llm_stub.script[DUWAT] = ["wrong_shape", "wrong_shape"]
    result = digest.refresh("cs-cv")
    outcome = next(p for p in result.papers if p.versioned_id == DUWAT)
    assert outcome.status is EntryStatus.PENDING
    assert any(r.code == "missing_section" for r in outcome.reasons)


def test_two_refreshes_at_once_spend_once(env, digest, llm_stub, monkeypatch):
    monkeypatch.setenv("DIGEST_LLM_CONCURRENCY", "1")
    llm_stub.script[DUWAT] = ["hang"]
    first = make_digest()
    results = {}
    thread = threading.Thread(target=lambda: results.setdefault("first", first.refresh("cs-cv")))
    thread.start()
    assert llm_stub.hanging.wait(30)
    from service.errors import RefreshBusy

    with pytest.raises(RefreshBusy, match="already running"):
        digest.refresh("cs-cv")  # a second process/worker: same data dir, same lock
    llm_stub.release.set()
    thread.join(30)
    assert results["first"].outcome == "published"
    keys = [c["key"] for c in llm_stub.calls]
    assert len(keys) == len(set(keys)) == 11  # nobody paid twice
    first.store.close()


def test_unwritable_data_dir_is_a_clear_error(env, monkeypatch, tmp_path, capsys):
    from service.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("DIGEST_DATA_DIR", str(blocker / "var"))
    assert main(["refresh"]) == 2
    err = capsys.readouterr().err
    assert "DIGEST_DATA_DIR" in err and "cannot use data directory" in err


def test_replacement_updates_the_existing_entry_without_a_duplicate(env, digest, client, arxiv_stub, llm_stub):
    assert digest.refresh("cs-cv").outcome == "published"
    before = {e.id: e for e in feedparser.parse(client.get("/feeds/cs-cv.atom").data).entries}
    # next evening: v2 of DuwatBench is announced as a replacement, with one new paper
    listing = (FIXTURES / "arxiv/listing-cs.CV-2026-01-28.xml").read_text()
    listing = listing.replace("Wed, 28 Jan 2026", "Thu, 29 Jan 2026")
    listing = listing.replace("oai:arXiv.org:2601.19898v1", "oai:arXiv.org:2601.19898v2")
    listing = listing.replace("arXiv:2601.19898v1 Announce Type: new", "arXiv:2601.19898v2 Announce Type: replace")
    listing = listing.replace("<arxiv:announce_type>new</arxiv:announce_type>", "<arxiv:announce_type>replace</arxiv:announce_type>", 1)
    # everything else of the day before is not announced again
    head, _, rest = listing.partition("<item>")
    items = ["<item>" + chunk for chunk in rest.split("<item>")]
    arxiv_stub.listing = (head + items[0].split("</item>")[0] + "</item>\n  </channel>\n</rss>\n").encode()
    v1 = arxiv_stub.api_entries["2601.19898v1"]
    from lxml import etree

    v2 = etree.fromstring(etree.tostring(v1))
    v2.find("{http://www.w3.org/2005/Atom}id").text = "http://arxiv.org/abs/2601.19898v2"
    v2.find("{http://www.w3.org/2005/Atom}updated").text = "2026-01-28T17:00:00Z"
    arxiv_stub.api_entries["2601.19898v2"] = v2
    llm_stub.calls.clear()

    result = digest.refresh("cs-cv")
    assert result.outcome == "published" and str(result.date) == "2026-01-29"
    assert [p.versioned_id for p in result.papers] == ["2601.19898v2"]
    assert [c["key"] for c in llm_stub.calls if c["key"] != "summary"] == ["2601.19898v2"]  # redone for v2
    feed = feedparser.parse(client.get("/feeds/cs-cv.atom").data)
    ids = [e.id for e in feed.entries]
    assert ids.count("https://arxiv.org/abs/2601.19898") == 1  # no duplicate entry
    entry = next(e for e in feed.entries if e.id == "https://arxiv.org/abs/2601.19898")
    assert any(link.href.endswith("2601.19898v2") for link in entry.links)
    assert entry.updated != before["https://arxiv.org/abs/2601.19898"].updated


def test_sdk_retries_overloaded_then_succeeds_without_double_charge(env, monkeypatch, llm_stub):
    monkeypatch.setenv("DIGEST_LLM_MAX_RETRIES", "2")
    llm_stub.script[DUWAT] = ["http_529", "http_429"]
    d = make_digest()
    result = d.refresh("cs-cv")
    outcome = next(p for p in result.papers if p.versioned_id == DUWAT)
    assert outcome.status is EntryStatus.ANALYSED and outcome.llm_calls == 1
    assert [c["behaviour"] for c in llm_stub.calls_for(DUWAT)] == ["http_529", "http_429", "good"]
    # charged once: only the answer that came back has usage
    assert len([r for r in d.store.llm_log if r["what"] == f"analysis {DUWAT}"]) == 1
    d.store.close()


def test_replacements_appear_in_the_day_only_when_the_spec_asks(env, feeds_dir, arxiv_stub):
    listing = (FIXTURES / "arxiv/listing-cs.CV-2026-01-28.xml").read_text()
    listing = listing.replace("<arxiv:announce_type>new</arxiv:announce_type>",
                              "<arxiv:announce_type>replace</arxiv:announce_type>", 1)
    arxiv_stub.listing = listing.encode()
    d = make_digest()
    assert DUWAT not in [p.versioned_id for p in d.refresh("cs-cv").papers]
    d.store.close()
    spec = feeds_dir / "cs-cv.toml"
    spec.write_text(spec.read_text() + "include_replacements = true\n")
    d = make_digest()
    assert DUWAT in [p.versioned_id for p in d.refresh("cs-cv", force=True).papers]
    d.store.close()
