"""The CLI per the contract: exit codes and messages."""
from __future__ import annotations

from service.cli import main

from .stubs import FIXTURES


def test_refresh_publishes_and_exits_zero(env, capsys, llm_stub):
    assert main(["refresh", "cs-cv"]) == 0
    out = capsys.readouterr().out
    assert "cs-cv: published 2026-01-28: 10 papers (10 analysed, 0 pending), 11 LLM calls" in out


def test_refresh_of_unknown_feed_is_a_clear_error(env, capsys):
    assert main(["refresh", "nope"]) == 2
    assert "unknown feed(s): nope (feeds: cs-cv)" in capsys.readouterr().err


def test_refresh_fails_clearly_on_malformed_listing(env, capsys, arxiv_stub):
    arxiv_stub.listing = b"<rss><channel><title>cut off"
    assert main(["refresh"]) == 1
    err = capsys.readouterr().err
    assert "cs-cv:" in err and "listing is not well-formed XML" in err and "Traceback" not in err


def test_failed_refresh_keeps_serving_the_previous_day(env, digest, client, arxiv_stub, capsys):
    digest.refresh("cs-cv")
    before = client.get("/feeds/cs-cv.atom").data
    arxiv_stub.faults["/rss/"] = [(503, b"busy")] * 10
    assert main(["refresh"]) == 1
    assert "listing answered HTTP 503" in capsys.readouterr().err
    assert client.get("/feeds/cs-cv.atom").data == before
    assert client.get("/healthz").json["feeds"]["cs-cv"]["last_refresh"]["outcome"] == "failed"


def test_empty_listing_exits_zero(env, capsys, arxiv_stub):
    arxiv_stub.listing = (FIXTURES / "arxiv/listing-cs.CV-empty.xml").read_bytes()
    assert main(["refresh"]) == 0
    assert "no announcement" in capsys.readouterr().out
