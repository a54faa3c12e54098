"""Every URL this service publishes, built in one place (datasette's `url_builder.py` habit).

Renderers, the web layer, WebSub and export-site all ask `Urls(base)`; the routes in
`web/` are the same paths, so a path changes here and in its route, nowhere else.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

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

    def search(self, q: str | None = None, feed: str | None = None, page: int | None = None,
               per_page: int | None = None) -> str:
        """The search page; with a query, its results (page 1 and the default size are left out)."""
        return f"{self.base}/search{_search_query(q, feed, page, per_page)}"

    def api_search(self, q: str | None = None, feed: str | None = None, page: int | None = None,
                   per_page: int | None = None) -> str:
        return f"{self.base}/api/v1/search{_search_query(q, feed, page, per_page)}"

    def opensearch(self) -> str:
        """The OpenSearch description, so a browser can add the search."""
        return f"{self.base}/opensearch.xml"


def _search_query(q: str | None, feed: str | None, page: int | None, per_page: int | None) -> str:
    params = [(k, v) for k, v in (("q", q), ("feed", feed), ("page", page), ("per_page", per_page))
              if v is not None]
    return f"?{urlencode(params)}" if params else ""
