"""Real clients against the product as `make run` serves it (issue 8).

One module-scoped setup: the seed day refreshed from the loopback stubs (with one paper
whose title and abstract carry `<script>` and an `onerror=` image), gunicorn serving
wsgi:app on loopback with `DIGEST_PUBLIC_URL` and a WebSub hub set, and a loopback hub
recording pings. Then each client reads what a subscriber would read:

- Python: feedparser (Atom, RSS), fastfeedparser and lemon24/reader (Atom, RSS, JSON Feed, the
  Zotero feed), atoma (Atom, RSS, JSON Feed 1.0); Zotero 7's feed mapping re-derived from FeedProcessor.mjs/feedReader.js
- Node: rss-parser (Atom, RSS) and @extractus/feed-extractor (Atom, RSS, JSON Feed)
- Go: gofeed (Atom, RSS, JSON Feed, the Zotero feed), built from Debian's sources
- terminal: newsboat `-x reload` then its cache
- browser: Debian's Chromium, headless, driven by playwright-core
- validation: a RELAX NG schema for RFC 4287 (tests/clients/atom.rng) plus the RFC's
  rules that a schema cannot say
- WebSub: the hub link, the publish ping, a failing hub

A missing client fails its test with a message naming it and how to install it (`bash
.ci/run` or `make test` installs all of them); nothing is skipped.
"""
from __future__ import annotations

import copy
import datetime as dt
import html
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import feedparser
import pytest
import requests
from lxml import etree

from service.pipeline import make_digest

from .conftest import HTML_PAPER, PDF_PAPER, SEED_PAPERS
from .stubs import FIXTURES, ArxivStub, StubServer

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = Path(__file__).resolve().parent / "clients"
DAY = "2026-01-28"
NS = {"a": "http://www.w3.org/2005/Atom", "dc": "http://purl.org/dc/elements/1.1/",
      "prism": "http://prismstandard.org/namespaces/basic/2.0/"}
A = "{http://www.w3.org/2005/Atom}"
INSTALL = "install the test clients with `bash .ci/run` (or: apt-get install -y newsboat chromium; npm ci --prefix tests/clients)"

#: The hostile paper: markup in the title (arXiv metadata) and in the abstract, which the
#: stub model quotes back as finding evidence, so it reaches the LLM text too.
HOSTILE = next(p for p in SEED_PAPERS if f"{p['id']}v{p['version']}" not in (HTML_PAPER, PDF_PAPER))
HOSTILE_TITLE = (HOSTILE["title"] + ' <script>window.__pwned="title"</script>'
                 '<img src="x" onerror="window.__pwned=\'title-img\'">')
HOSTILE_SENTENCE = ('Our demo viewer shows <img src="x" onerror="window.__pwned=\'abstract-img\'"> and '
                    '<script>window.__pwned="abstract"</script> markup as plain text in every reader we tried. ')


def expected_papers() -> list[dict]:
    papers = copy.deepcopy(SEED_PAPERS)
    for p in papers:
        if p["id"] == HOSTILE["id"]:
            p["title"] = HOSTILE_TITLE
            p["abstract"] = HOSTILE_SENTENCE + p["abstract"]
    return papers


def squash(text: str | None) -> str:
    return " ".join((text or "").split())


def need(program: str, hint: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"client missing: {program} is not installed ({hint}); {INSTALL}", pytrace=False)
    return path


def need_node_modules(*packages: str) -> str:
    node = need("node", "Node.js 20 from Debian or nodesource")
    for package in packages:
        if not (CLIENTS / "node_modules" / package / "package.json").exists():
            pytest.fail(f"client missing: npm package {package} is not in tests/clients/node_modules; {INSTALL}",
                        pytrace=False)
    return node


def run(cmd: list[str], timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd[:3])} … exited {proc.returncode}:\n{proc.stderr[-4000:]}\n{proc.stdout[-2000:]}")
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HubStub(StubServer):
    """A WebSub hub on loopback that records publish pings (answers 202, or `status`)."""

    def __init__(self, status: int = 202):
        self.status = status
        self.faults = {}
        super().__init__()

    def pings(self) -> list[dict[str, list[str]]]:
        from urllib.parse import parse_qs
        with self.lock:
            return [parse_qs(body.decode()) for method, _, body in self.requests if method == "POST"]

    def handle(self, method, path, body, headers):
        return self.status, {"Content-Type": "text/plain"}, b"accepted" if self.status < 300 else b"no"


@dataclass
class Served:
    url: str
    hub: HubStub
    tmp: Path
    papers: list[dict]
    refresh_message: str
    pings_after_refresh: list = field(default_factory=list)
    #: what each client saw, for the closing summary (printed with -rA / on failure)
    seen: dict = field(default_factory=dict)

    def feed(self, ext: str) -> str:
        return f"{self.url}/feeds/cs-cv.{ext}"

    def get(self, path: str) -> requests.Response:
        resp = requests.get(self.url + path, timeout=30)
        assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
        return resp


