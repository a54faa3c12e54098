"""The link policy (issue 13, serious #1): a prompt-injected paper's phishing link, however it
is spelled, never becomes a live link in any format; only http(s) links the paper has, and
the arXiv/DOI links we generate, do.

The renderers are pure, so the fuzz builds `Day`s directly with generated link encodings in
every field the model writes (analysis sections, summary parts, finding claims) and reads
every document back the way a reader does: XML/HTML parsed for href and src, Markdown (the
.md view and the API's bodies) parsed by markdown-it, plus the bare links a GFM renderer
would make live. The oracle is independent of `service.links`: a host allow-list.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
from markdown_it import MarkdownIt
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree

from service import gate, links
from service.models import (AnnounceType, Analysis, DailySummary, Day, Entry, EntryStatus, FeedSpec,
                            Finding, PaperMeta, TextSource)
from service.render.api import DayNav, render_api_day
from service.render.atom import render_archive, render_atom
from service.render.html import render_day_page
from service.render.jsonfeed import render_jsonfeed
from service.render.markdown import render_markdown
from service.render.rss import render_rss

BASE = "https://digest.test"
GOOD = "https://good.example/paper"
ABSTRACT = f"We propose a method. Code and data: {GOOD} and github.com/lab/repo/tree/main."
FULL_TEXT_LINK = "https://fulltext.example/data"
T0 = dt.datetime(2026, 1, 28, 1, tzinfo=dt.timezone.utc)
SPEC = FeedSpec(name="t", path=Path("t.toml"), title="Test feed", categories=("cs.CV",))
#: Hosts a live link may point at: the paper's own links and ours.
OK_HOSTS = {"good.example", "github.com", "fulltext.example", "arxiv.org", "doi.org", "digest.test"}


def paper(n: int = 1) -> PaperMeta:
    return PaperMeta(arxiv_id=f"2601.1000{n}", version=1, title=f"Paper {n}", authors=("A. Author",),
                     abstract=ABSTRACT, categories=("cs.CV",), published=T0, updated=T0)


def make_day(body: str, claim: str = "A claim.") -> Day:
    p = paper()
    analysis = Analysis(framework="abstract", source=TextSource.HTML, language="en", model="m", prompt_hash="h",
                        sections=(("Motivation", body), ("Method", f"Plain. {body}")),
                        findings=(Finding(claim=claim, evidence="We propose a method."),), created=T0,
                        source_links=(FULL_TEXT_LINK,))
    entry = Entry(paper=p, announce_type=AnnounceType.NEW, status=EntryStatus.ANALYSED, source=TextSource.HTML,
                  analysis=analysis, findings=analysis.findings, updated=T0)
    summary = DailySummary(language="en", model="m", prompt_hash="h", parts=(("Themes", body),), created=T0)
    return Day(feed="t", date=T0.date(), entries=(entry,), summary=summary, summary_status=EntryStatus.ANALYSED,
               published=T0, updated=T0)


# --- reading links back out of every format ------------------------------------------------
def html_hrefs(fragment: str) -> list[str]:
    if not fragment.strip():
        return []
    doc = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return [v for el in doc.iter() if isinstance(el.tag, str) for k, v in el.attrib.items()
            if k in ("href", "src", "action", "formaction", "poster", "data")]


#: What GFM's autolink extension (and a linkifier) makes live without any Markdown syntax
#: (up to a space or "<"; a ">" is cut too: browsers refuse it in a host, so it ends a live link).
GFM_AUTOLINK = re.compile(r"(?i)(?:https?://|www\.|mailto:|xmpp:)[^\s<>]+"
                          r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def markdown_hrefs(markdown: str) -> list[str]:
    """What markdown-it renders as links, and what GFM would autolink in the prose."""
    found = links.rendered_hrefs(markdown)
    for t in (c for b in links.md().parse(markdown) for c in (b.children or [])):
        if t.type == "text":
            for m in GFM_AUTOLINK.finditer(t.content):
                u = m.group(0).rstrip(".,;:!?*_~)")
                if u.lower() in ("www", "mailto", "xmpp") or u.lower().endswith("://"):
                    continue  # "www." or a bare scheme with nothing after is no autolink
                found.append(f"http://{u}" if u.lower().startswith("www.") else u)
    return found


def bad(href: str, fragments: set[str]) -> bool:
    """True for anything a reader could follow somewhere other than the paper's links or ours."""
    if href.startswith("#"):
        return href not in fragments
    if "\\" in href or any(ord(c) < 0x21 for c in href):
        return True
    parts = urlsplit(href)
    return (parts.scheme not in ("http", "https") or "@" in parts.netloc
            or parts.hostname not in OK_HOSTS or not href.lower().startswith(f"{parts.scheme}://"))


