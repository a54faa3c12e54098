"""A sample day for the first minutes: until any feed has published a day, the service
shows one clearly labelled feed built from recorded data, so the index, a day page and
every format have real content offline.

The data is what the tests use: the papers of arXiv's cs.CV announcement of 2026-01-28
(`data/sample/papers.json`) and the analyses that were published for them in the digest
this service grew from (`data/sample/digest-2026-01-28.md`). Every recorded analysis goes
through the quality gate like a live one: what fails it (three of the ten did, in the
original) is shown as pending, never published.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from pathlib import Path

from . import decisions, gate
from .enrich import abstract_findings
from .models import (AnnounceType, Analysis, DailySummary, Day, Entry, EntryStatus, FeedSpec, PaperMeta,
                     Reason, TextSource, utcnow)
from .prompts import PromptLibrary

#: The sample feed's name (and URL segment); not used when a feed spec of that name exists.
SAMPLE_FEED = "sample"
SAMPLE_DATE = dt.date(2026, 1, 28)
#: Stands in the model field of every recorded analysis: it was not made by this service.
RECORDED = "recorded (the seed digest of 2026-01-28)"
HOW_TO_PUBLISH = ("This is a sample built from a recorded day (arXiv cs.CV, 2026-01-28); run "
                  "`arxiv-digest refresh` (with ANTHROPIC_API_KEY set for analyses) to publish today's papers.")
_ANCHOR = re.compile(r"^<a id='(?P<id>[^']+)'></a>$", re.M)


def sample_spec() -> FeedSpec:
    return FeedSpec(name=SAMPLE_FEED, path=Path("sample"), title="Sample (recorded day) — arXiv cs.CV",
                    categories=("cs.CV",), language="zh", max_papers=0, model=RECORDED)


def _data(name: str) -> str:
    return resources.files("service").joinpath(f"data/sample/{name}").read_text("utf-8")


def _papers() -> list[PaperMeta]:
    out = []
    for p in json.loads(_data("papers.json")):
        when = dt.datetime.combine(dt.date.fromisoformat(p["published"]), dt.time(), dt.timezone.utc)
        out.append(PaperMeta(p["id"], p["version"], p["title"], tuple(p["authors"]), p["abstract"],
                             tuple(p["categories"]), when, when))
    return out


def _blocks(digest: str) -> dict[str, str]:
    """The seed digest's text per paper (versioned id → its block)."""
    marks = list(_ANCHOR.finditer(digest))
    return {m["id"]: digest[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(digest)]
            for i, m in enumerate(marks)}


def _between(text: str, start: str, end: str) -> str:
    if start not in text:
        return ""
    rest = text.split(start, 1)[1]
    return rest.split(end, 1)[0].strip() if end in rest else rest.strip()


def _entry(paper: PaperMeta, block: str, prompts: PromptLibrary, now: dt.datetime) -> Entry:
    source = f"{paper.title}\n{paper.abstract}"
    text = _between(block, "**Analysis:**", "**Key Findings:**")
    bullets = [line[2:].strip() for line in _between(block, "**Key Findings:**", "**Links:**").splitlines()
               if line.startswith("- ")]
    findings, _ = gate.ground_findings([{"claim": b, "evidence": b} for b in bullets], source)
    frameworks = prompts.frameworks
    verdict = gate.check_analysis_text(text, "zh", frameworks, None)
    framework, sections, _, _ = gate.split_sections(text, frameworks)
    if "This copy omits this paper's analysis" in text:
        verdict = gate.Verdict([Reason("omitted", "the recorded digest left this analysis out: it was the "
                                                     "kind of output the quality gate rejects")])
    if not verdict.ok or framework is None:
        reasons = tuple(verdict.reasons) or (Reason("missing_section", "no analysis recorded"),)
        return Entry(paper, AnnounceType.NEW, EntryStatus.UNAVAILABLE, TextSource.ABSTRACT, None,
                     tuple(findings) or abstract_findings(paper.abstract), reasons, updated=now)
    # recorded without its source text: structure and content are checked, grounding is not
    parts = gate.check_sections(sections, framework, "zh", text, gate.Verdict(), grounded=False)
    source_kind = TextSource.ABSTRACT if framework.name == "abstract" else TextSource.PDF
    analysis = Analysis(framework.name, source_kind, "zh", RECORDED, "sample", tuple(parts),
                        tuple(findings), now)
    return Entry(paper, AnnounceType.NEW, EntryStatus.ANALYSED, source_kind, analysis, analysis.findings,
                 updated=now)


def _summary(digest: str, papers: list[PaperMeta], prompts: PromptLibrary, now: dt.datetime) -> DailySummary | None:
    text = _between(digest, "## Executive Summary", "## Table of Contents")
    framework = prompts.frameworks["summary"]
    _, sections, _, _ = gate.split_sections(text, {"daily": framework})
    verdict = gate.Verdict()
    source = "\n".join(f"{p.title}\n{p.abstract}" for p in papers)
    parts = gate.check_sections(sections, framework, "zh", source, verdict)
    return DailySummary("zh", RECORDED, "sample", tuple(parts), now) if verdict.ok and parts else None


def sample_day(prompts: PromptLibrary, now: dt.datetime | None = None) -> Day:
    """The recorded day, every analysis through the gate."""
    now = now or utcnow()
    digest = _data("digest-2026-01-28.md")
    papers = _papers()
    blocks = _blocks(digest)
    entries = [_entry(p, blocks.get(p.versioned_id, ""), prompts, now) for p in papers]
    summary = _summary(digest, papers, prompts, now)
    # stamped as a refresh stamps a day: each entry its own `updated` (validators require it)
    return decisions.stamp_day(SAMPLE_FEED, SAMPLE_DATE, entries, summary,
                               EntryStatus.ANALYSED if summary else EntryStatus.UNAVAILABLE,
                               missing=(), cost_usd=0.0, prev=None, now=now)
