"""Domain objects passed between the stages of the data flow.

What arXiv gives us (`ListingItem`, `Listing`, `PaperMeta`, `FullText`) is kept apart
from what we publish (`Analysis`, `Finding`, `DailySummary`, `Entry`, `Day`).
All datetimes are UTC-aware.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens of one model (from `service/data/prices.toml` or a spec)."""

    input: float
    output: float
    #: Cache writes and reads; None = Anthropic's rule (1.25× and 0.1× the input price).
    cache_write: float | None = None
    cache_read: float | None = None
    #: The shortest prompt prefix (tokens) the provider caches; 0 = not listed.
    cache_min: int = 0


@dataclass(frozen=True)
class ZoteroLibrary:
    """A library on zotero.org, read through the Zotero Web API v3 (`zotero.py`). The key is
    never in the spec (specs are stored and shown): `key_env` names the variable holding it."""

    #: "users" or "groups", as in the API's paths.
    kind: str
    id: int
    #: Environment variable with the API key (…_API_KEY); None = a public library, no key.
    key_env: str | None = None

    def __str__(self) -> str:
        return f"Zotero {self.kind[:-1]} {self.id}"


@dataclass(frozen=True)
class EmbeddingsEndpoint:
    """An OpenAI-compatible `/v1/embeddings` endpoint (a local model in Ollama, OpenAI's own)
    whose vectors rank the day by meaning beside TF-IDF (`embeddings.py`). Its key follows the
    LLM's rule: `api_key_env` names the variable; with a `base_url` and none, no key is sent."""

    model: str
    #: None = OPENAI_BASE_URL, else OpenAI's own.
    base_url: str | None = None
    api_key_env: str | None = None


@dataclass(frozen=True)
class FeedSpec:
    """One feed, loaded from `feeds/<name>.toml`."""

    #: The file stem; used in URLs.
    name: str
    #: The file it was loaded from (for error messages).
    path: Path
    title: str
    #: arXiv categories, e.g. ("cs.CV", "cs.RO").
    categories: tuple[str, ...]
    include_cross_lists: bool = True
    #: Language of analyses and the daily summary: "zh" or "en".
    language: str = "en"
    #: Papers analysed per day after ranking; 0 = all.
    max_papers: int = 10
    keywords: tuple[str, ...] = ()
    exclude_keywords: tuple[str, ...] = ()
    #: Authors to follow: their papers are always kept and ranked first.
    authors: tuple[str, ...] = ()
    model: str = "claude-haiku-4-5"
    #: Put new versions of older papers (announce type replace/replace-cross) in the day.
    include_replacements: bool = False
    #: Daily LLM budget of this feed in US dollars; 0 = no limit.
    budget_usd: float = 0.0
    #: Which SDK speaks to the model: "anthropic" or "openai" (any chat-completions server).
    provider: str = "anthropic"
    #: The endpoint; None = the provider's environment (ANTHROPIC_BASE_URL, OPENAI_BASE_URL).
    base_url: str | None = None
    #: Environment variable holding this endpoint's key (…_API_KEY); None = the provider's
    #: own variable without `base_url`, and no key at all with one (a local server).
    api_key_env: str | None = None
    #: The spec's own price (`price = 0` for a local model); None = the prices file's.
    price: Price | None = None
    #: How long analyses are: "concise", "standard" or "full" (prompts/lengths.toml).
    analysis_length: str = "standard"
    #: Send the day's analyses as one Message Batch (Anthropic, half price, results within 24 h).
    batch: bool = False
    #: Rank the day's candidates with one cheap call before analysing the top max_papers.
    triage: bool = False
    #: The model of that call (implies triage); None = the feed's model.
    triage_model: str | None = None
    #: The reader's library (a Zotero export or zotero.sqlite): papers like its items rank higher.
    library: Path | None = None
    #: Or a library on zotero.org (`library = { zotero_user = … }`), refreshed at most daily.
    zotero: ZoteroLibrary | None = None
    #: Optional embeddings endpoint: with a library, papers close to it in meaning rank higher.
    embeddings: EmbeddingsEndpoint | None = None
    #: Optional second-opinion model (same provider and endpoint) asked after the rules pass
    #: an analysis; None = off.
    judge_model: str | None = None


class AnnounceType(str, enum.Enum):
    NEW = "new"
    CROSS = "cross"
    REPLACE = "replace"
    REPLACE_CROSS = "replace-cross"


