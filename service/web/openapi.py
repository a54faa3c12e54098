"""OpenAPI 3.1 description of every route; its schemas are checked against real responses in tests."""
from __future__ import annotations

from functools import cache

S = "#/components/schemas/"


def _ref(name: str) -> dict:
    return {"$ref": S + name}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


STR, INT, NUM = {"type": "string"}, {"type": "integer"}, {"type": "number"}
DATE, DATETIME, URI = ({"type": "string", "format": f} for f in ("date", "date-time", "uri"))
STRS = {"type": "array", "items": STR}


def _obj(props: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": props, "required": required or list(props)}


SECTIONS = {"type": "array", "items": _obj({"heading": STR, "body": STR})}
DAY_LINKS = _obj({"self": URI, "html": URI, "markdown": URI, "atom": URI})
DAY_LINKS["properties"]["quality"] = URI  # the day's quality report (additive: not required)
STATUS = {"enum": ["analysed", "pending", "unavailable", "disabled"]}
COUNTS = {"type": "object", "additionalProperties": INT}

SCHEMAS = {
    "Error": _obj({"error": _obj({"code": STR, "message": STR})}),
    "Paper": _obj({"arxiv_id": STR, "version": INT, "versioned_id": STR, "title": STR, "authors": STRS,
                   "abstract": STR, "categories": STRS, "published": DATETIME, "updated": DATETIME,
                   "doi": _nullable(STR), "journal_ref": _nullable(STR), "comment": _nullable(STR),
                   "links": _obj({"abs": URI, "pdf": URI})}),
    "Finding": _obj({"claim": STR, "evidence": STR}),
    "Analysis": _obj({"framework": {"enum": ["fulltext", "abstract"]},
                      "source": {"enum": ["html", "pdf", "abstract"]}, "language": STR, "model": STR,
                      "created": DATETIME, "sections": SECTIONS, "usage": _ref("Usage"),
                      "provenance": _ref("Provenance")}),
    "Provenance": {**_obj({"model": STR, "prompt_hash": STR, "source_kind": {"enum": ["fulltext", "abstract", "unknown"]},
                           "gate_version": STR, "judge_model": _nullable(STR)}),
                   "description": "What made the analysis: model, prompt hash, what it read, the gate version "
                                  "that passed it (\"unknown\" for analyses stored before provenance was kept), "
                                  "and the second-opinion model, if one was asked"},
    "Quality": {**_obj({
        "feed": STR, "date": DATE, "updated": DATETIME, "papers": INT, "accepted": INT, "pending": INT,
        "unavailable": INT, "disabled": INT,
        "rejected": _obj({"papers": INT, "reasons": COUNTS, "judge": INT}),
        "gate_versions": COUNTS, "summary_status": STATUS,
        "entries": {"type": "array", "items": _obj({"versioned_id": STR, "status": STATUS, "reason_codes": STRS,
                                                     "gate_version": _nullable(STR),
                                                     "source_kind": _nullable(STR)})},
        "links": _obj({"day": URI, "self": URI})}),
        "description": "The quality gate's record of one day: accepted analyses, and papers left pending or "
                       "unavailable with their reason codes counted (the second-opinion judge's rejections, "
                       "code `judge`, also separately); budget, API and lock waits are not rejections"},
    "Usage": _obj({"input_tokens": INT, "output_tokens": INT, "cost_usd": NUM}),
    "Entry": _obj({"paper": _ref("Paper"), "announce_type": {"enum": ["new", "cross", "replace", "replace-cross"]},
                   "status": {"enum": ["analysed", "pending", "unavailable", "disabled"]},
                   "source": {"enum": ["html", "pdf", "abstract"]}, "analysis": _nullable(_ref("Analysis")),
                   "findings": {"type": "array", "items": _ref("Finding")}, "reasons": STRS, "why": STRS,
                   "score": {**_nullable(NUM), "description": "ranking score: followed author 100, keyword hit 1 "
                             "(2 in the title), similarity to the reader's library × 150; null before scores were kept"},
                   "updated": _nullable(DATETIME)}),
    "Summary": _obj({"language": STR, "model": STR, "created": DATETIME, "parts": SECTIONS, "usage": _ref("Usage")}),
    "Day": _obj({"feed": STR, "date": DATE, "published": DATETIME, "updated": DATETIME,
                 "summary_status": {"enum": ["analysed", "pending", "unavailable", "disabled"]},
                 "summary": _nullable(_ref("Summary")), "entries": {"type": "array", "items": _ref("Entry")},
                 "missing": STRS, "cost_usd": NUM,
                 "links": {**DAY_LINKS, "properties": {**DAY_LINKS["properties"], "prev": _nullable(URI),
                                                       "next": _nullable(URI)}}}),
    "DayRef": _obj({"date": DATE, "published": DATETIME, "updated": DATETIME, "papers": INT, "links": DAY_LINKS}),
    "DaysPage": _obj({"feed": STR, "page": INT, "per_page": INT, "total": INT,
                      "days": {"type": "array", "items": _ref("DayRef")}, "next": _nullable(URI)}),
    "Feed": _obj({"name": STR, "title": STR, "categories": STRS, "language": STR, "include_cross_lists": {"type": "boolean"},
                  "latest_day": _nullable(DATE), "links": _obj({"atom": URI, "rss": URI, "json": URI, "days": URI})}),
    "FeedList": _obj({"feeds": {"type": "array", "items": _ref("Feed")}}),
    "RefreshResult": _obj({"feed": STR, "outcome": {"enum": ["published", "no_announcement", "stale", "failed"]},
                           "message": STR, "day": _nullable(DATE), "llm_calls": INT, "cost_usd": NUM,
                           "missing": STRS, "papers": {"type": "array", "items": _obj(
                               {"id": STR, "status": {"enum": ["analysed", "pending", "unavailable", "disabled"]},
                                "reasons": STRS})}}),
    "Job": _obj({"id": STR, "feed": STR, "force": {"type": "boolean"},
                 "state": {"enum": ["running", "done", "interrupted"]}, "started": DATETIME,
                 "finished": _nullable(DATETIME), "url": URI, "result": _nullable(_ref("RefreshResult"))}),
    "SearchHit": _obj({"arxiv_id": STR, "versioned_id": STR, "title": STR, "authors": STRS, "feed": STR, "date": DATE,
                       "score": NUM, "snippet": _obj({"field": {"enum": ["title", "authors", "abstract", "analysis",
                                                                         "findings"]},
                                                      "text": STR, "html": STR}),
                       "links": _obj({"paper": URI, "day": URI, "api": URI})}),
    "SearchPage": _obj({"query": STR, "feed": _nullable(STR), "page": INT, "per_page": INT, "total": INT,
                        "results": {"type": "array", "items": _ref("SearchHit")}, "next": _nullable(URI)}),
    "PaperAppearances": _obj({"paper": _ref("Paper"), "appearances": {"type": "array", "items": _obj(
        {"feed": STR, "date": DATE, "entry": _ref("Entry"), "links": DAY_LINKS})}}),
}

_FEED = {"name": "feed", "in": "path", "required": True, "schema": STR, "description": "feed name (feeds/<name>.toml)"}
_DATE = {"name": "date", "in": "path", "required": True, "schema": DATE, "description": "announcement date YYYY-MM-DD"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _get(summary: str, media: str, schema: dict, params: list[dict], errors: dict[str, str], **extra) -> dict:
    ok = {"description": "OK", "content": {media: {"schema": schema}}, **extra}
    responses = {"200": ok, "304": {"description": "Not modified (If-None-Match / If-Modified-Since)"}}
    responses.update({code: _error(text) for code, text in errors.items()})
    return {"get": {"summary": summary, "parameters": params, "responses": responses}}


_NF = {"404": "unknown feed or no published day"}
#: A reader's view of a feed: only the papers that match (answered from what is stored).
_VIEW = [{"name": n, "in": "query", "schema": {"type": "string", "maxLength": 100}, "description": d} for n, d in (
    ("q", "every word in the title, abstract, authors or analysis"),
    ("author", "an author of the paper (initials, accents and name order don't matter)"),
    ("keyword", "a word of the title or abstract"))] + [
    {"name": "min_score", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 1000},
     "description": "only papers whose ranking score is at least this (followed author 100, keyword hit 1, "
                    "2 in the title, library similarity × 150)"}]
_VIEW_ERRORS = {"400": "malformed filter", **_NF}
_BAD = {"400": "malformed date", **_NF}
_DOC = {"type": "string"}
_ARXIV_ID = {"name": "arxiv_id", "in": "path", "required": True, "schema": STR,
             "description": "arXiv id, with or without version"}
_PAPER_ERRORS = {"400": "malformed arXiv id", "404": "paper not in any published day"}
#: Search: every word of q must occur (title, authors, abstract, analysis, findings).
_SEARCH = [{"name": "q", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            "description": "words to find (each a literal word or phrase: no query syntax)"},
           {"name": "feed", "in": "query", "schema": STR, "description": "only this feed"},
           {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
           {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}]
_SEARCH_ERRORS = {"400": "missing, empty, too long or malformed q; unknown feed; malformed page or per_page",
                  "404": "page past the end", "503": "no search index yet (arxiv-digest reindex)"}
_CITATIONS = ((".bib", "BibTeX", "application/x-bibtex"), (".ris", "RIS", "application/x-research-info-systems"),
              (".json", "CSL-JSON", "application/vnd.citationstyles.csl+json"))


@cache
def openapi() -> dict:
    paths = {
        "/": _get("HTML index of feeds with feed discovery links", "text/html", _DOC, [], {}),
        "/opml": _get("OPML list of every feed", "text/x-opml", _DOC, [], {}),
        "/favicon.ico": _get("The site icon (SVG)", "image/svg+xml", _DOC, [], {}),
        "/feeds/{feed}.atom": _get("Atom subscription feed (latest days); filters give a personal view",
                                   "application/atom+xml", _DOC, [_FEED, *_VIEW], _VIEW_ERRORS),
        "/feeds/{feed}.rss": _get("RSS 2.0 feed", "application/rss+xml", _DOC, [_FEED, *_VIEW], _VIEW_ERRORS),
        "/feeds/{feed}.json": _get("JSON Feed 1.1", "application/feed+json", {"type": "object"}, [_FEED, *_VIEW],
                                   _VIEW_ERRORS),
        "/feeds/{feed}/{date}": _get("HTML day page", "text/html", _DOC, [_FEED, _DATE], _BAD),
        "/feeds/{feed}/{date}.md": _get("Markdown digest of one day", "text/markdown", _DOC, [_FEED, _DATE], _BAD),
        "/feeds/{feed}/{date}.atom": _get("RFC 5005 archive of one day", "application/atom+xml", _DOC,
                                          [_FEED, _DATE], _BAD),
        "/feeds/{feed}.zotero.atom": _get(
            "Atom feed for Zotero subscriptions: papers only, the arXiv abstract as summary, no analysis",
            "application/atom+xml", _DOC, [_FEED], _NF),
        **{f"/feeds/{{feed}}/{{date}}{ext}": _get(f"The day's papers as {name}", media, _DOC, [_FEED, _DATE], _BAD)
           for ext, name, media in _CITATIONS},
        "/papers/{arxiv_id}": _get(
            "HTML page of one paper (analysis, findings, citation tags for the Zotero Connector)", "text/html",
            _DOC, [_ARXIV_ID], _PAPER_ERRORS),
        **{f"/papers/{{arxiv_id}}{ext}": _get(f"The paper's citation as {name}", media, _DOC, [_ARXIV_ID],
                                              _PAPER_ERRORS) for ext, name, media in _CITATIONS},
        "/api/v1/feeds": _get("Every feed", "application/json", _ref("FeedList"), [], {}),
        "/api/v1/feeds/{feed}/days": _get(
            "Published days, newest first, paginated", "application/json", _ref("DaysPage"),
            [_FEED, {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
             {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
            {"400": "malformed page or per_page", "404": "unknown feed or page past the end"},
            headers={"Link": {"description": 'next page: <url>; rel="next"', "schema": STR}}),
        "/api/v1/feeds/{feed}/days/{date}": _get("One published day", "application/json", _ref("Day"),
                                                 [_FEED, _DATE], _BAD),
        "/api/v1/feeds/{feed}/days/{date}/quality": _get(
            "The quality gate's report of one day: accepted, rejected (reason codes and counts), pending",
            "application/json", _ref("Quality"), [_FEED, _DATE], _BAD),
        "/api/v1/papers/{arxiv_id}": _get(
            "A paper and every published entry of it", "application/json", _ref("PaperAppearances"),
            [_ARXIV_ID], _PAPER_ERRORS),
        "/api/v1/search": _get(
            "Search every published paper: best match (bm25) first, then newest day; snippets highlighted",
            "application/json", _ref("SearchPage"), _SEARCH, _SEARCH_ERRORS,
            headers={"Link": {"description": 'next page: <url>; rel="next"', "schema": STR}}),
        "/search": _get("HTML search page (the form without q)", "text/html", _DOC,
                        [{**_SEARCH[0], "required": False}, *_SEARCH[1:]], _SEARCH_ERRORS),
        "/opensearch.xml": _get("OpenSearch description, so a browser can add the search",
                                "application/opensearchdescription+xml", _DOC, [], {}),
        "/openapi.json": _get("This document", "application/json", {"type": "object"}, [], {}),
        "/healthz": _get("Last refresh per feed", "application/json", {"type": "object"}, [], {}),
        "/api/v1/feeds/{feed}/refresh": {"post": {
            "summary": "Start a refresh of one feed (admin); it runs outside the request",
            "security": [{"bearer": []}],
            "parameters": [_FEED, {"name": "force", "in": "query", "schema": {"type": "boolean"}}],
            "responses": {"202": {"description": "Started; poll the job's URL (also in Location)",
                                  "content": {"application/json": {"schema": _ref("Job")}}},
                          **{code: _error(text) for code, text in (
                              ("401", "missing or wrong bearer token"), ("403", "DIGEST_ADMIN_TOKEN is not set"),
                              ("404", "unknown feed"), ("409", "a refresh of this feed is running"))}}}},
        "/api/v1/jobs/{job_id}": {"get": {
            "summary": "A refresh job (admin): running, done with its result, or interrupted",
            "security": [{"bearer": []}],
            "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": STR}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": _ref("Job")}}},
                          **{code: _error(text) for code, text in (
                              ("401", "missing or wrong bearer token"), ("403", "DIGEST_ADMIN_TOKEN is not set"),
                              ("404", "no such job (jobs are kept 7 days)"))}}}},
    }
    return {"openapi": "3.1.0",
            "info": {"title": "arxiv-digest", "version": "1",
                     "description": "Enriched daily arXiv feeds. Errors are JSON {error: {code, message}}."},
            "paths": paths, "components": {"schemas": SCHEMAS, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "DIGEST_ADMIN_TOKEN"}}}}
