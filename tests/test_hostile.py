"""A hostile world (issue 13): upstream data, clients and LLM answers built to break things.

Each test scripts the loopback stubs (or calls a stage) with what an adversarial pass found,
and checks that the day still publishes valid documents, that nothing lands outside its
place, and that nobody pays twice.
"""
from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from lxml import etree

from service import listing, metadata
from service.errors import UpstreamError
from service.documents import PAPER_FORMATS
from service.export_site import export_site
from service.models import AnnounceType, Day, Entry, EntryStatus, PaperMeta, TextSource
from service.untrusted import arxiv_id, clean_text

from .stubs import FIXTURES

LISTING = (FIXTURES / "arxiv/listing-cs.CV-2026-01-28.xml").read_bytes()
TODAY = dt.date(2026, 1, 28)
DUWAT = "2601.19898v1"


def strict_xml(data: bytes):
    return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))


# --- 2: one control character in one abstract ----------------------------------------------
def test_a_control_character_in_api_title_and_abstract_publishes_valid_feeds(digest, client, arxiv_stub):
    arxiv_stub.api_patches += [(b"<title>DuwatBench:", b"<title>Duwat&#x1;Bench&#xFFFE;:"),
                               (b"<summary>Arabic calligraphy", b"<summary>Arabic&#x1B; calli&#x7;graphy")]
    result = digest.refresh("cs-cv")
    assert result.outcome == "published", result.message
    paper = digest.store.get_paper(DUWAT)
    assert paper.title.startswith("DuwatBench:") and paper.abstract.startswith("Arabic calligraphy")
    for path in ("/feeds/cs-cv.atom", "/feeds/cs-cv.rss", "/feeds/cs-cv/2026-01-28.atom"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        strict_xml(resp.data)  # well-formed XML 1.0, or this raises
        assert b"DuwatBench:" in resp.data
    assert client.get("/feeds/cs-cv/2026-01-28").status_code == 200


def test_a_control_character_in_the_listing_does_not_make_it_unreadable():
    body = LISTING.replace(b"<title>DuwatBench:", b"<title>Duwat&#1;Bench\x0b:", 1)
    parsed = listing.parse_listing(body, "stub", today=TODAY)
    assert len(parsed.items) == 10
    assert parsed.items[0].title.startswith("DuwatBench:")


def test_clean_text_keeps_text_and_drops_what_xml_cannot_carry():
    assert clean_text("e\u0301 \t\nok\x00\x01\x1f\x7f\x85\ufffe\ud800") == "\u00e9 \t\nok"


# --- 3: ids are arXiv ids, paths stay in their directory ----------------------------------
@pytest.mark.parametrize("value,expected", [
    ("2601.19898", ("2601.19898", None)), ("2601.19898v12", ("2601.19898", 12)), ("0704.0001", ("0704.0001", None)),
    ("hep-th/9901001v1", ("hep-th/9901001", 1)), ("math.AG/0101001", ("math.AG/0101001", None)),
    ("../../home/u/.profile", None), ("2601.19898/../../x", None), ("hep-th/../../x", None), ("2601.19898v0", None),
    ("2601.1989", None), ("1412.1234", ("1412.1234", None)), ("1412.12345", None), ("2613.12345", None), ("", None), ("2601.19898 ", None), ("HEP-TH/9901001", None), ("2601.19898\n", None),
])
def test_arxiv_id_grammar(value, expected):
    assert arxiv_id(value) == expected


def test_a_listing_item_whose_guid_is_not_an_arxiv_id_is_left_out(caplog):
    body = LISTING.replace(b"oai:arXiv.org:2601.19898v1", b"oai:arXiv.org:../../../../home/u/.profilev1", 1)
    body = body.replace(b"oai:arXiv.org:2601.19887v1", b"oai:arXiv.org:2601.19887v0", 1)
    with caplog.at_level(logging.WARNING):
        parsed = listing.parse_listing(body, "stub", today=TODAY)
    assert [i.arxiv_id for i in parsed.items if "profile" in i.arxiv_id or i.version == 0] == []
    assert len(parsed.items) == 8
    assert "is not an arXiv id" in caplog.text


def test_an_api_entry_whose_id_is_not_an_arxiv_id_is_dropped(digest, arxiv_stub):
    """Asked for a real id, the API answers an entry whose id is a path: it never becomes a paper."""
    arxiv_stub.api_patches.append((b"<id>http://arxiv.org/abs/2601.19898v1</id>",
                                   b"<id>http://arxiv.org/abs/2601.19898/../../../../tmp/x/.profilev1</id>"))
    found = metadata.fetch_metadata(digest.refresher.arxiv.client, ["2601.19898v1", "2601.19887v1"])
    assert list(found) == ["2601.19887v1"]


def _paper(arxiv_id: str) -> PaperMeta:
    at = dt.datetime(2026, 1, 27, tzinfo=dt.timezone.utc)
    return PaperMeta(arxiv_id=arxiv_id, version=1, title="T", authors=("A",), abstract="An abstract.",
                     categories=("cs.CV",), published=at, updated=at)


def test_export_site_writes_nothing_outside_its_directory(digest, tmp_path):
    """A stored day with an id that is a path (from before ids were checked) cannot steer a write."""
    at = dt.datetime(2026, 1, 28, tzinfo=dt.timezone.utc)
    entries = tuple(Entry(paper=_paper(i), announce_type=AnnounceType.NEW, status=EntryStatus.DISABLED,
                          source=TextSource.ABSTRACT, analysis=None, findings=(), updated=at)
                    for i in ("2601.00001", "../../../../../outside/x", "2601.00002/../../../../../outside/y"))
    day = Day(feed="cs-cv", date=at.date(), entries=entries, summary=None, summary_status=EntryStatus.DISABLED,
              published=at, updated=at)
    digest.store.publish(day, {})
    box = tmp_path / "box"
    out = box / "a" / "b" / "site"
    export = export_site(digest, out, "https://digest.test")
    written = [p for p in box.rglob("*") if p.is_file() and out not in p.parents]
    assert written == [] and not (box / "outside").exists()
    assert (out / "api/v1/papers/2601.00001.json").is_file()
    manifest = json.loads((out / "etags.json").read_text())
    assert all(".." not in f["file"] for f in manifest.values())
    # each bad id in every per-paper format (API, page, citations), and nothing else
    assert len(export.skipped) == 2 * len(PAPER_FORMATS) and all("/outside/" in u for u in export.skipped)


# --- 9: a listing that repeats an id ----------------------------------------------------------
def _repeat_first_item(body: bytes, times: int) -> bytes:
    start = body.index(b"<item>")
    item = body[start:body.index(b"</item>") + len(b"</item>")]
    return body[:start] + item * times + body[start + len(item):]


def test_a_repeated_listing_item_is_paid_once_and_pushes_no_paper_out(digest, arxiv_stub, llm_stub):
    arxiv_stub.listing = _repeat_first_item(arxiv_stub.listing, 3)
    result = digest.refresh("cs-cv")
    assert result.outcome == "published", result.message
    ids = [p.versioned_id for p in result.papers]
    assert len(ids) == len(set(ids)) == 10  # max_papers is 10: all ten real papers, each once
    assert len(llm_stub.calls_for(DUWAT)) == 1
    day = digest.store.get_day("cs-cv", TODAY)
    assert [e.paper.versioned_id for e in day.entries].count(DUWAT) == 1


def test_parse_listing_counts_a_repeated_id_once():
    parsed = listing.parse_listing(_repeat_first_item(LISTING, 2), "stub", today=TODAY)
    assert len(parsed.items) == 10 and len({i.arxiv_id for i in parsed.items}) == 10


# --- 13: a listing dated in 2100 or in the far past ------------------------------------------
@pytest.mark.parametrize("stamp", [b"Fri, 01 Jan 2100 00:00:00 -0500", b"Thu, 01 Jan 1970 00:00:00 -0500"])
def test_a_listing_dated_far_from_now_is_refused(digest, arxiv_stub, stamp):
    arxiv_stub.listing = arxiv_stub.listing.replace(b"Wed, 28 Jan 2026 00:00:00 -0500", stamp)
    result = digest.refresh("cs-cv")
    assert result.outcome == "failed" and "outside the plausible window" in result.message, result.message
    assert digest.store.day_dates("cs-cv") == []


def test_the_listing_date_window_is_around_today():
    body = LISTING
    assert listing.parse_listing(body, "stub", today=TODAY).announced == TODAY
    assert listing.parse_listing(body, "stub", today=TODAY - dt.timedelta(days=1)).announced == TODAY
    with pytest.raises(UpstreamError, match="outside the plausible window"):
        listing.parse_listing(body, "stub", today=TODAY - dt.timedelta(days=3))


# --- 5, 16: hostile full text ------------------------------------------------------------------
HTML_PAPER, PDF_PAPER = "2601.19887v1", "2601.19884v1"
CAPTCHA = b"<!doctype html><html><body><h1>Are you a robot?</h1><form>...</form></body></html>"


def bomb_pdf(size: int = 80_000_000) -> bytes:
    """A 78 kB PDF whose page tree sits in an object stream that inflates to 80 MB
    (past pypdf's limit, so it raises LimitReachedError, not PdfReadError)."""
    import struct
    import zlib

    data = zlib.compress(b"2 0 " + b" " * 10 + b"<< /Type /Pages /Kids [] /Count 0 >>" + b" " * size, 9)
    out = b"%PDF-1.5\n"
    o1 = len(out)
    out += b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    o5 = len(out)
    out += (b"5 0 obj << /Type /ObjStm /N 1 /First 14 /Filter /FlateDecode /Length " + str(len(data)).encode()
            + b" >>\nstream\n" + data + b"\nendstream\nendobj\n")
    o6 = len(out)
    rows = [(0, 0, 65535), (1, o1, 0), (2, 5, 0), (0, 0, 0), (0, 0, 0), (1, o5, 0), (1, o6, 0)]
    xref = b"".join(struct.pack(">BIH", *r) for r in rows)
    out += (b"6 0 obj << /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length " + str(len(xref)).encode()
            + b" >>\nstream\n" + xref + b"\nendstream\nendobj\n")
    return out + b"startxref\n" + str(o6).encode() + b"\n%%EOF\n"


def _full_text(digest, versioned_id: str):
    from service.fulltext import fetch_full_text

    paper = digest.store.get_paper(versioned_id) or metadata.fetch_metadata(digest.refresher.arxiv.client, [versioned_id])[versioned_id]
    s = digest.settings
    return fetch_full_text(digest.refresher.arxiv.session, paper, s.arxiv_html_url, s.arxiv_pdf_url)


def test_a_pdf_decompression_bomb_falls_back_to_the_abstract(digest, arxiv_stub):
    arxiv_stub.pdf[PDF_PAPER] = bomb_pdf()
    text, final = _full_text(digest, PDF_PAPER)
    assert text.source is TextSource.ABSTRACT and final  # a PDF pypdf refuses is a verdict on it
    result = digest.refresh("cs-cv")
    assert result.outcome == "published", result.message
    entry = next(e for e in digest.store.get_day("cs-cv", TODAY).entries if e.paper.versioned_id == PDF_PAPER)
    assert entry.status is EntryStatus.ANALYSED and entry.source is TextSource.ABSTRACT


def test_a_pdf_larger_than_the_download_cap_is_not_read(digest, arxiv_stub, caplog):
    arxiv_stub.pdf[PDF_PAPER] = b"%PDF-1.5\n" + b"0" * 60_000_000  # past the 50 MB cap
    with caplog.at_level(logging.INFO):
        text, final = _full_text(digest, PDF_PAPER)
    assert text.source is TextSource.ABSTRACT
    assert "more than the" in caplog.text


@pytest.mark.parametrize("where", ["html", "pdf"])
def test_a_captcha_page_is_not_a_final_no_full_text_verdict(digest, arxiv_stub, where):
    """A captcha (or any page that is not the paper) served with 200 as the HTML or as the PDF
    is transient: nothing is cached, and the next refresh gets the real text."""
    paper = HTML_PAPER if where == "html" else PDF_PAPER
    real = getattr(arxiv_stub, where)[paper]
    getattr(arxiv_stub, where)[paper] = CAPTCHA
    text, final = _full_text(digest, paper)
    assert text.source is TextSource.ABSTRACT and not final
    digest.refresh("cs-cv")
    assert digest.store.get_full_text(paper) is None
    getattr(arxiv_stub, where)[paper] = real
    digest.refresh("cs-cv", force=True)
    assert digest.store.get_full_text(paper).source is TextSource(where)


# --- 6: query integers that are digits to str.isdigit() but not to int() ------------------------
@pytest.mark.parametrize("query", ["page=²", "per_page=¹", "page=①", "page=١", "per_page=𝟗", "page=1" + "0" * 400,
                                   "page=+1", "page= 1", "page=0x1"])
def test_a_page_parameter_that_is_not_ascii_digits_is_a_400(client, query):
    resp = client.get(f"/api/v1/feeds/cs-cv/days?{query}")
    assert resp.status_code == 400, resp.data
    assert resp.get_json()["error"]["code"]


# --- 12: tool input of the wrong types -------------------------------------------------------
@pytest.mark.parametrize("behaviour", ["null_claim", "object_claim", "number_evidence"])
def test_tool_input_with_wrong_types_is_rejected_by_its_schema(digest, client, llm_stub, behaviour):
    llm_stub.script[DUWAT] = [behaviour, behaviour]
    result = digest.refresh("cs-cv")
    outcome = next(p for p in result.papers if p.versioned_id == DUWAT)
    assert outcome.status is EntryStatus.PENDING and outcome.llm_calls == 2
    assert any(str(r).startswith("schema: findings/0/") for r in outcome.reasons), outcome.reasons
    entry = next(e for e in digest.store.get_day("cs-cv", TODAY).entries if e.paper.versioned_id == DUWAT)
    assert entry.analysis is None
    assert all(f.claim not in ("None", "{'text': 'a claim'}") for f in entry.findings)
    # the other papers' good answers are published as usual
    assert sum(p.status is EntryStatus.ANALYSED for p in result.papers) == 9


def test_schema_errors_name_the_place_and_pass_a_good_input():
    from service.llm import schema_errors

    schema = {"type": "object", "required": ["findings"], "properties": {"findings": {"type": "array", "items": {
        "type": "object", "required": ["claim"], "properties": {"claim": {"type": "string"}}}}}}
    assert schema_errors({"findings": [{"claim": "x"}]}, schema) == ()
    assert schema_errors({"findings": [{"claim": None}]}, schema) == ("findings/0/claim: None is not of type 'string'",)
    assert schema_errors(None, schema) == ()


# --- 10 (the boundary part): a 600 kB abstract ---------------------------------------------------
def test_a_huge_abstract_is_clipped_where_it_enters(digest, arxiv_stub, llm_stub):
    """arXiv caps abstracts at 1,920 characters; 600 kB is an attack on the LLM budget."""
    arxiv_stub.api_patches.append((b"<summary>Arabic calligraphy", b"<summary>" + b"Arabic calligraphy " * 32_000))
    result = digest.refresh("cs-cv")
    assert result.outcome == "published", result.message
    paper = digest.store.get_paper(DUWAT)
    assert 9_000 < len(paper.abstract) <= 10_000 and paper.abstract.endswith(" […]")
    sent = [len(json.dumps(c["request"])) for c in llm_stub.calls_for(DUWAT) + llm_stub.calls_for("summary")]
    assert sent and max(sent) < 60_000, sent


# --- found while looking: control characters from the LLM -------------------------------------
def test_control_characters_in_the_llm_answer_do_not_break_the_feeds(digest, client, llm_stub):
    """JSON can carry U+0001; XML 1.0 cannot. An answer with them is cleaned where it enters."""
    llm_stub.script[DUWAT] = ["control_chars"]
    llm_stub.script["summary"] = ["control_chars"]
    result = digest.refresh("cs-cv")
    assert result.outcome == "published", result.message
    outcome = next(p for p in result.papers if p.versioned_id == DUWAT)
    assert outcome.status is EntryStatus.ANALYSED, outcome.reasons
    for path in ("/feeds/cs-cv.atom", "/feeds/cs-cv.rss", "/feeds/cs-cv/2026-01-28.atom"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        strict_xml(resp.data)
    for path in ("/feeds/cs-cv.json", "/api/v1/feeds/cs-cv/days/2026-01-28", "/feeds/cs-cv/2026-01-28.md",
                 "/feeds/cs-cv/2026-01-28"):
        resp = client.get(path)
        assert resp.status_code == 200 and b"\\u0001" not in resp.data and b"\x01" not in resp.data, path


# --- found while looking: listing dates that overflow, listings that never end -----------------
def test_a_listing_date_that_overflows_is_a_clear_upstream_error():
    body = LISTING.replace(b"Wed, 28 Jan 2026 00:00:00 -0500", b"Wed, 28 Jan 99999999999 00:00:00 -0500")
    with pytest.raises(UpstreamError, match="not an RFC 822 date"):
        listing.parse_listing(body, "stub")


def test_a_listing_larger_than_any_real_one_is_refused_unread(digest, arxiv_stub):
    """A well-formed listing padded to 40 MB: refused with a clear error, not held in memory."""
    arxiv_stub.listing = arxiv_stub.listing.replace(b"<channel>", b"<channel>" + b"<x/>" * 10_000_000, 1)
    result = digest.refresh("cs-cv")
    assert result.outcome == "failed" and "larger than" in result.message, result.message
    assert digest.store.day_dates("cs-cv") == []


# --- found while looking: a LaTeXML page of 20,000 appendices ------------------------------------
def test_an_html_page_of_thousands_of_sections_is_read_only_in_part():
    """Trimming to the budget is quadratic in the number of sections: a 2 MB page of 20,000
    appendices took minutes. Papers have tens of sections; reading stops at a few hundred."""
    from service import fulltext

    page = ("<html><body><article class='ltx_document'>" + "".join(
        f"<section class='ltx_appendix'><h2>Appendix {i}</h2><p>Some words of appendix {i}.</p></section>"
        for i in range(5_000)) + "</article></body></html>").encode()
    sections = fulltext.html_to_sections(page)
    assert 100 <= len(sections) <= 300
    assert sections[0].title == "Appendix 0"


# --- found while looking: the link in a finding's claim ---------------------------------------
def test_a_foreign_link_in_a_finding_claim_is_rejected(digest, client, llm_stub):
    """Claims are published as text in every format (JSON Feed and the API hand them to
    clients that may linkify them), so the gate judges their links like the sections'."""
    llm_stub.script[DUWAT] = ["injected_claim", "injected_claim"]
    result = digest.refresh("cs-cv")
    outcome = next(p for p in result.papers if p.versioned_id == DUWAT)
    assert outcome.status is EntryStatus.PENDING, outcome.reasons
    assert any(r.code == "foreign_link" for r in outcome.reasons), outcome.reasons
    for path in ("/feeds/cs-cv.json", "/api/v1/feeds/cs-cv/days/2026-01-28", "/feeds/cs-cv/2026-01-28.md"):
        assert b"evil.example" not in client.get(path).data, path


# --- found while looking: metadata cached before it was cleaned --------------------------------
def test_a_day_stored_with_a_control_character_still_renders_in_every_format(digest, client):
    """A store written before text was cleaned on entry (or by any other path) holds U+0001:
    the renderers scrub what they publish, so the feeds answer 200 with valid XML."""
    at = dt.datetime(2026, 1, 28, tzinfo=dt.timezone.utc)
    poisoned = PaperMeta(arxiv_id="2601.00001", version=1, title="Poisoned\x01 title", authors=("Eve\x0b",),
                         abstract="An abstract\x1b[31m with a control character.", categories=("cs.CV",),
                         published=at, updated=at)
    entry = Entry(paper=poisoned, announce_type=AnnounceType.NEW, status=EntryStatus.DISABLED,
                  source=TextSource.ABSTRACT, analysis=None, findings=(), updated=at)
    digest.store.publish(Day(feed="cs-cv", date=at.date(), entries=(entry,), summary=None,
                             summary_status=EntryStatus.DISABLED, published=at, updated=at), {})
    for path in ("/feeds/cs-cv.atom", "/feeds/cs-cv.rss", "/feeds/cs-cv/2026-01-28.atom"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert b"Poisoned title" in resp.data and strict_xml(resp.data) is not None
    for path in ("/feeds/cs-cv.json", "/feeds/cs-cv/2026-01-28", "/feeds/cs-cv/2026-01-28.md",
                 "/api/v1/feeds/cs-cv/days/2026-01-28", "/api/v1/papers/2601.00001"):
        resp = client.get(path)
        assert resp.status_code == 200 and b"\\u0001" not in resp.data and b"\x01" not in resp.data, path


def test_a_full_text_that_stays_unrecognisable_is_given_up_after_three_refreshes(digest, arxiv_stub):
    """A transient verdict is not cached, but a captcha that never goes away must not cost a
    fetch on every refresh forever: after three refreshes the abstract fallback is kept."""
    arxiv_stub.html[HTML_PAPER] = CAPTCHA
    for n in range(1, 4):
        digest.refresh("cs-cv", force=True)
        cached = digest.store.get_full_text(HTML_PAPER)
        assert (cached is None) if n < 3 else (cached.source is TextSource.ABSTRACT), n
