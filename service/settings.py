"""Process settings: the environment, read once (see DESIGN.md's contract).

Feed specs (`feeds/*.toml`, one per feed) are `config.py`'s; this module is the
process-wide rest: keys, directories, upstream URLs, limits."""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError


#: Every environment variable the service reads: (name, default, meaning). The single
#: source of docs/configuration.md (`arxiv-digest config-reference`); a test checks that
#: every variable `load_settings` reads is listed here.
ENVIRONMENT: tuple[tuple[str, str, str], ...] = (
    ("ANTHROPIC_API_KEY", "—", "LLM key; unset → analyses are disabled, and entries say so"),
    ("ANTHROPIC_BASE_URL", "the SDK's", "any Anthropic-compatible endpoint"),
    ("OPENAI_API_KEY", "—", "key of feeds with `provider = \"openai\"` and no `base_url` of their own"),
    ("OPENAI_BASE_URL", "the SDK's", "endpoint of those feeds"),
    ("DIGEST_DATA_DIR", "`var/` of the checkout", "where everything is stored (diskcache)"),
    ("DIGEST_FEEDS_DIR", "`feeds/` of the checkout", "the feed specs, one `<name>.toml` per feed"),
    ("DIGEST_PROMPTS_DIR", "the repository's `prompts/`", "prompt templates and `frameworks.toml`"),
    ("DIGEST_PUBLIC_URL", "—", "external base URL of self links; set it whenever the service is reachable "
                               "from outside (a feed reader such as Feedly must reach this address)"),
    ("DIGEST_ALLOWED_HOSTS", "`localhost,127.0.0.1,::1`", "without `DIGEST_PUBLIC_URL`: the host names a request "
     "may use (its `Host` builds the self links, on the port we listen on); any other `Host` is a 400"),
    ("DIGEST_ADMIN_TOKEN", "—", "bearer token of the admin routes; unset → they answer 403"),
    ("DIGEST_ARXIV_LISTING_URL", "`https://rss.arxiv.org/rss/`", "arXiv's listing feeds"),
    ("DIGEST_ARXIV_API_URL", "`https://export.arxiv.org/api/query`", "arXiv's API"),
    ("DIGEST_ARXIV_HTML_URL", "`https://arxiv.org/html/`", "arXiv's LaTeXML HTML pages"),
    ("DIGEST_ARXIV_PDF_URL", "`https://arxiv.org/pdf/`", "arXiv's PDFs"),
    ("DIGEST_ARXIV_DELAY", "`3`", "seconds between two arXiv requests (their terms ask for 3)"),
    ("DIGEST_ARXIV_TIMEOUT", "`30`", "seconds an arXiv request waits for each read; a whole body gets 4× this "
     "(a server trickling bytes is given up)"),
    ("DIGEST_LLM_CONCURRENCY", "`4`", "LLM calls in flight during a refresh"),
    ("DIGEST_LLM_MAX_RETRIES", "`2`", "SDK retries on 429/5xx/timeouts before a paper is left pending"),
    ("DIGEST_LLM_TIMEOUT", "`120`", "seconds per LLM call (each read; the answer's body gets as long again "
     "once its headers came)"),
    ("DIGEST_DAILY_BUDGET_USD", "`0` (none)", "LLM spend cap per UTC day across all feeds, in US dollars"),
    ("DIGEST_LISTING_TODAY", "today (UTC)", "the date (YYYY-MM-DD) arXiv listings are checked against: one dated "
     "outside two days ahead to five years back is refused. Set it only to replay recorded listings (the tests do)"),
    ("DIGEST_ZOTERO_API", "`https://api.zotero.org`", "the Zotero Web API, for feeds whose `library` is a "
     "`zotero_user` or `zotero_group`"),
    ("DIGEST_WEBSUB_HUB", "—", "WebSub hub: advertised as `rel=\"hub\"` and pinged after each publication; "
                               "needs `DIGEST_PUBLIC_URL`; a failing hub is logged, never fails a refresh"),
)