def _inject_hostile(stub: ArxivStub) -> None:
    vid = f"{HOSTILE['id']}v{HOSTILE['version']}"
    entry = stub.api_entries[vid]
    entry.find(f"{A}title").text = HOSTILE_TITLE
    summary = entry.find(f"{A}summary")
    summary.text = HOSTILE_SENTENCE + summary.text.strip()


@pytest.fixture(scope="module")
def served(tmp_path_factory, arxiv_server, llm_server, seed_pdf):
    """The seed day refreshed from the stubs, served by gunicorn on loopback: shared by every client."""
    tmp = tmp_path_factory.mktemp("clients")
    mp = pytest.MonkeyPatch()
    arxiv_server.reset()
    arxiv_server.html[HTML_PAPER] = (FIXTURES / "html" / f"{HTML_PAPER}.html").read_bytes()
    arxiv_server.pdf[PDF_PAPER] = seed_pdf
    _inject_hostile(arxiv_server)
    llm_server.reset()
    hub = HubStub()
    feeds = tmp / "feeds"
    feeds.mkdir()
    shutil.copy(ROOT / "feeds" / "cs-cv.toml", feeds / "cs-cv.toml")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    values = {
        "ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": llm_server.url,
        "DIGEST_DATA_DIR": str(tmp / "var"), "DIGEST_FEEDS_DIR": str(feeds),
        "DIGEST_ARXIV_LISTING_URL": f"{arxiv_server.url}/rss/", "DIGEST_ARXIV_API_URL": f"{arxiv_server.url}/api/query",
        "DIGEST_ARXIV_HTML_URL": f"{arxiv_server.url}/html/", "DIGEST_ARXIV_PDF_URL": f"{arxiv_server.url}/pdf/",
        "DIGEST_ARXIV_DELAY": "0", "DIGEST_LLM_MAX_RETRIES": "0",
        "DIGEST_PUBLIC_URL": url, "DIGEST_WEBSUB_HUB": f"{hub.url}/hub",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    }
    for name in ("DIGEST_ADMIN_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        mp.delenv(name, raising=False)
    for k, v in values.items():
        mp.setenv(k, v)
    proc = None
    try:
        d = make_digest()
        result = d.refresh("cs-cv")
        d.store.close()
        assert result.outcome == "published", result.message
        served = Served(url, hub, tmp, expected_papers(), result.message, hub.pings())
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--preload", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                 "wsgi:app"], cwd=ROOT, env=os.environ.copy(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(200):
            try:
                requests.get(f"{url}/healthz", timeout=30)
                break
            except requests.ConnectionError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stderr.read().decode())
                time.sleep(0.1)
        else:
            raise AssertionError("gunicorn did not answer on " + url)
        yield served
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        hub.close()
        mp.undo()
        arxiv_server.reset()
        llm_server.release.set()


def paper_entries(entries, key=lambda e: e.get("id")) -> dict[str, object]:
    return {key(e): e for e in entries if "arxiv.org/abs/" in (key(e) or "")}


# --- 1. Python: feedparser ------------------------------------------------------------

def test_feedparser_reads_every_paper_from_atom_and_rss(served):
    for ext, version in (("atom", "atom10"), ("rss", "rss20")):
        feed = feedparser.parse(served.feed(ext))  # feedparser's own HTTP client, gzip and all
        assert feed.get("status") == 200 and not feed.bozo, (ext, feed.get("bozo_exception"))
        assert feed.version == version and len(feed.entries) == 11
        entries = paper_entries(feed.entries)
        for p in served.papers:
            e = entries[f"https://arxiv.org/abs/{p['id']}"]
            vid = f"{p['id']}v{p['version']}"
            assert e.title == squash(p["title"]), (ext, e.title)
            assert [a.name for a in e.authors] == p["authors"] if ext == "atom" else True
            assert e.link == f"https://arxiv.org/abs/{vid}"
            assert e.published_parsed[:3] == tuple(int(x) for x in p["published"].split("-"))
            assert [t.term for t in e.tags] == p["categories"]
            # the abstract reads as text in both: Atom says type="text", RSS escapes it as HTML
            assert squash(e.summary) == squash(p["abstract"]) if ext == "atom" else \
                squash(html.unescape(e.summary)) == squash(p["abstract"])
            assert "关键发现" in e.content[0].value
            if ext == "atom":
                links = {link.rel: link for link in e.links}
                assert links["alternate"].href == f"https://arxiv.org/abs/{vid}"
                assert links["related"].href == f"https://arxiv.org/pdf/{vid}" and links["related"].type == "application/pdf"
                assert e.updated_parsed is not None
            else:
                assert e.enclosures[0].href == f"https://arxiv.org/pdf/{vid}" and e.enclosures[0].type == "application/pdf"
                assert e.author == ", ".join(p["authors"])  # one dc:creator with every author, as arXiv's RSS
        assert squash(entries[f"https://arxiv.org/abs/{HOSTILE['id']}"].title) == squash(HOSTILE_TITLE)


