"""Vectors for titles and abstracts from an OpenAI-compatible `/v1/embeddings` endpoint.

A feed that names one (`embeddings = { model = … }`) ranks its day by meaning as well as by
shared words (`similarity.blend`): a library about "automobiles" finds a paper on "cars".
The endpoint is called through the `openai` SDK, like the OpenAI-compatible LLMs, with the
same key rule (`providers.endpoint`: a key only from the provider's environment or the
variable the spec names, never sent to a `base_url` unasked) and the same body deadline.

Each text is embedded once per (endpoint, model) and kept on disk by its hash (derived
data: evicted least recently stored past `CACHE_BYTES`), so a library is paid for on the
first day only and a day's papers once. The answer is untrusted: one finite vector per text,
all of one length, else `EmbeddingsError`, and the day is ranked without it (the refresh
reports why). The SDK and numpy are imported on first use: the web app never embeds.
"""
from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Sequence
from pathlib import Path

from .errors import DigestError
from .models import EmbeddingsEndpoint
from .settings import Settings

#: Texts per request (OpenAI takes up to 2048; local servers are happier with few).
BATCH = 64
#: Library items embedded at most, the most recent first (a 50,000-item library is not
#: embedded on a refresh: the rest are ranked by words only).
MAX_LIBRARY_ITEMS = 5000
#: Longest text sent, in characters (a title and an abstract are ~2,000; embedding models
#: take 512–8192 tokens).
MAX_CHARS = 4000
#: Disk kept for vectors (3 KB each at 768 dimensions: ~300,000 texts).
CACHE_BYTES = 2 ** 30
#: Longest vector accepted.
MAX_DIMENSIONS = 8192


class EmbeddingsError(DigestError):
    """The embeddings endpoint failed or answered something unusable; says which and why."""

    status, code = 502, "embeddings"


class Embedder:
    """One per process: an SDK client per endpoint, and the disk cache of vectors."""

    def __init__(self, settings: Settings, cache_dir: Path):
        self.settings, self.cache_dir = settings, cache_dir
        self._clients: dict = {}
        self._cache = None
        self._lock = threading.Lock()

    def vectors(self, endpoint: EmbeddingsEndpoint, texts: Sequence[str]):
        """An L2-normalised float32 matrix, one row per text, in order."""
        import numpy as np

        ep = self._endpoint(endpoint)
        scope = f"{ep.base_url or 'openai'}\x00{endpoint.model}\x00"
        keys = [scope + hashlib.sha256(t[:MAX_CHARS].encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
        cache = self._disk()
        found: dict = {}  # key → vector
        for k in dict.fromkeys(keys):
            v = cache.get(k) if cache is not None else None
            if v is not None:
                found[k] = np.frombuffer(v, dtype=np.float32)
        text_of = dict(zip(keys, texts))
        fetched = self._fetch(ep, endpoint.model, [(k, t) for k, t in text_of.items() if k not in found], found)
        if fetched and len({len(v) for v in found.values()}) > 1:
            # the model behind the name changed: vectors cached from before are of another space
            dim = len(found[fetched[-1]])
            self._fetch(ep, endpoint.model, [(k, text_of[k]) for k in text_of if len(found[k]) != dim], found)
        if len({len(v) for v in found.values()}) > 1:
            raise EmbeddingsError(f"embeddings from {endpoint.model} have different lengths")
        return np.vstack([found[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)

    def _fetch(self, ep, model: str, wanted: list[tuple[str, str]], found: dict) -> list[str]:
        """Ask for `wanted` (key, text) in batches; each answer into `found` and the disk."""
        cache = self._disk()
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start:start + BATCH]
            for (k, _), vec in zip(chunk, self._ask(ep, model, [t[:MAX_CHARS] for _, t in chunk])):
                found[k] = vec
                if cache is not None:
                    cache.set(k, vec.tobytes())
        return [k for k, _ in wanted]

    def _endpoint(self, endpoint: EmbeddingsEndpoint):
        from .providers import resolve

        ep = resolve(self.settings, "openai", endpoint.base_url, endpoint.api_key_env)
        if ep is None:
            raise EmbeddingsError(f"no key for the embeddings endpoint ({endpoint.api_key_env or 'OPENAI_API_KEY'} "
                                  "is not set)")
        return ep

    def _client(self, ep):
        with self._lock:
            if ep not in self._clients:
                import openai

                from .http import deadline_transport

                timeout = self.settings.llm_timeout
                self._clients[ep] = openai.OpenAI(
                    api_key=ep.api_key, base_url=ep.base_url, max_retries=self.settings.llm_max_retries,
                    timeout=timeout, http_client=openai.DefaultHttpxClient(transport=deadline_transport(timeout)))
            return self._clients[ep]

    def _ask(self, ep, model: str, texts: list[str]) -> list:
        """One request; its answer checked: one finite vector per text, in the texts' order."""
        import numpy as np
        import openai

        try:
            answer = self._client(ep).embeddings.create(model=model, input=texts, encoding_format="float")
            data = sorted(answer.data, key=lambda d: d.index)
            if [d.index for d in data] != list(range(len(texts))):
                raise ValueError(f"{len(data)} vectors for {len(texts)} texts")
            out = []
            for d in data:
                vec = d.embedding
                if not isinstance(vec, list) or not 0 < len(vec) <= MAX_DIMENSIONS or \
                        not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                                for x in vec):
                    raise ValueError("a vector that is not a list of finite numbers")
                arr = np.asarray(vec, dtype=np.float32)
                norm = float(np.linalg.norm(arr))
                if not norm > 0:
                    raise ValueError("a zero vector")
                out.append(arr / norm)
            if len({len(v) for v in out}) > 1:
                raise ValueError("vectors of different lengths in one answer")
            return out
        except (openai.OpenAIError, ValueError, TypeError, AttributeError) as e:
            raise EmbeddingsError(f"embeddings endpoint ({model}): {type(e).__name__}: {str(e)[:300]}") from e

    def _disk(self):
        """The vector cache, or None when it cannot be opened (then every text is asked for)."""
        with self._lock:
            if self._cache is None:
                import diskcache

                try:
                    self._cache = diskcache.Cache(str(self.cache_dir), size_limit=CACHE_BYTES)
                except OSError:
                    return None
            return self._cache