@dataclass(frozen=True)
class Settings:
    anthropic_api_key: str | None
    anthropic_base_url: str | None
    data_dir: Path
    feeds_dir: Path
    public_url: str | None
    admin_token: str | None
    arxiv_listing_url: str = "https://rss.arxiv.org/rss/"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_html_url: str = "https://arxiv.org/html/"
    arxiv_pdf_url: str = "https://arxiv.org/pdf/"
    #: Seconds between two arXiv requests (their terms ask for 3).
    arxiv_delay: float = 3.0
    #: Seconds to wait for an arXiv response (connect and read).
    arxiv_timeout: float = 30.0
    #: Concurrent LLM calls during a refresh.
    llm_concurrency: int = 4
    #: Retries the anthropic SDK makes on 429/5xx/timeouts before we mark a paper pending.
    llm_max_retries: int = 2
    llm_timeout: float = 120.0
    #: Global LLM spend cap per UTC day across feeds, in US dollars; 0 = none.
    daily_budget_usd: float = 0.0
    #: WebSub hub advertised in the Atom and RSS feeds and pinged on publish; None = off.
    websub_hub: str | None = None
    #: The day a listing's date must lie near; None = today (UTC). Data, not a mock: tests
    #: replaying the recorded 2026-01-28 listing pin it, so they still pass in 2031.
    listing_today: dt.date | None = None
    #: Prompt templates and frameworks; None = the repository's `prompts/`.
    prompts_dir: Path | None = None
    #: Without a public URL: the host names a request may address us by (its Host header
    #: builds the self links). Anything else is refused, so neither stored documents nor
    #: self links multiply with a client's Host header.
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    #: The openai SDK's own variables, for feeds with `provider = "openai"`.
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    #: The Zotero Web API (feeds with `library = { zotero_user = … }`).
    zotero_api: str = "https://api.zotero.org"
    #: Every non-empty `…_API_KEY` variable, for specs naming theirs (`api_key_env`).
    api_keys: dict[str, str] = field(default_factory=dict, repr=False)


def _number(env: dict[str, str], name: str, default: float, kind=float):
    raw = env.get(name)
    if raw is None or raw == "":
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError("environment", name, f"expected a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError("environment", name, f"must not be negative, got {raw!r}")
    return value


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from `env` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    public = env.get("DIGEST_PUBLIC_URL") or None
    return Settings(
        anthropic_api_key=env.get("ANTHROPIC_API_KEY") or None,
        anthropic_base_url=env.get("ANTHROPIC_BASE_URL") or None,
        data_dir=Path(env.get("DIGEST_DATA_DIR") or _beside_project("var")),
        feeds_dir=Path(env.get("DIGEST_FEEDS_DIR") or _beside_project("feeds")),
        public_url=public.rstrip("/") if public else None,
        admin_token=env.get("DIGEST_ADMIN_TOKEN") or None,
        arxiv_listing_url=env.get("DIGEST_ARXIV_LISTING_URL") or Settings.arxiv_listing_url,
        arxiv_api_url=env.get("DIGEST_ARXIV_API_URL") or Settings.arxiv_api_url,
        arxiv_html_url=env.get("DIGEST_ARXIV_HTML_URL") or Settings.arxiv_html_url,
        arxiv_pdf_url=env.get("DIGEST_ARXIV_PDF_URL") or Settings.arxiv_pdf_url,
        arxiv_delay=_number(env, "DIGEST_ARXIV_DELAY", 3.0),
        arxiv_timeout=_number(env, "DIGEST_ARXIV_TIMEOUT", 30.0),
        llm_concurrency=max(1, _number(env, "DIGEST_LLM_CONCURRENCY", 4, int)),
        llm_max_retries=_number(env, "DIGEST_LLM_MAX_RETRIES", 2, int),
        llm_timeout=_number(env, "DIGEST_LLM_TIMEOUT", 120.0),
        daily_budget_usd=_number(env, "DIGEST_DAILY_BUDGET_USD", 0.0),
        websub_hub=_url(env, "DIGEST_WEBSUB_HUB"),
        listing_today=_date(env, "DIGEST_LISTING_TODAY"),
        prompts_dir=Path(env["DIGEST_PROMPTS_DIR"]) if env.get("DIGEST_PROMPTS_DIR") else None,
        allowed_hosts=_hosts(env, "DIGEST_ALLOWED_HOSTS", Settings.allowed_hosts),
        openai_api_key=env.get("OPENAI_API_KEY") or None,
        openai_base_url=env.get("OPENAI_BASE_URL") or None,
        zotero_api=(_url(env, "DIGEST_ZOTERO_API") or Settings.zotero_api).rstrip("/"),
        api_keys={k: v for k, v in env.items() if k.endswith("_API_KEY") and v},
    )


#: The checkout this code runs from, if it runs from one (an editable install, `make run`).
PROJECT = Path(__file__).resolve().parent.parent


def _beside_project(name: str) -> Path:
    """`var/` and `feeds/` of the checkout, whatever the shell's directory: `arxiv-digest
    export-site` run from elsewhere must not start an empty store there. An installed
    package (no checkout) uses the current directory."""
    return PROJECT / name if (PROJECT / "pyproject.toml").is_file() else Path(name)


def _hosts(env: dict[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    hosts = tuple(h.strip().lower().strip("[]") for h in raw.split(",") if h.strip())
    bad = [h for h in hosts if not re.fullmatch(r"[a-z0-9.:-]+", h)]
    if bad:
        raise ConfigError("environment", name, f"expected host names separated by commas, got {bad[0]!r}")
    return hosts


def _date(env: dict[str, str], name: str) -> dt.date | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise ConfigError("environment", name, f"expected a date YYYY-MM-DD, got {raw!r}")


def _url(env: dict[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise ConfigError("environment", name, f"expected an http(s) URL, got {raw!r}")
    return raw
