"""What arXiv announced: the listing feed (`rss.arxiv.org/rss/<cats>`) → `Listing`."""
from __future__ import annotations

import email.utils
import re

import requests
from lxml import etree

from .errors import UpstreamError
from .models import AnnounceType, Listing, ListingItem

_NS = {"arxiv": "http://arxiv.org/schemas/atom", "dc": "http://purl.org/dc/elements/1.1/"}
_GUID = re.compile(r"(?:oai:arXiv\.org:)?(?P<id>.+?)v(?P<v>\d+)$")
_DESCRIPTION = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.S)


def listing_url(base: str, categories: tuple[str, ...]) -> str:
    return f"{base}{'+'.join(categories)}"


def _text(el, path: str) -> str:
    found = el.find(path, _NS)
    return " ".join((found.text or "").split()) if found is not None else ""


def parse_listing(body: bytes, url: str) -> Listing:
    """Parse the listing RSS; malformed documents raise `UpstreamError` naming the URL."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as e:
        raise UpstreamError(url, f"listing is not well-formed XML: {e}") from e
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise UpstreamError(url, f"expected an RSS document with a channel, got <{root.tag}>")
    pub = _text(channel, "pubDate") or _text(channel, "lastBuildDate")
    try:
        announced = email.utils.parsedate_to_datetime(pub).date()
    except (TypeError, ValueError):
        raise UpstreamError(url, f"channel pubDate {pub!r} is not an RFC 822 date") from None

    items = []
    for n, item in enumerate(channel.findall("item"), start=1):
        guid = _text(item, "guid")
        m = _GUID.match(guid)
        if not m:
            raise UpstreamError(url, f"item {n}: guid {guid!r} is not an arXiv id with version")
        kind = _text(item, "arxiv:announce_type")
        try:
            announce = AnnounceType(kind)
        except ValueError:
            raise UpstreamError(url, f"item {n} ({m['id']}): unknown announce type {kind!r}") from None
        description = (item.findtext("description") or "").strip()
        abstract = " ".join(_DESCRIPTION.sub("", description).split())
        creators = _text(item, "dc:creator")
        items.append(ListingItem(
            arxiv_id=m["id"],
            version=int(m["v"]),
            announce_type=announce,
            title=_text(item, "title"),
            abstract=abstract,
            authors=tuple(a.strip() for a in creators.split(",") if a.strip()),
            categories=tuple(" ".join((c.text or "").split()) for c in item.findall("category")),
        ))
    return Listing(announced=announced, items=tuple(items))


def fetch_listing(session: requests.Session, base_url: str, categories: tuple[str, ...]) -> Listing:
    url = listing_url(base_url, categories)
    try:
        resp = session.get(url)
    except requests.RequestException as e:
        raise UpstreamError(url, f"listing request failed: {e}") from e
    if resp.status_code != 200:
        raise UpstreamError(url, f"listing answered HTTP {resp.status_code}")
    return parse_listing(resp.content, url)
