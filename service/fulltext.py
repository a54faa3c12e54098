"""Full text of a paper: arXiv's LaTeXML HTML, else the PDF, else the abstract.

The text is cleaned of boilerplate and references and trimmed to a token budget that
keeps the method and the experiments, since those are what the analysis is about.
"""
from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

import requests
from lxml import etree, html
from pypdf import PdfReader

from .http import TooLarge, get_limited
from .models import FullText, PaperMeta, TextSource
from .untrusted import clean_text

log = logging.getLogger(__name__)

#: Rough budget for the paper text in one prompt (≈ 4 characters per English token).
TOKEN_BUDGET = 20_000
CHARS_PER_TOKEN = 4
#: Shorter than this and the "full text" is not worth calling one.
MIN_FULL_TEXT_CHARS = 2_000
#: Download caps: a LaTeXML page or a paper's PDF is far below these; more is not a paper.
MAX_HTML_BYTES = 20_000_000
MAX_PDF_BYTES = 50_000_000
#: Extraction caps: pages read from a PDF, and characters gathered (several token budgets,
#: so trimming still has sections to choose from) before reading stops.
MAX_PDF_PAGES = 300
#: Sections kept from one HTML page (papers have tens); trimming is quadratic in their number.
MAX_SECTIONS = 300
MAX_EXTRACT_CHARS = 8 * TOKEN_BUDGET * CHARS_PER_TOKEN

# Sections dropped outright, and those cut first when over budget.
_DROP = re.compile(r"^\s*(?:[\dA-Z.]+\s+)?(references|bibliography|acknowledge?ments?|"
                   r"funding|author contributions|checklist|broader impacts?)\b", re.I)
_CUT_MARK = " […]"
_CUT_FIRST = re.compile(r"(related work|background|appendix|supplementary|prior work)", re.I)
_DROP_CLASSES = ("ltx_bibliography", "ltx_page_footer", "ltx_page_header", "ltx_authors",
                 "ltx_dates", "ltx_role_affiliation", "ltx_note_outer", "ltx_role_footnote", "ltx_pagination",
                 "ltx_role_thanks", "package-alerts",
                 "ltx_ERROR", "ltx_rdf", "ltx_TOC")


@dataclass(frozen=True)
class Section:
    title: str
    text: str


class Unavailable(Exception):
    """This source has no usable text for the paper (404, corrupt, too short).

    `transient` when another try may do better: a timeout, a 5xx, or content we cannot
    recognise (a captcha or error page served with 200), which is no verdict on the paper."""

    def __init__(self, reason: str, transient: bool = False):
        super().__init__(reason)
        self.transient = transient


def _has_class(el, names: tuple[str, ...]) -> bool:
    classes = (el.get("class") or "").split()
    return any(c in classes for c in names)


def _clean_text(s: str) -> str:
    return re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\n\s*\n+", "\n\n", s)).strip()


def _element_text(el) -> str:
    """Text of an element with each <math> replaced by its TeX alt text."""
    for m in el.iter("{http://www.w3.org/1998/Math/MathML}math", "math"):
        alt = m.get("alttext")
        tail = m.tail
        m.clear()
        m.text = f" ${alt}$ " if alt else ""
        m.tail = tail
    parts = []
    for block in el.iter("p", "li", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "td", "div"):
        if block.tag == "div" and not _has_class(block, ("ltx_para",)):
            continue
        if block.tag in ("p", "figcaption", "li") or block.tag.startswith("h"):
            if any(anc.tag in ("p", "li", "figcaption") for anc in block.iterancestors()):
                continue
            parts.append(" ".join(clean_text(block.text_content()).split()))
    return "\n\n".join(p for p in parts if p)


def html_to_sections(body: bytes) -> list[Section]:
    """LaTeXML HTML → sections (title, text), without references and page boilerplate."""
    try:
        doc = html.fromstring(body)
    except (etree.ParserError, ValueError) as e:
        raise Unavailable(f"HTML not parseable: {e}", transient=True) from e
    article = next(iter(doc.xpath("//article[contains(@class,'ltx_document')]")), None)
    if article is None:
        article = next(iter(doc.xpath("//article")), None)
    if article is None:  # a captcha or error page answered with 200: try again later
        raise Unavailable("HTML has no <article> (not a LaTeXML paper page)", transient=True)
    for el in list(article.iter()):
        if isinstance(el.tag, str) and (_has_class(el, _DROP_CLASSES) or el.tag in ("script", "style", "nav", "footer", "header", "button")):
            parent = el.getparent()
            if parent is not None:
                parent.remove(el)
    sections: list[Section] = []
    abstract = next(iter(article.xpath(".//*[contains(@class,'ltx_abstract')]")), None)
    if abstract is not None:
        for h in abstract.xpath(".//*[contains(@class,'ltx_title')]"):
            h.getparent().remove(h)
        sections.append(Section("Abstract", _element_text(abstract)))
        abstract.getparent().remove(abstract)
    tops = article.xpath("./section|./div/section|./*[contains(@class,'ltx_section') or contains(@class,'ltx_appendix')]")
    seen = set()
    for sec in tops:
        if len(sections) >= MAX_SECTIONS or sum(len(s.text) for s in sections) > MAX_EXTRACT_CHARS:
            break
        if id(sec) in seen or sec.tag != "section":
            continue
        seen.add(id(sec))
        heading = next(iter(sec.xpath("./h2|./h3|./*[contains(@class,'ltx_title')]")), None)
        title = " ".join(clean_text(heading.text_content()).split()) if heading is not None else ""
        if heading is not None:
            sec.remove(heading)
        if _has_class(sec, ("ltx_appendix",)) and not title.lower().startswith("appendix"):
            title = f"Appendix {title}".strip()
        sections.append(Section(title, _element_text(sec)))
    return [s for s in sections if s.text and not _DROP.match(s.title)]


