"""What a newcomer meets in the first minutes."""
from __future__ import annotations

from service.web.common import MIN_MAX_AGE


def test_an_empty_feed_asks_readers_to_come_back_soon(client):
    for path in ("/feeds/cs-cv.atom", "/feeds/cs-cv.rss", "/feeds/cs-cv.json"):
        resp = client.get(path)
        assert resp.status_code == 200 and resp.cache_control.max_age == MIN_MAX_AGE, path

