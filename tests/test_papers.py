"""The paper page and citations (issue 14), read back as the Zotero Connector and reference managers do.

`embedded_metadata_item` re-derives, in our own code, the rules of the Connector's
Embedded Metadata translator (zotero/translators, AGPL: facts, not code) that decide what
a page with Highwire tags becomes: the item type from `citation_journal_title` (journal
article), `citation_technical_report_institution` (report), `citation_conference_title`
(conference paper), … else from `DC.type` when it names a Zotero type; title, authors,
date, abstract, DOI, URL and the PDF attachment from the `citation_*` tags.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace

import lxml.html
from pybtex.database import parse_string

from service.render.citations import render_bibtex, render_ris

from .conftest import SEED_PAPERS

HW_TYPES = {"citation_journal_title": "journalArticle", "citation_technical_report_institution": "report",
            "citation_conference_title": "conferencePaper", "citation_conference": "conferencePaper",
            "citation_book_title": "bookSection", "citation_inbook_title": "bookSection",
            "citation_dissertation_institution": "thesis"}
ZOTERO_TYPES = {"preprint", "journalArticle", "report", "webpage", "book"}


def embedded_metadata_item(doc) -> dict:
    meta = [(m.get("name") or m.get("property"), m.get("content")) for m in doc.xpath("//meta")]
    meta = [(n, v) for n, v in meta if n and v]
    values = {}
    for name, value in meta:
        values.setdefault(name, value)
    hw_type = next((HW_TYPES[n] for n, _ in meta if n in HW_TYPES), None)
    dc_type = next((v for n, v in meta if n.lower() in ("dc.type", "dcterms.type") and v in ZOTERO_TYPES), None)
    item_type = hw_type or dc_type or ("journalArticle" if "citation_title" in values else "webpage")
    return {"itemType": item_type, "title": values.get("citation_title"),
            "creators": [v for n, v in meta if n == "citation_author"],
            "date": values.get("citation_date") or values.get("citation_publication_date"),
            "abstractNote": values.get("citation_abstract"), "DOI": values.get("citation_doi"),
            "url": values.get("citation_abstract_html_url"),
            "attachments": [{"url": v, "mimeType": "application/pdf"} for n, v in meta if n == "citation_pdf_url"][:1],
            "items_on_page": len(doc.xpath("//span[@class='Z3988']"))}


def test_paper_page_is_one_preprint_for_the_connector(digest, client):
    digest.refresh("cs-cv")
    for expected in SEED_PAPERS:
        vid = f"{expected['id']}v{expected['version']}"
        resp = client.get(f"/papers/{expected['id']}")
        assert resp.status_code == 200 and resp.content_type == "text/html; charset=utf-8"
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"] and resp.headers["ETag"]
        doc = lxml.html.fromstring(resp.data)
        item = embedded_metadata_item(doc)
        assert item == {"itemType": "preprint", "title": expected["title"], "creators": expected["authors"],
                        "date": expected["published"].replace("-", "/"),
                        "abstractNote": " ".join(expected["abstract"].split()),
                        "DOI": f"10.48550/arXiv.{expected['id']}", "url": f"https://arxiv.org/abs/{vid}",
                        "attachments": [{"url": f"https://arxiv.org/pdf/{vid}", "mimeType": "application/pdf"}],
                        "items_on_page": 0}  # no COinS: it would outrank Embedded Metadata
        assert not doc.xpath("//meta[starts-with(@name, 'citation_technical_report')]")
        assert doc.xpath("//meta[@name='citation_arxiv_id']/@content") == [vid]
        ld = json.loads(doc.xpath("//script[@type='application/ld+json']/text()")[0])
        assert ld["@type"] == "ScholarlyArticle" and [a["name"] for a in ld["author"]] == expected["authors"]
        assert ld["datePublished"] == expected["published"] and ld["encoding"]["contentUrl"].endswith(vid)
        text = doc.text_content()
        assert doc.xpath("//h1/text()") == [expected["title"]] and expected["abstract"].split()[0] in text
        assert "关键发现" in text and "cs.CV" in text
        # provenance of the analysis, and where the paper appeared
        entry = next(e for e in digest.day("cs-cv", dt.date(2026, 1, 28)).entries if e.paper.arxiv_id == expected["id"])
        if entry.analysis is not None:
            assert entry.analysis.model in text and entry.analysis.prompt_hash in text
        assert doc.xpath("//section[@id='appearances']//a/@href") == [f"http://localhost/feeds/cs-cv/2026-01-28#{vid}"]
        hrefs = set(doc.xpath("//a/@href"))
        assert {f"https://arxiv.org/pdf/{vid}", f"https://doi.org/10.48550/arXiv.{expected['id']}",
                f"http://localhost/papers/{expected['id']}.bib"} <= hrefs
        # the versioned URL is the same page
        assert client.get(f"/papers/{vid}").data == resp.data


def test_day_page_is_a_multiple_selection_for_the_connector(digest, client):
    digest.refresh("cs-cv")
    item = embedded_metadata_item(lxml.html.fromstring(client.get("/feeds/cs-cv/2026-01-28").data))
    assert item["itemType"] == "webpage" and item["creators"] == [] and item["items_on_page"] == len(SEED_PAPERS)


def test_paper_page_errors(digest, client):
    digest.refresh("cs-cv")
    assert client.get("/papers/2601.00001").status_code == 404
    assert client.get("/papers/not-an-id").get_json()["error"]["code"] == "bad_request"
    assert client.get("/papers/2601.00001.bib").status_code == 404


def test_bibtex_of_a_paper_and_a_day_parses_with_arxiv_fields(digest, client):
    digest.refresh("cs-cv")
    for expected in SEED_PAPERS:
        resp = client.get(f"/papers/{expected['id']}.bib")
        assert resp.status_code == 200 and resp.content_type.startswith("application/x-bibtex")
        (key, entry), = parse_string(resp.data.decode(), "bibtex").entries.items()
        assert entry.type == "misc" and entry.fields["eprint"] == expected["id"]
        assert entry.fields["archivePrefix"] == "arXiv" and entry.fields["primaryClass"] == expected["categories"][0]
        assert entry.fields["doi"] == f"10.48550/arXiv.{expected['id']}"
        assert entry.fields["year"] == expected["published"][:4]
        assert entry.fields["month"] == dt.date.fromisoformat(expected["published"]).strftime("%B")
        assert len(entry.persons["author"]) == len(expected["authors"])  # BibTeX's own name split
        assert f"author = {{{' and '.join(expected['authors'])}}}" in resp.data.decode()
    day = parse_string(client.get("/feeds/cs-cv/2026-01-28.bib").data.decode(), "bibtex")
    assert sorted(e.fields["eprint"] for e in day.entries.values()) == sorted(p["id"] for p in SEED_PAPERS)


def test_bibtex_survives_hostile_titles(digest):
    digest.refresh("cs-cv")
    paper = digest.day("cs-cv", dt.date(2026, 1, 28)).entries[0].paper
    for title in ("Unbalanced } brace @misc{x, & 100% #1", "Math $\\alpha_{1}$ {BERT} kept"):
        bib = render_bibtex([replace(paper, title=title), replace(paper, title=title)]).decode()
        parsed = parse_string(bib, "bibtex")
        assert len(parsed.entries) == 2  # the same key twice is made unique
    assert "{{Math $\\alpha_{1}$ {BERT} kept}}" in bib  # balanced LaTeX is kept as arXiv gives it


def test_ris_and_csl_json_of_a_paper_and_a_day(digest, client):
    digest.refresh("cs-cv")
    expected = SEED_PAPERS[0]
    ris = client.get(f"/papers/{expected['id']}.ris")
    assert ris.content_type.startswith("application/x-research-info-systems")
    lines = ris.data.decode().split("\r\n")
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in lines if line)
    tags = [line.split("  - ", 1) for line in lines if line]
    assert tags[0] == ["TY", "UNPB"] and tags[-1] == ["ER", ""]
    assert [v for t, v in tags if t == "AU"] == expected["authors"]
    assert ["DO", f"10.48550/arXiv.{expected['id']}"] in tags and ["M1", f"arXiv:{expected['id']}"] in tags
    csl = client.get(f"/papers/{expected['id']}.json")
    assert csl.content_type.startswith("application/vnd.citationstyles.csl+json")
    (item,) = csl.get_json()
    assert item["type"] == "article" and item["DOI"] == f"10.48550/arXiv.{expected['id']}"
    assert item["issued"] == {"date-parts": [list(map(int, expected["published"].split("-")))]}
    assert [f"{a['given']} {a['family']}" for a in item["author"]] == expected["authors"]
    day = client.get("/feeds/cs-cv/2026-01-28.json").get_json()
    assert sorted(i["id"] for i in day) == sorted(f"arXiv:{p['id']}" for p in SEED_PAPERS)
    assert client.get("/feeds/cs-cv/2026-01-28.ris").data.count(b"ER  - ") == len(SEED_PAPERS)


def test_ris_keeps_each_value_on_its_line(digest):
    digest.refresh("cs-cv")
    paper = digest.day("cs-cv", dt.date(2026, 1, 28)).entries[0].paper
    ris = render_ris([replace(paper, title="A\r\nER  - \nTY  - JOUR")]).decode()
    assert ris.count("ER  - ") == 1 and ris.count("TY  - ") == 1


def test_paper_page_keeps_hostile_metadata_as_text(digest):
    from service.render.paper import render_paper_page

    digest.refresh("cs-cv")
    day = digest.day("cs-cv", dt.date(2026, 1, 28))
    evil = '</script><script>alert(1)</script><img src=x onerror="alert(2)"> & "q"'
    entry = day.entries[0]
    bad = replace(entry, paper=replace(entry.paper, title=evil, abstract=evil, authors=(evil, "B C")))
    doc = lxml.html.fromstring(render_paper_page([(digest.spec("cs-cv"), day, bad)], "http://h"))
    scripts = doc.xpath("//script")
    assert [s.get("type") for s in scripts] == ["application/ld+json"]  # data, never run (CSP: no script-src)
    assert not doc.xpath("//img | //iframe | //*[@onerror]")
    ld = json.loads(scripts[0].text)
    assert ld["name"] == evil and ld["author"][0]["name"] == evil
    assert doc.xpath("//meta[@name='citation_title']/@content") == [evil] and doc.xpath("//h1")[0].text_content() == evil
