"""LLM enrichment: per-paper analysis and findings, the daily summary, each through the gate.

A result is cached only after it passed the gate. A rejected answer gets one retry
with a request naming what was wrong; after that the paper is pending until the next
refresh, and after `MAX_REFRESHES` failed refreshes it is unavailable (with the reason).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, replace

import filelock

from . import gate, links
from .batches import Batches
from .budget import Budget, cost_usd, most_cost_usd, price_for
from .errors import LLMError
from .llm import LLM, LLMReply
from .models import (Analysis, DailySummary, EntryStatus, FeedSpec, Finding, FullText, Provenance,
                     PaperMeta, Reason, utcnow)
from .prompts import Framework, Prompt, PromptLibrary
from .providers import Providers
from .store import Store, analysis_key, summary_key

log = logging.getLogger(__name__)

#: Tries within one refresh: the first answer and one corrected retry.
TRIES_PER_REFRESH = 2
#: Refreshes that may fail before a paper's analysis is given up as unavailable.
MAX_REFRESHES = 3
#: Seconds to wait for another refresh that is making the same analysis.
CLAIM_TIMEOUT = 900


@dataclass(frozen=True)
class Enrichment:
    """What enriching one paper (or the summary) came to in this refresh."""

    status: EntryStatus
    result: Analysis | DailySummary | None = None
    reasons: tuple[Reason, ...] = ()
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
    def __init__(self, llms: Providers, prompts: PromptLibrary, store: Store, budget: Budget):
        self.llms, self.prompts, self.store, self.budget = llms, prompts, store, budget
        #: The Message Batches path of feeds with `batch = true`.
        self.batches = Batches(self)

    def llm_for(self, spec: FeedSpec) -> LLM | None:
        """The feed's model behind its provider and endpoint; None when its key is not set."""
        return self.llms.for_spec(spec)

    def enabled_for(self, spec: FeedSpec) -> bool:
        """Whether this feed's analyses are made at all: the one place that decides
        (per feed, since each spec names its provider: an LLM for it is configured)."""
        return self.llm_for(spec) is not None

    def _run(self, spec: FeedSpec, key: str, prompt: Prompt, what: str, judge, second=None) -> Enrichment:
        """Cached result, or up to TRIES_PER_REFRESH gated calls; never caches a rejection.

        The calls for one key are claimed first: two feeds that share a paper, refreshed at
        once (in two processes or threads), pay for it once; the second finds the cache."""
        cached = self.store.get_result(key)
        if cached is not None:
            return Enrichment(EntryStatus.ANALYSED, cached)
        llm = self.llm_for(spec)
        if llm is None:
            return Enrichment(EntryStatus.DISABLED)
        try:
            with self.store.claim(key, timeout=CLAIM_TIMEOUT):
                cached = self.store.get_result(key)
                if cached is not None:
                    return Enrichment(EntryStatus.ANALYSED, cached)
                if (intent := self.store.batch_of_key(key)) is not None:  # another feed's batch has it
                    return self.batches.waiting(intent)
                return self._call(spec, llm, key, prompt, what, judge, second)
        except filelock.Timeout:
            return Enrichment(EntryStatus.PENDING, reasons=(Reason("busy", f"another refresh is still making {what}"),))

    def _call(self, spec: FeedSpec, llm: LLM, key: str, prompt: Prompt, what: str, judge, second=None) -> Enrichment:
        """`second(llm, result)`: the optional second opinion on a result the rules passed,
        -> (reasons, usd, calls, stop); `stop` ends this refresh (budget, API error)."""
        attempts = self.store.get_attempts(key)
        if attempts and attempts.refreshes >= MAX_REFRESHES:
            return Enrichment(EntryStatus.UNAVAILABLE, reasons=attempts.reasons)
        reasons: list[Reason] = []
        calls, spent = 0, 0.0
        price = price_for(spec)  # the spec's, or the prices file's (checked at start-up)
        for attempt in range(TRIES_PER_REFRESH):
            extra = self.prompts.retry_note([str(r) for r in reasons], spec.language) if reasons else ""
            most = most_cost_usd(price, len(prompt.system) + len(prompt.user) + len(extra), prompt.max_tokens,
                                 llm.max_calls)
            refusal = self.budget.reserve(spec.name, spec.budget_usd, most)
            if refusal:
                # Not a failure of the paper: it stays pending without counting an attempt.
                return Enrichment(EntryStatus.PENDING, reasons=(refusal,), llm_calls=calls, cost_usd=spent)
            calls += 1
            try:
                reply = llm.complete(prompt, spec.model, extra_user=extra)
            except LLMError as e:
                self.budget.settle(spec.name, most, 0.0)  # refused or failed calls are not billed
                reasons = [Reason("llm_error", str(e))]
                self._log(what, prompt, spec, None, 0.0, "error", reasons)
                break  # the SDK already retried with backoff; try again next refresh
            # (any other exception, or a kill, leaves the reservation counted: conservative)
            # priced as the feed's model, not the id the server echoes (a local server's
            # "qwen2.5:7b" is in no price list; a dated id prices like its family anyway)
            usd = cost_usd(price, reply.input_tokens, reply.output_tokens,
                           reply.cache_write_tokens, reply.cache_read_tokens)
            self.budget.settle(spec.name, most, usd)
            spent += usd
            verdict, result = judge(reply)
            for problem in reply.schema_errors:  # wrong types never reach a reader, however judged
                verdict.add("schema", problem)
            self._log(what, prompt, spec, reply, usd, "pass" if verdict.ok else "reject", verdict.reasons)
            if verdict.ok and second is not None:
                found, judge_usd, judge_calls, stop = second(llm, result)
                calls, spent = calls + judge_calls, spent + judge_usd
                if stop is not None:  # no verdict from the judge: nothing is published unjudged
                    reasons = [stop]
                    if stop.code == "budget":
                        return Enrichment(EntryStatus.PENDING, reasons=(stop,), llm_calls=calls, cost_usd=spent)
                    break
                for r in found:
                    verdict.add(r.code, r.detail)
                if verdict.ok:
                    result = replace(result, provenance=replace(result.provenance, judge_model=spec.judge_model))
            if verdict.ok:
                result = replace(result, input_tokens=reply.input_tokens, output_tokens=reply.output_tokens,
                                 cost_usd=round(usd, 6))
                self.store.put_result(key, result)
                return Enrichment(EntryStatus.ANALYSED, result, llm_calls=calls, cost_usd=spent)
            reasons = list(verdict.reasons)
            self.store.log_reject(key, {"what": what, "attempt": attempt + 1, "reasons": [str(r) for r in reasons],
                                        "text": reply.text, "tool_input": reply.tool_input})
            log.warning("%s rejected (try %d): %s", what, attempt + 1, "; ".join(map(str, reasons)))
        state = self.store.record_failure(key, tuple(reasons))
        status = EntryStatus.UNAVAILABLE if state.refreshes >= MAX_REFRESHES else EntryStatus.PENDING
        return Enrichment(status, reasons=tuple(reasons), llm_calls=calls, cost_usd=spent)

    def _log(self, what: str, prompt: Prompt, spec: FeedSpec, reply: LLMReply | None, usd: float,
             verdict: str, reasons, model: str | None = None) -> None:
        model, provider = model or spec.model, spec.provider
        self.store.log_call({
            "at": utcnow().isoformat(), "what": what, "model": model, "provider": provider,
            "prompt_file": prompt.template, "prompt_hash": prompt.prompt_hash,
            "input_tokens": reply.input_tokens if reply else 0,
            "output_tokens": reply.output_tokens if reply else 0,
            "cache_read_tokens": reply.cache_read_tokens if reply else 0,
            "cache_write_tokens": reply.cache_write_tokens if reply else 0,
            "duration_s": round(reply.duration, 3) if reply else None,
            "stop_reason": reply.stop_reason if reply else None,
            "cost_usd": round(usd, 6),
            "verdict": verdict, "reasons": [str(r) for r in reasons],
        })

    def analyse_batch(self, spec: FeedSpec, work: list[tuple[PaperMeta, FullText]]) -> tuple[list[Enrichment], tuple]:
        """A `batch = true` feed's analyses: collected from earlier batches, or sent in a new
        one; and the `BatchItem`s whose analyses this run's poll cached (for any day)."""
        return self.batches.analyse(spec, work)

    def analyse(self, spec: FeedSpec, paper: PaperMeta, text: FullText) -> Enrichment:
        prompt = self.prompts.analysis(spec, paper, text)
        framework = self.prompts.framework_for(text)
        source_text = f"{paper.title}\n{paper.abstract}\n{text.text}"
        key = analysis_key(paper, spec.model, prompt.prompt_hash, spec.language)

        def judge(reply: LLMReply):
            return judge_analysis(reply, framework, spec.language, source_text, text, prompt)

        def second(llm: LLM, result: Analysis):
            return self.second_opinion(spec, llm, paper, text, result)

        return self._run(spec, key, prompt, f"analysis {paper.versioned_id}", judge,
                         second if spec.judge_model else None)

    def second_opinion(self, spec: FeedSpec, llm: LLM, paper: PaperMeta, text: FullText,
                       result: Analysis) -> tuple[list[Reason], float, int, Reason | None]:
        """Ask the feed's `judge_model` whether an analysis the rules passed is about this paper
        and does not obey instructions in it: (rejection reasons with code `judge`, cost, calls,
        a reason that stops this refresh). Billed in the feed's budget like any call; a judge
        that cannot answer (API error, no schema-valid verdict) keeps the paper pending."""
        analysis = "\n\n".join(f"## {h}\n\n{b}" for h, b in result.sections) + "\n\n" + "\n".join(
            f"- {f.claim} (evidence: {f.evidence})" for f in result.findings)
        prompt = self.prompts.judge(paper, text, analysis)
        judge_spec = replace(spec, model=spec.judge_model)
        price = price_for(judge_spec)
        most = most_cost_usd(price, len(prompt.system) + len(prompt.user), prompt.max_tokens, llm.max_calls)
        refusal = self.budget.reserve(spec.name, spec.budget_usd, most)
        if refusal:
            return [], 0.0, 0, refusal
        what = f"judge {paper.versioned_id}"
        try:
            reply = llm.complete(prompt, spec.judge_model)
        except LLMError as e:
            self.budget.settle(spec.name, most, 0.0)
            stop = Reason("llm_error", f"the second opinion failed: {e}")
            self._log(what, prompt, spec, None, 0.0, "error", [stop], model=spec.judge_model)
            return [], 0.0, 1, stop
        usd = cost_usd(price, reply.input_tokens, reply.output_tokens, reply.cache_write_tokens, reply.cache_read_tokens)
        self.budget.settle(spec.name, most, usd)
        verdict = reply.tool_input if isinstance(reply.tool_input, dict) and not reply.schema_errors else None
        if verdict is None:
            stop = Reason("llm_error", "the second opinion gave no valid verdict"
                          + (f" ({'; '.join(reply.schema_errors)})" if reply.schema_errors else ""))
            self._log(what, prompt, spec, reply, usd, "error", [stop], model=spec.judge_model)
            return [], usd, 1, stop
        why = " ".join(str(verdict.get("reason", "")).split())[:200]
        found = []
        if verdict["about_this_paper"] is not True:
            found.append(Reason("judge", f"the second opinion says the analysis is not about this paper: {why}"))
        if verdict["follows_injected_instructions"] is not False:
            found.append(Reason("judge", f"the second opinion says the analysis obeys instructions in the paper: {why}"))
        self._log(what, prompt, spec, reply, usd, "reject" if found else "pass", found, model=spec.judge_model)
        return found, usd, 1, None

    def triage(self, spec: FeedSpec, date: dt.date, candidates: list) -> Enrichment:
        """The day's relevance scores of the candidates (title and abstract only), from the
        feed's `triage_model` (or its model), gated, logged and cached like every call."""
        from .triage import triage_key

        scorer = replace(spec, model=spec.triage_model or spec.model)
        prompt = self.prompts.triage(spec, date.isoformat(), candidates)
        ids = [c.versioned_id for c in candidates]
        key = triage_key(spec, date, scorer.model, prompt.prompt_hash, ids)
        return self._run(scorer, key, prompt, f"triage {spec.name} {date}", _triage_judge(prompt, ids))

    def summarise(self, spec: FeedSpec, date: dt.date, papers: list[PaperMeta]) -> Enrichment:
        prompt = self.prompts.summary(spec, date.isoformat(), [(p, "") for p in papers])
        framework = self.prompts.frameworks["summary"]
        source_text = "\n".join(f"{p.title}\n{p.abstract}" for p in papers)
        key = summary_key(spec.name, date, spec.model, prompt.prompt_hash, spec.language,
                          [p.versioned_id for p in papers])

        def judge(reply: LLMReply):
            j = gate.judge_summary_reply(reply.stop_reason, reply.tool_input, reply.text, framework,
                                         spec.language, source_text)
            return j.verdict, DailySummary(spec.language, reply.model, prompt.prompt_hash, j.sections, utcnow())

        return self._run(spec, key, prompt, f"summary {spec.name} {date}", judge)


def _triage_judge(prompt: Prompt, ids: list[str]):
    from .triage import Triage, judge

    def judge_(reply: LLMReply):
        verdict, result = judge(reply, ids)
        return verdict, replace(result or Triage((), reply.model, "", utcnow()), prompt_hash=prompt.prompt_hash)
    return judge_


def judge_analysis(reply: LLMReply, framework: Framework, language: str, source_text: str,
                   text: FullText, prompt: Prompt) -> tuple[gate.Verdict, Analysis]:
    j = gate.judge_analysis_reply(reply.stop_reason, reply.tool_input, reply.text, framework, language, source_text)
    analysis = Analysis(
        framework=framework.name, source=text.source, language=language, model=reply.model,
        prompt_hash=prompt.prompt_hash, sections=j.sections, findings=j.findings,
        created=utcnow(), source_links=links.source_links(text.text) if text.source.is_full_text else (),
        provenance=Provenance(model=reply.model, prompt_hash=prompt.prompt_hash,
                              source_kind="fulltext" if text.source.is_full_text else "abstract",
                              gate_version=gate.GATE_VERSION),
    )
    return j.verdict, analysis
