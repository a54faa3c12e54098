"""LLM enrichment: per-paper analysis and findings, the daily summary, each through the gate.

A result is cached only after it passed the gate. A rejected answer gets one retry
with a request naming what was wrong; after that the paper is pending until the next
refresh, and after `MAX_REFRESHES` failed refreshes it is unavailable (with the reason).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from dataclasses import replace

from . import links, quality
from .budget import Budget, cost_usd
from .errors import LLMError
from .llm import LLM, LLMReply
from .models import (Analysis, DailySummary, EntryStatus, FeedSpec, Finding, FullText,
                     PaperMeta, utcnow)
from .prompts import Framework, Prompt, PromptLibrary
from .store import Store, analysis_key, summary_key

log = logging.getLogger(__name__)

#: Tries within one refresh: the first answer and one corrected retry.
TRIES_PER_REFRESH = 2
#: Refreshes that may fail before a paper's analysis is given up as unavailable.
MAX_REFRESHES = 3


@dataclass(frozen=True)
class Outcome:
    status: EntryStatus
    result: Analysis | DailySummary | None = None
    reasons: tuple[str, ...] = ()
    llm_calls: int = 0
    cost_usd: float = 0.0


_CUE = re.compile(r"\b(we (?:propose|present|introduce|show|demonstrate|develop|find|achieve)|"
                  r"(?:results|experiments) (?:show|demonstrate)|outperform|state-of-the-art|"
                  r"achieves?)\b", re.I)


def abstract_findings(abstract: str, limit: int = 3) -> tuple[Finding, ...]:
    """Without an LLM: the abstract's own claim sentences, each its own evidence."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", abstract) if len(s.strip()) > 30]
    picked = [s for s in sentences if _CUE.search(s)][:limit]
    return tuple(Finding(claim=s, evidence=s) for s in picked)


