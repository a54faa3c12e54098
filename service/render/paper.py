"""The page of one paper: everything we published about it, and its citation for the Zotero Connector.

For the Connector it is one **preprint**: Highwire `citation_*` tags (what Zotero's
Embedded Metadata translator reads: title, each author, dates, abstract, PDF, DOI, arXiv
id) plus `DC.type=preprint`, which its RDF step turns into the item type (no
`citation_technical_report_*`, which would make it a report). schema.org JSON-LD
(`ScholarlyArticle`) is for search engines. The page carries no COinS: the Connector's
COinS translator outranks Embedded Metadata (priority 310 < 320) and would save the item
without its PDF and abstract; COinS are on the day page, where they offer a selection.
"""
from __future__ import annotations

import json

from markupsafe import Markup

from ..config import arxiv_categories
from ..models import Day, Entry, FeedSpec, PaperMeta
from ..urls import Urls
from .citations import doi_of, one_line
from .entry import entry_html, labels
from .html import _env, alternates


def highwire_tags(p: PaperMeta) -> list[tuple[str, str]]:
    """One preprint: citation_date is the first submission, citation_online_date this version."""
    tags = [("citation_title", one_line(p.title))] + [("citation_author", one_line(a)) for a in p.authors]
    tags += [("citation_date", p.published.strftime("%Y/%m/%d")),
             ("citation_online_date", p.updated.strftime("%Y/%m/%d")),
             ("citation_abstract", one_line(p.abstract)), ("citation_pdf_url", p.pdf_url),
             ("citation_abstract_html_url", p.versioned_abs_url), ("citation_arxiv_id", p.versioned_id),
             ("citation_doi", doi_of(p)), ("citation_publisher", "arXiv"), ("citation_language", "en"),
             ("DC.type", "preprint")]
    return tags + [("citation_keywords", c) for c in p.categories]


def json_ld(p: PaperMeta, page_url: str) -> Markup:
    """schema.org ScholarlyArticle; `<` escaped so no text can close the script element."""
    doc = {"@context": "https://schema.org", "@type": "ScholarlyArticle", "@id": page_url, "url": page_url,
           "headline": one_line(p.title)[:110], "name": one_line(p.title),
           "author": [{"@type": "Person", "name": one_line(a)} for a in p.authors],
           "datePublished": p.published.date().isoformat(), "dateModified": p.updated.date().isoformat(),
           "abstract": one_line(p.abstract), "inLanguage": "en", "keywords": list(p.categories),
           "identifier": [{"@type": "PropertyValue", "propertyID": "DOI", "value": doi_of(p)},
                          {"@type": "PropertyValue", "propertyID": "arXiv", "value": p.versioned_id}],
           "sameAs": [p.abs_url, f"https://doi.org/{doi_of(p)}"],
           "encoding": {"@type": "MediaObject", "contentUrl": p.pdf_url, "encodingFormat": "application/pdf"},
           "publisher": {"@type": "Organization", "name": "arXiv", "url": "https://arxiv.org/"}}
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def render_paper_page(appearances: list[tuple[FeedSpec, Day, Entry]], base: str) -> bytes:
    """The newest appearance's paper and analysis, then every feed and day it appeared in."""
    spec, day, entry = appearances[0]
    p = entry.paper
    urls = Urls(base)
    cats = arxiv_categories()
    links = [("arXiv", p.versioned_abs_url), ("PDF", p.pdf_url), ("HTML", f"https://arxiv.org/html/{p.versioned_id}"),
             ("DOI", f"https://doi.org/{doi_of(p)}")]
    citations = [("BibTeX", urls.paper(p.arxiv_id, "bib")), ("RIS", urls.paper(p.arxiv_id, "ris")),
                 ("CSL-JSON", urls.paper(p.arxiv_id, "csl")), ("API", urls.api_paper(p.arxiv_id))]
    seen = [{"spec": s, "date": d.date, "url": urls.day(s.name, d.date) + f"#{e.paper.versioned_id}",
             "version": e.paper.versioned_id} for s, d, e in appearances]
    page_url = urls.paper(p.arxiv_id)
    return _env().get_template("paper.html").render(
        p=p, entry=entry, spec=spec, lab=labels(spec.language), urls=urls, page_url=page_url,
        body=Markup(entry_html(entry, spec.language)), analysis=entry.analysis,
        categories=[(c, cats.get(c, c)) for c in p.categories], links=alternates(spec, base), paper_links=links,
        citations=citations, seen=seen, versions=[(f"v{n}", f"https://arxiv.org/abs/{p.arxiv_id}v{n}")
                                                  for n in range(1, p.version + 1)],
        tags=highwire_tags(p), json_ld=json_ld(p, page_url), doi=doi_of(p),
    ).encode()