def every_href(day: Day) -> dict[str, list[str]]:
    nav = DayNav()
    out: dict[str, list[str]] = {}
    for name, xml in (("atom", render_atom(SPEC, [day], BASE)), ("archive", render_archive(SPEC, day, nav, BASE))):
        root = etree.fromstring(xml)
        hrefs = [el.get("href") for el in root.iter("{http://www.w3.org/2005/Atom}link")]
        for el in root.iter("{http://www.w3.org/2005/Atom}content", "{http://www.w3.org/2005/Atom}summary"):
            if el.get("type") == "html":  # type="text" is the abstract as plain text: no links at all
                hrefs += html_hrefs(el.text or "")
        out[name] = hrefs
    root = etree.fromstring(render_rss(SPEC, [day], BASE))
    out["rss"] = [h for el in root.iter("description", "{http://purl.org/rss/1.0/modules/content/}encoded")
                  for h in html_hrefs(el.text or "")]
    feed = json.loads(render_jsonfeed(SPEC, [day], BASE))
    out["jsonfeed"] = [h for item in feed["items"] for h in html_hrefs(item["content_html"])]
    out["jsonfeed"] += [h for item in feed["items"] if "_arxiv" in item
                        for s in (item["_arxiv"]["analysis"] or {}).get("sections", [])
                        for h in markdown_hrefs(s["body"])]
    out["html"] = html_hrefs(render_day_page(SPEC, day, nav, BASE).decode().split("<body>", 1)[-1])
    out["markdown"] = markdown_hrefs(render_markdown(SPEC, day, nav, BASE).decode())
    api = json.loads(render_api_day(SPEC, day, nav, BASE))
    bodies = [s["body"] for e in api["entries"] for s in (e["analysis"] or {}).get("sections", [])]
    bodies += [p["body"] for p in (api["summary"] or {}).get("parts", [])]
    out["api"] = [h for b in bodies for h in markdown_hrefs(b)]
    return out


def assert_no_foreign_link(day: Day) -> None:
    fragments = {f"#{e.paper.versioned_id}" for e in day.entries}
    for fmt, hrefs in every_href(day).items():
        assert not [h for h in hrefs if bad(h, fragments)], (fmt, [h for h in hrefs if bad(h, fragments)])


# --- generated link encodings ---------------------------------------------------------------
SCHEMES = ["https://", "http://", "HTTPS://", "//", "///", "https:", "https:/", "javascript:", "JaVaScRiPt:",
           "java\tscript:", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==#", "mailto:",
           "vbscript:", "file://", "&#104;ttps://", "&#x6A;avascript:", "&#106;&#97;vascript:", "https\\://",
           "https:\\/\\/", "https:/\\", "ht&#x09;tps://", "https%3A//", "\\https://", "xmpp:", " https://"]
HOSTS = ["evil.example", "good.example@evil.example", "good.example%40evil.example", "good.example.evil.example",
         "good.example:443@evil.example", "evil.example\\@good.example", "evil.example#@good.example",
         "good.example", "github.com", "xn--gd-evil.example", "127.0.0.1", "[::1]", "ＥＶＩＬ.example",
         "evil.example%2F@good.example", "good.example\\.evil.example", "arxiv.org@evil.example"]
PATHS = ["", "/", "/paper", "/phish?u=1", "/)@evil.example", "/paper)@evil.example/x", "/a%20b", "#frag"]
CONSTRUCTS = [
    "[{t}]({u})", "[{t}](<{u}>)", '[{t}]({u} "title")', "<{u}>", "![{t}]({u})", "[{t}][r]\n\n[r]: {u}",
    "[r]\n\n[r]: <{u}>", "[{t}][]\n\n[{t}]: {u} 'x'", "{u}", "[[{t}]]({u})", '<a href="{u}">{t}</a>',
    "[{t}](\n{u}\n)", "**[{t}]({u})**", "- item [{t}]({u})", "> [{t}]({u})", "| a |\n|---|\n| [{t}]({u}) |",
    "[{t}]({u}", "`[{t}]({u})`", "[{t}](  {u}  )", "<{u}>)@evil.example", "[{t}]: {u}\n\n[{t}]",
]
TEXTS = ["click", "https://good.example/paper", "www.evil.example", "me@evil.example", "code", ""]


