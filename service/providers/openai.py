"""OpenAI's chat completions behind the `LLM` boundary, and every server that speaks them
(vLLM, llama.cpp's server, Ollama, DeepSeek, OpenRouter).

Structured output is asked for in the strongest form the server takes, learnt once per
model: a forced function call, else `response_format` with the JSON schema, else the
schema in the prompt and plain JSON. A server that refuses a form (400/422, not billed)
is asked in the next; one that ignores the tools and answers prose is asked once more in
the next form; broken JSON gets one repair request. So one `complete` sends at most
`max_calls` billed requests, which the Enricher reserves in the budget before the first.

Everything OpenAI-shaped stays here: `length` becomes `max_tokens`, cached prompt tokens
become `cache_read_tokens` (and leave `input_tokens`, which counts uncached input only, as
Anthropic's does), SDK errors become `LLMError`.
"""
from __future__ import annotations

import json
import re
import threading
import time

from ..errors import LLMError
from ..http import deadline_transport
from ..llm import LLMReply
from ..prompts import Prompt

#: Forms of structured output, strongest first.
MODES = ("tools", "json_schema", "json")
#: finish_reason → the neutral stop reasons the gate knows (Anthropic's words).
STOP_REASONS = {"length": "max_tokens", "tool_calls": "tool_use", "function_call": "tool_use",
                "stop": "end_turn", "content_filter": "refusal"}
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n?```\s*$", re.S)


class OpenAILLM:
    """Calls `chat.completions.create` with the prompt's tool as a forced function."""

    #: Billed requests one `complete` may send: the answer and one follow-up (next form or repair).
    max_calls = 2

    def __init__(self, api_key: str, base_url: str | None, max_retries: int, timeout: float):
        self._options = {"api_key": api_key, "base_url": base_url, "max_retries": max_retries, "timeout": timeout}
        self._client = None
        self._lock = threading.Lock()
        #: model → the form that last worked; a process learns it once per model.
        self.modes: dict[str, str] = {}
        # OpenAI's newer models take only max_completion_tokens; compatible servers know max_tokens.
        official = base_url is None or "api.openai.com" in base_url
        self._limit = "max_completion_tokens" if official else "max_tokens"

    @property
    def client(self):
        """Built on first use, like the Anthropic client: importing the SDK is not free."""
        with self._lock:
            if self._client is None:
                import openai

                # a body trickling in must not hold a call past its timeout (http.deadline_transport)
                body_deadline = openai.DefaultHttpxClient(transport=deadline_transport(self._options["timeout"]))
                self._client = openai.OpenAI(**self._options, http_client=body_deadline)
            return self._client

    def complete(self, prompt: Prompt, model: str, extra_user: str = "") -> LLMReply:
        import openai

        user = f"{prompt.user}\n\n{extra_user}" if extra_user else prompt.user
        started = time.monotonic()
        answers: list = []  # every billed completion, for the usage
        try:
            return self._complete(prompt, model, user, answers, started)
        except (openai.OpenAIError, ValueError) as e:  # ValueError: a body that is not JSON
            if answers:  # a follow-up failed: the first answer was billed, so report it
                return _reply(answers, None, _content(answers[-1]), model, time.monotonic() - started)
            kind = "malformed response from the LLM endpoint: " if isinstance(e, ValueError) else ""
            raise LLMError(f"{kind}{type(e).__name__}: {e}") from e

    def _complete(self, prompt: Prompt, model: str, user: str, answers: list, started: float) -> LLMReply:
        import openai

        name = prompt.tool["name"]
        i = MODES.index(self.modes.get(model, MODES[0]))
        repair: tuple[str, str] | None = None  # (broken answer, what is wrong with it)
        while True:
            mode = MODES[i] if repair is None else "json"
            try:
                completion = self.client.chat.completions.create(**self._request(prompt, model, user, mode, repair))
            except openai.APIStatusError as e:
                if repair is None and i + 1 < len(MODES) and refuses_form(mode, e):
                    i += 1  # the server does not take this form (not billed): ask in the next
                    continue
                raise
            answers.append(completion)
            tool_input, problem = _structured(completion, mode, name)
            finish = _finish(completion)
            if tool_input is not None:
                with self._lock:
                    self.modes[model] = mode
                return _reply(answers, tool_input, "" if mode != "tools" else _content(completion),
                              model, time.monotonic() - started)
            text = _content(completion)
            ignored = problem == "prose" and repair is None and i + 1 < len(MODES)
            if ignored:  # it ignored this form and wrote prose: start at the next one from now on
                i += 1   # (a refusal by status is only learnt once the next form has worked)
                with self._lock:
                    self.modes[model] = MODES[i]
            if finish == "length" or len(answers) >= self.max_calls:
                # a cut-off answer is not repaired (it would be cut again): the gate says why
                return _reply(answers, None, text, model, time.monotonic() - started)
            if not ignored:
                repair = (text, "it is prose, not a JSON object" if problem == "prose" else problem)

    def _request(self, prompt: Prompt, model: str, user: str, mode: str,
                 repair: tuple[str, str] | None) -> dict:
        tool = prompt.tool
        system = prompt.system
        if mode != "tools":
            system += (f"\n\nThere is no tool here. Answer with only one JSON object: the input of "
                       f"`{tool['name']}` ({tool['description']}), valid against this JSON Schema:\n"
                       f"```json\n{json.dumps(tool['input_schema'], ensure_ascii=False)}\n```")
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        request: dict = {"model": model, "messages": messages, self._limit: prompt.max_tokens}
        if repair is not None:
            broken, problem = repair
            messages += [{"role": "assistant", "content": broken},
                         {"role": "user", "content": f"That answer is not usable: {problem}. Reply with only "
                                                     "the corrected JSON object, nothing before or after it."}]
        elif mode == "tools":
            request["tools"] = [{"type": "function", "function": {
                "name": tool["name"], "description": tool["description"], "parameters": tool["input_schema"]}}]
            request["tool_choice"] = {"type": "function", "function": {"name": tool["name"]}}
        elif mode == "json_schema":
            request["response_format"] = {"type": "json_schema", "json_schema": {
                "name": tool["name"], "schema": tool["input_schema"], "strict": False}}
        return request


_VERBS = re.compile(r"support|require|jinja|not allowed|no endpoints|unrecognized|unknown|invalid", re.I)
_FORM_WORDS = {"tools": re.compile(r"tool|function", re.I),
               "json_schema": re.compile(r"response_format|json_schema", re.I)}


def refuses_form(mode: str, error) -> bool:
    """Does this error say the server cannot take this form of structured output? Only an
    explicit message counts (Ollama's 400 "does not support tools", llama.cpp's 500 "tools
    param requires --jinja flag", OpenRouter's "no endpoints found that support tool use"):
    a bare 400 is as often an over-long prompt, which the next form would only hide."""
    words = _FORM_WORDS.get(mode)
    status = getattr(error, "status_code", 0) or 0
    text = str(getattr(error, "message", "") or error)
    return bool(words and status >= 400 and status != 429 and words.search(text) and _VERBS.search(text))


def _message(completion):
    """The first choice's message; JSON that is not a chat completion is an `LLMError`."""
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise LLMError(f"malformed response from the LLM endpoint: no choices ({type(choices).__name__})")
    message = getattr(choices[0], "message", None)
    if message is None:
        raise LLMError("malformed response from the LLM endpoint: the choice has no message")
    return message


def _content(completion) -> str:
    content = getattr(_message(completion), "content", None)
    return content if isinstance(content, str) else ""


def _finish(completion) -> str | None:
    reason = getattr(completion.choices[0], "finish_reason", None)
    return reason if isinstance(reason, str) else None


def _structured(completion, mode: str, name: str) -> tuple[dict | None, str]:
    """The answer's JSON object, or None and what is wrong: "prose" when there is no
    structure at all, else the parse error (worth one repair request)."""
    message = _message(completion)
    raw = None
    if mode == "tools":
        for call in getattr(message, "tool_calls", None) or ():
            function = getattr(call, "function", None)
            if getattr(function, "name", None) == name:
                raw = getattr(function, "arguments", None)
                break
    if raw is None:  # no tool call: the content may still be the JSON
        raw = _content(completion)
        fenced = _FENCE.match(raw)
        raw = fenced.group(1) if fenced else raw
        if not raw.lstrip().startswith("{"):
            return None, "prose"
    if isinstance(raw, dict):  # some servers send the arguments already parsed
        return raw, ""
    if not isinstance(raw, str):
        return None, "prose"
    try:
        value = json.loads(raw)
    except ValueError as e:
        return None, f"it is not valid JSON ({e})"
    if not isinstance(value, dict):
        return None, f"it is JSON but a {type(value).__name__}, not an object"
    return value, ""


def _reply(answers: list, tool_input: dict | None, text: str, model: str, duration: float) -> LLMReply:
    """The neutral reply, with the usage of every billed request summed."""
    last = answers[-1]
    uncached = output = write = read = 0
    for completion in answers:
        usage = getattr(completion, "usage", None)
        prompt_tokens = _count(usage, "prompt_tokens")
        details = getattr(usage, "prompt_tokens_details", None)
        # OpenAI: prompt_tokens_details.cached_tokens; DeepSeek: prompt_cache_hit_tokens
        hit = _count(details, "cached_tokens") or _count(usage, "prompt_cache_hit_tokens")
        written = _count(details, "cache_write_tokens")
        hit, written = min(hit, prompt_tokens), min(written, max(0, prompt_tokens - hit))
        uncached += prompt_tokens - hit - written
        read += hit
        write += written
        output += _count(usage, "completion_tokens")
    finish = _finish(last)
    return LLMReply(
        text=text, tool_input=tool_input, stop_reason=STOP_REASONS.get(finish, finish),
        model=str(getattr(last, "model", "") or model), input_tokens=uncached, output_tokens=output,
        duration=duration, cache_write_tokens=write, cache_read_tokens=read,
    )


def _count(obj, name: str) -> int:
    value = getattr(obj, name, None)
    if value is None and isinstance(obj, dict):
        value = obj.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
