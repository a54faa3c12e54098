"""Rank before you pay: one cheap call per day scores every candidate paper of a feed from
its title and abstract, so only the top `max_papers` get full analyses.

Opt-in per feed (`triage = true`, or a `triage_model`). The call goes through the
Enricher's one path (claim, budget reservation, call log, one corrected retry, cache),
and its answer through a gate like every other: the tool's schema, ids only from the
candidate set, every candidate scored once. If triage cannot be had today (no key, over
budget, rejected twice), the feed's keyword ranking decides, as without triage.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace

from .gate.verdict import Verdict
from .models import EntryStatus, FeedSpec, ListingItem, utcnow
from .select import select
from .store import SCHEMA

#: Output budget of the triage call: a short object per paper.
TRIAGE_MAX_TOKENS = 8192
TRIAGE_TOOL = "record_triage"


@dataclass(frozen=True)
class Triage:
    """The day's relevance scores (0-10) by versioned id, as cached after the gate."""

    scores: tuple[tuple[str, float], ...]
    model: str
    prompt_hash: str
    created: dt.datetime
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


def triage_key(spec: FeedSpec, date: dt.date, model: str, prompt_hash: str, ids: list[str]) -> str:
    papers = hashlib.sha256(",".join(ids).encode()).hexdigest()[:16]
    return f"{SCHEMA}:triage:{spec.name}:{date.isoformat()}:{model}:{prompt_hash}:{papers}"


def judge(reply, candidates: list[str]) -> tuple[Verdict, Triage | None]:
    """The gate for a triage answer: structured, complete, and about these papers only."""
    verdict = Verdict()
    if reply.stop_reason == "max_tokens":
        verdict.add("truncated", "the answer was cut off (stop_reason=max_tokens)")
    if not isinstance(reply.tool_input, dict):
        verdict.add("no_structure", "the model answered in prose instead of calling the tool")
        return verdict, None
    rows = reply.tool_input.get("scores")
    rows = rows if isinstance(rows, list) else []
    wanted, seen, scores = set(candidates), set(), []
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) \
                or not isinstance(row.get("score"), (int, float)) or isinstance(row.get("score"), bool):
            continue  # the schema check names the shape problem
        pid, score = row["id"].strip(), float(row["score"])
        if pid not in wanted:
            verdict.add("unknown_id", f"scored a paper that is not a candidate: {pid[:40]!r}")
        elif pid in seen:
            verdict.add("duplicate_id", f"scored {pid} more than once")
        else:
            seen.add(pid)
            scores.append((pid, min(10.0, max(0.0, score))))
    if missing := [c for c in candidates if c not in seen]:
        verdict.add("missing_id", f"{len(missing)} candidates not scored, e.g. {missing[0]}")
    return verdict, Triage(tuple(scores), reply.model, "", utcnow())


def choose(spec: FeedSpec, items: tuple[ListingItem, ...], scores: dict[str, float]) -> list[ListingItem]:
    """The spec's selection with the cap applied by triage score (keyword rank breaks ties);
    followed authors are kept past the cap, as without triage."""
    from .select import AUTHOR_SCORE, rank

    candidates = select(replace(spec, max_papers=0), items)
    order = sorted(range(len(candidates)), key=lambda i: (-scores.get(candidates[i].versioned_id, 0.0), i))
    ranked = [candidates[i] for i in order]
    capped = ranked[:spec.max_papers] if spec.max_papers else ranked
    taken = {i.arxiv_id for i in capped}
    followed = [i for i in ranked if i.arxiv_id not in taken and rank(spec, i).score >= AUTHOR_SCORE]
    return capped + followed


def scores_for(enricher, spec: FeedSpec, date: dt.date, items: tuple[ListingItem, ...]) -> dict[str, float] | None:
    """Today's triage scores, or None when triage is off, not needed, or not to be had."""
    if not (spec.triage or spec.triage_model) or not spec.max_papers:
        return None
    candidates = select(replace(spec, max_papers=0), items)
    if len(candidates) <= spec.max_papers or not enricher.enabled_for(spec):
        return None
    outcome = enricher.triage(spec, date, candidates)
    if outcome.status is not EntryStatus.ANALYSED:
        return None
    return dict(outcome.result.scores)