# --- 2. Node: rss-parser and @extractus/feed-extractor ----------------------------------

@pytest.fixture(scope="module")
def node_read(served) -> dict:
    node = need_node_modules("rss-parser", "@extractus/feed-extractor")
    proc = run([node, str(CLIENTS / "read_feeds.mjs"), served.feed("atom"), served.feed("rss"), served.feed("json")])
    return json.loads(proc.stdout)


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_rss_parser_reads_every_paper(served, node_read, fmt):
    feed = node_read["rss-parser"][fmt]
    assert "error" not in feed, feed.get("error")
    assert feed["title"] == "Arxiv Computer Vision Papers" and len(feed["items"]) == 11
    items = paper_entries(feed["items"])
    for p in served.papers:
        i = items[f"https://arxiv.org/abs/{p['id']}"]
        vid = f"{p['id']}v{p['version']}"
        assert i["title"] == squash(p["title"]) and i["link"] == f"https://arxiv.org/abs/{vid}"
        assert i["isoDate"].startswith(p["published"])
        assert (i["authors"] if fmt == "atom" else i["creators"]) == \
            (p["authors"] if fmt == "atom" else [", ".join(p["authors"])])
        assert i["categories"] == p["categories"]
        assert i["publicationDate"] == p["published"] and i["identifier"] == f"doi:10.48550/arXiv.{p['id']}"
        assert "关键发现" in i["content"]
        abstract = i["summary"] if fmt == "atom" else i["contentSnippet"]
        assert squash(abstract) == squash(p["abstract"])
        if fmt == "atom":
            rels = {(l["rel"], l["href"], l.get("type")) for l in i["linkElements"]}
            assert ("related", f"https://arxiv.org/pdf/{vid}", "application/pdf") in rels
        else:
            assert i["enclosure"]["url"] == f"https://arxiv.org/pdf/{vid}" and i["enclosure"]["type"] == "application/pdf"


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_feed_extractor_reads_every_paper(served, node_read, fmt):
    feed = node_read["feed-extractor"][fmt]
    assert "error" not in feed, feed.get("error")
    assert feed["title"] == "Arxiv Computer Vision Papers" and len(feed["entries"]) == 11
    entries = paper_entries(feed["entries"])
    for p in served.papers:
        e = entries[f"https://arxiv.org/abs/{p['id']}"]
        vid = f"{p['id']}v{p['version']}"
        assert e["title"] == squash(p["title"])
        assert e["link"] in (f"https://arxiv.org/abs/{vid}", f"https://arxiv.org/abs/{p['id']}")  # RSS: the guid permalink
        # Atom: it reports atom:updated (the entry's last change), else the publication date
        published = dt.datetime.fromisoformat(e["published"].replace("Z", "+00:00"))
        assert published.date() >= dt.date.fromisoformat(p["published"])
        assert e["authors"] == (p["authors"] if fmt != "rss" else [", ".join(p["authors"])])
        assert e["categories"] == p["categories"]
        assert "关键发现" in e["content"] and "<script" not in e["description"]
        if fmt == "atom":  # it strips tags from every description, text or not
            assert squash(e["description"]) == squash(re.sub(r"<[^>]+>", "", p["abstract"]))
            assert {"rel": "related", "href": f"https://arxiv.org/pdf/{vid}", "type": "application/pdf"} in e["links"]
        else:
            assert e["enclosure"] == {"url": f"https://arxiv.org/pdf/{vid}", "type": "application/pdf"}


# --- 3. Terminal: newsboat ------------------------------------------------------------

def test_newsboat_reloads_the_feed_and_lists_every_entry(served):
    newsboat = need("newsboat", "Debian package newsboat")
    home = served.tmp / "newsboat"
    home.mkdir(exist_ok=True)
    (home / "urls").write_text(served.feed("atom") + "\n")
    (home / "config").write_text('download-timeout 30\nreload-threads 1\n')
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_DATA_HOME": str(home)}
    args = [newsboat, "-u", str(home / "urls"), "-c", str(home / "cache.db"), "-C", str(home / "config")]
    run(args + ["-x", "reload"], env=env, timeout=120)
    unread = run(args + ["-x", "print-unread"], env=env, timeout=60).stdout
    assert re.match(r"11 unread articles", unread.strip()), unread
    with sqlite3.connect(home / "cache.db") as db:
        rows = db.execute("SELECT guid, title, url, author, pubDate, enclosure_url, content FROM rss_item "
                          "WHERE feedurl = ?", (served.feed("atom"),)).fetchall()
        title = db.execute("SELECT title FROM rss_feed WHERE rssurl = ?", (served.feed("atom"),)).fetchone()
    assert title == ("Arxiv Computer Vision Papers",) and len(rows) == 11
    items = {r[0]: r for r in rows}
    for p in served.papers:
        guid, item_title, url, author, pub, _, content = items[f"https://arxiv.org/abs/{p['id']}"]
        assert item_title == squash(p["title"]), item_title
        assert url == f"https://arxiv.org/abs/{p['id']}v{p['version']}"
        assert author == ", ".join(p["authors"])
        assert dt.datetime.fromtimestamp(pub, dt.timezone.utc).date() >= dt.date.fromisoformat(p["published"])
        assert "关键发现" in content
    served.seen["newsboat"] = {"version": run([newsboat, "--version"]).stdout.splitlines()[0], "unread": unread.strip()}


