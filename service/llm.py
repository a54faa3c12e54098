"""The LLM boundary: one method, `complete`, behind a Protocol; Anthropic's SDK behind it.

`ANTHROPIC_BASE_URL` points the SDK at any Anthropic-compatible endpoint. The SDK
retries 429/5xx/timeouts with backoff; what still fails becomes an `LLMError`.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

from .errors import LLMError
from .http import deadline_transport
from .prompts import DEFAULT_MAX_TOKENS, Prompt
from .untrusted import clean_text

#: Output budget of a call whose prompt names none; analyses in Chinese are long.
MAX_TOKENS = DEFAULT_MAX_TOKENS


@dataclass(frozen=True)
class LLMReply:
    #: Free text the model wrote outside the tool call (should be empty).
    text: str
    #: The forced tool's input, or None when the model did not call it.
    tool_input: dict | None
    stop_reason: str | None
    model: str
    input_tokens: int
    output_tokens: int
    duration: float
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    #: Where the tool input breaks the tool's JSON schema (wrong types, missing fields):
    #: the gate rejects such a reply with reason code "schema".
    schema_errors: tuple[str, ...] = ()


def clean_json(value):
    """The model's JSON with every string cleaned: JSON carries U+0001, XML 1.0 cannot."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value


def schema_errors(tool_input: dict | None, schema: dict, limit: int = 5) -> tuple[str, ...]:
    """The tool input checked against the tool's own JSON schema by a real validator."""
    if tool_input is None:  # no tool call at all: the gate's no_structure says so
        return ()
    from jsonschema import Draft202012Validator  # lazily: web workers never call the LLM

    errors = sorted(Draft202012Validator(schema).iter_errors(tool_input), key=lambda e: list(e.absolute_path))
    return tuple(f"{'/'.join(map(str, e.absolute_path)) or 'input'}: {e.message[:120]}" for e in errors[:limit])


class LLM(Protocol):
    #: Billed requests one `complete` may send (a repair request counts); reserved up front.
    max_calls: int

    def complete(self, prompt: Prompt, model: str, extra_user: str = "") -> LLMReply: ...


class AnthropicLLM:
    """Calls the Messages API with the prompt's tool forced (structured output)."""

    max_calls = 1

    def __init__(self, api_key: str, base_url: str | None, max_retries: int, timeout: float):
        self._options = {"api_key": api_key, "base_url": base_url, "max_retries": max_retries, "timeout": timeout}
        self._client = None
        self._lock = threading.Lock()

    @property
    def client(self):
        """The SDK client, built on first use: importing `anthropic` takes ~0.8 s and ~30 MB,
        which a web worker (never calls the LLM) and a cached re-run (no call) don't need."""
        with self._lock:
            if self._client is None:
                import anthropic

                # a body trickling in must not hold a call past its timeout (http.deadline_transport)
                body_deadline = anthropic.DefaultHttpxClient(transport=deadline_transport(self._options["timeout"]))
                self._client = anthropic.Anthropic(**self._options, http_client=body_deadline)
            return self._client

    @staticmethod
    def request(prompt: Prompt, model: str, extra_user: str = "") -> dict:
        """The Messages API parameters of one call (also one request of a Message Batch)."""
        user = f"{prompt.user}\n\n{extra_user}" if extra_user else prompt.user
        return dict(
            model=model,
            max_tokens=prompt.max_tokens,
            # Tools and system are the same for every paper of a feed's day (prompts.py):
            # the mark caches both, as one prefix longer than the model's minimum.
            system=[{"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}],
            messages=[{"role": "user", "content": user}],
            tools=[prompt.tool],
            tool_choice={"type": "tool", "name": prompt.tool["name"]},
        )

    def complete(self, prompt: Prompt, model: str, extra_user: str = "") -> LLMReply:
        import anthropic

        started = time.monotonic()
        try:
            msg = self.client.messages.create(**self.request(prompt, model, extra_user))
        except anthropic.APIError as e:
            raise LLMError(f"{type(e).__name__}: {e}") from e
        except ValueError as e:  # a body that is not JSON
            raise LLMError(f"malformed response from the LLM endpoint: {type(e).__name__}: {e}") from e
        return reply_of(msg, prompt, time.monotonic() - started)


def reply_of(msg, prompt: Prompt, duration: float) -> LLMReply:
    """A Messages API answer (a direct reply or a batch result's message) as our reply."""
    return _reply(msg, prompt.tool["name"], prompt.tool["input_schema"], duration)


def _reply(msg, tool_name: str, tool_schema: dict, duration: float) -> LLMReply:
    """The SDK's message as our reply type. The SDK does not validate the body's shape, so
    JSON that is not a Messages API answer is checked here and becomes an `LLMError`;
    a bug of ours still raises as itself. Text is cleaned where it enters (control
    characters), and the tool input is checked against the tool's JSON schema."""
    content = getattr(msg, "content", None)
    if not isinstance(content, list):
        raise LLMError(f"malformed response from the LLM endpoint: content is {type(content).__name__}, not a list")
    text = "".join(t for b in content if getattr(b, "type", None) == "text" and isinstance(t := getattr(b, "text", ""), str))
    tool_input = next((getattr(b, "input", None) for b in content
                       if getattr(b, "type", None) == "tool_use" and getattr(b, "name", None) == tool_name), None)
    tool_input = clean_json(tool_input) if isinstance(tool_input, dict) else None
    usage = getattr(msg, "usage", None)
    return LLMReply(
        text=clean_text(text),
        tool_input=tool_input,
        stop_reason=getattr(msg, "stop_reason", None),
        model=str(getattr(msg, "model", "") or ""),
        input_tokens=_count(usage, "input_tokens"),
        output_tokens=_count(usage, "output_tokens"),
        duration=duration,
        cache_write_tokens=_count(usage, "cache_creation_input_tokens"),
        cache_read_tokens=_count(usage, "cache_read_input_tokens"),
        schema_errors=schema_errors(tool_input, tool_schema),
    )


def _count(usage, name: str) -> int:
    value = getattr(usage, name, None)
    return value if isinstance(value, int) and value >= 0 else 0
