"""RSS, JSON Feed, OPML, RFC 5005 archives, Zotero's fields and conditional GET, read back with real parsers."""
from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import json
from dataclasses import replace

import feedparser
import listparser
from lxml import etree

from service.documents import spec_digest
from service.pipeline import make_digest
from service.web import create_app
from service.web.common import max_age

from .conftest import SEED_PAPERS

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
PRISM = "{http://prismstandard.org/namespaces/basic/2.0/}"


def test_rss_has_the_atom_entries_with_permalink_guids_creators_and_pdf_enclosures(digest, client):
    digest.refresh("cs-cv")
    atom = feedparser.parse(client.get("/feeds/cs-cv.atom").data)
    resp = client.get("/feeds/cs-cv.rss")
    assert resp.status_code == 200 and resp.content_type.startswith("application/rss+xml")
    rss = feedparser.parse(resp.data)
    assert not rss.bozo, rss.bozo_exception and rss.version == "rss20"
    assert rss.feed.link == "http://localhost/"
    assert [e.title for e in rss.entries] == [e.title for e in atom.entries]
    root = etree.fromstring(resp.data)
    items = root.findall("channel/item")
    for expected in SEED_PAPERS:
        abs_url = f"https://arxiv.org/abs/{expected['id']}"
        item = next(i for i in items if i.findtext("guid") == abs_url)
        assert item.find("guid").get("isPermaLink") == "true"
        # one dc:creator with every author, as arXiv's own RSS: readers keep only one dc:creator
        assert [c.text for c in item.findall(f"{DC}creator")] == [", ".join(expected["authors"])]
        enclosure = item.find("enclosure")
        assert enclosure.get("url") == f"https://arxiv.org/pdf/{expected['id']}v{expected['version']}"
        assert enclosure.get("type") == "application/pdf"
        parsed = next(e for e in rss.entries if e.id == abs_url)
        assert "关键发现" in parsed.content[0].value and parsed.enclosures[0].type == "application/pdf"
    assert items[0].find("guid").get("isPermaLink") == "false"  # the daily summary


def test_json_feed_follows_version_1_1_with_an_arxiv_extension(digest, client):
    digest.refresh("cs-cv")
    resp = client.get("/feeds/cs-cv.json")
    assert resp.content_type.startswith("application/feed+json")
    feed = json.loads(resp.data)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == "http://localhost/feeds/cs-cv.json" and feed["title"]
    assert len(feed["items"]) == 11 and len({i["id"] for i in feed["items"]}) == 11
    for item in feed["items"]:  # every item has an id and content (spec: content_html or content_text)
        assert isinstance(item["id"], str) and item["content_html"]
        dt.datetime.fromisoformat(item["date_published"])  # RFC 3339
    papers = {i["id"]: i for i in feed["items"][1:]}
    for expected in SEED_PAPERS:
        item = papers[f"https://arxiv.org/abs/{expected['id']}"]
        assert [a["name"] for a in item["authors"]] == expected["authors"]
        assert item["tags"] == expected["categories"] and " ".join(item["summary"].split()) == " ".join(expected["abstract"].split())
        assert item["attachments"] == [{"url": f"https://arxiv.org/pdf/{expected['id']}v{expected['version']}",
                                        "mime_type": "application/pdf", "title": "PDF"}]
        ext = item["_arxiv"]
        assert ext["id"] == expected["id"] and ext["version"] == expected["version"]
        assert ext["categories"] == expected["categories"]
        assert ext["findings"] and all(f["evidence"] for f in ext["findings"])
        assert ext["analysis"]["source"] in ("html", "pdf", "abstract") and ext["about"]
    assert papers["https://arxiv.org/abs/2601.19887"]["_arxiv"]["analysis"]["source"] == "html"


def test_opml_lists_every_feed(digest, client):
    resp = client.get("/opml")
    assert resp.status_code == 200
    result = listparser.parse(resp.data)
    assert not result.bozo
    assert [(f.url, f.title) for f in result.feeds] == [("http://localhost/feeds/cs-cv.atom",
                                                         "Arxiv Computer Vision Papers")]