# --- 4. Browser: Debian's Chromium, headless, through playwright-core ---------------------

def test_chromium_renders_the_pages_and_runs_no_paper_or_llm_script(served):
    need("chromium", "Debian package chromium")
    node = need_node_modules("playwright-core")
    shot = served.tmp / "day.png"
    proc = run([node, str(CLIENTS / "browse.mjs"), served.url, f"/feeds/cs-cv/{DAY}", str(shot)], timeout=180,
               env={**os.environ, "CHROMIUM": shutil.which("chromium")})
    seen = json.loads(proc.stdout)
    feeds = {"application/atom+xml": served.feed("atom"), "application/rss+xml": served.feed("rss"),
             "application/feed+json": served.feed("json")}
    for name, page in seen["pages"].items():
        assert page["status"] == 200 and "default-src 'none'" in page["csp"], name
        assert {l["type"]: l["href"] for l in page["feedLinks"]} == feeds, name
        errors = [m for m in page["console"] if m["type"] == "error"]
        assert not errors and not page["pageErrors"] and not page["dialogs"], (name, errors, page["pageErrors"])
        assert page["stylesheetLoaded"] and not page["failedRequests"], (name, page["failedRequests"])
        assert page["scripts"] == 0 and not page["handlers"] and page["pwned"] is None, name
    day = seen["pages"]["day"]
    assert day["h1"] == f"Arxiv Computer Vision Papers - {DAY}"
    assert day["summaryVisible"] and "主要主题与趋势" in day["summaryText"]
    assert len(day["articles"]) == 10 and all(a["visible"] for a in day["articles"])
    assert all(a["findingsVisible"] for a in day["articles"]), [a["id"] for a in day["articles"] if not a["findingsVisible"]]
    hostile = next(a for a in day["articles"] if a["id"] == f"{HOSTILE['id']}v{HOSTILE['version']}")
    assert squash(hostile["title"]) == squash(HOSTILE_TITLE)  # the markup is shown as text
    assert 'window.__pwned="abstract"' in hostile["text"]  # in the abstract and the quoted evidence
    assert not day["images"]  # no <img> from paper or LLM text made it into the DOM
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    served.seen["chromium"] = {**seen["versions"], "chromium": run(["chromium", "--version"]).stdout.strip()}


# --- 5. Zotero 7's feed subscription: FeedProcessor.mjs + feedReader.js, re-derived -------------
# Facts read from zotero/zotero (resource/feeds/FeedProcessor.mjs, chrome/content/zotero/xpcom/
# feedReader.js; AGPL, so this is our own code): every search list is walked to its end and the
# LAST element present wins; date = updated || published; abstractNote = content || summary;
# creators from each author element, a single one split on commas/"and"/";"; language = the
# item's, else the feed's; the first enclosure becomes the attachment.

Z_UPDATED = ("pubDate", "dc:date", "a:updated", "prism:modificationDate")
Z_PUBLISHED = ("dc:date", "pubDate", "a:published", "prism:publicationDate")
Z_CONTENT = ("content:encoded", "a:content")
Z_SUMMARY = ("description", "dc:description", "a:summary")
Z_NS = {**NS, "content": "http://purl.org/rss/1.0/modules/content/"}


def zotero_clean_doi(value: str) -> str | None:
    """Zotero.Utilities.cleanDOI: the first DOI-shaped run in the string."""
    m = re.search(r"10(?:\.[0-9]{4,})?/[^\s]*[^\s.,]", value)
    return m.group(0) if m else None


def zotero_clean_author(name: str, use_comma: bool = False) -> dict[str, str]:
    """Zotero.Utilities.cleanAuthor: "Last, First" with use_comma, else the last word is the last name."""
    name = " ".join(name.split()).strip(" .,;:")
    if use_comma and "," in name:
        last, _, first = name.partition(",")
    else:
        first, _, last = name.rpartition(" ")
    creator = {"firstName": first.strip(), "lastName": last.strip(), "creatorType": "author"}
    if not creator["firstName"]:
        creator["fieldMode"] = 1
    return creator


