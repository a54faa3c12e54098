"""Followed authors and keywords: ranked first, always kept, and every entry says why."""
from __future__ import annotations

import pytest

from service.models import AnnounceType, FeedSpec, ListingItem
from service.pipeline import make_digest
from service.select import rank, same_author, select

SPEC = FeedSpec(name="f", path=None, title="F", categories=("cs.CV",), max_papers=2)


def item(n: int, authors=("A. Nobody",), title="A paper", abstract="An abstract.") -> ListingItem:
    return ListingItem(f"2601.{n:05d}", 1, AnnounceType.NEW, title, abstract, tuple(authors), ("cs.CV",))


@pytest.mark.parametrize("followed, author, same", [
    ("Yann LeCun", "Yann LeCun", True),
    ("Y. LeCun", "Yann LeCun", True),
    ("LeCun, Yann", "Yann LeCun", True),
    ("Yann LeCun", "Yann Le Cun", True),
    ("Luca Carlone", "LUCA CARLONE", True),
    ("Jose Garcia", "José García", True),
    ("Yann LeCun", "Anna LeCun", False),
    ("A. LeCun", "Yann LeCun", False),
    ("Luca Carlone", "Luca Carloni", False),
    ("Kaiming He", "K. He", True),
    ("Kaiming He", "Kaiming", False),
])
def test_author_names_match_across_initials_accents_and_order(followed, author, same):
    assert same_author(followed, author) is same


def test_followed_authors_come_first_are_kept_past_the_cap_and_beat_exclusions():
    spec = SPEC.__class__(**{**SPEC.__dict__, "authors": ("L. Carlone",), "keywords": ("slam",),
                             "exclude_keywords": ("survey",), "max_papers": 1})
    items = (item(1, title="SLAM SLAM"), item(2, authors=("Luca Carlone",), title="A survey of things"),
             item(3, authors=("Luca Carlone", "X"), title="Other"), item(4, title="Plain"))
    chosen = [i.arxiv_id for i in select(spec, items)]
    assert chosen == ["2601.00002", "2601.00003"]  # both of the author's, past the cap of 1
    why = rank(spec, items[0])
    assert why.reasons == ("keywords: slam",) and why.score == 4  # two title hits count double


def test_every_entry_says_why_in_every_format(env, feeds_dir, llm_stub):
    import feedparser

    from service.web import create_app

    spec = feeds_dir / "cs-cv.toml"
    text = spec.read_text("utf-8").replace("keywords = []", 'keywords = ["SLAM"]')
    spec.write_text(text + 'authors = ["D. Maggio"]\n', "utf-8")
    d = make_digest()
    d.refresh("cs-cv")
    client = create_app(digest_obj=d).test_client()
    day = client.get("/api/v1/feeds/cs-cv/days/2026-01-28").json
    first = day["entries"][0]
    assert first["paper"]["versioned_id"] == "2601.19887v1"  # VGGT-SLAM 2.0, by Dominic Maggio
    assert first["why"] == ["followed author: D. Maggio", "keywords: slam"]
    assert all(e["why"] == [] for e in day["entries"][1:] if "slam" not in e["paper"]["title"].lower())
    atom = feedparser.parse(client.get("/feeds/cs-cv.atom").data)
    vggt = next(e for e in atom.entries if "VGGT-SLAM" in e.title)
    assert "followed author: D. Maggio" in vggt.content[0].value
    assert "followed author: D. Maggio" in client.get("/feeds/cs-cv/2026-01-28.md").data.decode()
    assert "followed author: D. Maggio" in client.get("/feeds/cs-cv/2026-01-28").data.decode()
    d.close()


def test_feed_urls_take_personal_filters_answered_from_what_is_stored(env, llm_stub, arxiv_stub):
    import feedparser

    from service.web import create_app

    d = make_digest()
    d.refresh("cs-cv")
    client = create_app(digest_obj=d).test_client()
    calls, fetches = len(llm_stub.calls), len(arxiv_stub.requests)
    data_dir = d.settings.data_dir

    def titles(query: str, fmt: str = "atom") -> list[str]:
        resp = client.get(f"/feeds/cs-cv.{fmt}?{query}")
        assert resp.status_code == 200, (query, resp.data[:200])
        items = resp.json["items"] if fmt == "json" else feedparser.parse(resp.data).entries
        return [e["title"] for e in items if "2026-01-28" not in e["title"]]

    assert titles("author=L.%20Carlone") == ["VGGT-SLAM 2.0: Real time Dense Feed-forward Scene Reconstruction"]
    assert titles("author=Carlone,%20Luca", "rss") == titles("author=L.%20Carlone")
    assert titles("keyword=calligraphy") == [t for t in titles("") if "Calligraphy" in t]
    assert titles("q=slam%20loop%20closures", "json") == ["VGGT-SLAM 2.0: Real time Dense Feed-forward Scene Reconstruction"]
    assert titles("author=Nobody%20Atall") == []
    # answered from what is stored: no LLM call, no upstream fetch, nothing written per query
    before = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())
    for n in range(40):
        client.get(f"/feeds/cs-cv.atom?q=word{n}")
    assert len(llm_stub.calls) == calls and len(arxiv_stub.requests) == fetches
    assert sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file()) - before < 64 * 1024
    # malformed filters are a JSON 400
    for bad in ("q=" + "x" * 101, "author=a&author=b", "keyword=%01"):
        resp = client.get(f"/feeds/cs-cv.atom?{bad}")
        assert resp.status_code == 400 and resp.json["error"]["code"] == "bad_request", bad
    d.close()


def test_ranking_on_the_held_out_day_keeps_its_floor():
    """The labelled day never used for choosing anything (docs/ranking.md): the library's
    similarity and the combination put the reader's papers first. Floors sit just below
    what was measured (0.905 and 0.915 NDCG@10; recall@10 can reach 0.5 with 20 wanted)."""
    from tests.ranking.report import scores

    got = scores("heldout")
    listing = got["listing order (no ranking)"]
    library = got["TF-IDF library only"]
    both = got["combination (keywords + authors + library)"]
    assert library[0] >= 0.85 and library[1] >= 0.40, library
    assert both[0] >= 0.85 and both[1] >= 0.40, both
    assert library[0] > listing[0] + 0.3 and both[0] > got["keywords + authors"][0]
