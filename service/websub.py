"""WebSub (W3C Recommendation, 2018): tell the configured hub that a feed changed.

The feeds advertise the hub with `<link rel="hub">` (`DIGEST_WEBSUB_HUB`); after a day is
published the hub gets the de-facto publish ping, a form POST of `hub.mode=publish` and
`hub.url=<topic>` for each subscription feed that names the hub (Atom, RSS, JSON Feed's `hubs`). The hub
then fetches the topic and pushes it to its subscribers. A hub that is down, slow or says
no never fails a refresh: the outcome is logged and subscribers still poll.
"""
from __future__ import annotations

import logging

import requests

from .urls import Urls

log = logging.getLogger(__name__)

#: Subscription formats that advertise the hub, hence the topics pinged.
HUB_FORMATS = ("atom", "rss", "json")
#: Seconds for the whole ping (connect and read): a refresh must not wait on a slow hub.
TIMEOUT = 5.0


def topics(base: str, feed: str) -> list[str]:
    """The topic URLs of one feed: its self links in the formats that name the hub."""
    return [Urls(base).feed(feed, fmt) for fmt in HUB_FORMATS]


def ping(hub: str, urls: list[str], timeout: float = TIMEOUT) -> bool:
    """POST one publish notification per topic; True when the hub accepted (2xx) every one."""
    ok = True
    for url in urls:
        try:
            resp = requests.post(hub, data={"hub.mode": "publish", "hub.url": url}, timeout=timeout)
        except requests.RequestException as exc:
            log.warning("websub: hub %s unreachable for %s: %s", hub, url, exc)
            ok = False
            continue
        if 200 <= resp.status_code < 300:
            log.info("websub: hub %s accepted %s (%d)", hub, url, resp.status_code)
        else:
            log.warning("websub: hub %s answered %d for %s: %s", hub, resp.status_code, url, resp.text[:200])
            ok = False
    return ok


def notify(hub: str | None, base: str | None, feed: str) -> bool:
    """After a publication: ping the hub for the feed's topics. Never raises."""
    if not hub:
        return False
    if not base:
        log.warning("websub: DIGEST_WEBSUB_HUB is set but DIGEST_PUBLIC_URL is not; "
                    "the topic URLs are unknown, so hub %s was not pinged for %s", hub, feed)
        return False
    try:
        return ping(hub, topics(base, feed))
    except Exception:  # noqa: BLE001 - a hub must never fail a refresh
        log.exception("websub: pinging hub %s for %s failed", hub, feed)
        return False