def zotero_creators(names: list[str]) -> list[dict]:
    """feedReader.js _processCreators: one name field holding several is split."""
    names = [" ".join(re.sub(r"<[^>]+>", "", n).split()) for n in names if n and n.strip()]
    if len(names) == 1:
        name = names[0]
        commas, other = name.count(","), len(re.split(r"\s(?:and|&)\s|;", name)) - 1
        if other or commas > 1 or (commas == 1 and " " in name.split(",")[0].strip()):
            names = re.split(r"\s(?:and|&)\s|\s*[,;]\s*", name)
    return [zotero_clean_author(n, n.count(",") == 1) for n in names if n.strip()]


def _text(el) -> str:
    """A text construct as Zotero renders it: type text as is, html/RSS description parsed."""
    raw = el.text or ""
    if el.get("type", "html" if el.tag != f"{A}summary" else "text") in ("html", "text/html"):
        raw = lxml_html_text(raw)
    return " ".join(raw.split())


def lxml_html_text(markup: str) -> str:
    import lxml.html
    return lxml.html.fromstring(f"<div>{markup}</div>").text_content() if markup.strip() else ""


def zotero7_item(entry: etree._Element, feed_language: str | None) -> dict:
    """What Zotero 7 makes of one Atom entry or RSS item (our re-derivation, see above)."""
    def last(names):
        found = None
        for name in names:
            el = entry.find(name if ":" not in name else "{%s}%s" % (Z_NS[name.split(":")[0]], name.split(":")[1]))
            if el is not None and (el.text or "").strip() or (el is not None and name in ("a:content",)):
                found = (name, el)
        return found
    item = {"guid": entry.findtext(f"{A}id") or entry.findtext("guid"),
            "title": " ".join((entry.findtext(f"{A}title") or entry.findtext("title") or "").split())}
    body = last(Z_CONTENT) or last(Z_SUMMARY)
    if body:
        item["abstractNote"] = _text(body[1])
    alternates = [l.get("href") for l in entry.findall(f"{A}link") if l.get("rel") in (None, "alternate")]
    item["url"] = alternates[0] if alternates else entry.findtext("link")
    names = [n.text for n in entry.findall(f"{A}author/{A}name")] or \
            [c.text for c in entry.findall(f"{{{NS['dc']}}}creator")] + [c.text for c in entry.findall("author")]
    item["creators"] = zotero_creators(names)
    date = last(Z_UPDATED) or last(Z_PUBLISHED)
    if date:
        item["date"] = date[1].text.strip()
    if pub := last(("dc:source", "prism:publicationName")):
        item["publicationTitle"] = pub[1].text.strip()
    if (ident := last(("dc:identifier", "prism:doi"))) and (doi := zotero_clean_doi(ident[1].text)):
        item["DOI"] = doi
    lang = last(("language", "dc:language"))
    item["language"] = lang[1].text.strip() if lang else feed_language
    enclosures = [{"url": l.get("href"), "contentType": l.get("type") or ""}
                  for l in entry.findall(f"{A}link") if l.get("rel") == "enclosure"]
    enclosures += [{"url": e.get("url"), "contentType": e.get("type") or ""} for e in entry.findall("enclosure")]
    item["enclosedItems"] = enclosures[:1]
    return item


def zotero7_items(doc: bytes) -> dict[str, dict]:
    root = etree.fromstring(doc)
    if root.tag == f"{A}feed":
        lang = root.get("{http://www.w3.org/XML/1998/namespace}lang")
        entries = root.findall(f"{A}entry")
    else:
        lang = root.findtext("channel/language")
        entries = root.findall("channel/item")
    return {i["guid"]: i for i in (zotero7_item(e, lang) for e in entries)}


def test_zotero_feed_mapping_gives_every_paper_its_citation(served):
    """Per paper, in the Zotero feed and in RSS: the arXiv date, every author, the arXiv
    abstract, DOI, URL, arXiv as publication, English, the PDF attached."""
    zotero = zotero7_items(served.get("/feeds/cs-cv.zotero.atom").content)
    rss = zotero7_items(served.get("/feeds/cs-cv.rss").content)
    main = zotero7_items(served.get("/feeds/cs-cv.atom").content)
    assert len(zotero) == len(served.papers)  # papers only: no daily-summary item
    for p in served.papers:
        abs_url = f"https://arxiv.org/abs/{p['id']}"
        vid = f"{p['id']}v{p['version']}"
        for name, items in (("zotero", zotero), ("rss", rss), ("atom", main)):
            item = items[abs_url]
            assert item["title"] == squash(p["title"]), name
            assert [(c["firstName"], c["lastName"]) for c in item["creators"]] == \
                [tuple(zotero_clean_author(a)[k] for k in ("firstName", "lastName")) for a in p["authors"]], name
            assert item["date"] == p["published"], name  # the arXiv date, not the refresh time
            assert item["url"] == f"https://arxiv.org/abs/{vid}", name
            assert item["DOI"] == f"10.48550/arXiv.{p['id']}" and item["publicationTitle"] == "arXiv", name
            assert item["language"] == "en", name  # not the channel's "zh"
            assert item["enclosedItems"] == [{"url": f"https://arxiv.org/pdf/{vid}", "contentType": "application/pdf"}]
        # Zotero prefers content: the Zotero feed has none, so the abstract is the abstractNote;
        # the main feeds keep the analysis for feed readers (and Zotero files that instead)
        assert zotero[abs_url]["abstractNote"] == squash(p["abstract"])
        assert "关键发现" in main[abs_url]["abstractNote"] and "关键发现" in rss[abs_url]["abstractNote"]
    served.seen["zotero7-mapping"] = {"fields": sorted(zotero[f"https://arxiv.org/abs/{served.papers[0]['id']}"])}