class Enricher:
    def __init__(self, llm: LLM | None, prompts: PromptLibrary, store: Store, budget: Budget):
        self.llm, self.prompts, self.store, self.budget = llm, prompts, store, budget

    def _run(self, spec: FeedSpec, key: str, prompt: Prompt, what: str, judge) -> Outcome:
        """Cached result, or up to TRIES_PER_REFRESH gated calls; never caches a rejection."""
        cached = self.store.get_result(key)
        if cached is not None:
            return Outcome(EntryStatus.ANALYSED, cached)
        if self.llm is None:
            return Outcome(EntryStatus.DISABLED)
        attempts = self.store.get_attempts(key)
        if attempts and attempts.refreshes >= MAX_REFRESHES:
            return Outcome(EntryStatus.UNAVAILABLE, reasons=attempts.reasons)
        reasons: list[str] = []
        calls, spent = 0, 0.0
        for attempt in range(TRIES_PER_REFRESH):
            refusal = self.budget.refusal(spec.name, spec.budget_usd)
            if refusal:
                # Not a failure of the paper: it stays pending without counting an attempt.
                return Outcome(EntryStatus.PENDING, reasons=(refusal,), llm_calls=calls, cost_usd=spent)
            extra = self.prompts.retry_note(reasons, spec.language) if reasons else ""
            calls += 1
            try:
                reply = self.llm.complete(prompt, spec.model, extra_user=extra)
            except LLMError as e:
                reasons = [f"llm_error: {e}"]
                self._log(what, prompt, spec.model, None, 0.0, "error", reasons)
                break  # the SDK already retried with backoff; try again next refresh
            usd = cost_usd(reply.model, reply.input_tokens, reply.output_tokens,
                           reply.cache_write_tokens, reply.cache_read_tokens)
            self.budget.charge(spec.name, usd)
            spent += usd
            verdict, result = judge(reply)
            for problem in reply.schema_errors:  # wrong types never reach a reader, however judged
                verdict.add("schema", problem)
            self._log(what, prompt, spec.model, reply, usd, "pass" if verdict.ok else "reject",
                      [str(r) for r in verdict.reasons])
            if verdict.ok:
                result = replace(result, input_tokens=reply.input_tokens, output_tokens=reply.output_tokens,
                                 cost_usd=round(usd, 6))
                self.store.put_result(key, result)
                return Outcome(EntryStatus.ANALYSED, result, llm_calls=calls, cost_usd=spent)
            reasons = [str(r) for r in verdict.reasons]
            self.store.log_reject(key, {"what": what, "attempt": attempt + 1, "reasons": reasons,
                                        "text": reply.text, "tool_input": reply.tool_input})
            log.warning("%s rejected (try %d): %s", what, attempt + 1, "; ".join(reasons))
        state = self.store.record_failure(key, reasons)
        status = EntryStatus.UNAVAILABLE if state.refreshes >= MAX_REFRESHES else EntryStatus.PENDING
        return Outcome(status, reasons=tuple(reasons), llm_calls=calls, cost_usd=spent)

    def _log(self, what: str, prompt: Prompt, model: str, reply: LLMReply | None, usd: float,
             verdict: str, reasons: list[str]) -> None:
        self.store.log_call({
            "at": utcnow().isoformat(), "what": what, "model": model,
            "prompt_file": prompt.template, "prompt_hash": prompt.prompt_hash,
            "input_tokens": reply.input_tokens if reply else 0,
            "output_tokens": reply.output_tokens if reply else 0,
            "duration_s": round(reply.duration, 3) if reply else None,
            "stop_reason": reply.stop_reason if reply else None,
            "cost_usd": round(usd, 6),
            "verdict": verdict, "reasons": reasons,
        })

    def analyse(self, spec: FeedSpec, paper: PaperMeta, text: FullText) -> Outcome:
        prompt = self.prompts.analysis(spec, paper, text)
        framework = self.prompts.framework_for(text)
        source_text = f"{paper.title}\n{paper.abstract}\n{text.text}"
        key = analysis_key(paper, spec.model, prompt.prompt_hash, spec.language)

        def judge(reply: LLMReply):
            return judge_analysis(reply, framework, spec.language, source_text, text, prompt)

        return self._run(spec, key, prompt, f"analysis {paper.versioned_id}", judge)

    def summarise(self, spec: FeedSpec, date: dt.date, papers: list[PaperMeta]) -> Outcome:
        prompt = self.prompts.summary(spec, date.isoformat(), [(p, "") for p in papers])
        framework = self.prompts.frameworks["summary"]
        source_text = "\n".join(f"{p.title}\n{p.abstract}" for p in papers)
        key = summary_key(spec.name, date, spec.model, prompt.prompt_hash, spec.language,
                          [p.versioned_id for p in papers])

        def judge(reply: LLMReply):
            verdict = quality.Verdict()
            parts = []
            if quality.check_stop(reply.stop_reason, reply.tool_input, reply.text, spec.language, verdict):
                parts = quality.check_sections(_dict(reply.tool_input.get("sections")), framework,
                                               spec.language, source_text, verdict)
            return verdict, DailySummary(spec.language, reply.model, prompt.prompt_hash, tuple(parts), utcnow())

        return self._run(spec, key, prompt, f"summary {spec.name} {date}", judge)


def _dict(value) -> dict:
    """The model's JSON is untrusted too: a wrong type counts as nothing given."""
    return value if isinstance(value, dict) else {}


def judge_analysis(reply: LLMReply, framework: Framework, language: str, source_text: str,
                   text: FullText, prompt: Prompt) -> tuple[quality.Verdict, Analysis]:
    verdict = quality.Verdict()
    sections: list[tuple[str, str]] = []
    findings: list[Finding] = []
    if quality.check_stop(reply.stop_reason, reply.tool_input, reply.text, language, verdict):
        sections = quality.check_sections(_dict(reply.tool_input.get("sections")), framework,
                                          language, source_text, verdict)
        findings, dropped = quality.ground_findings(reply.tool_input.get("findings"), source_text)
        if not findings:
            verdict.add("ungrounded", f"no key finding quotes the paper verbatim ({len(dropped)} dropped)")
        elif dropped:
            log.info("dropped %d findings whose evidence is not in the source", len(dropped))
        claims = "\n".join(f.claim for f in findings)
        quality.check_text(claims, language, verdict, where="key findings")
        quality.check_foreign(claims, source_text, verdict)  # claims are published too
    analysis = Analysis(
        framework=framework.name, source=text.source, language=language, model=reply.model,
        prompt_hash=prompt.prompt_hash, sections=tuple(sections), findings=tuple(findings),
        created=utcnow(), source_links=links.source_links(text.text) if text.source.is_full_text else (),
    )
    return verdict, analysis
