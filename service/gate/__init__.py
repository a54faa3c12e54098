"""The quality gate: every LLM output gets a verdict before anything stores or publishes it.

Pure functions, one module per family of checks (structure, refusal/meta-talk, leaks,
grounding, language, loops, specificity); this module puts them together. Each failed check
adds a `Reason(code, detail)` to a `Verdict`. Entry points:

- `judge_analysis_reply` / `judge_summary_reply`: a tool-call reply (what enrich.py gets);
- `check_analysis_text`: an analysis as plain Markdown (lint-analysis, the labelled corpus).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import Finding
from ..prompts import Framework
from . import grounding, leaks, loops, refusal, specificity, structure
from .foreign import MARKUP, URL, check_foreign, links
from .grounding import MIN_EVIDENCE_CHARS, ground_findings
from .language import cjk_share, language_problem
from .loops import NGRAM, ngram_repetition, repetition
from .structure import MIN_SECTION_CHARS, PLACEHOLDER, PREAMBLE, split_sections, strip_preamble
from .text import LATIN, normalize, without_quotes
from .verdict import Reason, Verdict

__all__ = ["Reason", "Verdict", "Judged", "judge_analysis_reply", "judge_summary_reply", "check_analysis_text",
           "check_sections", "check_stop", "check_text", "check_language", "check_loop", "ground_findings",
           "strip_preamble", "normalize", "repetition", "ngram_repetition", "cjk_share", "links", "check_foreign",
           "URL", "MARKUP", "PLACEHOLDER", "PREAMBLE", "NGRAM", "MIN_SECTION_CHARS", "MIN_EVIDENCE_CHARS",
           "split_sections", "GATE_VERSION"]

#: Goes into provenance: which rules judged a published analysis.
GATE_VERSION = "12"
#: A source this short with no section structure is an abstract, not a full text.
ABSTRACT_MAX_CHARS = 4000


@dataclass(frozen=True)
class Judged:
    """A reply's verdict and what would be published from it (cleaned parts, grounded findings)."""
    verdict: Verdict
    sections: tuple[tuple[str, str], ...] = ()
    findings: tuple[Finding, ...] = ()


# --- single families, as checks on a verdict ---------------------------------------------
def check_language(text: str, language: str, verdict: Verdict, where: str) -> None:
    problem = language_problem(text, language)
    if problem:
        verdict.add("language", f"{where} is {problem}")


def check_loop(text: str, verdict: Verdict, where: str) -> None:
    problem = loops.loop_problem(text)
    if problem:
        verdict.add("repetition", f"{where}: {problem}")


def check_meta(text: str, verdict: Verdict, where: str, *, opening: bool = False) -> None:
    found = refusal.meta_talk(text, opening=opening)
    if found:
        kind, sentence = found[0]
        verdict.add("refusal", f"{where} talks to the reader or about its own input ({kind}): {sentence!r}")


def check_leaks(text: str, verdict: Verdict, where: str, source: str = "", whole_answer: bool = False) -> None:
    found = leaks.leaks(text, whole_answer=whole_answer, source=source)
    if found:
        kind, excerpt = found[0]
        verdict.add("leak", f"{where} leaks {kind}: {excerpt!r}")


def check_text(text: str, language: str, verdict: Verdict, where: str = "answer", source: str = "") -> None:
    """Checks that apply to any LLM prose: refusal and meta-talk, loops, language, leaks."""
    if not isinstance(text, str):
        return
    check_meta(text, verdict, where)
    share, top = repetition(text)
    if share >= 0.2 or top >= 3:
        verdict.add("repetition", f"{where}: {share:.0%} of the text is repeated sentences (one sentence {top}×)")
    check_language(text, language, verdict, where)
    if "leak" not in verdict.codes:
        check_leaks(text, verdict, where, source)


#: Each kind of checkable specific: what finds the ones missing from the source, and how to say so.
_GROUNDING = (
    (grounding.ungrounded_numbers, lambda found: f"numbers that are not in the source: {', '.join(found[:5])}"),
    (grounding.ungrounded_counts, lambda found: f"counts that are not in the source: {', '.join(found[:5])}"),
    (grounding.conflicting_numbers,
     lambda found: f"numbers the source states otherwise: {', '.join(found[:5])}"),
    (grounding.conflicting_counts, lambda found: f"counts the source states otherwise: {', '.join(found[:5])}"),
    (grounding.conflicting_settings,
     lambda found: f"numbers the source states otherwise (a setting): {', '.join(found[:5])}"),
    (grounding.ungrounded_names, lambda found: f"names that are not in the source: {', '.join(found[:5])}"),
    (grounding.ungrounded_code_claim,
     lambda found: f"claims released code or data that the source does not mention: {found!r}"),
    (grounding.ungrounded_quotes, lambda found: f"quoted evidence is not in the source: {found[0][:50]!r}"),
    (grounding.ungrounded_refs, lambda found: f"points to parts of the paper the source does not have: "
                                              f"{', '.join(found[:3])}"),
)