_REFERENCES_LINE = re.compile(r"^\s*(?:\d+\.?\s*)?(references|bibliography)\s*$", re.I | re.M)


def pdf_to_sections(body: bytes) -> list[Section]:
    """PDF text (pypdf) as one section, cut at the references heading.

    What is not a PDF at all (an HTML page served as the PDF) is transient; a PDF pypdf
    cannot read, whatever it raises (a decompression bomb hits its LimitReachedError), is
    not. Reading stops after MAX_PDF_PAGES pages or MAX_EXTRACT_CHARS characters."""
    if b"%PDF-" not in body[:1024]:
        raise Unavailable(f"not a PDF (starts with {body[:40]!r}: an error or captcha page?)", transient=True)
    pages: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(body))
        for n, page in enumerate(reader.pages):
            if n >= MAX_PDF_PAGES or sum(map(len, pages)) > MAX_EXTRACT_CHARS:
                break
            pages.append(page.extract_text() or "")
    except Exception as e:  # noqa: BLE001 - any failure of the parser on untrusted bytes
        raise Unavailable(f"PDF not readable: {type(e).__name__}: {e}") from e
    text = clean_text("\n".join(pages))
    m = _REFERENCES_LINE.search(text)
    if m:
        text = text[:m.start()]
    text = re.sub(r"-\n(?=[a-z])", "", text)  # re-join words hyphenated at line ends
    return [Section("", _clean_text(text))]


def trim_to_budget(sections: list[Section], budget_chars: int) -> tuple[str, bool]:
    """Join sections; over budget, cut related work/appendix first, then shorten the longest."""
    def total(secs):
        return sum(len(s.title) + len(s.text) + 2 for s in secs)

    secs = list(sections)
    trimmed = False
    while total(secs) > budget_chars and any(_CUT_FIRST.search(s.title) for s in secs):
        victim = max((s for s in secs if _CUT_FIRST.search(s.title)), key=lambda s: len(s.text))
        secs.remove(victim)
        trimmed = True
    while total(secs) > budget_chars:
        longest = max(range(len(secs)), key=lambda i: len(secs[i].text))
        s = secs[longest]
        # cut the excess plus room for the marker, at a word boundary; at most half at a time
        keep = max(len(s.text) - (total(secs) - budget_chars) - len(_CUT_MARK) - 1, len(s.text) // 2)
        cut = s.text[:keep].rsplit(" ", 1)[0] + _CUT_MARK
        if len(cut) >= len(s.text):  # nothing left worth cutting
            break
        secs[longest] = Section(s.title, cut)
        trimmed = True
    text = "\n\n".join(f"## {s.title}\n{s.text}" if s.title else s.text for s in secs)
    return text, trimmed


def _get(session: requests.Session, url: str, kind: str, limit: int) -> bytes:
    """The body, read in chunks and given up past `limit` bytes (declared or not)."""
    try:
        status, body = get_limited(session, url, limit)
    except TooLarge as e:
        raise Unavailable(f"{kind}: {e}") from e
    except requests.RequestException as e:
        raise Unavailable(f"{kind} request failed: {e}", transient=True) from e
    if status in (404, 410):
        raise Unavailable(f"{kind} not available (HTTP {status})")
    if status != 200:
        raise Unavailable(f"{kind} answered HTTP {status}", transient=True)
    return body


def fetch_full_text(session: requests.Session, paper: PaperMeta, html_base: str, pdf_base: str,
                    budget_tokens: int = TOKEN_BUDGET) -> tuple[FullText, bool]:
    """Best available text and whether the outcome is final (safe to cache).

    A transient failure (timeout, 5xx) falls back like a definitive one, but is not final:
    the next refresh tries the better source again.
    """
    final = True
    attempts = (
        (TextSource.HTML, f"{html_base}{paper.versioned_id}", html_to_sections, MAX_HTML_BYTES),
        (TextSource.PDF, f"{pdf_base}{paper.versioned_id}", pdf_to_sections, MAX_PDF_BYTES),
    )
    for source, url, extract, limit in attempts:
        try:
            sections = extract(_get(session, url, source.value, limit))
            text, trimmed = trim_to_budget(sections, budget_tokens * CHARS_PER_TOKEN)
            if len(text) < MIN_FULL_TEXT_CHARS:
                raise Unavailable(f"{source.value} text too short ({len(text)} characters)")
            return FullText(source, text, trimmed), final
        except Unavailable as e:
            log.info("%s: %s; falling back", paper.versioned_id, e)
            final = final and not e.transient
    return FullText(TextSource.ABSTRACT, paper.abstract), final
