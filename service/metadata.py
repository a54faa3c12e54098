"""Paper metadata from the arXiv API, through the `arxiv` package, in batches."""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator

import arxiv
import requests

from .errors import UpstreamError
from .http import LimitedGets, TooLarge
from .models import PaperMeta
from .untrusted import MAX_ABSTRACT, MAX_AUTHORS, MAX_FIELD, MAX_TITLE, clean_text, clip, is_versioned_id

log = logging.getLogger(__name__)
_ENTRY_ID = re.compile(r"abs/(?P<id>.+?)v(?P<v>\d+)$")
#: Ids per API request; arXiv serves up to 2000 per page, 100 keeps responses small.
BATCH = 100
#: A page of BATCH entries is ~300 kB; an answer past this is not arXiv's, and is not read.
MAX_API_BYTES = 20_000_000
#: Papers one past day's search may return; the busiest categories announce a few hundred
#: a day, so past this an API is paging forever (its totalResults says a billion).
MAX_WINDOW_RESULTS = 10_000


def make_client(api_url: str, session: requests.Session) -> arxiv.Client:
    """An `arxiv.Client` pointed at `api_url` that sends through our polite session.

    The package spaces its own requests too; ours (`ArxivSession`) does it across all
    arXiv traffic, so the package's delay is set to 0 and its retries to 1. Its bodies are
    read under MAX_API_BYTES and the session's transfer deadline (`LimitedGets`).
    """
    client = arxiv.Client(page_size=BATCH, delay_seconds=0, num_retries=1)
    client.query_url_format = f"{api_url}?{{}}"
    client._session = LimitedGets(session, MAX_API_BYTES)  # the package has no public hook for a session
    return client


def _line(text: str | None, limit: int = MAX_FIELD) -> str:
    """Untrusted text as one clean line (no characters XML cannot carry, NFC), of sane length."""
    return clip(" ".join(clean_text(text or "").split()), limit)


def to_paper(result: arxiv.Result) -> PaperMeta:
    """A checked `PaperMeta`; ValueError when the entry's id is not an arXiv id with version."""
    m = _ENTRY_ID.search(result.entry_id)
    if not m:
        raise ValueError(f"entry id {result.entry_id!r} has no version")
    if not is_versioned_id(m["id"], m["v"]):
        raise ValueError(f"entry id {result.entry_id!r} is not an arXiv id")
    primary = result.primary_category
    cats = [primary] + [c for c in result.categories if c != primary] if primary else list(result.categories)
    return PaperMeta(
        arxiv_id=m["id"],
        version=int(m["v"]),
        title=_line(result.title, MAX_TITLE),
        authors=tuple(name for a in result.authors[:MAX_AUTHORS] if (name := _line(a.name, MAX_TITLE))),
        abstract=_line(result.summary, MAX_ABSTRACT),
        categories=tuple(c for c in (_line(c) for c in cats) if c),
        published=result.published,
        updated=result.updated,
        doi=_line(result.doi) or None,
        journal_ref=_line(result.journal_ref) or None,
        comment=_line(result.comment) or None,
    )


def _papers(results: Iterable[arxiv.Result]) -> Iterator[PaperMeta]:
    """Each usable API entry as a paper; an entry we cannot read is logged and skipped."""
    for result in results:
        try:
            yield to_paper(result)
        except ValueError as e:
            log.warning("skipping API entry: %s", e)


def _fetch_batch(client: arxiv.Client, batch: list[str]) -> dict[str, PaperMeta]:
    found = {}
    try:
        for paper in _papers(client.results(arxiv.Search(id_list=batch, max_results=len(batch)))):
            found[paper.versioned_id] = paper
    except TooLarge:
        raise UpstreamError(client.query_url_format.format(""), f"arXiv API answer is larger than "
                            f"{MAX_API_BYTES} bytes; not read further") from None
    except (arxiv.ArxivError, requests.RequestException) as e:
        raise UpstreamError(client.query_url_format.format(""), f"arXiv API failed: {e}") from e
    return found


def fetch_metadata(client: arxiv.Client, versioned_ids: Iterable[str]) -> dict[str, PaperMeta]:
    """Metadata by versioned id. Ids the API did not return are simply absent."""
    ids = list(dict.fromkeys(versioned_ids))
    found: dict[str, PaperMeta] = {}
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        for attempt in range(2):
            got = _fetch_batch(client, batch)
            if got:
                break
            log.warning("arXiv API answered no entry for %d ids (try %d)", len(batch), attempt + 1)
        else:
            # The package reads a malformed or truncated document as an empty one.
            raise UpstreamError(client.query_url_format.format(""), f"arXiv API answered without any "
                                f"entry for {len(batch)} ids twice (malformed or empty response)")
        found.update(got)
    missing = [i for i in ids if i not in found]
    if missing:
        log.warning("arXiv API returned no metadata for %d ids: %s", len(missing), ", ".join(missing))
    return found


def search_window(client: arxiv.Client, categories: tuple[str, ...], start: dt.datetime,
                  end: dt.datetime, limit: int = MAX_WINDOW_RESULTS) -> list[PaperMeta]:
    """Papers in `categories` first submitted in [start, end) (UTC): a past day's announcement;
    `UpstreamError` once `limit` came back (an API paging forever)."""
    fmt = "%Y%m%d%H%M"
    last = end - dt.timedelta(minutes=1)  # arXiv's range is inclusive at minute precision
    cats = " OR ".join(f"cat:{c}" for c in categories)
    query = f"({cats}) AND submittedDate:[{start.strftime(fmt)} TO {last.strftime(fmt)}]"
    search = arxiv.Search(query=query, max_results=limit, sort_by=arxiv.SortCriterion.SubmittedDate,
                          sort_order=arxiv.SortOrder.Ascending)
    try:
        papers = list(_papers(client.results(search)))
    except TooLarge:
        raise UpstreamError(client.query_url_format.format(""), f"arXiv API answer is larger than "
                            f"{MAX_API_BYTES} bytes; not read further") from None
    except (arxiv.ArxivError, requests.RequestException) as e:
        raise UpstreamError(client.query_url_format.format(""), f"arXiv API search failed: {e}") from e
    if len(papers) >= limit:
        raise UpstreamError(client.query_url_format.format(""), f"arXiv API search answered "
                            f"{limit} papers or more for one day; that is no day's announcement")
    return papers
