"""arXiv behind one small interface: what was announced, paper metadata, full text.

The refresh depends on the `Arxiv` Protocol only. `ArxivHTTP` is the real thing: every
request goes through one polite `ArxivSession` (spacing, timeouts, retries) and every
transport failure comes back as an `UpstreamError` naming the URL, never as a bare
`requests` exception (which is an `OSError` and would read as a disk problem).
Tests point `ArxivHTTP` at loopback servers that speak arXiv's wire formats.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import urlsplit

from . import fulltext, listing, metadata
from .http import ArxivSession
from .models import FullText, Listing, PaperMeta
from .settings import Settings


class Arxiv(Protocol):
    def listing(self, categories: tuple[str, ...]) -> Listing:
        """Today's announcement of these categories (empty items on a holiday)."""

    def papers(self, versioned_ids: Iterable[str]) -> dict[str, PaperMeta]:
        """Metadata by versioned id; ids the API does not return are absent."""

    def submitted(self, categories: tuple[str, ...], start: dt.datetime, end: dt.datetime) -> list[PaperMeta]:
        """Papers first submitted in [start, end): a past day's announcement."""

    def full_text(self, paper: PaperMeta) -> tuple[FullText, bool]:
        """The best text available and whether that verdict is final (safe to cache)."""


class ArxivHTTP:
    """arXiv's listing RSS, its API (through the `arxiv` package) and its HTML/PDF pages."""

    def __init__(self, settings: Settings):
        self.settings = settings
        hosts = {urlsplit(u).hostname or "" for u in (settings.arxiv_listing_url, settings.arxiv_api_url,
                                                       settings.arxiv_html_url, settings.arxiv_pdf_url)}
        self.session = ArxivSession(settings.arxiv_delay,
                                    timeout=(min(10.0, settings.arxiv_timeout), settings.arxiv_timeout),
                                    hosts=hosts - {""})
        self.client = metadata.make_client(settings.arxiv_api_url, self.session)

    def listing(self, categories: tuple[str, ...]) -> Listing:
        return listing.fetch_listing(self.session, self.settings.arxiv_listing_url, categories,
                                     today=self.settings.listing_today)

    def papers(self, versioned_ids: Iterable[str]) -> dict[str, PaperMeta]:
        return metadata.fetch_metadata(self.client, versioned_ids)

    def submitted(self, categories: tuple[str, ...], start: dt.datetime, end: dt.datetime) -> list[PaperMeta]:
        return metadata.search_window(self.client, categories, start, end)

    def full_text(self, paper: PaperMeta) -> tuple[FullText, bool]:
        return fulltext.fetch_full_text(self.session, paper, self.settings.arxiv_html_url,
                                        self.settings.arxiv_pdf_url)