# --- 5b. fastfeedparser (PyPI) ------------------------------------------------------------

def test_fastfeedparser_reads_every_paper(served):
    import fastfeedparser
    from importlib.metadata import version
    for ext in ("atom", "rss", "json", "zotero.atom"):
        feed = fastfeedparser.parse(served.get(f"/feeds/cs-cv.{ext}").content)
        entries = paper_entries(feed.entries)
        assert len(entries) == len(served.papers), ext
        for p in served.papers:
            e = entries[f"https://arxiv.org/abs/{p['id']}"]
            vid = f"{p['id']}v{p['version']}"
            assert e["title"] == squash(p["title"]) and e["link"] == f"https://arxiv.org/abs/{vid}", ext
            assert e["published"].startswith(p["published"]), ext
            if ext == "rss":  # one dc:creator with every author, as arXiv's RSS
                assert e["author"] == ", ".join(p["authors"])
                assert e["enclosures"][0]["url"] == f"https://arxiv.org/pdf/{vid}"
            else:  # it reads only the first atom:author / authors[0]: the others are there, unread
                assert e["author"] == p["authors"][0], ext
    served.seen["fastfeedparser"] = version("fastfeedparser")


# --- 5c. lemon24/reader (PyPI) -----------------------------------------------------------

def test_reader_reads_every_paper(served):
    from importlib.metadata import version

    from reader import make_reader
    r = make_reader(str(served.tmp / "reader.sqlite"))
    try:
        for ext in ("atom", "rss", "json", "zotero.atom"):
            r.add_feed(served.feed(ext))
        r.update_feeds()
        problems = {f.url: f.last_exception for f in r.get_feeds() if f.last_exception}
        assert not problems, problems
        for ext in ("atom", "rss", "json", "zotero.atom"):
            entries = paper_entries(r.get_entries(feed=served.feed(ext)), key=lambda e: e.id)
            assert len(entries) == len(served.papers), ext
            for p in served.papers:
                e = entries[f"https://arxiv.org/abs/{p['id']}"]
                vid = f"{p['id']}v{p['version']}"
                assert e.title == squash(p["title"]) and e.link == f"https://arxiv.org/abs/{vid}", ext
                assert e.published.date().isoformat() == p["published"], ext
                if ext in ("rss", "json"):  # it splits RSS's comma-separated dc:creator; JSON Feed's authors
                    assert [a.name for a in e.authors] == p["authors"], ext
                else:  # Atom: reader keeps one structured author ("we only get the first author, sadly")
                    assert len(e.authors) == 1 and e.authors[0].name in p["authors"], ext
                if ext != "json":
                    assert [x.href for x in e.enclosures] == [f"https://arxiv.org/pdf/{vid}"], ext
                if ext == "zotero.atom":
                    assert not e.content and squash(e.summary) == squash(p["abstract"])
                else:
                    assert "关键发现" in e.content[0].value, ext
    finally:
        r.close()
    served.seen["reader"] = version("reader")


# --- 5d. gofeed (Go, Debian's golang-github-mmcdole-gofeed-dev) -----------------------------

@pytest.fixture(scope="module")
def gofeed(served) -> Path:
    """tests/clients/gofeed/main.go built against Debian's gofeed sources (GOPATH mode)."""
    go = need("go", "Debian's golang-go")
    gopath = Path("/usr/share/gocode")
    if not (gopath / "src/github.com/mmcdole/gofeed/parser.go").exists():
        pytest.fail(f"client missing: gofeed sources not in {gopath} (Debian's golang-github-mmcdole-gofeed-dev); "
                    f"{INSTALL}", pytrace=False)
    binary = served.tmp / "gofeed-json"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": str(gopath), "GOCACHE": str(served.tmp / "gocache"),
           "GOFLAGS": ""}
    run([go, "build", "-o", str(binary), str(CLIENTS / "gofeed" / "main.go")], timeout=300, env=env)
    return binary