def _atom_links(data: bytes) -> dict[str, str]:
    return {link.get("rel"): link.get("href") for link in etree.fromstring(data).findall(f"{ATOM}link")}


def test_archives_link_days_both_ways_and_the_subscription_feed_links_the_newest(digest, client):
    digest.refresh("cs-cv")
    day = digest.store.get_day("cs-cv", dt.date(2026, 1, 28))
    for offset in (1, 2):  # two earlier days, published through the façade
        digest.publish(digest.spec("cs-cv"), replace(day, date=day.date - dt.timedelta(days=offset)))
    sub = _atom_links(client.get("/feeds/cs-cv.atom").data)
    assert sub["prev-archive"] == "http://localhost/feeds/cs-cv/2026-01-28.atom"
    middle = client.get("/feeds/cs-cv/2026-01-27.atom")
    feed = feedparser.parse(middle.data)
    assert not feed.bozo and len(feed.entries) == 11
    links = _atom_links(middle.data)
    assert links["self"] == "http://localhost/feeds/cs-cv/2026-01-27.atom"
    assert links["current"] == "http://localhost/feeds/cs-cv.atom"
    assert links["prev-archive"] == "http://localhost/feeds/cs-cv/2026-01-26.atom"
    assert links["next-archive"] == "http://localhost/feeds/cs-cv/2026-01-28.atom"
    assert etree.fromstring(middle.data).find("{http://purl.org/syndication/history/1.0}archive") is not None
    assert etree.fromstring(middle.data).find("{http://purl.org/syndication/history/1.0}complete") is None
    assert "prev-archive" not in _atom_links(client.get("/feeds/cs-cv/2026-01-26.atom").data)
    assert "next-archive" not in _atom_links(client.get("/feeds/cs-cv/2026-01-28.atom").data)
    assert client.get("/feeds/cs-cv/2026-01-20.atom").status_code == 404
    assert client.get("/feeds/cs-cv/2026-1-20.atom").json["error"]["code"] == "bad_request"


def test_atom_entries_carry_what_zoteros_feed_reader_reads(digest, client):
    digest.refresh("cs-cv")
    root = etree.fromstring(client.get("/feeds/cs-cv.atom").data)
    for expected in SEED_PAPERS:
        entry = root.find(f"{ATOM}entry[{ATOM}id='https://arxiv.org/abs/{expected['id']}']")
        assert entry.findtext(f"{PRISM}publicationName") == "arXiv"
        assert entry.findtext(f"{PRISM}publicationDate") == expected["published"][:10]
        # Zotero 7: date = the last of pubDate, dc:date, atom:updated, prism:modificationDate;
        # the arXiv date of the linked version must be that last one, not our refresh time
        assert entry.findtext(f"{PRISM}modificationDate") == expected["published"][:10]
        assert entry.find(f"{DC}date") is None
        assert entry.findtext(f"{DC}language") == "en"  # the paper's, not the feed's "zh"
        assert entry.findtext(f"{DC}identifier") == f"doi:10.48550/arXiv.{expected['id']}"
        assert " ".join(entry.findtext(f"{ATOM}summary").split()) == " ".join(expected["abstract"].split())
        assert [a.findtext(f"{ATOM}name") for a in entry.findall(f"{ATOM}author")] == expected["authors"]
    parsed = feedparser.parse(client.get("/feeds/cs-cv.atom").data).entries[1]
    assert parsed.prism_publicationname == "arXiv" and parsed.link.startswith("https://arxiv.org/abs/")


