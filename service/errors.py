"""One exception tree; each error carries the id of what failed."""
from __future__ import annotations

from pathlib import Path


class DigestError(Exception):
    """Base of every error this service raises on purpose."""


class ConfigError(DigestError):
    """A feed spec or setting is invalid: names the file, the key and the problem."""

    def __init__(self, file: Path | str, key: str | None, problem: str):
        self.file, self.key, self.problem = str(file), key, problem
        where = f"{self.file}: key '{key}'" if key else self.file
        super().__init__(f"{where}: {problem}")


class UpstreamError(DigestError):
    """arXiv (or another upstream) failed or answered something we cannot use."""

    def __init__(self, url: str, problem: str):
        self.url, self.problem = url, problem
        super().__init__(f"{url}: {problem}")


class LLMError(DigestError):
    """The LLM endpoint failed after the SDK's own retries."""


class NotFound(DigestError):
    """A feed, day or paper we do not have."""


class RefreshBusy(DigestError):
    """Another refresh of the same feed holds the lock."""
