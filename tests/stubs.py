"""Loopback servers that speak arXiv's and Anthropic's real wire formats.

The real `arxiv` package, `requests` and the `anthropic` SDK talk to these over HTTP on
127.0.0.1; nothing of ours is replaced. Tests script faults and LLM answers per paper.
"""
from __future__ import annotations

import datetime as dt
import hashlib
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

    def handle_error(self, request, client_address):
        """A client that closes its kept-alive connection is no error worth a traceback."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


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

    def clear_log(self) -> None:
        """Forget the requests, their headers and any faults still queued (a stub's reset)."""
        with self.lock:
            self.requests.clear()
            self.times.clear()
            self.headers_seen: list[dict[str, str]] = []
        self.faults: dict[str, list[dict]] = defaultdict(list)

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
        #: Output tokens every answer reports (None: a quarter of its JSON's length; a
        #: function of the request: what the bench measured for answers of its kind).
        self.output_tokens = None
        #: Counts a text's tokens (a real tokenizer in the bench); None: a quarter of the
        #: request's bytes.
        self.count = None
        #: Text added to the second section of a paper's good analysis (paper id → text).
        self.extra: dict[str, str] = {}
        self.hanging = threading.Event()
        self.release.set()
        self.release = threading.Event()
        #: (model, prefix hash) -> when it was last written or read
        self.prompt_cache: dict[tuple[str, str], float] = {}
        #: Seconds a cached prefix lives (Anthropic's default: 5 minutes).
        self.cache_ttl = 300.0
        #: False: no prompt caching at all (the bench's "plain" baseline).
        self.caching = True
        #: Message Batches: id -> state; every create in order; paper id -> result type
        self.batches: dict[str, dict] = {}
        self.creates: list[dict] = []
        self.batch_outcome: dict[str, str] = {}
        self.triage_scores = {}
        #: End a batch when it is first retrieved (else only `end_batch()` ends it).
        self.auto_end = False
        #: Seconds a create waits after logging it before answering (a kill lands in between).
        self.create_delay = 0.0

    def calls_for(self, key: str) -> list[dict]:
        return [c for c in self.calls if c["key"] == key]

    def handle(self, method, path, body, headers):
        if urlsplit(path).path.startswith("/v1/messages/batches"):
            return self.batches_api(method, urlsplit(path), body)
        if method != "POST" or not path.startswith("/v1/messages"):
            return 404, {"Content-Type": "application/json"}, b'{"type":"error","error":{"type":"not_found_error","message":"no"}}'
        req = json.loads(body)
        status, reply = self.message(req, len(body) // 4 if self.count is None else self.request_tokens(req))
        return status, {"Content-Type": "application/json"}, json.dumps(reply, ensure_ascii=False).encode()

    def request_tokens(self, req: dict) -> int:
        """A request's input tokens by `count` (the prompt text itself, not its JSON's escapes)."""
        return self.count(self._prompt_text(req.get("tools", []), req.get("system"), req["messages"]))

    @staticmethod
    def _prompt_text(tools, system, messages) -> str:
        text = json.dumps(tools, ensure_ascii=False) if tools else ""
        for block in (system if isinstance(system, list) else [{"text": system or ""}]):
            text += block.get("text", "")
        for m in messages or []:
            c = m["content"]
            text += c if isinstance(c, str) else "".join(b.get("text", "") for b in c)
        return text

    # --- the Message Batches API ---------------------------------------------------------
    def batches_api(self, method: str, parts, body: bytes):
        """POST /v1/messages/batches (create), GET …/batches (list, newest first),
        GET …/{id} (retrieve), GET …/{id}/results (JSONL), POST …/{id}/cancel.

        A batch stays `in_progress` until `end_batch()` (or, with `auto_end`, until it is
        first retrieved); then every request is answered as POST /v1/messages would answer
        it (same scripts, same prompt cache), unless `batch_outcome[paper id]` says
        "errored", "expired" or "canceled" for it."""
        rest = parts.path[len("/v1/messages/batches"):].strip("/").split("/")
        if method == "POST" and rest == [""]:
            requests = json.loads(body)["requests"]
            with self.lock:
                bid = f"msgbatch_stub{len(self.batches) + 1:04d}"
                self.batches[bid] = {"requests": requests, "created": time.time(), "ended": None,
                                     "results": None, "canceling": None, "retrieved": 0}
                self.creates.append({"id": bid, "custom_ids": [r["custom_id"] for r in requests]})
            if self.create_delay:
                time.sleep(self.create_delay)
            return self._json(200, self._batch_object(bid))
        if method == "GET" and rest == [""]:
            with self.lock:
                ids = sorted(self.batches, reverse=True)
            limit = int(parse_qs(parts.query).get("limit", ["20"])[0])
            data = [self._batch_object(b) for b in ids[:limit]]
            return self._json(200, {"data": data, "has_more": len(ids) > limit,
                                    "first_id": data[0]["id"] if data else None,
                                    "last_id": data[-1]["id"] if data else None})
        bid = rest[0]
        if bid not in self.batches:
            return self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": bid}})
        if method == "GET" and len(rest) == 1:
            with self.lock:
                self.batches[bid]["retrieved"] += 1
            if self.auto_end:
                self.end_batch(bid)
            return self._json(200, self._batch_object(bid))
        if method == "POST" and rest[1:] == ["cancel"]:
            with self.lock:
                self.batches[bid]["canceling"] = time.time()
            self.end_batch(bid)
            return self._json(200, self._batch_object(bid))
        if method == "GET" and rest[1:] == ["results"]:
            results = self.batches[bid]["results"]
            if results is None:
                return self._json(404, {"type": "error", "error": {"type": "not_found_error",
                                                                   "message": "batch has not ended"}})
            lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
            return 200, {"Content-Type": "application/binary"}, lines.encode()
        return self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": parts.path}})

    @staticmethod
    def _json(status: int, payload: dict):
        return status, {"Content-Type": "application/json"}, json.dumps(payload, ensure_ascii=False).encode()

    def end_batch(self, bid: str | None = None) -> None:
        """Process a batch (the newest unfinished one by default): every request answered."""
        with self.lock:
            if bid is None:
                bid = max((b for b, v in self.batches.items() if v["ended"] is None), default=None)
            batch = self.batches.get(bid)
            if batch is None or batch["ended"] is not None:
                return
        results = []
        for r in batch["requests"]:
            user = r["params"]["messages"][0]["content"]
            user = user if isinstance(user, str) else "".join(b.get("text", "") for b in user)
            found = _PAPER_ID.search(user)
            outcome = self.batch_outcome.get(found.group(1) if found else "summary", "succeeded")
            if batch["canceling"] is not None:
                outcome = "canceled"
            if outcome == "succeeded":
                size = len(json.dumps(r["params"])) // 4 if self.count is None else self.request_tokens(r["params"])
                status, message = self.message(r["params"], size, batched=True)
                result = ({"type": "succeeded", "message": message} if status == 200 else
                          {"type": "errored", "error": {"type": "error", "error": message["error"]}})
            elif outcome == "errored":
                result = {"type": "errored", "error": {"type": "error", "error": {
                    "type": "invalid_request_error", "message": "scripted error"}}}
            else:
                result = {"type": outcome}
            results.append({"custom_id": r["custom_id"], "result": result})
        with self.lock:
            batch["results"], batch["ended"] = results, time.time()

    def _batch_object(self, bid: str) -> dict:
        def iso(t):
            return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat().replace("+00:00", "Z") if t else None

        with self.lock:
            b = self.batches[bid]
            counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
            if b["results"] is None:
                counts["processing"] = len(b["requests"])
            else:
                for r in b["results"]:
                    counts[r["result"]["type"]] += 1
            ended = b["ended"] is not None
            return {"id": bid, "type": "message_batch",
                    "processing_status": "ended" if ended else ("canceling" if b["canceling"] else "in_progress"),
                    "request_counts": counts, "created_at": iso(b["created"]), "ended_at": iso(b["ended"]),
                    "expires_at": iso(b["created"] + 86400), "archived_at": None,
                    "cancel_initiated_at": iso(b["canceling"]),
                    "results_url": f"{self.url}/v1/messages/batches/{bid}/results" if ended else None}

    def message(self, req: dict, input_tokens: int, batched: bool = False) -> tuple[int, dict]:
        """One Messages API answer (status, JSON body) to a request whose size is
        `input_tokens` (the stubs' proxy: a quarter of its bytes)."""
        tool = req["tool_choice"]["name"]
        user = req["messages"][0]["content"]
        user = user if isinstance(user, str) else "".join(b.get("text", "") for b in user)
        key = {"record_summary": "summary", "record_triage": "triage"}.get(tool) or _PAPER_ID.search(user).group(1)
        with self.lock:
            behaviour = self.script[key].pop(0) if self.script[key] else "good"
            self.calls.append({"key": key, "behaviour": behaviour, "request": req, "batched": batched})
        if behaviour.startswith("http_"):
            status = int(behaviour[5:])
            kind = {529: "overloaded_error", 429: "rate_limit_error"}.get(status, "api_error")
            return status, {"type": "error", "error": {"type": kind, "message": kind}}
        if behaviour == "hang":
            self.hanging.set()
            self.release.wait(60)
        system = "".join(b["text"] for b in req["system"]) if isinstance(req["system"], list) else req["system"]
        lang = "zh" if "Write in Simplified Chinese" in system else "en"
        content, stop = self.answer(behaviour, tool, req, user, lang)
        written, read = self.cache_usage(req)
        reply = {
            "id": f"msg_stub_{len(self.calls)}", "type": "message", "role": "assistant",
            "model": req["model"], "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": max(0, input_tokens - written - read),
                      "cache_creation_input_tokens": written, "cache_read_input_tokens": read,
                      "cache_creation": {"ephemeral_5m_input_tokens": written, "ephemeral_1h_input_tokens": 0},
                      "output_tokens": self._output_tokens(req, content)},
        }
        return 200, reply

    def _output_tokens(self, req: dict, content: list) -> int:
        if callable(self.output_tokens):
            return self.output_tokens(req, content)
        return self.output_tokens if self.output_tokens is not None else len(json.dumps(content)) // 4

    def cache_usage(self, req: dict) -> tuple[int, int]:
        """(tokens written, tokens read) as Anthropic's prompt cache reports them: the prefix
        up to the last `cache_control` mark (in the order tools, system, messages) is read
        when the same model saw the same prefix within the cache's lifetime, else written;
        a prefix shorter than the model's minimum cacheable length is neither."""
        parts, marked = [], 0
        blocks = [("tools", t) for t in req.get("tools", [])]
        system = req.get("system")
        blocks += [("system", b) for b in (system if isinstance(system, list) else [])]
        for m in req["messages"]:
            content = m["content"]
            blocks += [("messages", b) for b in (content if isinstance(content, list) else [])]
        for n, (_, block) in enumerate(blocks, 1):
            parts.append(block)
            if isinstance(block, dict) and block.get("cache_control"):
                marked = n
        if not marked or not self.caching:
            return 0, 0
        prefix = json.dumps(parts[:marked], sort_keys=True)
        if self.count is None:
            tokens = len(prefix) // 4
        else:
            n_tools = len(req.get("tools", []))
            tokens = self.count(self._prompt_text(parts[:min(marked, n_tools)],
                                                  [b for b in parts[n_tools:marked] if isinstance(b, dict)], []))
        if tokens < cache_minimum(req["model"]):
            return 0, 0
        key = (req["model"], hashlib.sha256(prefix.encode()).hexdigest())
        now = time.monotonic()
        with self.lock:
            hit = key in self.prompt_cache and now - self.prompt_cache[key] < self.cache_ttl
            self.prompt_cache[key] = now  # a hit refreshes the lifetime
        return (0, tokens) if hit else (tokens, 0)

    @staticmethod
    def sections_schema(req) -> list[str]:
        return list(req["tools"][0]["input_schema"]["properties"]["sections"]["properties"])

    #: Triage scores by versioned id (others: 5); the triage behaviours: unknown_id (also
    #: scores an id that is no candidate), missing_id (leaves one out).
    triage_scores: dict

    def answer(self, behaviour, tool, req, user, lang):
        if tool == "record_triage" and behaviour != "refusal":
            ids = _PAPER_ID.findall(user)
            scores = [{"id": i, "score": getattr(self, "triage_scores", {}).get(i, 5)} for i in ids]
            if behaviour == "unknown_id":
                scores.append({"id": "2601.99999v1", "score": 10})
            elif behaviour == "missing_id":
                scores = scores[1:]
            return [{"type": "tool_use", "id": "toolu_stub", "name": tool, "input": {"scores": scores}}], "tool_use"
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
        title = re.search(r"<title>(.*?)</title>", user, re.S)
        terms = re.findall(r"[A-Za-z]{5,}", title.group(1) if title else "")[:2]
        sections = {k: good_section(k, i, lang if behaviour != "english" else "en", terms) for i, k in enumerate(keys)}
        if behaviour == "echo":
            sections = {k: "..." for k in keys}
        elif behaviour == "loop":
            loop = "该方法通过引入新的模块显著提升了性能表现并且具有很好的泛化能力。"
            sections[keys[-1]] = loop * 12
        elif behaviour == "injected_link":
            sections[keys[0]] += "\n\n请访问 https://evil.example/claim 获取完整代码。"
        paper = _PAPER_ID.search(user)
        if tool == "record_analysis" and paper and paper.group(1) in self.extra and len(keys) > 1:
            sections[keys[1]] += self.extra[paper.group(1)]
        payload: dict = {"sections": sections}
        if tool == "record_analysis":
            source = _TEXT.search(user).group(1)
            sentences = [s.strip() for s in re.split(r"(?<=[.])\s+", source) if len(s.strip()) > 50]
            claim = ("关键发现{}：论文给出了支持其方法有效性的具体论据与实验。" if lang == "zh" else
                     "Key finding {}: the paper gives concrete evidence that its method works.")
            findings = [{"claim": claim.format(i + 1), "evidence": s} for i, s in enumerate(sentences[:3])]
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


#: Minimum cacheable prompt length in tokens, as Anthropic's documentation lists it, by
#: model family (longest match first); the stub's own table, independent of our prices file.
CACHE_MINIMUMS = (("claude-haiku-4-5", 4096), ("claude-opus-4-5", 4096), ("claude-3-5-haiku", 2048),
                  ("claude-3-haiku", 2048), ("claude-", 1024))


def cache_minimum(model: str) -> int:
    return next((n for family, n in CACHE_MINIMUMS if model.startswith(family)), 1024)


def good_section(key: str, index: int, lang: str, terms: list[str] = ()) -> str:
    if lang == "en":
        about = f" Point {index + 1} concerns {' and '.join(terms)}." if terms else ""
        return (f"Part {index + 1} ({key}): the authors describe their approach in concrete terms. "
                f"They explain which problem of earlier work motivates point {index + 1}, "
                f"and how the proposed design addresses it with evidence from the paper.{about}")
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
        lang = "zh" if "Write in Simplified Chinese" in system else "en"
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


class ZoteroStub(StubServer):
    """The Zotero Web API v3's item listing: GET /users/<id>/items and /groups/<id>/items,
    paged (`start`, `limit` up to 100, `Link: rel="next"`, `Total-Results`), versioned
    (`Last-Modified-Version`, a 304 for `If-Modified-Since-Version`), `itemType=-attachment`,
    a key checked in `Zotero-API-Key` (403 otherwise) and `Zotero-API-Version: 3` required."""

    def __init__(self):
        super().__init__()
        self.reset()

    def reset(self):
        self.clear_log()
        #: library path ("users/1") -> its items as the API returns them (key, version, data)
        self.libraries: dict[str, list[dict]] = {}
        self.version = 100
        #: the key that reads every library; None = public libraries
        self.key: str | None = None
        #: a `Backoff` header on every answer, seconds (None = none)
        self.backoff: str | None = None

    def add(self, library: str, data: dict) -> None:
        items = self.libraries.setdefault(library, [])
        key = f"K{len(items):07d}"
        items.append({"key": key, "version": self.version, "library": {"type": library.split("/")[0][:-1]},
                      "links": {}, "meta": {}, "data": {"key": key, "version": self.version, **data}})

    def handle(self, method, path, body, headers):
        with self.lock:
            self.headers_seen.append(dict(headers))
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        m = re.fullmatch(r"/((?:users|groups)/\d+)/items", url.path)
        if method != "GET" or m is None:
            return 404, {"Content-Type": "text/plain"}, b"Not found"
        if headers.get("Zotero-API-Version") != "3":
            return 400, {"Content-Type": "text/plain"}, b"This test API speaks version 3 only"
        if self.key is not None and headers.get("Zotero-API-Key") != self.key:
            return 403, {"Content-Type": "text/plain"}, b"Forbidden"
        if m.group(1) not in self.libraries:
            return 404, {"Content-Type": "text/plain"}, b"Not found"
        common = {"Zotero-API-Version": "3", "Last-Modified-Version": str(self.version)}
        if self.backoff:
            common["Backoff"] = self.backoff
        since = headers.get("If-Modified-Since-Version")
        if since is not None and int(since) >= self.version:
            return 304, common, b""
        items = self.libraries[m.group(1)]
        if query.get("itemType") == "-attachment":
            items = [i for i in items if i["data"].get("itemType") != "attachment"]
        start, limit = int(query.get("start", 0)), min(100, int(query.get("limit", 25)))
        page = items[start:start + limit]
        base = f"{self.url}{url.path}?format=json&limit={limit}"
        links = [f'<https://www.zotero.org/{m.group(1)}/items>; rel="alternate"']
        if start + limit < len(items):
            links.insert(0, f'<{base}&start={start + limit}>; rel="next"')
        return 200, {**common, "Content-Type": "application/json", "Total-Results": str(len(items)),
                     "Link": ", ".join(links)}, json.dumps(page).encode()


class EmbeddingsStub(StubServer):
    """POST /v1/embeddings in OpenAI's wire format (as OpenAI, Ollama's /v1, vLLM and
    llama.cpp's server speak it). The vectors stand for meaning in a small, inspectable way:
    words of one `CONCEPTS` group share a dimension (so "car" and "automobile" are close),
    every other word adds a little to a hashed dimension. `broken` makes every answer one
    of: "nan" (a NaN in a vector), "short" (one vector too few), "ragged" (lengths differ),
    "shape" (an object where a vector belongs)."""

    DIMS = 64
    CONCEPTS = (("car", "cars", "automobile", "automobiles", "vehicle", "vehicles", "driving", "driver"),
                ("protein", "proteins", "enzyme", "enzymes", "peptide", "folding"),
                ("galaxy", "galaxies", "cosmology", "telescope", "stellar"))

    def __init__(self):
        super().__init__()
        self.reset()

    def reset(self):
        self.clear_log()
        self.broken: str | None = None

    def texts(self) -> list[str]:
        """Every text embedded so far, in order."""
        with self.lock:
            return [t for m, p, b in self.requests if m == "POST" for t in json.loads(b)["input"]]

    def vector(self, text: str) -> list[float]:
        vec = [0.0] * self.DIMS
        for word in re.findall(r"[a-z]+", text.lower()):
            group = next((g for g, words in enumerate(self.CONCEPTS) if word in words), None)
            if group is not None:
                vec[group] += 1.0
            else:
                vec[len(self.CONCEPTS) + int(hashlib.sha256(word.encode()).hexdigest(), 16)
                    % (self.DIMS - len(self.CONCEPTS))] += 0.05
        vec[-1] += 0.01  # never all zero
        return vec

    def handle(self, method, path, body, headers):
        with self.lock:
            self.headers_seen.append({k.lower(): v for k, v in headers.items()})
        if method != "POST" or urlsplit(path).path != "/v1/embeddings":
            return 404, {"Content-Type": "application/json"}, json.dumps(
                {"error": {"message": f"no route {path}", "type": "invalid_request_error"}}).encode()
        req = json.loads(body)
        texts = req["input"] if isinstance(req["input"], list) else [req["input"]]
        data = [{"object": "embedding", "index": i, "embedding": self.vector(t)} for i, t in enumerate(texts)]
        if self.broken == "nan":
            data[0]["embedding"][0] = float("nan")
        elif self.broken == "short":
            data = data[:-1]
        elif self.broken == "ragged" and len(data) > 1:
            data[1]["embedding"] = data[1]["embedding"][:-1]
        elif self.broken == "shape":
            data[0]["embedding"] = {"values": [1, 2]}
        answer = {"object": "list", "data": data, "model": req["model"],
                  "usage": {"prompt_tokens": sum(len(t.split()) for t in texts),
                            "total_tokens": sum(len(t.split()) for t in texts)}}
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
