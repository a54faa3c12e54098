"""Message Batches (Anthropic): a feed with `batch = true` sends its day's analyses as one
batch at half price, and every later refresh (or worker retry) collects and resumes it.

The order of writes is what makes a kill anywhere cost nothing twice:
1. under the store's batch lock, the intent (custom ids, analysis keys, prompts) is written
   and each key indexed as in a batch, with the budget reserved at the batch price;
2. the batch is created and its id stored at once, still under the lock;
3. every later run polls the feed's open records first; an ended batch's results pass the
   same schema check and gate as a synchronous reply before anything is cached;
4. an intent without an id (a process killed between the create and storing its id: its
   lock is free) is matched to the batch the server lists as created since, with as many
   requests and an id we never stored; only if there is none is it submitted then.
A key indexed in an open batch is never sent again, in a batch or synchronously, by any
process. (One window is left: a create whose bytes were sent by a process killed before
the server handled them, and that the server handles only after the next run listed its
batches; the server normally handles a request long before a restart.) Errored, expired and canceled requests leave their papers pending for the next
run (an errored one counts as a failed try: a request the API refuses stops in the end).
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, replace

import filelock

from .budget import batch_factor, cost_usd, most_cost_usd, price_for
from .llm import AnthropicLLM, reply_of
from .models import EntryStatus, FeedSpec, FullText, PaperMeta, Reason, utcnow
from .prompts import Prompt
from .store import analysis_key

log = logging.getLogger(__name__)

#: Seconds a refresh waits for another process that is submitting or polling batches.
LOCK_TIMEOUT = 120
#: How far the server's clock may be behind ours when matching an orphaned create.
CLOCK_SLACK = dt.timedelta(minutes=10)
#: Batches listed when looking for an orphan (the newest first).
LIST_LIMIT = 100


@dataclass(frozen=True)
class BatchItem:
    """One request of a batch, with what judging its answer needs."""

    custom_id: str
    key: str
    what: str
    paper: PaperMeta
    text: FullText
    prompt: Prompt
    #: The retry note after an earlier rejection ("" the first time).
    extra: str
    reserved_usd: float


@dataclass(frozen=True)
class BatchRecord:
    """A batch as the store keeps it: first as an intent, then with the server's id."""

    intent: str
    feed: str
    model: str
    language: str
    items: tuple[BatchItem, ...]
    created: dt.datetime
    batch_id: str | None = None