@st.composite
def link_markdown(draw) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 4))):
        url = draw(st.sampled_from(SCHEMES)) + draw(st.sampled_from(HOSTS)) + draw(st.sampled_from(PATHS))
        pieces.append(draw(st.sampled_from(CONSTRUCTS)).format(t=draw(st.sampled_from(TEXTS)), u=url))
    noise = draw(st.text(alphabet="[]()<>:/\\@&#;!*_`|\n -.wbhtpsxevil", max_size=30))
    return draw(st.sampled_from([" ", "\n", "\n\n"])).join(pieces + [noise])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(link_markdown(), link_markdown())
def test_no_generated_link_encoding_survives_in_any_format(body, claim):
    assert_no_foreign_link(make_day(body, claim=claim))


@pytest.mark.parametrize("text", ["[click](mailto:ＥＶＩＬ.example) ", "mailto:ＥＶＩＬ.example",
                                  "https://ｅｖｉｌ.example/x", "见https://evil.example）和", "www.ＥＶＩＬ.example"])
def test_full_width_text_after_a_scheme_does_not_hide_a_link(text):
    # found by the property above once CJK text ended web links: a run GFM reads whole must
    # still be judged whole
    assert_no_foreign_link(make_day(text, claim=text))


def test_an_allowed_link_stays_live_and_an_injected_one_becomes_its_text():
    day = make_day(f"See [the code]({GOOD}) and [our page](https://evil.example/claim) and "
                   f"[data]({FULL_TEXT_LINK}).")
    hrefs = every_href(day)
    for fmt in ("atom", "rss", "jsonfeed", "html", "markdown", "api"):
        assert GOOD in hrefs[fmt] and FULL_TEXT_LINK in hrefs[fmt], fmt
        assert not any("evil.example" in h for h in hrefs[fmt]), fmt
    page = render_day_page(SPEC, day, DayNav(), BASE).decode()
    assert "our page" in page and "evil.example" not in page


# --- the policy and the hrefs markdown-it produces -----------------------------------------
def test_rendered_hrefs_sees_every_way_markdown_makes_a_link():
    md = ("[a](https://x.example/1) <https://x.example/2> [b][r] ![i](https://x.example/4) "
          "[c](&#104;ttps://x.example/5) <mailto:a@x.example> <a@x.example>\n\n[r]: https://x.example/3")
    assert links.rendered_hrefs(md) == ["https://x.example/1", "https://x.example/2", "https://x.example/3",
                                        "https://x.example/4", "https://x.example/5", "mailto:a@x.example",
                                        "mailto:a@x.example"]


def test_allowed_link_takes_only_http_links_of_the_source():
    source = "Code: https://good.example/paper and github.com/lab/repo/tree/main."
    ok = ["https://good.example/paper", "http://good.example/paper/", "https://GOOD.example:443/paper",
          "https://github.com/lab/repo", "https://www.github.com/lab/repo/tree/main"]
    refused = ["https://evil.example/", "https://good.example@evil.example/paper", "//good.example/paper",
               "https://good.example\\@evil.example", "javascript:alert(1)", "mailto:a@good.example",
               "https://good.example/pa", "https://good.example.evil.example/paper", "https:good.example/paper",
               "https://good.example/paperx", "ftp://good.example/paper", "https://github.com/lab/repo/tree/mainx",
               "data:text/html,x", ""]
    assert [h for h in ok if not links.allowed_link(h, source)] == []
    assert [h for h in refused if links.allowed_link(h, source)] == []
    assert links.allowed_link("https://arxiv.org/abs/2601.10001v1", source,
                              generated={"https://arxiv.org/abs/2601.10001v1"})


def test_the_gate_judges_what_the_renderer_would_link():
    """Spellings the old URL regex missed are foreign links to the gate too."""
    source = f"Title\n{ABSTRACT}"
    for text in ("[x][r]\n\n[r]: //evil.example/x", "<https://good.example@evil.example>",
                 "[x](&#104;ttps://evil.example)", "[x](https\\://evil.example)", "<mailto:boss@evil.example>",
                 "[x](javascript:alert(1))"):
        verdict = gate.Verdict()
        gate.check_foreign(text, source, verdict)
        assert "foreign_link" in verdict.codes, text
    verdict = gate.Verdict()
    gate.check_foreign(f"The code is at [{GOOD}]({GOOD}), see github.com/lab/repo.", source, verdict)
    assert verdict.ok, verdict.reasons


# --- 7: the Markdown view is inert ---------------------------------------------------------
HOSTILE = '<body/onload=alert(1)> [x](javascript:alert(1)) ![i](data:text/html,x) <img src=x onerror=alert(1)>'


