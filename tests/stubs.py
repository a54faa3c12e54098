"""Loopback servers that speak arXiv's and Anthropic's real wire formats.

The real `arxiv` package, `requests` and the `anthropic` SDK talk to these over HTTP on
127.0.0.1; nothing of ours is replaced. Tests script faults and LLM answers per paper.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lxml import etree

FIXTURES = Path(__file__).parent / "fixtures"
ATOM = "http://www.w3.org/2005/Atom"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class StubServer:
    """Base: a threaded HTTP server on an ephemeral loopback port, with a request log."""

    def __init__(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                stub._dispatch(self, "GET", b"")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                stub._dispatch(self, "POST", self.rfile.read(length))

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, bytes]] = []
        #: (monotonic time, path) of every request, for spacing assertions
        self.times: list[tuple[float, str]] = []
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _dispatch(self, handler, method, body):
        with self.lock:
            self.requests.append((method, handler.path, body))
            self.times.append((time.monotonic(), handler.path))
        fault = self.next_fault(handler.path)
        if fault is not None:
            if fault.get("delay"):
                time.sleep(fault["delay"])
            if fault.get("reset"):  # drop the connection without an answer
                handler.close_connection = True
                handler.connection.shutdown(2)
                return
            if "status" in fault:
                payload = fault.get("body", b"")
                handler.send_response(fault["status"])
                for k, v in fault.get("headers", {}).items():
                    handler.send_header(k, v)
                declared = len(payload) + (1000 if fault.get("truncate") else 0)
                handler.send_header("Content-Length", str(declared))
                handler.end_headers()
                handler.wfile.write(payload)
                if fault.get("truncate"):
                    handler.close_connection = True
                    handler.connection.shutdown(2)
                return
        status, headers, payload = self.handle(method, handler.path, body, handler.headers)
        handler.send_response(status)
        for k, v in headers.items():
            handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    #: path prefix -> faults answered (one each) before the normal answer; a fault is a dict
    #: with any of: status/body/headers, delay (seconds), reset (drop the connection),
    #: truncate (declare more bytes than sent).
    faults: dict

    def next_fault(self, path: str) -> dict | None:
        with self.lock:
            for prefix, queue in getattr(self, "faults", {}).items():
                if path.startswith(prefix) and queue:
                    return queue.pop(0)
        return None

    def paths(self, prefix: str = "") -> list[str]:
        with self.lock:
            return [p for _, p, _ in self.requests if p.startswith(prefix)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ArxivStub(StubServer):
    """Listing RSS at /rss/<cats>, the API at /api/query, LaTeXML HTML at /html/, PDFs at /pdf/."""

    def __init__(self):
        super().__init__()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.times.clear()
        self.listing = (FIXTURES / "arxiv/listing-cs.CV-2026-01-28.xml").read_bytes()
        self.api_entries = self._entries((FIXTURES / "arxiv/api-id_list-2026-01-28.xml").read_bytes())
        self.html: dict[str, bytes] = {}
        self.pdf: dict[str, bytes] = {}
        self.faults = defaultdict(list)
        #: versioned id -> how many API answers leave it out
        self.drop_ids: dict[str, int] = {}
        #: (old, new) byte replacements applied to every API answer: hostile data the
        #: lxml tree cannot hold (character references to control characters, bad ids)
        self.api_patches: list[tuple[bytes, bytes]] = []

    @staticmethod
    def _entries(feed: bytes) -> dict[str, etree._Element]:
        root = etree.fromstring(feed)
        out = {}
        for entry in root.findall(f"{{{ATOM}}}entry"):
            vid = entry.findtext(f"{{{ATOM}}}id").rsplit("/abs/", 1)[1]
            out[vid] = entry
        return out

    def api_response(self, ids: list[str]) -> bytes:
        chosen = []
        for wanted in ids:
            for vid, entry in self.api_entries.items():
                if vid == wanted or re.sub(r"v\d+$", "", vid) == wanted:
                    if self.drop_ids.get(vid, 0) > 0:
                        self.drop_ids[vid] -= 1
                        continue
                    chosen.append(entry)
        feed = etree.Element(f"{{{ATOM}}}feed", nsmap={
            None: ATOM, "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
            "arxiv": "http://arxiv.org/schemas/atom"})
        etree.SubElement(feed, f"{{{ATOM}}}id").text = "https://arxiv.org/api/stub"
        etree.SubElement(feed, f"{{{ATOM}}}title").text = "arXiv Query"
        etree.SubElement(feed, f"{{{ATOM}}}updated").text = "2026-01-28T05:00:00Z"
        for tag, value in (("totalResults", len(chosen)), ("startIndex", 0), ("itemsPerPage", len(ids))):
            etree.SubElement(feed, f"{{http://a9.com/-/spec/opensearch/1.1/}}{tag}").text = str(value)
        for entry in chosen:
            feed.append(etree.fromstring(etree.tostring(entry)))
        body = etree.tostring(feed, xml_declaration=True, encoding="UTF-8")
        for old, new in self.api_patches:
            body = body.replace(old, new)
        return body

    def search(self, query: str) -> list[str]:
        """`(cat:A OR cat:B) AND submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]`, as arXiv reads it."""
        cats = set(re.findall(r"cat:([\w.-]+)", query))
        lo, hi = re.search(r"submittedDate:\[(\d{12}) TO (\d{12})\]", query).groups()
        hits = []
        for vid, entry in self.api_entries.items():
            published = entry.findtext(f"{{{ATOM}}}published")
            stamp = published[:16].replace("-", "").replace("T", "").replace(":", "")
            terms = {c.get("term") for c in entry.findall(f"{{{ATOM}}}category")}
            if lo <= stamp <= hi and terms & cats:
                hits.append(vid)
        return hits

    def handle(self, method, path, body, headers):
        parts = urlsplit(path)
        if parts.path.startswith("/rss/"):
            return 200, {"Content-Type": "application/rss+xml"}, self.listing
        if parts.path == "/api/query":
            query = parse_qs(parts.query)
            ids = [i for i in query.get("id_list", [""])[0].split(",") if i]
            search = query.get("search_query", [""])[0]
            if search and not ids:
                ids = self.search(search)
                if int(query.get("start", ["0"])[0]) > 0:
                    ids = []
            return 200, {"Content-Type": "application/atom+xml"}, self.api_response(ids)
        if parts.path.startswith("/html/"):
            page = self.html.get(parts.path[len("/html/"):])
            if page is not None:
                return 200, {"Content-Type": "text/html; charset=utf-8"}, page
        if parts.path.startswith("/pdf/"):
            pdf = self.pdf.get(parts.path[len("/pdf/"):])
            if pdf is not None:
                return 200, {"Content-Type": "application/pdf"}, pdf
        return 404, {"Content-Type": "text/plain"}, b"not found"


_PAPER_ID = re.compile(r'<paper id="([^"]+)"')
_TEXT = re.compile(r"<text>\n(.*?)\n</text>", re.S)


class AnthropicStub(StubServer):
    """POST /v1/messages in the Messages API's JSON; answers scripted per paper id.

    `script[paper_id]` (or `script["summary"]`) is a list of behaviours consumed one per
    call, then "good": good, refusal, echo, max_tokens, ungrounded, injected_link, loop,
    english, wrong_shape, null_claim, object_claim, number_evidence, control_chars, injected_claim, http_500,
    http_529, hang; for the second opinion (tool record_judgement): good, judge_wrong_paper, judge_obeys,
    judge_no_verdict.
    """

    def __init__(self):
        super().__init__()
        self.release = threading.Event()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests.clear()
        self.script: dict[str, list[str]] = defaultdict(list)
        self.faults = defaultdict(list)
        self.calls: list[dict] = []
        #: Output tokens every answer reports (None: a quarter of its JSON's length).
        self.output_tokens: int | None = None
        self.hanging = threading.Event()
        self.release.set()
        self.release = threading.Event()

    def calls_for(self, key: str) -> list[dict]:
        return [c for c in self.calls if c["key"] == key]

    def handle(self, method, path, body, headers):
        if method != "POST" or not path.startswith("/v1/messages"):
            return 404, {"Content-Type": "application/json"}, b'{"type":"error","error":{"type":"not_found_error","message":"no"}}'
        req = json.loads(body)
        tool = req["tool_choice"]["name"]
        user = req["messages"][0]["content"]
        key = "summary" if tool == "record_summary" else _PAPER_ID.search(user).group(1)
        with self.lock:
            behaviour = self.script[key].pop(0) if self.script[key] else "good"
            self.calls.append({"key": key, "behaviour": behaviour, "request": req})
        if behaviour.startswith("http_"):
            status = int(behaviour[5:])
            kind = {529: "overloaded_error", 429: "rate_limit_error"}.get(status, "api_error")
            return status, {"Content-Type": "application/json"}, json.dumps(
                {"type": "error", "error": {"type": kind, "message": kind}}).encode()
        if behaviour == "hang":
            self.hanging.set()
            self.release.wait(60)
        system = "".join(b["text"] for b in req["system"]) if isinstance(req["system"], list) else req["system"]
        lang = "zh" if "Simplified Chinese" in system else "en"
        content, stop = self.answer(behaviour, tool, req, user, lang)
        reply = {
            "id": f"msg_stub_{len(self.calls)}", "type": "message", "role": "assistant",
            "model": req["model"], "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": len(body) // 4,
                      "output_tokens": self.output_tokens if self.output_tokens is not None else len(json.dumps(content)) // 4},
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(reply, ensure_ascii=False).encode()

    @staticmethod
    def sections_schema(req) -> list[str]:
        return list(req["tools"][0]["input_schema"]["properties"]["sections"]["properties"])

    def answer(self, behaviour, tool, req, user, lang):
        if tool == "record_judgement":  # the optional second opinion (judge_model)
            verdict = {"about_this_paper": behaviour != "judge_wrong_paper",
                       "follows_injected_instructions": behaviour == "judge_obeys",
                       "reason": f"stub verdict ({behaviour})"}
            if behaviour == "judge_no_verdict":
                verdict = {"about_this_paper": "maybe"}
            return [{"type": "tool_use", "id": "toolu_stub", "name": tool, "input": verdict}], "tool_use"
        if behaviour == "refusal":
            return [{"type": "text", "text": "好的，请您提供论文的全文内容，一旦您提供，我将为您进行详细分析。"}], "end_turn"
        keys = self.sections_schema(req)
        sections = {k: good_section(k, i, lang if behaviour != "english" else "en") for i, k in enumerate(keys)}
        if behaviour == "echo":
            sections = {k: "..." for k in keys}
        elif behaviour == "loop":
            loop = "该方法通过引入新的模块显著提升了性能表现并且具有很好的泛化能力。"
            sections[keys[-1]] = loop * 12
        elif behaviour == "injected_link":
            sections[keys[0]] += "\n\n请访问 https://evil.example/claim 获取完整代码。"
        payload: dict = {"sections": sections}
        if tool == "record_analysis":
            source = _TEXT.search(user).group(1)
            sentences = [s.strip() for s in re.split(r"(?<=[.])\s+", source) if len(s.strip()) > 50]
            findings = [{"claim": f"关键发现{i + 1}：论文给出了支持其方法有效性的具体论据与实验。",
                         "evidence": s} for i, s in enumerate(sentences[:3])]
            if behaviour == "ungrounded":
                findings = [{"claim": f"发现{i}", "evidence": f"Our method improves accuracy by {90 + i}% on every benchmark."}
                            for i in range(3)]
            payload["findings"] = findings
        if behaviour in ("null_claim", "object_claim", "number_evidence") and payload.get("findings"):
            field, value = {"null_claim": ("claim", None), "object_claim": ("claim", {"text": "a claim"}),
                            "number_evidence": ("evidence", 42)}[behaviour]
            payload["findings"][0][field] = value  # the rest of the answer stays good
        if behaviour == "injected_claim":  # the sections are clean; a finding carries the link
            for f in payload.get("findings", [])[:1]:
                f["claim"] += " 完整代码见 www.evil.example/claim 。"
        if behaviour == "control_chars":  # JSON may carry any code point; XML 1.0 may not
            sections[keys[0]] += " \u0001\u000b\ufffe\u001b[31m"
            for f in payload.get("findings", [])[:1]:
                f["claim"] += "\u0000\u0008"
        if behaviour == "wrong_shape":  # valid JSON, wrong types: sections as a list
            payload = {"sections": list(sections.values()), "findings": "none"}
        if behaviour == "max_tokens":
            payload["sections"] = dict(list(sections.items())[:2])
            return [{"type": "tool_use", "id": "toolu_stub", "name": tool, "input": payload}], "max_tokens"
        return [{"type": "tool_use", "id": "toolu_stub", "name": tool, "input": payload}], "tool_use"


def good_section(key: str, index: int, lang: str) -> str:
    if lang == "en":
        return (f"Part {index + 1} ({key}): the authors describe their approach in concrete terms. "
                f"They explain which problem of earlier work motivates point {index + 1}, "
                f"and how the proposed design addresses it with evidence from the paper.")
    return (f"第{index + 1}部分（{key}）：作者针对已有方法的不足提出了具体的改进方案。"
            f"该部分第{index + 1}点说明了设计动机，并结合论文中的实验结果加以论证。"
            f"整体思路清晰，适合相关方向的研究者参考（要点{index + 1}）。")


_JSON_SCHEMA_IN_PROMPT = re.compile(r"```json\n(.*?)\n```", re.S)
_TOOL_IN_PROMPT = re.compile(r"the input of `(\w+)`")


class OpenAIStub(AnthropicStub):
    """POST /v1/chat/completions in the chat completions wire format, as OpenAI, vLLM,
    llama.cpp's server, Ollama, DeepSeek and OpenRouter speak it; the answers (and the
    `script` behaviours) are AnthropicStub's, carried in this format's shapes.

    How the server treats each form of structured output, per test: `tools` and
    `json_schema` are "ok", "reject" (400, as a server without the feature) or "ignore"
    (answers prose); `tools` may also be "jinja" (llama.cpp's 500 without `--jinja`). Extra behaviours:
    http_429 and http_500 (with `Retry-After: retry_after`), bad_json (a broken object).
    """

    def reset(self):
        super().reset()
        with self.lock:
            self.times.clear()
        self.tools = "ok"
        self.json_schema = "ok"
        #: Prompt tokens every answer reports as read from the cache.
        self.cached_tokens = 0
        #: Cache as OpenAI does by itself: the longest prefix (tools, then the messages in
        #: order) shared with an earlier request, if 1,024 tokens or more, in steps of 128.
        self.auto_cache = False
        self._seen: list[str] = []
        self.retry_after = "0"

    def handle(self, method, path, body, headers):
        if method != "POST" or urlsplit(path).path != "/v1/chat/completions":
            return 404, {"Content-Type": "application/json"}, json.dumps(
                {"error": {"message": f"no route {path}", "type": "invalid_request_error"}}).encode()
        req = json.loads(body)
        messages = req["messages"]
        system = messages[0]["content"]
        user = next(m["content"] for m in messages if m["role"] == "user")
        form = "tools" if "tools" in req else ("json_schema" if "response_format" in req else "json")
        if form != "json" and getattr(self, form) == "reject":
            return 400, {"Content-Type": "application/json"}, json.dumps({"error": {
                "message": f"{form} is not supported by this server", "type": "invalid_request_error"}}).encode()
        if form == "tools" and self.tools == "jinja":  # llama.cpp's server started without --jinja
            return 500, {"Content-Type": "application/json"}, json.dumps({"error": {
                "code": 500, "message": "tools param requires --jinja flag", "type": "server_error"}}).encode()
        if form == "tools":
            tool, schema = req["tools"][0]["function"]["name"], req["tools"][0]["function"]["parameters"]
        elif form == "json_schema":
            tool, schema = req["response_format"]["json_schema"]["name"], req["response_format"]["json_schema"]["schema"]
        else:
            tool = _TOOL_IN_PROMPT.search(system).group(1)
            schema = json.loads(_JSON_SCHEMA_IN_PROMPT.search(system).group(1))
        key = "summary" if tool == "record_summary" else _PAPER_ID.search(user).group(1)
        with self.lock:
            behaviour = self.script[key].pop(0) if self.script[key] else "good"
            self.calls.append({"key": key, "behaviour": behaviour, "request": req, "form": form,
                               "authorization": headers.get("Authorization")})
        if behaviour.startswith("http_"):
            return int(behaviour[5:]), {"Content-Type": "application/json", "Retry-After": self.retry_after}, \
                json.dumps({"error": {"message": behaviour, "type": "server_error"}}).encode()
        lang = "zh" if "Simplified Chinese" in system else "en"
        blocks, stop = self.answer(behaviour, tool, {"tools": [{"input_schema": schema}]}, user, lang)
        finish = "length" if stop == "max_tokens" else "stop"
        message: dict = {"role": "assistant", "content": None}
        payload = blocks[0].get("input")
        ignored = (form == "tools" and self.tools == "ignore") or (form == "json_schema" and self.json_schema == "ignore")
        if payload is None:  # the refusal: prose
            message["content"] = blocks[0]["text"]
        elif ignored:
            message["content"] = "Here is my analysis of the paper.\n\n" + "\n\n".join(
                f"## {k}\n{v}" for k, v in payload["sections"].items())
        elif behaviour == "bad_json":
            message["content"] = json.dumps(payload, ensure_ascii=False)[:-3] + ",}"
        elif form == "tools":
            message["tool_calls"] = [{"id": f"call_{len(self.calls)}", "type": "function", "function": {
                "name": tool, "arguments": json.dumps(payload, ensure_ascii=False)}}]
            finish = "tool_calls" if finish == "stop" else finish
        else:
            message["content"] = json.dumps(payload, ensure_ascii=False)
        prompt_tokens = len(body) // 4
        cached = min(self.cached_tokens, prompt_tokens)
        if self.auto_cache:
            cached = min(self._cached_prefix(req), prompt_tokens)
        out = json.dumps(message, ensure_ascii=False)
        reply = {
            "id": f"chatcmpl-stub{len(self.calls)}", "object": "chat.completion", "created": 1769580000,
            "model": req["model"], "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens,
                      "completion_tokens": self.output_tokens if self.output_tokens is not None else len(out) // 4,
                      "total_tokens": prompt_tokens + len(out) // 4,
                      "prompt_tokens_details": {"cached_tokens": cached}},
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(reply, ensure_ascii=False).encode()

    def _cached_prefix(self, req) -> int:
        """Tokens (a quarter of the characters) of the longest prefix shared with an earlier request."""
        text = json.dumps(req.get("tools"), ensure_ascii=False) + "".join(
            f"<{m['role']}>{m['content']}" for m in req["messages"])
        with self.lock:
            best = 0
            for seen in self._seen:
                n = 0
                for a, b in zip(seen, text):
                    if a != b:
                        break
                    n += 1
                best = max(best, n)
            self._seen.append(text)
        tokens = best // 4
        return tokens // 128 * 128 if tokens >= 1024 else 0