def test_gofeed_reads_every_paper(served, gofeed):
    version = Path("/usr/share/doc/golang-github-mmcdole-gofeed-dev/changelog.Debian.gz")
    for ext in ("atom", "rss", "json", "zotero.atom"):
        feed = json.loads(run([str(gofeed)], input=served.get(f"/feeds/cs-cv.{ext}").text).stdout)
        entries = paper_entries(feed["items"], key=lambda e: e.get("guid"))
        assert len(entries) == len(served.papers), ext
        for p in served.papers:
            e = entries[f"https://arxiv.org/abs/{p['id']}"]
            vid = f"{p['id']}v{p['version']}"
            assert squash(e["title"]) == squash(p["title"]) and e["link"] == f"https://arxiv.org/abs/{vid}", ext
            assert e["publishedParsed"].startswith(p["published"]), ext  # gofeed's parsed date, RFC 3339
            names = [a["name"] for a in e.get("authors") or []]
            if ext == "rss":  # one dc:creator holding every author, as arXiv's own RSS
                assert names == [", ".join(p["authors"])], ext
            else:  # every atom:author; JSON Feed 1.1 authors
                assert names == p["authors"], ext
            if ext != "json":
                assert [x["url"] for x in e.get("enclosures") or []] == [f"https://arxiv.org/pdf/{vid}"], ext
            if ext == "zotero.atom":
                assert squash(e["description"]) == squash(p["abstract"]) and not e.get("content"), ext
            else:
                assert "关键发现" in (e.get("content") or ""), ext
    served.seen["gofeed"] = "1.1.3 (Debian)" if version.exists() else "gofeed (Debian)"


# --- 5e. atoma (PyPI) ---------------------------------------------------------------------

def test_atoma_reads_every_paper(served):
    import atoma
    from importlib.metadata import version
    atom = atoma.parse_atom_bytes(served.get("/feeds/cs-cv.atom").content)
    rss = atoma.parse_rss_bytes(served.get("/feeds/cs-cv.rss").content)
    jsonfeed = atoma.parse_json_feed_bytes(served.get("/feeds/cs-cv.json").content)
    atom_entries = paper_entries(atom.entries, key=lambda e: e.id_)
    rss_items = paper_entries(rss.items, key=lambda e: e.guid)
    json_items = paper_entries(jsonfeed.items, key=lambda e: e.id_)
    assert len(atom_entries) == len(rss_items) == len(json_items) == len(served.papers)
    for p in served.papers:
        key, vid = f"https://arxiv.org/abs/{p['id']}", f"{p['id']}v{p['version']}"
        a, r, j = atom_entries[key], rss_items[key], json_items[key]
        assert squash(a.title.value) == squash(r.title) == squash(j.title) == squash(p["title"])
        assert [x.name for x in a.authors] == p["authors"]
        # JSON Feed 1.0's single `author` object, for 1.0 readers: every author in its name
        assert j.author is not None and j.author.name == ", ".join(p["authors"])
        assert a.published.date().isoformat() == r.pub_date.date().isoformat() == p["published"]
        assert j.url == f"https://arxiv.org/abs/{vid}"
        assert "关键发现" in j.content_html
    served.seen["atoma"] = version("atoma")


# --- 5f. The W3C Feed Validator over HTTP (media types and all) ---------------------------

def test_w3c_validator_fetches_every_feed_and_finds_nothing(served):
    """validator.w3.org/feed's own code (vendored) fetching from gunicorn as the online service
    would: headers (media type, charset) as well as the documents. tests/test_w3c.py says why
    the prism notice is accepted. The hostile paper's title and abstract *are* text that looks
    like markup (`<script>…`), published as text on purpose: the validator's "should not contain
    HTML" heuristic is expected for it, and only for it (tests/test_w3c.py checks the seed day
    with no exception)."""
    from .test_w3c import ACCEPTED, Formatter, compatibility, feedvalidator
    problems, markup_text = [], 0
    for path in ("/feeds/cs-cv.atom", "/feeds/cs-cv.rss", "/feeds/cs-cv.zotero.atom", f"/feeds/cs-cv/{DAY}.atom"):
        events = feedvalidator.validateURL(served.url + path, firstOccurrenceOnly=1)["loggedEvents"]
        events = [e for e in compatibility.AA(events) if (type(e).__name__, e.params.get("namespace")) not in ACCEPTED]
        looks_like_html = [e for e in events if isinstance(e, feedvalidator.logging.ContainsHTML)]
        markup_text += len(looks_like_html)
        problems += [f"{path}: {line}" for line in Formatter([e for e in events if e not in looks_like_html])]
    assert problems == []
    assert markup_text > 0  # the hostile text is there, and seen as text that looks like HTML
    served.seen["w3c-feedvalidator"] = "43dabeb (vendored)"


# --- 6. Validation: RFC 4287 as RELAX NG plus the rules a grammar cannot say ---------------

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
IANA_RELS = {"alternate", "related", "self", "enclosure", "via", "hub", "prev-archive", "next-archive", "current",
             "first", "last", "next", "previous", "license", "replies"}