class Batches:
    """The batch path of an `Enricher` (which it uses for prompts, store, budget and log)."""

    def __init__(self, enricher):
        self.e = enricher

    def analyse(self, spec: FeedSpec, work: list[tuple[PaperMeta, FullText]]):
        """One Enrichment per paper: analysed (cached), pending in a batch, or as the
        synchronous path would say (disabled, unavailable, over budget); and the items
        whose analyses this poll cached (earlier days pending on them are republished by
        the façade: this module writes no day)."""
        from .enrich import Enrichment

        llm = self.e.llm_for(spec)
        if llm is None:
            return [Enrichment(EntryStatus.DISABLED) for _ in work], ()
        if not isinstance(llm, AnthropicLLM):  # config refuses it; a guard, not a path
            return [self.e.analyse(spec, paper, text) for paper, text in work], ()
        try:
            with self.e.store.batch_lock(LOCK_TIMEOUT):
                collected = self.poll(spec, llm)
                return self._submit_new(spec, llm, work), collected
        except filelock.Timeout:
            busy = Reason("busy", "another process is submitting or collecting Message Batches")
            return [Enrichment(EntryStatus.PENDING, reasons=(busy,)) for _ in work], ()

    # --- collecting --------------------------------------------------------------------
    def poll(self, spec: FeedSpec, llm: AnthropicLLM) -> tuple[BatchItem, ...]:
        """Resume every open record of the feed: submit or adopt intents, collect ended
        batches. Returns the items whose analyses passed the gate and are now cached."""
        import anthropic  # lazily, as llm.py: web workers never get here

        collected: list[BatchItem] = []
        for record in self.e.store.open_batches(spec.name):
            if record.batch_id is None:
                try:
                    found = self._orphan(llm, record)
                except Exception as e:  # noqa: BLE001 - cannot tell: neither adopt nor resubmit
                    log.warning("%s: cannot list Message Batches to resume intent %s: %s: %s",
                                spec.name, record.intent, type(e).__name__, e)
                    continue
                if found is None:
                    self._create(llm, record)
                    continue
                log.info("%s: batch %s adopted for intent %s (its creator died before storing it)",
                         spec.name, found, record.intent)
                record = replace(record, batch_id=found)
                self.e.store.put_batch(record)
            try:
                batch = llm.client.messages.batches.retrieve(record.batch_id)
                if batch.processing_status != "ended":
                    continue
                results = {r.custom_id: r.result for r in llm.client.messages.batches.results(record.batch_id)}
            except anthropic.NotFoundError as e:  # deleted, or its results archived: they are lost
                log.warning("%s: batch %s is gone (%s): its papers go in the next batch", spec.name,
                            record.batch_id, e)
                results = {}
            except Exception as e:  # noqa: BLE001 - the SDK's errors and a malformed body alike
                log.warning("%s: batch %s not collected: %s: %s", spec.name, record.batch_id, type(e).__name__, e)
                continue
            for item in record.items:  # a request without a result: pending again, not billed
                if self._settle(spec, record, item, results.get(item.custom_id)):
                    collected.append(item)
            self.e.store.close_batch(record)
        return tuple(collected)

    def _orphan(self, llm: AnthropicLLM, record: BatchRecord) -> str | None:
        """The batch a killed process created for this intent but did not store, if the
        server lists one: created since the intent, as many requests, an id we don't know."""
        known = self.e.store.known_batch_ids()
        for batch in llm.client.messages.batches.list(limit=LIST_LIMIT).data:
            counts = batch.request_counts
            total = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
            if batch.id not in known and batch.created_at >= record.created - CLOCK_SLACK \
                    and total == len(record.items):
                return batch.id
        return None

    def _settle(self, spec: FeedSpec, record: BatchRecord, item: BatchItem, result) -> bool:
        """One request's result: billed at the batch price, gated, cached only if it passes
        (then True)."""
        from .enrich import judge_analysis

        kind = getattr(result, "type", None) or "missing"
        what = f"{item.what} (batch {record.batch_id})"
        day = record.created.date().isoformat()  # the day whose budget reserved it
        if kind != "succeeded":
            self.e.budget.settle(spec.name, item.reserved_usd, 0.0, day)  # not billed
            detail = f"batch request {kind}"
            if kind == "errored":
                error = getattr(getattr(result, "error", None), "error", None)
                detail += f": {getattr(error, 'type', '')}: {getattr(error, 'message', '')}"
                self.e.store.record_failure(item.key, (Reason("llm_error", detail),))
            self.e._log(what, item.prompt, spec, None, 0.0, "error", [Reason("llm_error", detail)])
            return False
        reply = reply_of(result.message, item.prompt, 0.0)
        usd = cost_usd(price_for(spec), reply.input_tokens, reply.output_tokens, reply.cache_write_tokens,
                       reply.cache_read_tokens) * batch_factor()
        self.e.budget.settle(spec.name, item.reserved_usd, usd, day)
        framework = self.e.prompts.framework_for(item.text)
        source_text = f"{item.paper.title}\n{item.paper.abstract}\n{item.text.text}"
        verdict, analysis = judge_analysis(reply, framework, record.language, source_text, item.text, item.prompt)
        for problem in reply.schema_errors:
            verdict.add("schema", problem)
        self.e._log(what, item.prompt, spec, reply, usd, "pass" if verdict.ok else "reject", verdict.reasons)
        if verdict.ok:
            self.e.store.put_result(item.key, replace(analysis, input_tokens=reply.input_tokens,
                                                      output_tokens=reply.output_tokens, cost_usd=round(usd, 6)))
            return True
        self.e.store.log_reject(item.key, {"what": what, "attempt": 1, "reasons": [str(r) for r in verdict.reasons],
                                           "text": reply.text, "tool_input": reply.tool_input})
        self.e.store.record_failure(item.key, tuple(verdict.reasons))
        log.warning("%s rejected: %s", what, "; ".join(map(str, verdict.reasons)))
        return False

    # --- submitting --------------------------------------------------------------------
    def _submit_new(self, spec: FeedSpec, llm: AnthropicLLM, work: list[tuple[PaperMeta, FullText]]):
        from .enrich import MAX_REFRESHES, Enrichment

        store, out, items = self.e.store, [], []
        intent = f"d{uuid.uuid4().hex[:16]}"
        price, factor = price_for(spec), batch_factor()
        for paper, text in work:
            prompt = self.e.prompts.analysis(spec, paper, text)
            key = analysis_key(paper, spec.model, prompt.prompt_hash, spec.language)
            cached = store.get_result(key)
            if cached is not None:
                out.append(Enrichment(EntryStatus.ANALYSED, cached))
                continue
            if (owner := store.batch_of_key(key)) is not None:
                out.append(self.waiting(owner))
                continue
            attempts = store.get_attempts(key)
            if attempts and attempts.refreshes >= MAX_REFRESHES:
                out.append(Enrichment(EntryStatus.UNAVAILABLE, reasons=attempts.reasons))
                continue
            extra = self.e.prompts.retry_note([str(r) for r in attempts.reasons], spec.language) \
                if attempts and attempts.reasons else ""
            most = most_cost_usd(price, len(prompt.system) + len(prompt.user) + len(extra), prompt.max_tokens) * factor
            refusal = self.e.budget.reserve(spec.name, spec.budget_usd, most)
            if refusal:
                out.append(Enrichment(EntryStatus.PENDING, reasons=(refusal,)))
                continue
            items.append(BatchItem(f"{intent}-{len(items)}", key, f"analysis {paper.versioned_id}", paper, text,
                                   prompt, extra, most))
            out.append(None)
        if items:
            record = BatchRecord(intent, spec.name, spec.model, spec.language, tuple(items), utcnow())
            store.put_batch(record)  # the intent, before anything is sent
            record = self._create(llm, record)
        pending = self.waiting(intent, record.batch_id if items else None)
        return [e if e is not None else pending for e in out]

    def _create(self, llm: AnthropicLLM, record: BatchRecord) -> BatchRecord:
        requests = [{"custom_id": i.custom_id, "params": llm.request(i.prompt, record.model, i.extra)}
                    for i in record.items]
        try:
            batch = llm.client.messages.batches.create(requests=requests)
        except Exception as e:  # noqa: BLE001 - maybe created, maybe not: the next run looks
            log.warning("%s: batch of %d not confirmed (%s: %s); the next run resumes intent %s",
                        record.feed, len(requests), type(e).__name__, e, record.intent)
            return record
        record = replace(record, batch_id=batch.id)
        self.e.store.put_batch(record)
        log.info("%s: %d analyses sent as Message Batch %s", record.feed, len(requests), batch.id)
        return record

    def waiting(self, intent: str, batch_id: str | None = None):
        from .enrich import Enrichment

        if batch_id is None:
            found = self.e.store.get_batch(intent)
            batch_id = found.batch_id if found else None
        where = f"Message Batch {batch_id}" if batch_id else f"a Message Batch being submitted ({intent})"
        return Enrichment(EntryStatus.PENDING, reasons=(Reason("batch", f"in {where}; collected by a later refresh"),))
