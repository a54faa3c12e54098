"""What arXiv announced: the listing feed (`rss.arxiv.org/rss/<cats>`) → `Listing`."""
from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re

import requests
from lxml import etree

from .errors import UpstreamError
from .http import TooLarge, get_limited
from .models import AnnounceType, Listing, ListingItem, utcnow
from .untrusted import MAX_ABSTRACT, MAX_TITLE, clean_text, clean_xml, clip, is_versioned_id

log = logging.getLogger(__name__)
#: A listing's date must lie in this window around today (UTC): arXiv announces the evening
#: before the listing's date (ET), so a day ahead is normal; a listing from 2100 or 1970 is not.
MAX_AHEAD = dt.timedelta(days=2)
MAX_BEHIND = dt.timedelta(days=5 * 366)
#: A listing of every category's day is a few MB; past this it is not a listing.
MAX_LISTING_BYTES = 30_000_000
_NS = {"arxiv": "http://arxiv.org/schemas/atom", "dc": "http://purl.org/dc/elements/1.1/"}
_GUID = re.compile(r"(?:oai:arXiv\.org:)?(?P<id>.+?)v(?P<v>\d+)$")
_DESCRIPTION = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.S)


def listing_url(base: str, categories: tuple[str, ...]) -> str:
    return f"{base}{'+'.join(categories)}"


def _text(el, path: str) -> str:
    found = el.find(path, _NS)
    return " ".join(clean_text(found.text or "").split()) if found is not None else ""


def parse_listing(body: bytes, url: str, today: dt.date | None = None) -> Listing:
    """Parse the listing RSS; malformed documents raise `UpstreamError` naming the URL.

    What is untrusted is checked here: characters XML cannot carry are dropped, items
    whose guid is not an arXiv id are left out (logged), an id listed twice counts once,
    and a date outside the window around `today` (default: now) is refused."""
    try:
        root = etree.fromstring(clean_xml(body), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as e:
        raise UpstreamError(url, f"listing is not well-formed XML: {e}") from e
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise UpstreamError(url, f"expected an RSS document with a channel, got <{root.tag}>")
    pub = _text(channel, "pubDate") or _text(channel, "lastBuildDate")
    try:
        announced = email.utils.parsedate_to_datetime(pub).date()
    except (TypeError, ValueError, OverflowError):  # year 99999999999 overflows
        raise UpstreamError(url, f"channel pubDate {pub!r} is not an RFC 822 date") from None
    today = today or utcnow().date()
    if not today - MAX_BEHIND <= announced <= today + MAX_AHEAD:
        raise UpstreamError(url, f"channel pubDate {pub!r} is {announced.isoformat()}, outside the plausible "
                            f"window {(today - MAX_BEHIND).isoformat()} to {(today + MAX_AHEAD).isoformat()}")

    items = []
    seen: set[str] = set()
    for n, item in enumerate(channel.findall("item"), start=1):
        guid = _text(item, "guid")
        m = _GUID.match(guid)
        if not m or not is_versioned_id(m["id"], m["v"]):
            log.warning("%s: item %d: guid %r is not an arXiv id with version; left out", url, n, guid)
            continue
        if m["id"] in seen:
            log.warning("%s: item %d: %s is listed again; counted once", url, n, m["id"])
            continue
        seen.add(m["id"])
        kind = _text(item, "arxiv:announce_type")
        try:
            announce = AnnounceType(kind)
        except ValueError:
            raise UpstreamError(url, f"item {n} ({m['id']}): unknown announce type {kind!r}") from None
        description = clean_text(item.findtext("description") or "").strip()
        abstract = clip(" ".join(_DESCRIPTION.sub("", description).split()), MAX_ABSTRACT)
        creators = _text(item, "dc:creator")
        items.append(ListingItem(
            arxiv_id=m["id"],
            version=int(m["v"]),
            announce_type=announce,
            title=clip(_text(item, "title"), MAX_TITLE),
            abstract=abstract,
            authors=tuple(a.strip() for a in creators.split(",") if a.strip()),
            categories=tuple(" ".join(clean_text(c.text or "").split()) for c in item.findall("category")),
        ))
    return Listing(announced=announced, items=tuple(items))


def fetch_listing(session: requests.Session, base_url: str, categories: tuple[str, ...],
                  today: dt.date | None = None) -> Listing:
    """The listing of `categories`; its date is checked against `today` (default: now, UTC)."""
    url = listing_url(base_url, categories)
    try:
        status, body = get_limited(session, url, MAX_LISTING_BYTES)
    except TooLarge:
        raise UpstreamError(url, f"listing is larger than {MAX_LISTING_BYTES} bytes; not read further") from None
    except requests.RequestException as e:
        raise UpstreamError(url, f"listing request failed: {e}") from e
    if status != 200:
        raise UpstreamError(url, f"listing answered HTTP {status}")
    return parse_listing(body, url, today)