@dataclass(frozen=True)
class ListingItem:
    """One item of the arXiv listing feed (what was announced)."""

    arxiv_id: str
    version: int
    announce_type: AnnounceType
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"


@dataclass(frozen=True)
class Listing:
    """The listing feed of one evening; `items` is empty on days without announcement."""

    #: The announcement date from the channel's pubDate (the day's key).
    announced: dt.date
    items: tuple[ListingItem, ...]


@dataclass(frozen=True)
class PaperMeta:
    """Metadata of one paper version from the arXiv API."""

    arxiv_id: str
    version: int
    title: str
    authors: tuple[str, ...]
    abstract: str
    #: Primary category first.
    categories: tuple[str, ...]
    #: First submission (v1).
    published: dt.datetime
    #: This version's submission.
    updated: dt.datetime
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"

    @property
    def abs_url(self) -> str:
        """Version-less abstract page: the stable identity of the entry."""
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def versioned_abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.versioned_id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.versioned_id}"


class TextSource(str, enum.Enum):
    """Where the text an analysis was built from came from."""

    HTML = "html"
    PDF = "pdf"
    ABSTRACT = "abstract"

    @property
    def is_full_text(self) -> bool:
        return self is not TextSource.ABSTRACT


@dataclass(frozen=True)
class FullText:
    source: TextSource
    text: str
    #: True when the text was cut to the token budget.
    trimmed: bool = False


@dataclass(frozen=True)
class Finding:
    """A key finding and the verbatim quote from the source text it rests on."""

    claim: str
    evidence: str


UNKNOWN = "unknown"


@dataclass(frozen=True)
class Provenance:
    """What made a published analysis, so anyone can audit it: the model, the prompt (hash),
    what it read ("fulltext" or "abstract") and which rules of the gate passed it."""

    model: str
    prompt_hash: str
    #: "fulltext" or "abstract"
    source_kind: str
    gate_version: str
    #: the second-opinion model that also passed it ("" when none was asked)
    judge_model: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"model": self.model, "prompt_hash": self.prompt_hash, "source_kind": self.source_kind,
                "gate_version": self.gate_version, "judge_model": self.judge_model or None}


@dataclass(frozen=True)
class Analysis:
    """An analysis that passed the quality gate."""

    #: "fulltext" (seven sections) or "abstract" (five sections).
    framework: str
    source: TextSource
    language: str
    model: str
    prompt_hash: str
    #: (heading, markdown body) in framework order.
    sections: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...]
    created: dt.datetime
    #: What the passing call cost (tokens as the API reported them).
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    #: URLs written in the text the analysis was built from (full text included): renderers
    #: only see the abstract, and a link may be live only when the paper has it.
    source_links: tuple[str, ...] = ()
    #: Stored since gate version 3; analyses cached before have none (see `provenance_of`).
    provenance: Provenance | None = None

    def provenance_of(self) -> Provenance:
        """The stored provenance; for an analysis cached before it existed, what the analysis
        itself records (model, prompt hash, source) and an unknown gate version."""
        if self.provenance is not None:
            return self.provenance
        source = getattr(self, "source", None)
        kind = UNKNOWN if source is None else ("fulltext" if TextSource(source).is_full_text else "abstract")
        return Provenance(getattr(self, "model", "") or UNKNOWN, getattr(self, "prompt_hash", "") or UNKNOWN,
                          kind, UNKNOWN)


@dataclass(frozen=True)
class DailySummary:
    """The day's executive summary (four parts, in the feed's language)."""

    language: str
    model: str
    prompt_hash: str
    #: (heading, markdown body) in order.
    parts: tuple[tuple[str, str], ...]
    created: dt.datetime
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class EntryStatus(str, enum.Enum):
    ANALYSED = "analysed"
    #: The LLM's output failed the gate (or the call failed); retried next refresh.
    PENDING = "pending"
    #: Gave up after repeated failures.
    UNAVAILABLE = "unavailable"
    #: No LLM key configured.
    DISABLED = "disabled"

    @property
    def left_pending(self) -> bool:
        """No analysis although one was wanted: pending (tried again later) or given up."""
        return self in (EntryStatus.PENDING, EntryStatus.UNAVAILABLE)


