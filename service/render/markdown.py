"""The seed digest's Markdown view of one day (shared/seed/README.md), part by part."""
from __future__ import annotations

from ..models import Day, EntryStatus, FeedSpec
from ..urls import Urls
from .api import DayNav
from .entry import labels

MARKDOWN_TYPE = "text/markdown; charset=utf-8"


def _one_line(text: str) -> str:
    """Titles and author lists must not break the block structure."""
    return " ".join(text.split())


def _link_text(text: str) -> str:
    return _one_line(text).replace("[", r"\[").replace("]", r"\]")


def _notice(entry, lab: dict) -> str:
    text = lab[entry.status.value]
    if entry.reasons and entry.status in (EntryStatus.PENDING, EntryStatus.UNAVAILABLE):
        text += f" ({lab['reason']}: {', '.join(entry.reason_codes)})"
    return f"_{text}_"


def render_markdown(spec: FeedSpec, day: Day, nav: DayNav | None = None, base: str = "") -> bytes:
    """time line, title, Executive Summary, Table of Contents, Papers; every block ends with ---."""
    lab = labels(spec.language)
    date = day.date.isoformat()
    out = [f"time: {day.date.strftime('%Y%m%d')}", f"# {spec.title} - {date}", "## Executive Summary"]
    if day.summary is not None:
        for i, (heading, body) in enumerate(day.summary.parts, 1):
            out += [f"**{i}. {_one_line(heading)}**", body.strip()]
    else:
        key = "summary_disabled" if day.summary_status is EntryStatus.DISABLED else "summary_pending"
        out.append(f"_{lab[key]}_")
    out += ["---", "## Table of Contents"]
    out.append("\n".join(f"{i}. [{_link_text(e.paper.title)}](#{e.paper.versioned_id})"
                         for i, e in enumerate(day.entries, 1)))
    out += ["---", "## Papers"]
    for e in day.entries:
        p = e.paper
        out += [f"<a id='{p.versioned_id}'></a>\n## [{_link_text(p.title)}]({p.versioned_abs_url})",
                f"**Authors:** {_one_line(', '.join(p.authors))}",
                f"**Published:** {p.published.date().isoformat()}",
                f"**Categories:** {', '.join(p.categories)}",
                "**Abstract:**", p.abstract.strip(), "**Analysis:**"]
        a = e.analysis
        if e.status is EntryStatus.ANALYSED and a is not None:
            out.append(f"_{lab['source']}: {lab[a.source]} · {lab['framework_' + a.framework]} · {a.model}_")
            for i, (heading, body) in enumerate(a.sections, 1):
                out += [f"**{i}. {_one_line(heading)}**", body.strip()]
        else:
            out.append(_notice(e, lab))
        out.append("**Key Findings:**")
        findings = [f"- {_one_line(f.claim)}" + ("" if f.claim == f.evidence else
                                                 f"\n  > {lab['evidence']}: “{_one_line(f.evidence)}”")
                    for f in e.findings]
        out.append("\n".join(findings) or "-")
        out += ["**Links:**", f"- [{lab['page']}]({Urls(base).paper(p.arxiv_id)})\n- [PDF]({p.pdf_url})\n"
                f"- [arXiv]({p.versioned_abs_url})", "---"]
    return ("\n\n".join(out) + "\n").encode()
