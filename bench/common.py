"""Shared by the benchmarks: a synthetic arXiv day, latency-adding stubs, a published store.

The stubs are the test suite's loopback servers (tests/stubs.py) with latency added:
arXiv answers after a short service time and logs any request that arrives closer than
the configured spacing after the previous one; the LLM stub sleeps a seeded uniform
2–8 s (scaled) per call and answers a fraction of calls with 529 + `retry-after-ms`.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from lxml import etree, html

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

from tests.stubs import ATOM, FIXTURES, AnthropicStub, ArxivStub  # noqa: E402

LISTING = FIXTURES / "arxiv/listing-cs.CV-2026-01-28.xml"
API = FIXTURES / "arxiv/api-id_list-2026-01-28.xml"
HTML = FIXTURES / "html/2601.19887v1.html"


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0],
            "kernel": os.uname().release, "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return path


def synthetic_id(i: int) -> str:
    return f"2601.{30000 + i:05d}"


def make_corpus(n: int, seed: int = 7) -> tuple[bytes, dict, dict[str, bytes]]:
    """A listing of n new papers, their API entries and LaTeXML pages of realistic length.

    Cloned from the seed day's fixtures with fresh ids; page lengths vary (1–12 copies of the
    experiments section and the appendix), so some exceed the full-text budget and get trimmed.
    One paper in ten has no HTML and no PDF (abstract only: two 404s from arXiv).
    """
    rng = random.Random(seed)
    listing = etree.fromstring(LISTING.read_bytes())
    channel = listing.find("channel")
    items = channel.findall("item")
    for it in items:
        channel.remove(it)
    api = ArxivStub._entries(API.read_bytes())
    templates = list(api.items())
    page = html.fromstring(HTML.read_bytes())
    article = page.xpath("//article")[0]
    extra = [s for s in article.xpath("./section") if s.get("id") in ("S4",)] + \
        article.xpath("./*[contains(@class,'ltx_appendix')]")
    entries, pages = {}, {}
    for i in range(n):
        new = synthetic_id(i)
        it = copy.deepcopy(items[i % len(items)])
        old = re.search(r"abs/([\d.]+)", it.findtext("link")).group(1)
        it.find("link").text = f"https://arxiv.org/abs/{new}"
        desc = it.find("description")
        desc.text = re.sub(r"Announce Type: [\w-]+", "Announce Type: new", desc.text.replace(old, new))
        it.find("title").text = f"{it.findtext('title')} ({i})"
        for g in it.findall("guid"):
            g.text = g.text.replace(old, new)
        channel.append(it)
        vid, entry = templates[i % len(templates)]
        e = copy.deepcopy(entry)
        e.find(f"{{{ATOM}}}id").text = f"http://arxiv.org/abs/{new}v1"
        e.find(f"{{{ATOM}}}title").text = f"{e.findtext(f'{{{ATOM}}}title')} ({i})"
        for link in e.findall(f"{{{ATOM}}}link"):
            link.set("href", link.get("href").replace(vid[:-2], new))
        entries[f"{new}v1"] = e
        if i % 10 == 9:
            continue  # abstract only
        copies = rng.choice([1, 2, 4, 6, 8, 12, 20, 30])
        p = copy.deepcopy(page)
        art = p.xpath("//article")[0]
        for k in range(copies - 1):
            for sec in extra:
                clone = copy.deepcopy(sec)
                for el in clone.iter():
                    if el.get("id"):
                        el.set("id", f"{el.get('id')}-{k}")
                art.append(clone)
        pages[f"{new}v1"] = etree.tostring(p, method="html", encoding="utf-8")
    return etree.tostring(listing, xml_declaration=True, encoding="UTF-8"), entries, pages


class LatencyArxiv(ArxivStub):
    """arXiv with a service time; records requests that break the spacing."""

    def __init__(self, delay: float, service: float):
        self.delay, self.service = delay, service
        self.violations: list[float] = []
        self._last = None
        super().__init__()

    def handle(self, method, path, body, headers):
        now = time.monotonic()
        with self.lock:
            if self._last is not None and now - self._last < self.delay * 0.98:
                self.violations.append(round(now - self._last, 4))
            self._last = now
        time.sleep(self.service)
        return super().handle(method, path, body, headers)


class LatencyLLM(AnthropicStub):
    """Messages API with 2–8 s (× scale) per call and a share of 529 overloaded answers."""

    def __init__(self, low: float, high: float, overloaded: float, seed: int = 11):
        self.low, self.high, self.overloaded = low, high, overloaded
        self.rng = random.Random(seed)
        self.sleeps: list[float] = []
        self.overloads = 0
        self.inflight = self.max_inflight = 0
        self._gate = threading.Lock()
        super().__init__()

    def handle(self, method, path, body, headers):
        with self._gate:
            pause = self.rng.uniform(self.low, self.high)
            fail = self.rng.random() < self.overloaded
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            if fail:  # overloaded answers come back quickly, with a hint when to retry
                time.sleep(self.low / 4)
                with self._gate:
                    self.sleeps.append(self.low / 4)
                    self.overloads += 1
                retry_ms = int(self.low * 1000)
                return 529, {"Content-Type": "application/json", "retry-after-ms": str(retry_ms)}, json.dumps(
                    {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}).encode()
            time.sleep(pause)
            with self._gate:
                self.sleeps.append(pause)
            return super().handle(method, path, body, headers)
        finally:
            with self._gate:
                self.inflight -= 1


def stub_env(arxiv: ArxivStub, llm: AnthropicStub, data_dir: Path, feeds_dir: Path, **extra) -> dict:
    env = dict(os.environ, ANTHROPIC_API_KEY="bench", ANTHROPIC_BASE_URL=llm.url,
               DIGEST_DATA_DIR=str(data_dir), DIGEST_FEEDS_DIR=str(feeds_dir),
               DIGEST_ARXIV_LISTING_URL=f"{arxiv.url}/rss/", DIGEST_ARXIV_API_URL=f"{arxiv.url}/api/query",
               DIGEST_ARXIV_HTML_URL=f"{arxiv.url}/html/", DIGEST_ARXIV_PDF_URL=f"{arxiv.url}/pdf/",
               NO_PROXY="127.0.0.1,localhost")
    for name in ("DIGEST_PUBLIC_URL", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env.pop(name, None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


FEED_TOML = """title = "{title}"
categories = ["cs.CV"]
include_cross_lists = true
language = "{language}"
max_papers = {max_papers}
model = "claude-haiku-4-5"
"""


def write_feeds(feeds_dir: Path, names: list[str], max_papers: int = 0, language: str = "zh") -> None:
    feeds_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        (feeds_dir / f"{name}.toml").write_text(
            FEED_TOML.format(title=f"Bench {name}", language=language, max_papers=max_papers), "utf-8")


def digest_in(env: dict[str, str]):
    """A `Digest` built in this process with `env` as its environment (restored after)."""
    old = dict(os.environ)
    os.environ.update(env)
    try:
        from service.pipeline import make_digest
        return make_digest()
    finally:
        os.environ.clear()
        os.environ.update(old)


def seed_store(data_dir: Path, feeds: list[str], days: int, papers_per_day: int = 10) -> dict:
    """Publish `days` days for every feed: one real refresh of the seed day through the fast
    stubs (full pipeline, real analyses), then that day re-dated and re-published per feed."""
    feeds_dir = data_dir.parent / "feeds"
    write_feeds(feeds_dir, feeds, max_papers=papers_per_day)
    arxiv, llm = ArxivStub(), AnthropicStub()
    arxiv.html["2601.19887v1"] = HTML.read_bytes()
    env = stub_env(arxiv, llm, data_dir, feeds_dir, DIGEST_ARXIV_DELAY=0)
    subprocess.run([sys.executable, "-m", "service.cli", "refresh", feeds[0]], env=env, check=True,
                   capture_output=True, cwd=ROOT)
    arxiv.close(), llm.close()
    d = digest_in(env)
    seed_date = d.store.day_dates(feeds[0])[0]
    day = d.store.get_day(feeds[0], seed_date)
    dates = []
    date = seed_date
    while len(dates) < days:
        if date.weekday() < 5:
            dates.append(date)
        date -= dt.timedelta(days=1)
    for name in feeds:
        for date in dates:
            if name == feeds[0] and date == seed_date:
                continue
            d.store.publish(replace(day, feed=name, date=date), {})
    d.store.close()
    return {"feeds": feeds, "dates": [x.isoformat() for x in dates], "papers_per_day": len(day.entries)}


#: The served store of bench/serve.py and bench/search.py: feeds, weekdays each, base URL.
BASE = "http://bench.example"
FEEDS = ["f1", "f2", "f3", "f4", "f5"]
DAYS = 30


def served_env(tmp: Path) -> tuple[dict, dict[str, str]]:
    """A seeded store in `tmp` (FEEDS × DAYS published days, `seed_store`) and the
    environment a server of it runs with: no LLM key, no gunicorn arguments from the shell."""
    seeded = seed_store(tmp / "var", FEEDS, DAYS)
    env = dict(os.environ, DIGEST_DATA_DIR=str(tmp / "var"), DIGEST_FEEDS_DIR=str(tmp / "feeds"),
               DIGEST_PUBLIC_URL=BASE)
    env.pop("ANTHROPIC_API_KEY", None)
    env.pop("GUNICORN_CMD_ARGS", None)
    return seeded, env