def test_every_untrusted_field_of_the_markdown_view_is_inert():
    """Rendered by a permissive renderer (raw HTML on, as GitHub and many readers do), the .md
    view holds no element an attacker wrote, no handler, no javascript:/data: link; the text
    of every field is still there to read."""
    p = paper()
    p = PaperMeta(arxiv_id=p.arxiv_id, version=1, title=f"Title {HOSTILE} *x*", authors=(f"Eve {HOSTILE}", "Bob"),
                  abstract=f"{ABSTRACT} {HOSTILE}", categories=("cs.CV", "<script>x</script>"),
                  published=T0, updated=T0)
    day = make_day(f"# Head\n\n{HOSTILE}\n\n<script>alert(1)</script>\n\n- {HOSTILE}", claim=f"Claim {HOSTILE}")
    day = Day(feed=day.feed, date=day.date, entries=(Entry(**{**day.entries[0].__dict__, "paper": p}),),
              summary=day.summary, summary_status=day.summary_status, published=T0, updated=T0)
    md = render_markdown(SPEC, day, DayNav(), BASE).decode()
    html = MarkdownIt("commonmark", {"html": True}).render(md)
    doc = lxml.html.fragment_fromstring(html, create_parent="div")
    ours = {"div", "p", "h1", "h2", "strong", "em", "a", "ol", "ul", "li", "hr", "blockquote", "code"}
    assert {el.tag for el in doc.iter() if isinstance(el.tag, str)} <= ours
    for el in doc.iter("a"):
        assert set(el.attrib) <= {"href", "id"}
        assert el.get("href") is None or el.get("href").startswith(("https://", "#")), el.get("href")
    assert not [k for el in doc.iter() if isinstance(el.tag, str) for k in el.attrib if k.startswith("on")]
    text = doc.text_content()
    assert "<body/onload=alert(1)>" in text and "Eve <body/onload=alert(1)>" in text and "<script>x</script>" in text


def test_a_bare_link_hidden_behind_a_fake_scheme_is_still_found():
    """Each bare link is found wherever it starts, in one linear scan (bench.hostile_text)."""
    for text in ("x:www.evil.example", "avascript:boss@evil.example", "note:https://evil.example/x",
                 "a/b//evil.example/c", "javascript:alert(1)"):
        escaped = links.escape_text(text)
        assert "`" in escaped, (text, escaped)
        assert markdown_hrefs(escaped) == [], (text, escaped)
        verdict = gate.Verdict()
        gate.check_foreign(text, "source without links", verdict)
        assert "foreign_link" in verdict.codes, text


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(alphabet="-+#=>*_`[]()<>!&;|~\\ 1.)aw:/@x0", max_size=40),
                 st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
                         max_size=80)))
def test_escaped_text_renders_as_exactly_that_text(raw):
    """Titles, authors, abstracts, claims: whatever their characters, the reader sees them."""
    text = " ".join(raw.split())
    html = links.md().render(links.escape_text(text))
    shown = lxml.html.fragment_fromstring(html, create_parent="div").text_content() if html.strip() else ""
    assert " ".join(shown.split()) == text


GLUED = ("数据集（{a}）和评测工具（{b}）均已公开，另见中文{c}。")


def test_a_link_glued_to_chinese_text_ends_where_the_chinese_starts():
    """Round 7 (c7-zh-duwat): the paper's URLs written without spaces inside Chinese text are the
    paper's links, not one long foreign one; a foreign URL glued the same way is still refused."""
    text = GLUED.format(a=GOOD, b="https://github.com/lab/repo", c="https://evil.example/x")
    assert [u for _, u in links.bare_links(text)] == [GOOD, "https://github.com/lab/repo", "https://evil.example/x"]
    assert links.foreign_links(text, ABSTRACT) == ["https://evil.example/x"]


def test_a_link_glued_to_chinese_text_is_never_a_broken_live_link():
    """GFM would run a bare link on to the next space: the allowed one is written as a link,
    so every renderer makes exactly it live; the foreign one stays a code span."""
    text = GLUED.format(a=GOOD, b="https://github.com/lab/repo", c="https://evil.example/x")
    escaped = links.escape_text(text, links.policy(ABSTRACT))
    # (the oracle also reads the link text as prose, so each link shows up twice)
    assert set(markdown_hrefs(escaped)) == {GOOD, "https://github.com/lab/repo"}
    shown = lxml.html.fragment_fromstring(links.md().render(escaped), create_parent="div").text_content()
    assert shown.strip() == text