@dataclass(frozen=True)
class Entry:
    """One paper of a published day."""

    paper: PaperMeta
    announce_type: AnnounceType
    status: EntryStatus
    source: TextSource
    analysis: Analysis | None
    #: Grounded findings: the analysis's, or sentences from the abstract without an LLM.
    findings: tuple[Finding, ...]
    #: Why the analysis is pending/unavailable.
    reasons: tuple[Reason, ...] = ()
    #: Moves only when this entry's content changes.
    updated: dt.datetime | None = None
    #: Why this paper is in the feed ("followed author: …", "keywords: …"); empty = listed.
    why: tuple[str, ...] = ()
    #: Its ranking score (followed author 100, keyword hit 1 (2 in the title), library
    #: similarity × 150); None for entries published before scores were kept.
    score: float | None = None

    @property
    def reason_codes(self) -> tuple[str, ...]:
        """Distinct reason codes in order: what a reader is told about a pending entry."""
        return tuple(dict.fromkeys(r.code for r in self.reasons))


@dataclass(frozen=True)
class Day:
    """A published announcement day of one feed."""

    feed: str
    date: dt.date
    entries: tuple[Entry, ...]
    summary: DailySummary | None
    #: Why the summary is missing, if it is.
    summary_status: EntryStatus
    published: dt.datetime
    updated: dt.datetime
    #: Listed ids the arXiv API did not return (retried on the next refresh).
    missing: tuple[str, ...] = ()
    #: LLM spend of every call made for this day's entries and summary, passing or not.
    cost_usd: float = 0.0


@dataclass(frozen=True)
class RenderedDoc:
    """Bytes of one rendered document, ready to serve."""

    body: bytes
    gzipped: bytes
    etag: str
    content_type: str
    last_modified: dt.datetime


@dataclass(frozen=True)
class Reason:
    """Why something was rejected or left pending: a stable code and a human detail.

    Made by the gate (`refusal`, `ungrounded`, …), the LLM boundary (`llm_error`) and
    the budget (`budget`); kept as this type all the way to the renderers and the API."""

    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class Outcome(str, enum.Enum):
    """What one refresh of one feed came to."""

    PUBLISHED = "published"
    #: The listing is empty: a weekend or holiday.
    NO_ANNOUNCEMENT = "no_announcement"
    #: The listing still shows a day that is published and complete.
    STALE = "stale"
    FAILED = "failed"


@dataclass(frozen=True)
class PaperOutcome:
    """What a refresh did for one paper."""

    versioned_id: str
    status: EntryStatus
    reasons: tuple[Reason, ...] = ()
    llm_calls: int = 0
    cost_usd: float = 0.0


def count_pending(papers: tuple[PaperOutcome, ...]) -> int:
    """Papers left without an analysis: pending (a later refresh tries again) or given up."""
    return sum(1 for p in papers if p.status.left_pending)


@dataclass(frozen=True)
class RefreshResult:
    """What one feed's refresh did; failures are values, not exceptions."""

    feed: str
    outcome: Outcome
    message: str
    date: dt.date | None = None
    papers: tuple[PaperOutcome, ...] = ()
    llm_calls: int = 0
    cost_usd: float = 0.0
    #: Listed ids the arXiv API did not return.
    missing: tuple[str, ...] = ()
    started: dt.datetime | None = None
    finished: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is not Outcome.FAILED

    def count(self, status: EntryStatus) -> int:
        return sum(1 for p in self.papers if p.status is status)

    @property
    def pending(self) -> int:
        return count_pending(self.papers)

    @property
    def budget_reason(self) -> Reason | None:
        """The budget refusal that left papers pending, if one did."""
        return next((r for p in self.papers for r in p.reasons if r.code == "budget"), None)


@dataclass(frozen=True)
class FeedStatus:
    """The store's record of a feed's refreshes: what `/healthz` and the worker both read."""

    last_attempt: RefreshResult
    #: The last attempt that did not fail.
    last_success: RefreshResult | None


class JobState(str, enum.Enum):
    RUNNING = "running"
    #: The refresh ran to its end; its `RefreshResult` says how it went.
    DONE = "done"
    #: The process running it ended before it did (a restart, a kill); the next refresh resumes.
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Job:
    """An admin refresh running outside the request that started it."""

    id: str
    feed: str
    force: bool
    state: JobState
    started: dt.datetime
    finished: dt.datetime | None = None
    result: RefreshResult | None = None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
