"""Citations of papers as BibTeX, RIS, CSL-JSON and COinS: what reference managers import.

Each format is one pure function from papers to bytes. The arXiv fields follow arXiv's
own BibTeX export (`eprint`, `archivePrefix`, `primaryClass`) and the DOI arXiv registers
for every paper. Titles, names and abstracts come from arXiv metadata, so every value is
made safe for its format here: one line in RIS (a newline could start a new tag), balanced
braces and escaped specials in BibTeX (one stray brace would break the whole file).
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlencode

from ..models import PaperMeta
from .api import dumps

BIBTEX_TYPE = "application/x-bibtex; charset=utf-8"
RIS_TYPE = "application/x-research-info-systems; charset=utf-8"
CSL_TYPE = "application/vnd.citationstyles.csl+json; charset=utf-8"


def doi_of(p: PaperMeta) -> str:
    """The paper's own DOI, else the DOI arXiv registers for every paper (DataCite)."""
    return p.doi or f"10.48550/arXiv.{p.arxiv_id}"


def one_line(text: str) -> str:
    return " ".join(text.split())


def split_name(name: str) -> tuple[str, str]:
    """(given, family) of an arXiv author name "Given Names Family" (arXiv gives no split)."""
    given, _, family = one_line(name).rpartition(" ")
    return given, family


# --- BibTeX ------------------------------------------------------------------------------

_BIB_SPECIAL = re.compile(r"(?<!\\)([&%#])")


def _balanced(text: str) -> bool:
    depth = 0
    for i, ch in enumerate(text):
        if ch in "{}" and i and text[i - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def bib_value(text: str) -> str:
    """A field value for `{...}`: arXiv's LaTeX kept when its braces balance, else braces
    escaped; `&`, `%` and `#` (never valid bare in LaTeX text) escaped."""
    text = _BIB_SPECIAL.sub(r"\\\1", one_line(text))
    if not _balanced(text):
        text = text.replace("\\{", "{").replace("\\}", "}").replace("{", "\\{").replace("}", "\\}")
    return text


def _ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())


def bib_key(p: PaperMeta) -> str:
    """family name + year + first title word (Google Scholar's habit), e.g. patle2026duwatbench."""
    family = _ascii_word(split_name(p.authors[0])[1]) if p.authors else ""
    word = next((w for w in map(_ascii_word, p.title.split()) if len(w) > 3), "")
    return f"{family or 'arxiv'}{p.published.year}{word}"


def bibtex_entry(p: PaperMeta, key: str) -> str:
    fields = [("title", "{" + bib_value(p.title) + "}"),
              ("author", " and ".join(bib_value(a) for a in p.authors)),
              ("year", str(p.published.year)),
              ("eprint", p.arxiv_id), ("archivePrefix", "arXiv"),
              ("primaryClass", p.categories[0] if p.categories else ""),
              ("doi", doi_of(p)), ("url", p.abs_url), ("abstract", bib_value(p.abstract))]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    month = p.published.strftime("%b").lower()  # BibTeX's month macro, unbraced
    return f"@misc{{{key},\n{body},\n  month = {month}\n}}\n"


def render_bibtex(papers: list[PaperMeta]) -> bytes:
    """@misc entries as arXiv exports them; keys made unique within the file (…a, …b)."""
    seen: dict[str, int] = {}
    out = []
    for p in papers:
        key = bib_key(p)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(bibtex_entry(p, key + ("" if n == 0 else chr(ord("a") + n - 1) if n <= 26 else str(n))))
    return "\n".join(out).encode()


# --- RIS ---------------------------------------------------------------------------------

def ris_entry(p: PaperMeta) -> str:
    """One RIS record; every value on one line. RIS has no preprint type: "UNPB" (unpublished
    work) is the nearest (EndNote's; Zotero reads unknown types as journal articles)."""
    lines = [("TY", "UNPB"), ("TI", p.title)] + [("AU", a) for a in p.authors]
    lines += [("PY", str(p.published.year)), ("DA", p.published.strftime("%Y/%m/%d")),
              ("AB", p.abstract), ("DO", doi_of(p)), ("UR", p.abs_url), ("L1", p.pdf_url),
              ("PB", "arXiv"), ("M1", f"arXiv:{p.arxiv_id}"), ("LA", "en")]
    lines += [("KW", c) for c in p.categories]
    if p.journal_ref:
        lines.append(("N1", f"Journal reference: {p.journal_ref}"))
    return "".join(f"{tag}  - {one_line(value)}\r\n" for tag, value in lines if one_line(value)) + "ER  - \r\n"


def render_ris(papers: list[PaperMeta]) -> bytes:
    return "\r\n".join(ris_entry(p) for p in papers).encode()


# --- CSL-JSON ----------------------------------------------------------------------------

def csl_item(p: PaperMeta) -> dict:
    """CSL "article" is the type for preprints (what Zotero exports a preprint as)."""
    def date(d):
        return {"date-parts": [[d.year, d.month, d.day]]}
    authors = []
    for name in p.authors:
        given, family = split_name(name)
        authors.append({"given": given, "family": family} if given else {"literal": family})
    item = {"id": f"arXiv:{p.arxiv_id}", "type": "article", "title": one_line(p.title), "author": authors,
            "issued": date(p.published), "abstract": one_line(p.abstract), "DOI": doi_of(p),
            "URL": p.abs_url, "publisher": "arXiv", "number": f"arXiv:{p.arxiv_id}", "genre": "Preprint",
            "language": "en", "keyword": ", ".join(p.categories)}
    if p.version > 1:
        item["version"] = str(p.version)
    return item


def render_csl(papers: list[PaperMeta]) -> bytes:
    return dumps([csl_item(p) for p in papers])


# --- COinS (OpenURL in a span.Z3988 title) --------------------------------------------------

def coins(p: PaperMeta) -> str:
    """An OpenURL ContextObject (COinS) of the paper, for a `span.Z3988` title: the DOI lets
    the Connector look the full record up; the abstract rides along as rft.description."""
    pairs = [("ctx_ver", "Z39.88-2004"), ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
             ("rft.genre", "preprint"), ("rft.atitle", one_line(p.title)), ("rft.jtitle", "arXiv"),
             ("rft.date", p.published.date().isoformat())]
    pairs += [("rft.au", one_line(a)) for a in p.authors]
    pairs += [("rft_id", f"info:doi/{doi_of(p)}"), ("rft_id", p.abs_url),
              ("rft.identifier", p.abs_url), ("rft.description", one_line(p.abstract)), ("rft.language", "en")]
    return urlencode(pairs, quote_via=quote)


#: format → (content type, render(papers)).
CITATION_FORMATS = {"bib": (BIBTEX_TYPE, render_bibtex), "ris": (RIS_TYPE, render_ris),
                    "csl": (CSL_TYPE, render_csl)}
