"""One exception tree. Each error carries what it is about and the HTTP status it maps to.

The web layer turns a `DigestError` into `{"error": {"code", "message"}}` with `status`
in one place (`web/__init__.py`); the CLI prints the message and exits non-zero. Only an
exception outside this tree is unexpected, and only that is a 500.
"""
from __future__ import annotations

from pathlib import Path


class DigestError(Exception):
    """Base of every error this service raises on purpose."""

    #: HTTP status when this error answers a request.
    status = 500
    #: Stable machine-readable code for the JSON error body.
    code = "internal"


class ConfigError(DigestError):
    """A feed spec or setting is invalid: names the file, the key and the problem."""

    code = "config"

    def __init__(self, file: Path | str, key: str | None, problem: str):
        self.file, self.key, self.problem = str(file), key, problem
        where = f"{self.file}: key '{key}'" if key else self.file
        super().__init__(f"{where}: {problem}")


class BadRequest(DigestError):
    """A malformed request parameter (date, page, id)."""

    status, code = 400, "bad_request"

    def __init__(self, parameter: str, problem: str):
        self.parameter = parameter
        super().__init__(problem)


class NotFound(DigestError):
    """A feed, format, day or paper we do not have; `kind` and `id` say which."""

    status, code = 404, "not_found"

    def __init__(self, kind: str, id: str, problem: str):
        self.kind, self.id = kind, id
        super().__init__(problem)


class RefreshBusy(DigestError):
    """Another refresh of the same feed holds the lock."""

    status, code = 409, "already_running"

    def __init__(self, feed: str):
        self.feed = feed
        super().__init__(f"{feed}: a refresh of this feed is already running")


class UpstreamError(DigestError):
    """arXiv (or another upstream) failed or answered something we cannot use."""

    status, code = 502, "upstream"

    def __init__(self, url: str, problem: str):
        self.url, self.problem = url, problem
        super().__init__(f"{url}: {problem}")


class LLMError(DigestError):
    """The LLM endpoint failed after the SDK's own retries, or answered an unusable shape."""

    status, code = 502, "llm"


class StorageError(DigestError):
    """The data directory cannot be written (disk full, read-only, broken database)."""

    status, code = 507, "storage"

    def __init__(self, data_dir: Path | str, problem: str):
        self.data_dir = str(data_dir)
        super().__init__(f"cannot write to {self.data_dir}: {problem}")
