"""JSON API documents: the domain objects as typed JSON, shared by the API and JSON Feed."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from ..links import inert_markdown, without_links
from ..models import Analysis, DailySummary, Day, Entry, EntryStatus, FeedSpec, Finding, PaperMeta
from ..urls import Urls
from .entry import entry_policy, summary_policy
from .text import Policy
from ..untrusted import scrub

JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class DayNav:
    """A day's neighbours among the feed's published days (for archive and page links)."""

    prev: dt.date | None = None
    next: dt.date | None = None


def dumps(doc: Any) -> bytes:
    """Stable bytes (sorted keys) so the ETag only moves when the data does."""
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def day_links(base: str, feed: str, date: dt.date) -> dict[str, str]:
    urls = Urls(base)
    return {"self": urls.day(feed, date, "api"), "html": urls.day(feed, date),
            "markdown": urls.day(feed, date, "md"), "atom": urls.day(feed, date, "atom"),
            "quality": urls.day(feed, date, "quality")}


def paper_json(p: PaperMeta) -> dict:
    return {"arxiv_id": p.arxiv_id, "version": p.version, "versioned_id": p.versioned_id,
            "title": p.title, "authors": list(p.authors), "abstract": p.abstract,
            "categories": list(p.categories), "published": iso(p.published), "updated": iso(p.updated),
            "doi": p.doi, "journal_ref": p.journal_ref, "comment": p.comment,
            "links": {"abs": p.versioned_abs_url, "pdf": p.pdf_url}}


def finding_json(f: Finding) -> dict:
    return {"claim": f.claim, "evidence": f.evidence}


def analysis_json(a: Analysis, allowed: Policy) -> dict:
    """Section bodies are Markdown, made inert: only links the paper has stay links."""
    return {"framework": a.framework, "source": a.source.value, "language": a.language, "model": a.model,
            "created": iso(a.created),
            "sections": [{"heading": h, "body": inert_markdown(b, allowed)} for h, b in a.sections],
            "usage": usage_json(a), "provenance": a.provenance_of().as_dict()}


def usage_json(result: Analysis | DailySummary) -> dict:
    """Tokens and dollars of the call that produced a published result."""
    return {"input_tokens": result.input_tokens, "output_tokens": result.output_tokens,
            "cost_usd": result.cost_usd}


def entry_json(e: Entry) -> dict:
    return {"paper": paper_json(e.paper), "announce_type": e.announce_type.value, "status": e.status.value,
            "source": e.source.value,
            "analysis": analysis_json(e.analysis, entry_policy(e)) if e.analysis else None,
            "findings": [finding_json(f) for f in e.findings],
            # a reason may quote the refused link: the reader gets the reason, never the link
            "reasons": [without_links(str(r)) for r in e.reasons],
            "why": list(e.why), "score": e.score,
            "updated": iso(e.updated)}


def summary_json(s: DailySummary, allowed: Policy) -> dict:
    return {"language": s.language, "model": s.model, "created": iso(s.created),
            "parts": [{"heading": h, "body": inert_markdown(b, allowed)} for h, b in s.parts],
            "usage": usage_json(s)}


def day_ref_json(day: Day, base: str) -> dict:
    return {"date": iso(day.date), "published": iso(day.published), "updated": iso(day.updated),
            "papers": len(day.entries), "links": day_links(base, day.feed, day.date)}


def day_json(spec: FeedSpec, day: Day, nav: DayNav, base: str) -> dict:
    links = day_links(base, day.feed, day.date)
    for rel, date in (("prev", nav.prev), ("next", nav.next)):
        links[rel] = day_links(base, day.feed, date)["self"] if date else None
    return {"feed": spec.name, "date": iso(day.date), "published": iso(day.published),
            "updated": iso(day.updated), "summary_status": day.summary_status.value,
            "summary": summary_json(day.summary, summary_policy(day)) if day.summary else None,
            "entries": [entry_json(e) for e in day.entries], "missing": list(day.missing),
            "cost_usd": day.cost_usd, "links": links}


def feed_json(spec: FeedSpec, latest: dt.date | None, base: str) -> dict:
    return {"name": spec.name, "title": spec.title, "categories": list(spec.categories),
            "language": spec.language, "include_cross_lists": spec.include_cross_lists,
            "latest_day": iso(latest),
            "links": {**{fmt: Urls(base).feed(spec.name, fmt) for fmt in ("atom", "rss", "json")},
                      "days": Urls(base).api_days(spec.name)}}


def render_api_day(spec: FeedSpec, day: Day, nav: DayNav, base: str) -> bytes:
    return dumps(day_json(spec, scrub(day), nav, base))


def render_api_feeds(specs: list[FeedSpec], latest: dict[str, dt.date | None], base: str) -> bytes:
    return dumps({"feeds": [feed_json(s, latest.get(s.name), base) for s in specs]})


def render_api_days(spec: FeedSpec, days: list[Day], page: int, per_page: int, total: int,
                    next_url: str | None, base: str) -> bytes:
    return dumps({"feed": spec.name, "page": page, "per_page": per_page, "total": total,
                  "days": [day_ref_json(d, base) for d in days], "next": next_url})


def render_api_paper(appearances: list[tuple[FeedSpec, Day, Entry]], base: str) -> bytes:
    """The newest appearance's paper, and every published entry of it (newest first)."""
    appearances = [(spec, day, scrub(entry)) for spec, day, entry in appearances]
    newest = appearances[0][2]
    return dumps({"paper": paper_json(newest.paper), "appearances": [
        {"feed": spec.name, "date": iso(day.date), "entry": entry_json(entry),
         "links": day_links(base, spec.name, day.date)} for spec, day, entry in appearances]})


