"""The HTML body of an entry (paper or daily summary), shared by every feed format."""
from __future__ import annotations

from html import escape

from .. import links
from ..models import UNKNOWN, Analysis, Day, Entry, EntryStatus, PaperMeta, TextSource
from .text import Policy, markdown_html, sanitize

LABELS = {
    "zh": {
        "source": "分析依据",
        "fulltext": "全文", "abstract": "仅摘要（未能获取全文）",
        TextSource.HTML: "arXiv HTML 全文", TextSource.PDF: "PDF 全文", TextSource.ABSTRACT: "摘要",
        "framework_fulltext": "七段式方法分析", "framework_abstract": "五段式摘要分析",
        "findings": "关键发现", "evidence": "原文依据",
        "links": "链接", "page": "论文页", "summary_title": "每日总结", "contents": "今日论文",
        "pending": "分析待定：模型的回答未通过质量检查，将在下次刷新时重试。",
        "unavailable": "分析不可用：多次尝试均未通过质量检查。",
        "disabled": "分析未启用：本服务未配置 LLM 密钥，以下关键发现直接摘自摘要。",
        "summary_pending": "每日总结待定：将在下次刷新时重试。",
        "summary_disabled": "每日总结未启用：本服务未配置 LLM 密钥。",
        "reason": "原因", "why": "入选原因", "score": "得分",
        "provenance": "出处", "prov_model": "模型", "prov_prompt": "提示词", "prov_gate": "质量检查版本",
        "prov_judge": "复核模型", "prov_fulltext": "全文", "prov_abstract": "摘要", "prov_unknown": "未知",
    },
    "en": {
        "source": "Analysed from",
        "fulltext": "full text", "abstract": "abstract only (no full text available)",
        TextSource.HTML: "full text (arXiv HTML)", TextSource.PDF: "full text (PDF)",
        TextSource.ABSTRACT: "abstract only",
        "framework_fulltext": "seven-part method analysis", "framework_abstract": "five-part abstract analysis",
        "findings": "Key findings", "evidence": "Evidence",
        "links": "Links", "page": "Paper page", "summary_title": "Daily summary", "contents": "Today's papers",
        "pending": "Analysis pending: the model's answer did not pass the quality check; "
                   "it will be retried on the next refresh.",
        "unavailable": "Analysis unavailable: repeated attempts did not pass the quality check.",
        "disabled": "Analysis disabled: this service runs without an LLM key. "
                    "The key findings below are sentences quoted from the abstract.",
        "summary_pending": "Daily summary pending: it will be retried on the next refresh.",
        "summary_disabled": "Daily summary disabled: this service runs without an LLM key.",
        "reason": "Reason", "why": "Why this paper", "score": "score",
        "provenance": "Provenance", "prov_model": "model", "prov_prompt": "prompt", "prov_gate": "gate",
        "prov_judge": "judge", "prov_fulltext": "full text", "prov_abstract": "abstract", "prov_unknown": "unknown",
    },
}


def labels(language: str) -> dict:
    return LABELS.get(language, LABELS["en"])


def provenance_text(a: Analysis, lab: dict) -> str:
    """One plain line: model, prompt hash, source kind, gate version (and judge, if one was asked)."""
    p = a.provenance_of()
    kind = lab.get(f"prov_{p.source_kind}", p.source_kind)
    gate = lab["prov_unknown"] if p.gate_version == UNKNOWN else p.gate_version
    parts = [f"{lab['prov_model']} {p.model}", f"{lab['prov_prompt']} {p.prompt_hash[:12]}", kind,
             f"{lab['prov_gate']} {gate}"] + ([f"{lab['prov_judge']} {p.judge_model}"] if p.judge_model else [])
    return f"{lab['provenance']}: " + " · ".join(parts)


def paper_links(p: PaperMeta) -> set[str]:
    """The links we generate for a paper (arXiv pages, its PDF, its DOI)."""
    doi = p.doi or f"10.48550/arXiv.{p.arxiv_id}"
    return {p.abs_url, p.versioned_abs_url, p.pdf_url, f"https://doi.org/{doi}"}