def check_grounding(text: str, source_text: str, verdict: Verdict) -> None:
    """Every checkable specific anywhere in the analysis must be in the source."""
    if not source_text.strip():
        return
    for find, say in _GROUNDING:
        found = find(text, source_text)
        if found:
            verdict.add("ungrounded", say(found))


def check_sections(sections: dict, framework: Framework, language: str, source_text: str,
                   verdict: Verdict, *, grounded: bool = True) -> list[tuple[str, str]]:
    """Structure and content of each framework part; returns (heading, cleaned body).
    `grounded=False`: the source is not the text the answer was written from (lint without
    --source): no specificity or grounding against it."""
    sections = sections if isinstance(sections, dict) else {}
    out: list[tuple[str, str]] = []
    for i, sec in enumerate(framework.sections):
        heading = sec.headings[language] if language in sec.headings else sec.key
        where = f"part {i + 1} ({heading})"
        raw = sections.get(sec.key)
        if not isinstance(raw, str) or not raw.strip():
            verdict.add("missing_section", f"{where} is missing or empty")
            continue
        body = strip_preamble(raw) if i == 0 else raw.strip()
        if i == 0 and body != raw.strip():
            check_meta(raw.strip()[:len(raw.strip()) - len(body)], verdict, "the opening", opening=True)
        problem = structure.part_problem(body, heading, sec.key, sec.instruction)
        if problem:
            verdict.add(problem[0], f"{where} {problem[1]}")
        else:
            check_language(body, language, verdict, where)
            check_loop(body, verdict, where)
            others = "\n".join(v for k, v in sections.items() if k != sec.key and isinstance(v, str))
            if grounded and source_text.strip() and specificity.generic_part(body, source_text, language, others, sec.key):
                verdict.add("generic", f"{where} shares no specific term with the paper: {body[:50]!r}")
        out.append((heading, body))
    bodies = "\n".join(b for _, b in out)
    if "refusal" not in verdict.codes:
        check_meta(bodies, verdict, "the answer")
    share, top = repetition(bodies)
    if "repetition" not in verdict.codes and (share >= 0.2 or top >= 3):
        verdict.add("repetition", f"the answer: {share:.0%} of the text is repeated sentences (one sentence {top}×)")
    if "language" not in verdict.codes:
        check_language(bodies, language, verdict, "the answer")
    check_leaks(bodies, verdict, "the answer", source_text)
    check_foreign(bodies, source_text, verdict)
    if grounded:
        check_grounding(bodies, source_text, verdict)
        if source_text.strip():
            if "refusal" not in verdict.codes and language == "en":
                talk = refusal.document_talk(bodies, source_text)
                if talk:
                    verdict.add("refusal", f"the answer talks about its input, not the paper: {talk!r}")
            off = specificity.off_paper([without_quotes(b) for _, b in out], source_text, language)
            if off:
                verdict.add("ungrounded", f"the answer {off}")
    return out


def check_stop(stop_reason: str | None, tool_input: dict | None, free_text: str, language: str,
               verdict: Verdict) -> bool:
    """Checks on the reply as a whole; False when there is nothing structured to look at."""
    if stop_reason == "max_tokens":
        verdict.add("truncated", "the answer was cut off (stop_reason=max_tokens)")
    if not isinstance(tool_input, dict):
        verdict.add("no_structure", "the model answered in prose instead of calling the tool")
        if isinstance(free_text, str) and free_text.strip():
            check_text(free_text, language, verdict, where="prose answer")
        return False
    return True


def _strings(value: object, depth: int = 0) -> list[str]:
    """Every string inside a tool answer, however it is nested (bounded)."""
    if depth > 6:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k, depth + 1) + _strings(v, depth + 1)]
    if isinstance(value, (list, tuple)):
        return [s for v in value[:200] for s in _strings(v, depth + 1)]
    return []


# --- entry points ------------------------------------------------------------------------
def judge_analysis_reply(stop_reason: str | None, tool_input: object, text: str, framework: Framework,
                         language: str, source_text: str) -> Judged:
    """The gate on a per-paper analysis reply: parts, findings, every field of the tool answer."""
    return _judge(stop_reason, tool_input, text, framework, language, source_text, findings_wanted=True)


def judge_summary_reply(stop_reason: str | None, tool_input: object, text: str, framework: Framework,
                        language: str, source_text: str) -> Judged:
    """The gate on the daily summary reply (its source: the day's titles and abstracts)."""
    return _judge(stop_reason, tool_input, text, framework, language, source_text, findings_wanted=False)


def _judge(stop_reason: str | None, tool_input: object, text: str, framework: Framework, language: str,
           source_text: str, findings_wanted: bool) -> Judged:
    verdict = Verdict()
    if not check_stop(stop_reason, tool_input, text, language, verdict):
        return Judged(verdict)
    sections = tool_input.get("sections")
    parts = check_sections(sections if isinstance(sections, dict) else {}, framework, language, source_text, verdict)
    findings: list = []
    if findings_wanted:
        findings, dropped = ground_findings(tool_input.get("findings"), source_text)
        if not findings:
            verdict.add("ungrounded", f"no key finding quotes the paper verbatim ({len(dropped)} dropped)")
        claims = "\n".join(f.claim for f in findings)
        if claims:
            check_meta(claims, verdict, "key findings")
            check_language(claims, language, verdict, "key findings")
            check_grounding(claims, source_text, verdict)
            check_foreign(claims, source_text, verdict)  # claims are published too
    if "leak" not in verdict.codes:
        check_leaks("\n".join(_strings(tool_input)), verdict, "the tool answer", source_text)
    return Judged(verdict, tuple(parts), tuple(findings))