#: Reason codes that are not the gate's verdict on an answer (the paper waits for money, the
#: API or another process): counted, but not as rejections.
NOT_A_REJECTION = {"budget", "llm_error", "busy"}


def quality_json(spec: FeedSpec, day: Day, base: str) -> dict:
    """The gate's record for one day, so anyone can audit it: how many analyses were accepted
    (with the gate version that passed each), which are pending or unavailable and why (reason
    codes and counts; the second-opinion judge's `judge` rejections separately)."""
    counts = {s.value: 0 for s in EntryStatus}
    rejected: dict[str, int] = {}
    entries = []
    for e in day.entries:
        counts[e.status.value] += 1
        codes = list(e.reason_codes) if e.status is not EntryStatus.ANALYSED else []
        for code in codes:
            if code not in NOT_A_REJECTION:
                rejected[code] = rejected.get(code, 0) + 1
        prov = e.analysis.provenance_of() if e.analysis is not None and e.status is EntryStatus.ANALYSED else None
        entries.append({"versioned_id": e.paper.versioned_id, "status": e.status.value, "reason_codes": codes,
                        "gate_version": prov.gate_version if prov else None,
                        "source_kind": prov.source_kind if prov else None})
    rejected_papers = sum(1 for x in entries if any(c not in NOT_A_REJECTION for c in x["reason_codes"]))
    return {"feed": spec.name, "date": iso(day.date), "updated": iso(day.updated), "papers": len(day.entries),
            "accepted": counts[EntryStatus.ANALYSED.value],
            "pending": counts[EntryStatus.PENDING.value], "unavailable": counts[EntryStatus.UNAVAILABLE.value],
            "disabled": counts[EntryStatus.DISABLED.value],
            "rejected": {"papers": rejected_papers, "reasons": dict(sorted(rejected.items())),
                         "judge": rejected.get("judge", 0)},
            "gate_versions": dict(sorted(_tally(x["gate_version"] for x in entries if x["gate_version"]).items())),
            "summary_status": day.summary_status.value, "entries": entries,
            "links": {"day": day_links(base, spec.name, day.date)["self"],
                      "self": day_links(base, spec.name, day.date)["quality"]}}


def _tally(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def render_api_quality(spec: FeedSpec, day: Day, nav: DayNav, base: str) -> bytes:
    return dumps(quality_json(spec, scrub(day), base))
