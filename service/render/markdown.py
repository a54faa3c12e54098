"""The seed digest's Markdown view of one day (shared/seed/README.md), part by part.

Every field that comes from arXiv or the model is untrusted: plain fields (titles, authors,
abstracts, ids, finding claims and evidence) are escaped so they render as exactly their
text, and the model's Markdown (analysis sections, summary parts) is re-written inert by
`links.inert_markdown`, so no raw HTML and no link the paper does not have reaches a reader.
"""
from __future__ import annotations

from html import escape

from ..links import escape_text, inert_markdown
from ..models import Day, EntryStatus, FeedSpec
from ..untrusted import scrub
from ..urls import Urls
from .api import DayNav
from .entry import entry_policy, labels, provenance_text, summary_policy, why_text

MARKDOWN_TYPE = "text/markdown; charset=utf-8"


def _one_line(text: str) -> str:
    """Titles and author lists must not break the block structure."""
    return " ".join(text.split())


def _text(text: str, allowed=lambda _: False) -> str:
    """One untrusted line of plain text, escaped."""
    return escape_text(_one_line(text), allowed)


def _notice(entry, lab: dict) -> str:
    text = lab[entry.status.value]
    if entry.reasons and entry.status.left_pending:
        text += f" ({lab['reason']}: {', '.join(entry.reason_codes)})"
    return f"_{_text(text)}_"


def render_markdown(spec: FeedSpec, day: Day, nav: DayNav | None = None, base: str = "") -> bytes:
    """time line, title, Executive Summary, Table of Contents, Papers; every block ends with ---."""
    day = scrub(day)
    lab = labels(spec.language)
    date = day.date.isoformat()
    out = [f"time: {day.date.strftime('%Y%m%d')}", f"# {_text(spec.title)} - {date}", "## Executive Summary"]
    if day.summary is not None:
        allowed = summary_policy(day)
        for i, (heading, body) in enumerate(day.summary.parts, 1):
            out += [f"**{i}. {_text(heading)}**", inert_markdown(body, allowed)]
    else:
        key = "summary_disabled" if day.summary_status is EntryStatus.DISABLED else "summary_pending"
        out.append(f"_{lab[key]}_")
    out += ["---", "## Table of Contents"]
    out.append("\n".join(f"{i}. [{_text(e.paper.title)}](#{escape(e.paper.versioned_id)})"
                         for i, e in enumerate(day.entries, 1)))
    out += ["---", "## Papers"]
    for e in day.entries:
        p = e.paper
        allowed = entry_policy(e)
        out += [f"<a id='{escape(p.versioned_id)}'></a>\n## [{_text(p.title)}]({p.versioned_abs_url})",
                f"**Authors:** {_text(', '.join(p.authors))}",
                f"**Published:** {p.published.date().isoformat()}",
                f"**Categories:** {_text(', '.join(p.categories))}",
                *([f"**{_text(lab['why'])}:** {_text(why_text(e, spec.language))}"] if e.why else []),
                "**Abstract:**", _text(p.abstract, allowed), "**Analysis:**"]
        a = e.analysis
        if e.status is EntryStatus.ANALYSED and a is not None:
            out.append(f"_{_text(lab['source'])}: {_text(lab[a.source])} · "
                       f"{_text(lab['framework_' + a.framework])} · {_text(a.model)}_")
            for i, (heading, body) in enumerate(a.sections, 1):
                out += [f"**{i}. {_text(heading)}**", inert_markdown(body, allowed)]
            out.append(f"_{_text(provenance_text(a, lab))}_")
        else:
            out.append(_notice(e, lab))
        out.append("**Key Findings:**")
        findings = [f"- {_text(f.claim, allowed)}" + ("" if f.claim == f.evidence else
                                                      f"\n  > {_text(lab['evidence'])}: “{_text(f.evidence, allowed)}”")
                    for f in e.findings]
        out.append("\n".join(findings) or "-")
        out += ["**Links:**", f"- [{lab['page']}]({Urls(base).paper(p.arxiv_id)})\n- [PDF]({p.pdf_url})\n"
                f"- [arXiv]({p.versioned_abs_url})", "---"]
    return ("\n\n".join(out) + "\n").encode()
