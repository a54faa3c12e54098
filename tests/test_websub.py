"""WebSub (service/websub.py): off by default, and a failing hub never fails a refresh.

The hub link and the publish ping against the served app are in tests/test_clients.py.
"""
from __future__ import annotations

import pytest
from lxml import etree

from service.errors import ConfigError
from service.pipeline import make_digest
from service.settings import load_settings

from .test_clients import A, HubStub, free_port


def test_no_hub_by_default(digest, client):
    digest.refresh("cs-cv")
    atom = etree.fromstring(client.get("/feeds/cs-cv.atom").data)
    rss = etree.fromstring(client.get("/feeds/cs-cv.rss").data)
    assert atom.find(f"{A}link[@rel='hub']") is None and rss.find(f"channel/{A}link[@rel='hub']") is None
    assert load_settings({}).websub_hub is None


@pytest.mark.parametrize("hub_kind", ["500", "down", "no public url"])
def test_a_failing_hub_never_fails_a_refresh(env, monkeypatch, caplog, hub_kind):
    hub = HubStub(status=500)
    try:
        url = f"{hub.url}/hub"
        if hub_kind == "down":
            url = f"http://127.0.0.1:{free_port()}/hub"
        monkeypatch.setenv("DIGEST_WEBSUB_HUB", url)
        if hub_kind != "no public url":
            monkeypatch.setenv("DIGEST_PUBLIC_URL", "http://127.0.0.1:9")
        d = make_digest()
        with caplog.at_level("WARNING", logger="service.websub"):
            result = d.refresh("cs-cv")
        d.store.close()
        assert result.outcome == "published", result.message
        assert any("websub" in r.getMessage() and url in r.getMessage() for r in caplog.records), caplog.text
        assert len(hub.pings()) == (3 if hub_kind == "500" else 0)
    finally:
        hub.close()


def test_websub_hub_must_be_an_http_url():
    with pytest.raises(ConfigError, match="DIGEST_WEBSUB_HUB"):
        load_settings({"DIGEST_WEBSUB_HUB": "hub.example"})
