"""Which LLM answers a feed: its spec names the provider, model and endpoint; this builds
one client per endpoint and hands the Enricher the one for a spec (or None: no key).

Keys follow the SDKs' conventions and never travel to another host by default:
- no `base_url` in the spec: the provider's environment (`ANTHROPIC_API_KEY` and
  `ANTHROPIC_BASE_URL`, or `OPENAI_API_KEY` and `OPENAI_BASE_URL`); no key, no analyses;
- a `base_url`: the key in the spec's `api_key_env` variable if it names one, else none
  at all (a local server: Ollama, llama.cpp, vLLM), so `OPENAI_API_KEY` is never sent
  to DeepSeek or to a laptop.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ..llm import LLM, AnthropicLLM
from ..models import FeedSpec
from ..settings import Settings
from .openai import OpenAILLM

#: What the SDKs are given for an endpoint that needs no key (they refuse to start without one).
NO_KEY = "no-key"


@dataclass(frozen=True)
class Endpoint:
    provider: str
    base_url: str | None
    api_key: str = field(repr=False)


def endpoint(settings: Settings, spec: FeedSpec) -> Endpoint | None:
    """Where a feed's calls go and with which key; None when its key is not set."""
    return resolve(settings, spec.provider, spec.base_url, spec.api_key_env)


def resolve(settings: Settings, provider: str, base_url: str | None, api_key_env: str | None) -> Endpoint | None:
    """The key rule above for any endpoint a spec names (the LLM's, the embeddings')."""
    env_key, env_url = {"anthropic": (settings.anthropic_api_key, settings.anthropic_base_url),
                        "openai": (settings.openai_api_key, settings.openai_base_url)}[provider]
    url = base_url or env_url
    if api_key_env:
        key = settings.api_keys.get(api_key_env)
        return Endpoint(provider, url, key) if key else None
    if base_url:
        return Endpoint(provider, url, NO_KEY)
    return Endpoint(provider, url, env_key) if env_key else None


class Providers:
    """The registry: one `LLM` per endpoint, built on first use and shared by its feeds."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._llms: dict[Endpoint, LLM] = {}
        self._lock = threading.Lock()

    def for_spec(self, spec: FeedSpec) -> LLM | None:
        ep = endpoint(self.settings, spec)
        if ep is None:
            return None
        with self._lock:
            if ep not in self._llms:
                cls = {"anthropic": AnthropicLLM, "openai": OpenAILLM}[ep.provider]
                self._llms[ep] = cls(ep.api_key, ep.base_url, self.settings.llm_max_retries,
                                     self.settings.llm_timeout)
            return self._llms[ep]
