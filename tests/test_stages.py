"""Each stage on its own, on real wire formats."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from service.errors import UpstreamError
from service.fulltext import Section, html_to_sections, pdf_to_sections, trim_to_budget
from service.listing import parse_listing
from service.models import AnnounceType, FeedSpec, ListingItem
from service.select import select

from .pdfs import make_pdf
from .stubs import FIXTURES

LISTING = (FIXTURES / "arxiv/listing-cs.CV-2026-01-28.xml").read_bytes()


def spec(**kw) -> FeedSpec:
    return FeedSpec(name="t", path=Path("t.toml"), title="T", categories=("cs.CV",), **kw)


def test_listing_gives_the_announcement_date_and_typed_items():
    listing = parse_listing(LISTING, "u", today=date(2026, 1, 28))
    assert listing.announced == date(2026, 1, 28)
    assert len(listing.items) == 10
    first = listing.items[0]
    assert (first.arxiv_id, first.version, first.announce_type) == ("2601.19898", 1, AnnounceType.NEW)
    assert first.abstract.startswith("Arabic calligraphy represents")
    assert "Announce Type" not in first.abstract
    assert first.authors[:2] == ("Shubham Patle", "Sara Ghaboura")
    cross = next(i for i in listing.items if i.arxiv_id == "2601.19750")
    assert cross.announce_type is AnnounceType.CROSS


def test_empty_listing_has_no_items():
    listing = parse_listing((FIXTURES / "arxiv/listing-cs.CV-empty.xml").read_bytes(), "u", today=date(2026, 1, 31))
    assert listing.items == () and listing.announced == date(2026, 1, 31)


@pytest.mark.parametrize("body, problem", [
    (b"<rss><channel>", "not well-formed"),
    (b"<feed/>", "expected an RSS document"),
    (b"<rss><channel><pubDate>yesterday</pubDate></channel></rss>", "not an RFC 822 date"),
    (LISTING.replace(b"<arxiv:announce_type>new", b"<arxiv:announce_type>weird", 1), "unknown announce type 'weird'"),
])
def test_malformed_listing_is_a_clear_upstream_error(body, problem):
    with pytest.raises(UpstreamError, match=problem):
        parse_listing(body, "http://127.0.0.1/rss/cs.CV", today=date(2026, 1, 28))


def _item(n, title, kind=AnnounceType.NEW, abstract="An abstract."):
    return ListingItem(f"2601.0000{n}", 1, kind, title, abstract, ("A",), ("cs.CV",))


def test_select_honours_types_keywords_exclusions_and_cap():
    items = (
        _item(1, "Plain detection"),
        _item(2, "Gaussian splatting for scenes"),
        _item(3, "Cross-listed robotics", AnnounceType.CROSS),
        _item(4, "A replacement", AnnounceType.REPLACE),
        _item(5, "Medical segmentation", abstract="Uses gaussian splatting too."),
        _item(6, "Survey of everything"),
    )
    chosen = select(spec(keywords=("gaussian splatting",), exclude_keywords=("survey",), max_papers=0), items)
    assert [i.arxiv_id[-1] for i in chosen] == ["2", "5", "1", "3"]
    assert [i.arxiv_id[-1] for i in select(spec(include_cross_lists=False, max_papers=2), items)] == ["1", "2"]


def test_html_extraction_keeps_the_paper_and_drops_chrome_and_references():
    sections = html_to_sections((FIXTURES / "html/2601.19887v1.html").read_bytes())
    titles = [s.title for s in sections]
    assert titles[0] == "Abstract"
    assert any("Method" in t for t in titles) and any("Experiments" in t for t in titles)
    text = "\n".join(s.text for s in sections)
    assert "23 percent less pose error" in text
    assert "\\mathrm{SL}(4)" in text  # math as its TeX alt text
    for chrome in ("Teed and Deng. DROID-SLAM", "Report Issue", "failed: tcolorbox", "by LaTeXML"):
        assert chrome not in text
    assert not any(t.lower().startswith(("references", "acknowledg")) for t in titles)


def test_pdf_extraction_cuts_references():
    pdf = make_pdf("A Paper", [("1 Method", "Our method does the thing well. " * 20)],
                   ["[1] Distinctive Reference Title, 2020."])
    [section] = pdf_to_sections(pdf)
    assert "Our method does the thing well." in section.text
    assert "Distinctive Reference Title" not in section.text


def test_trimming_cuts_related_work_first_then_shortens_but_keeps_method():
    sections = [Section("Abstract", "a " * 100), Section("2 Related Work", "r " * 3000),
                Section("3 Method", "m " * 2000), Section("4 Experiments", "e " * 2000)]
    text, trimmed = trim_to_budget(sections, 6000)
    assert trimmed and "Related Work" not in text
    assert "## 3 Method" in text and "## 4 Experiments" in text
    assert len(text) <= 6000 + 100
    untouched, trimmed = trim_to_budget(sections[:1], 6000)
    assert not trimmed and untouched == "## Abstract\n" + sections[0].text