def test_documents_are_stored_bytes_with_conditional_get_and_gzip(digest, client):
    digest.refresh("cs-cv")
    for url in ("/feeds/cs-cv.rss", "/feeds/cs-cv.json", "/feeds/cs-cv/2026-01-28", "/feeds/cs-cv/2026-01-28.md",
                "/feeds/cs-cv/2026-01-28.atom", "/opml", "/", "/api/v1/feeds/cs-cv/days/2026-01-28"):
        first = client.get(url)
        assert first.status_code == 200 and first.headers["Vary"] == "Accept-Encoding", url
        assert 300 <= first.cache_control.max_age <= 8 * 86400 and first.cache_control.public
        again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b"", url
        since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert since.status_code == 304 and since.data == b""
        gz = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
        assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == first.data
        assert gz.headers["ETag"] != first.headers["ETag"]
    # a second app over the same store serves the same bytes without rendering again
    assert create_app(digest_obj=digest).test_client().get("/feeds/cs-cv.rss").data == client.get("/feeds/cs-cv.rss").data


def test_documents_are_rendered_at_publish_time_for_the_public_url(env, monkeypatch):
    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://digest.example")
    d = make_digest()
    try:
        d.refresh("cs-cv")
        for key in ("atom", "rss", "json", "zotero", "day:2026-01-28:bib", "day:2026-01-28:html", "day:2026-01-28:md", "day:2026-01-28:atom",
                    "day:2026-01-28:api", "days:1:30"):
            stored_as = f"{spec_digest(d.spec('cs-cv'))}:{key}"
            assert d.store.get_doc("cs-cv", stored_as, "https://digest.example") is not None, key
    finally:
        d.store.close()


def test_max_age_ends_at_the_next_announcement():
    # Wednesday 2026-01-28 12:00 UTC = 07:00 ET; next announcement 20:00 ET + 30 min = 01:30 UTC next day
    now = dt.datetime(2026, 1, 28, 12, 0, tzinfo=dt.timezone.utc)
    assert max_age(now) == int(dt.timedelta(hours=13, minutes=30).total_seconds())
    # Friday evening: nothing until Sunday's announcement
    friday = dt.datetime(2026, 1, 30, 23, 0, tzinfo=dt.timezone.utc)
    assert max_age(friday) > 40 * 3600
    # 20:45 ET, just after the announcement: the day may not be published yet, check back soon
    assert max_age(dt.datetime(2026, 1, 29, 1, 45, tzinfo=dt.timezone.utc)) == 300
    # ... and once the publishing window is over, the long max-age resumes
    assert max_age(dt.datetime(2026, 1, 29, 8, 0, tzinfo=dt.timezone.utc)) > 10 * 3600


def test_rss_items_have_one_date_their_language_and_every_author(digest, client):
    digest.refresh("cs-cv")
    root = etree.fromstring(client.get("/feeds/cs-cv.rss").data)
    assert root.findtext("channel/language") == "zh"
    for expected in SEED_PAPERS:
        item = next(i for i in root.iter("item") if i.findtext("guid") == f"https://arxiv.org/abs/{expected['id']}")
        assert item.find(f"{DC}date") is None  # no second date disagreeing with pubDate
        assert email.utils.parsedate_to_datetime(item.findtext("pubDate")).date().isoformat() == expected["published"]
        assert item.findtext(f"{DC}language") == "en"
        assert item.findtext(f"{PRISM}modificationDate") == expected["published"]
    parsed = feedparser.parse(client.get("/feeds/cs-cv.rss").data)
    by_id = {e.id: e for e in parsed.entries}
    for expected in SEED_PAPERS:
        assert by_id[f"https://arxiv.org/abs/{expected['id']}"].author == ", ".join(expected["authors"])


def test_json_feed_has_author_for_1_0_readers_and_links_the_paper_page(digest, client):
    digest.refresh("cs-cv")
    items = {i["id"]: i for i in client.get("/feeds/cs-cv.json").get_json()["items"]}
    for expected in SEED_PAPERS:
        item = items[f"https://arxiv.org/abs/{expected['id']}"]
        assert item["author"] == {"name": ", ".join(expected["authors"])}
        assert [a["name"] for a in item["authors"]] == expected["authors"]
        page = f"http://localhost/papers/{expected['id']}"
        assert item["_arxiv"]["page"] == page and f'href="{page}"' in item["content_html"]