def entry_policy(entry: Entry, ours: tuple[str, ...] = ()) -> Policy:
    """Live links of an entry: what its paper's text has, what we generate for it at arXiv,
    and `ours` (our own page of the paper)."""
    p = entry.paper
    found = entry.analysis.source_links if entry.analysis is not None else ()
    return links.policy("\n".join([p.title, p.abstract, *found]), paper_links(p) | set(ours))


def summary_policy(day: Day) -> Policy:
    """The summary was written from the day's titles and abstracts: their links, and ours."""
    return links.policy("\n".join(f"{e.paper.title}\n{e.paper.abstract}" for e in day.entries),
                        set().union(*(paper_links(e.paper) for e in day.entries)))


def why_text(entry: Entry, language: str) -> str:
    """The reasons and the score in one line ("" for a paper that is only listed)."""
    if not entry.why:
        return ""
    score = f" ({labels(language)['score']} {entry.score:g})" if entry.score is not None else ""
    return "; ".join(entry.why) + score


def _notice(entry: Entry, lab: dict) -> str:
    text = lab[entry.status.value]
    if entry.reasons and entry.status.left_pending:
        codes = ", ".join(entry.reason_codes)
        text = f"{text} ({lab['reason']}: {codes})"
    return f'<p class="notice"><em>{escape(text)}</em></p>'


def entry_html(entry: Entry, language: str, page_url: str | None = None) -> str:
    """The analysis (or why there is none), the findings with their evidence, and links:
    our page of the paper (`page_url`) first, then the PDF and arXiv."""
    lab = labels(language)
    allowed = entry_policy(entry, (page_url,) if page_url else ())
    parts = []
    if entry.why:
        parts.append(f'<p class="why"><strong>{escape(lab["why"])}:</strong> {escape(why_text(entry, language))}</p>')
    a = entry.analysis
    if entry.status is EntryStatus.ANALYSED and a is not None:
        framework = lab[f"framework_{a.framework}"]
        parts.append(f"<p><strong>{escape(lab['source'])}:</strong> {escape(lab[a.source])} · "
                     f"{escape(framework)} · {escape(a.model)}</p>")
        for i, (heading, body) in enumerate(a.sections, 1):
            parts.append(f"<h3>{i}. {escape(heading)}</h3>\n{markdown_html(body, allowed)}")
    else:
        parts.append(_notice(entry, lab))
    if entry.findings:
        items = "".join(
            f"<li>{escape(f.claim)}" + ("" if f.claim == f.evidence else
                                        f"<blockquote>{escape(lab['evidence'])}: “{escape(f.evidence)}”</blockquote>")
            + "</li>" for f in entry.findings)
        parts.append(f"<h3>{escape(lab['findings'])}</h3><ul>{items}</ul>")
    p = entry.paper
    page = f'<a href="{escape(page_url)}">{escape(lab["page"])}</a> · ' if page_url else ""
    parts.append(f'<p>{escape(lab["links"])}: {page}<a href="{escape(p.pdf_url)}">PDF</a> · '
                 f'<a href="{escape(p.versioned_abs_url)}">arXiv</a></p>')
    if entry.status is EntryStatus.ANALYSED and a is not None:
        parts.append(f'<p class="provenance"><em>{escape(provenance_text(a, lab))}</em></p>')
    return sanitize("\n".join(parts), allowed)


def summary_html(day: Day, language: str, contents: bool = True) -> str:
    """The summary's parts; feeds add the day's paper list (`contents`), the day page has its own."""
    lab = labels(language)
    allowed = summary_policy(day)
    parts = []
    if day.summary is not None:
        for i, (heading, body) in enumerate(day.summary.parts, 1):
            parts.append(f"<h3>{i}. {escape(heading)}</h3>\n{markdown_html(body, allowed)}")
    else:
        key = "summary_disabled" if day.summary_status is EntryStatus.DISABLED else "summary_pending"
        parts.append(f'<p class="notice"><em>{escape(lab[key])}</em></p>')
    if contents:
        toc = "".join(f'<li><a href="{escape(e.paper.versioned_abs_url)}">{escape(e.paper.title)}</a></li>'
                      for e in day.entries)
        parts.append(f"<h3>{escape(lab['contents'])}</h3><ol>{toc}</ol>")
    return sanitize("\n".join(parts), allowed)