def atom_problems(doc: bytes, url: str) -> list[str]:
    root = etree.fromstring(doc)
    schema = etree.RelaxNG(etree.parse(str(CLIENTS / "atom.rng")))
    problems = [f"RELAX NG: {e.line}: {e.message}" for e in ([] if schema.validate(root) else schema.error_log)]
    ids = [root.findtext(f"{A}id")] + [e.findtext(f"{A}id") for e in root.findall(f"{A}entry")]
    if len(set(ids)) != len(ids):
        problems.append("atom:id not unique")
    for value in ids:
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$", value or ""):
            problems.append(f"atom:id not an absolute IRI: {value!r}")
    for el in root.iter(f"{A}updated", f"{A}published"):
        if not RFC3339.match(el.text or ""):
            problems.append(f"date not RFC 3339: {el.text!r}")
    for el in root.iter():
        base = el.get("{http://www.w3.org/XML/1998/namespace}base")
        if base is not None and not re.match(r"^https?://", base):
            problems.append(f"xml:base not absolute: {base!r}")
    feed_has_author = root.find(f"{A}author") is not None
    for scope in [root] + root.findall(f"{A}entry"):
        links = scope.findall(f"{A}link")
        for link in links:
            rel, href = link.get("rel", "alternate"), link.get("href", "")
            if rel not in IANA_RELS and ":" not in rel:
                problems.append(f"link rel not registered nor an IRI: {rel!r}")
            if not href.startswith(("http://", "https://")):
                problems.append(f"link href not absolute (no xml:base in use): {href!r}")
        alternates = [(l.get("type"), l.get("hreflang")) for l in links if l.get("rel", "alternate") == "alternate"]
        if len(set(alternates)) != len(alternates):
            problems.append("more than one alternate link with the same type and hreflang")
        if scope is not root:
            if scope.find(f"{A}author") is None and not feed_has_author:
                problems.append("entry without author in a feed without author")
            content = scope.find(f"{A}content")
            if content is None and not alternates:
                problems.append("entry without content and without alternate link")
            if content is not None:
                ctype = content.get("type", "text")
                if ctype not in ("text", "html", "xhtml") and "/" not in ctype:
                    problems.append(f"content type neither text/html/xhtml nor a MIME type: {ctype!r}")
                if ctype == "html":
                    etree.fromstring(f"<div>{content.text or ''}</div>", etree.HTMLParser())
                if (content.get("src") or ctype not in ("text", "html", "xhtml")) and scope.find(f"{A}summary") is None:
                    problems.append("entry with out-of-line or non-text content but no summary")
    selfs = [l.get("href") for l in root.findall(f"{A}link") if l.get("rel") == "self"]
    if selfs != [url]:
        problems.append(f"self link {selfs} is not the document's URL {url}")
    return problems


def test_atom_feed_and_archive_pass_rfc_4287_checks(served):
    for path in ("/feeds/cs-cv.atom", f"/feeds/cs-cv/{DAY}.atom"):
        assert atom_problems(served.get(path).content, served.url + path) == [], path
    # and the checks do catch a broken feed
    broken = served.get("/feeds/cs-cv.atom").content.replace(b"<updated>", b"<updated>2026-1-2", 1)
    broken = re.sub(rb"<id>urn:uuid:[^<]+</id>", b"<id>same</id>", broken)
    problems = atom_problems(broken, served.feed("atom"))
    assert any("RELAX NG" in p for p in problems) and "atom:id not unique" in problems


# --- 7. WebSub -----------------------------------------------------------------------------

def test_websub_hub_is_advertised_and_pinged_on_publish(served):
    hub = f"{served.hub.url}/hub"
    atom = etree.fromstring(served.get("/feeds/cs-cv.atom").content)
    assert [l.get("href") for l in atom.findall(f"{A}link[@rel='hub']")] == [hub]
    rss = etree.fromstring(served.get("/feeds/cs-cv.rss").content)
    assert [l.get("href") for l in rss.findall(f"channel/{A}link[@rel='hub']")] == [hub]
    assert rss.find(f"channel/{A}link[@rel='self']").get("href") == served.feed("rss")
    archive = etree.fromstring(served.get(f"/feeds/cs-cv/{DAY}.atom").content)
    assert archive.find(f"{A}link[@rel='hub']") is None  # archives never change
    assert feedparser.parse(served.feed("atom")).feed.links[-1].rel == "hub" or \
        "hub" in {l.rel for l in feedparser.parse(served.feed("atom")).feed.links}
    assert served.pings_after_refresh == [{"hub.mode": ["publish"], "hub.url": [served.feed("atom")]},
                                          {"hub.mode": ["publish"], "hub.url": [served.feed("rss")]},
                                          {"hub.mode": ["publish"], "hub.url": [served.feed("json")]}]
    assert served.get("/feeds/cs-cv.json").json()["hubs"] == [{"type": "WebSub", "url": hub}]
    with served.hub.lock:
        posts = [(p, b) for m, p, b in served.hub.requests if m == "POST"]
    assert [p for p, _ in posts] == ["/hub"] * 3
