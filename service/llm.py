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
from .prompts import Prompt
from .untrusted import clean_text

#: Output budget per call; analyses in Chinese are long.
MAX_TOKENS = 8192


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
    def complete(self, prompt: Prompt, model: str, extra_user: str = "") -> LLMReply: ...


class AnthropicLLM:
    """Calls the Messages API with the prompt's tool forced (structured output)."""

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

                self._client = anthropic.Anthropic(**self._options)
            return self._client

    def complete(self, prompt: Prompt, model: str, extra_user: str = "") -> LLMReply:
        import anthropic

        user = f"{prompt.user}\n\n{extra_user}" if extra_user else prompt.user
        started = time.monotonic()
        try:
            msg = self.client.messages.create(
                model=model,
                max_tokens=MAX_TOKENS,
                # The system prompt is the same for every paper of a day: cache it.
                system=[{"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}],
                messages=[{"role": "user", "content": user}],
                tools=[prompt.tool],
                tool_choice={"type": "tool", "name": prompt.tool["name"]},
            )
            text = "".join(b.text for b in msg.content if b.type == "text")
            tool_input = next((b.input for b in msg.content
                               if b.type == "tool_use" and b.name == prompt.tool["name"]), None)
            usage = msg.usage
        except anthropic.APIError as e:
            raise LLMError(f"{type(e).__name__}: {e}") from e
        except (ValueError, TypeError, AttributeError) as e:
            # A body that is not JSON, or JSON that is not a Messages API answer.
            raise LLMError(f"malformed response from the LLM endpoint: {type(e).__name__}: {e}") from e
        tool_input = clean_json(tool_input) if isinstance(tool_input, dict) else None
        return LLMReply(
            text=clean_text(text),
            tool_input=tool_input,
            stop_reason=msg.stop_reason,
            model=msg.model,
            input_tokens=getattr(usage, "input_tokens", 0) or 0,
            output_tokens=getattr(usage, "output_tokens", 0) or 0,
            duration=time.monotonic() - started,
            cache_write_tokens=getattr(usage, "cache_creation_input_tokens", None) or 0,
            cache_read_tokens=getattr(usage, "cache_read_input_tokens", None) or 0,
            schema_errors=schema_errors(tool_input, prompt.tool["input_schema"]),
        )