def test_every_entry_in_every_format_links_its_paper_page(digest, client):
    digest.refresh("cs-cv")
    atom = etree.fromstring(client.get("/feeds/cs-cv.atom").data)
    rss = client.get("/feeds/cs-cv.rss").data.decode()
    md = client.get("/feeds/cs-cv/2026-01-28.md").data.decode()
    for expected in SEED_PAPERS:
        page = f"http://localhost/papers/{expected['id']}"
        entry = atom.find(f"{ATOM}entry[{ATOM}id='https://arxiv.org/abs/{expected['id']}']")
        assert entry.find(f"{ATOM}link[@rel='related'][@type='text/html']").get("href") == page
        assert page in entry.findtext(f"{ATOM}content")
        assert f'href="{page}"' in rss.replace("&quot;", '"') and f"]({page})" in md
        assert client.get(page.removeprefix("http://localhost")).status_code == 200
    summary = atom.findall(f"{ATOM}entry")[0]
    assert summary.find(f"{ATOM}link[@rel='alternate']").get("href") == "http://localhost/feeds/cs-cv/2026-01-28"


def test_zotero_feed_has_papers_with_the_abstract_and_no_analysis(digest, client):
    digest.refresh("cs-cv")
    resp = client.get("/feeds/cs-cv.zotero.atom")
    assert resp.status_code == 200 and resp.content_type.startswith("application/atom+xml")
    root = etree.fromstring(resp.data)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == len(SEED_PAPERS)  # no daily-summary item
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://localhost/feeds/cs-cv.zotero.atom"
    for entry, expected in zip(entries, sorted(SEED_PAPERS, key=lambda p: [e.findtext(f"{ATOM}id") for e in entries]
                                               .index(f"https://arxiv.org/abs/{p['id']}"))):
        assert entry.find(f"{ATOM}content") is None
        assert " ".join(entry.findtext(f"{ATOM}summary").split()) == " ".join(expected["abstract"].split())
    assert not feedparser.parse(resp.data).bozo
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"  # arXiv's text only, no analysis


def test_openapi_has_validators_and_a_future_if_modified_since_is_ignored(digest, client):
    digest.refresh("cs-cv")
    first = client.get("/openapi.json")
    assert first.status_code == 200 and first.get_json()["openapi"] == "3.1.0"
    assert first.headers["ETag"] and first.headers["Last-Modified"] and first.cache_control.max_age >= 300
    assert client.get("/openapi.json", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    # RFC 9110 13.1.3: an If-Modified-Since later than the server's clock is invalid and ignored
    for url in ("/feeds/cs-cv.rss", "/openapi.json"):
        future = client.get(url, headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
        assert future.status_code == 200 and future.data, url
        last = client.get(url).headers["Last-Modified"]
        assert client.get(url, headers={"If-Modified-Since": last}).status_code == 304


def test_the_only_archive_is_complete_and_the_summary_entry_links_its_day(digest, client):
    digest.refresh("cs-cv")
    root = etree.fromstring(client.get("/feeds/cs-cv/2026-01-28.atom").data)
    fh = "{http://purl.org/syndication/history/1.0}"
    links = _atom_links(client.get("/feeds/cs-cv/2026-01-28.atom").data)
    # a complete feed links no other feed document (RFC 5005; the W3C validator errs on current≠self)
    assert "prev-archive" not in links and "next-archive" not in links and "current" not in links
    assert root.find(f"{fh}archive") is not None and root.find(f"{fh}complete") is not None
    summary = root.find(f"{ATOM}entry")
    assert summary.find(f"{ATOM}link[@rel='alternate']").get("href") == "http://localhost/feeds/cs-cv/2026-01-28"


def test_no_two_atom_entries_share_an_updated_stamp(digest, client):
    """The W3C validator warns on entries with the same atom:updated (all ten used to share
    the refresh time); each changed entry gets its own, in ranked order."""
    import feedparser

    digest.refresh("cs-cv")
    for path in ("/feeds/cs-cv.atom", "/feeds/cs-cv/2026-01-28.atom"):
        stamps = [e.updated for e in feedparser.parse(client.get(path).data).entries]
        assert len(stamps) == 11 and len(set(stamps)) == 11, (path, stamps)
