"""Every URL this service publishes, built in one place (datasette's `url_builder.py` habit).

Renderers, the web layer, WebSub and export-site all ask `Urls(base)`; the routes in
`web/` are the same paths, so a path changes here and in its route, nowhere else.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Subscription formats of a feed: URL extension per format name.
FEED_EXTENSIONS = {"atom": "atom", "rss": "rss", "json": "json", "zotero": "zotero.atom"}
#: Citation exports of a paper or a day: URL extension per format name (CSL-JSON is .json).
CITATION_EXTENSIONS = {"bib": ".bib", "ris": ".ris", "csl": ".json"}


@dataclass(frozen=True)
class Urls:
    #: Scheme and host (and path prefix) without a trailing slash; "" gives root-relative URLs.
    base: str

    def index(self) -> str:
        return f"{self.base}/"

    def opml(self) -> str:
        return f"{self.base}/opml"

    def openapi(self) -> str:
        return f"{self.base}/openapi.json"

    def static(self, name: str) -> str:
        return f"{self.base}/static/{name}"

    def feed(self, feed: str, fmt: str = "atom") -> str:
        """A subscription document: atom, rss or json."""
        return f"{self.base}/feeds/{feed}.{FEED_EXTENSIONS[fmt]}"

    def day(self, feed: str, date: dt.date, fmt: str = "html") -> str:
        """A day's page ("html"), Markdown ("md"), archive ("atom"), API document ("api"), the gate's
        report of it ("quality") or
        its papers' citations ("bib", "ris", "csl")."""
        if fmt in ("api", "quality"):  # the API document, and its quality report
            return f"{self.base}/api/v1/feeds/{feed}/days/{date.isoformat()}" + ("/quality" if fmt == "quality" else "")
        suffix = {"html": "", "md": ".md", "atom": ".atom", **CITATION_EXTENSIONS}[fmt]
        return f"{self.base}/feeds/{feed}/{date.isoformat()}{suffix}"

    def api_feeds(self) -> str:
        return f"{self.base}/api/v1/feeds"

    def api_days(self, feed: str, page: int | None = None, per_page: int | None = None) -> str:
        query = f"?page={page}&per_page={per_page}" if page is not None and per_page is not None else ""
        return f"{self.base}/api/v1/feeds/{feed}/days{query}"

    def job(self, job_id: str) -> str:
        return f"{self.base}/api/v1/jobs/{job_id}"

    def paper(self, arxiv_id: str, fmt: str = "html") -> str:
        """A paper's page ("html") or its citation ("bib", "ris", "csl"), by version-less id."""
        return f"{self.base}/papers/{arxiv_id}{'' if fmt == 'html' else CITATION_EXTENSIONS[fmt]}"

    def api_paper(self, arxiv_id: str) -> str:
        return f"{self.base}/api/v1/papers/{arxiv_id}"