def _is_abstract(source_text: str) -> bool:
    return len(source_text) < ABSTRACT_MAX_CHARS


def check_analysis_text(text: str, language: str, frameworks: dict[str, Framework],
                        source_text: str | None = None) -> Verdict:
    """The gate on an analysis as plain Markdown text (what `lint-analysis` runs).

    Without `source_text` nothing source-dependent is checked (grounding, specificity, whether
    a seven-part analysis had a full text to rest on)."""
    verdict = Verdict()
    source = source_text if source_text is not None else ""
    framework, sections, findings, opening = split_sections(text, frameworks)
    check_leaks(text, verdict, "the answer", source, whole_answer=True)
    if framework is None or len(sections) < 2:
        verdict.add("missing_section", "no framework headings found (expected the seven full-text "
                    "parts or the five abstract parts)")
        check_text(text, language, verdict, source=source)
        check_loop(text, verdict, "answer")
        check_foreign(text, source, verdict)
        return verdict
    check_sections(sections, framework, language, source if source_text is not None else text, verdict,
                   grounded=source_text is not None)
    if "foreign_link" not in verdict.codes and _LINK_SYNTAX.search(opening + "\n" + findings):
        # what the renderer links in the whole answer: a reference definition after the findings,
        # an image after the parts (the parts themselves were judged above)
        check_foreign(text, source if source_text is not None else text, verdict)
    if opening.strip() and "refusal" not in verdict.codes:
        check_meta(opening, verdict, "the opening", opening=True)
    if opening.strip() and "leak" not in verdict.codes and (plan := structure.plan_before_parts(opening)):
        verdict.add("leak", f"the opening plans the write-up (a plan): {plan!r}")
    headings = structure.heading_words(text, framework)
    if headings:
        if "refusal" not in verdict.codes:
            check_meta(headings, verdict, "a heading")
        if source_text is not None and "ungrounded" not in verdict.codes:
            check_grounding(headings, source_text, verdict)
    stray = structure.stray_after_findings(findings)
    if stray and "refusal" not in verdict.codes:
        verdict.add("leak", f"text outside the framework's parts: {stray!r}")
    if findings.strip() and "refusal" not in verdict.codes:
        check_meta(findings, verdict, "the findings")
    last = list(sections.values())[-1]
    if structure.complete_findings(findings):
        # the answer went on past the last part: a list item there without its full stop is a
        # style, not a cut (a cut ends the answer); only a dangling word still reads as one
        tail = structure.dangling(last) or structure.cut_off(findings)
    else:
        tail = structure.cut_off(last)
        if tail is None and findings.strip():  # the findings are written last
            tail = structure.cut_off(findings)
    if tail is not None:
        verdict.add("truncated", f"the last part ends mid-sentence: …{tail!r}")
    if source_text is not None:
        if framework.name == "fulltext" and _is_abstract(source_text):
            verdict.add("wrong_framework", "a seven-part full-text analysis, but the source is only an abstract")
        ground_text(findings, source_text, verdict)
        check_grounding(findings, source_text, verdict)
    return verdict


#: Anything outside the parts that Markdown or a linkifier could turn into a link.
_LINK_SYNTAX = re.compile(r"\]\s*[:(\[]|<[^>\s]|://|//|www\.|@|:\S", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.M)
_QUOTE = re.compile(r"[“\"「]([^”\"」]{20,})[”\"」]|^\s*>\s*(.{20,})$", re.M)


def ground_text(findings: str, source_text: str, verdict: Verdict) -> None:
    """Findings in plain text: each quote in the source (case, whitespace, quote style aside),
    each bullet with a quote or itself a sentence of the source (the seed's form), and each
    claim's numbers in its own evidence."""
    src = grounding.key(source_text)
    for bullet in (b for b in _BULLET.split(findings)[1:] if b.strip()):
        quotes = [q for m in _QUOTE.finditer(bullet) if (q := (m.group(1) or m.group(2)).strip())]
        if not quotes:
            if not grounding.in_source(bullet, src):
                verdict.add("ungrounded", f"a finding has no verbatim evidence: {normalize(bullet)[:50]!r}")
            continue
        for q in quotes:
            if LATIN.search(q) and not grounding.in_source(q, src):
                verdict.add("ungrounded", f"quoted evidence is not in the source: {normalize(q)[:50]!r}")
        claim = _QUOTE.sub(" ", bullet)
        wrong = grounding.claim_numbers_in_evidence(claim, " ".join(quotes))
        if wrong:
            verdict.add("ungrounded", f"a finding's numbers are not in its evidence: {', '.join(wrong[:3])}")
