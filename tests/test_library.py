"""The reader's library: every export format Zotero writes, its database, bad files, and the
ranking it drives (before any paper is fetched or paid for), with the why and the score."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import parse_feed_spec
from service.errors import ConfigError
from service.library import MAX_ITEMS, Library, LibraryError, load, parse
from service.models import AnnounceType, FeedSpec, ListingItem
from service.pipeline import make_digest
from service.select import rank_all, select
from service.similarity import match

RANKING = Path(__file__).parent / "ranking"


def test_bibtex_csl_json_and_ris_exports_of_one_collection_load_alike():
    libs = {ext: load(RANKING / f"library.{ext}") for ext in ("bib", "json", "ris")}
    assert {ext: lib.format for ext, lib in libs.items()} == {"bib": "BibTeX", "json": "CSL-JSON", "ris": "RIS"}
    bib = libs["bib"].items
    assert len(bib) == 30
    assert libs["json"].items == bib and libs["ris"].items == bib
    commented = RANKING / "library.bib"
    assert parse_text_with_header(commented) == bib  # a long comment before the first entry
    first = bib[0]
    # LaTeX decoded, braces gone, "Family, Given" turned round
    assert first.title == "ORB-SLAM: A Versatile and Accurate Monocular SLAM System"
    assert first.authors[0] == "Raúl Mur-Artal" and first.year == 2015
    assert first.abstract.startswith("A feature-based monocular SLAM system")


def parse_text_with_header(path: Path):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "commented.bib"
        copy.write_text("% exported by a reference manager\n" * 5000 + path.read_text("utf-8"), "utf-8")
        return parse(copy).items


def _zotero_db(path: Path, rows: list[tuple[int, str, str, dict[str, str], list[tuple[str, str]]]],
               deleted: tuple[int, ...] = ()) -> None:
    """A database with the tables and columns of Zotero's schema that a library is read from."""
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT);
        CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT, dateAdded TEXT, key TEXT);
        CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT);
        CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value TEXT);
        CREATE TABLE itemData (itemID INT, fieldID INT, valueID INT);
        CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT);
        CREATE TABLE itemCreators (itemID INT, creatorID INT, creatorTypeID INT, orderIndex INT);
        CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY, dateDeleted TEXT);
    """)
    types, fields = {}, {}
    for item_id, type_name, added, data, people in rows:
        type_id = types.setdefault(type_name, len(types) + 1)
        db.execute("INSERT OR IGNORE INTO itemTypes VALUES (?, ?)", (type_id, type_name))
        db.execute("INSERT INTO items VALUES (?, ?, ?, ?)", (item_id, type_id, added, f"K{item_id}"))
        for name, value in data.items():
            field_id = fields.setdefault(name, len(fields) + 1)
            db.execute("INSERT OR IGNORE INTO fields VALUES (?, ?)", (field_id, name))
            value_id = db.execute("INSERT INTO itemDataValues (value) VALUES (?)", (value,)).lastrowid
            db.execute("INSERT INTO itemData VALUES (?, ?, ?)", (item_id, field_id, value_id))
        for n, (first, last) in enumerate(people):
            creator_id = db.execute("INSERT INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, 0)",
                                    (first, last)).lastrowid
            db.execute("INSERT INTO itemCreators VALUES (?, ?, 1, ?)", (item_id, creator_id, n))
    db.executemany("INSERT INTO deletedItems VALUES (?, '2026-01-01')", [(i,) for i in deleted])
    db.commit()
    db.close()


def test_zotero_sqlite_is_read_while_zotero_holds_its_lock(tmp_path):
    path = tmp_path / "zotero.sqlite"
    _zotero_db(path, [
        (1, "journalArticle", "2025-06-01 10:00:00", {"title": "Direct Sparse Odometry", "date": "2018-03-01",
                                                      "abstractNote": "Direct visual odometry."},
         [("Jakob", "Engel"), ("Daniel", "Cremers")]),
        (2, "attachment", "2025-06-01 10:00:00", {"title": "Full Text PDF"}, []),
        (3, "note", "2025-06-01 10:00:00", {}, []),
        (4, "preprint", "2024-01-02 00:00:00", {"title": "A paper in the bin"}, []),
        (5, "conferencePaper", "2023-02-03 00:00:00", {"title": "NeRF", "date": "2020"}, [("Ben", "Mildenhall")]),
    ], deleted=(4,))
    zotero = sqlite3.connect(path)
    zotero.execute("BEGIN EXCLUSIVE")  # what a running Zotero does to its database
    try:
        lib = parse(path)
    finally:
        zotero.rollback()
        zotero.close()
    assert lib.format == "zotero.sqlite"
    assert [(i.title, i.authors, i.year, i.added) for i in lib.items] == [
        ("Direct Sparse Odometry", ("Jakob Engel", "Daniel Cremers"), 2018, dt.date(2025, 6, 1)),
        ("NeRF", ("Ben Mildenhall",), 2020, dt.date(2023, 2, 3))]
    assert lib.items[0].abstract == "Direct visual odometry."


@pytest.mark.parametrize("name, content, problem", [
    ("broken.bib", b"@article{a, title={Unclosed", "malformed BibTeX"),
    ("broken.json", b'[{"title": "A"},\n {"title": }]', "malformed CSL-JSON: Expecting value at line 2"),
    ("object.json", b'{"title": "not a list"}', "expected a list of items"),
    ("deep.json", b"[" * 100_000, "nested too deeply"),
    ("empty.bib", b"", "unknown format"),
    ("blank.json", b"[]", "no items with a title"),
    ("untitled.ris", b"TY  - JOUR\nAU  - Doe, J.\nER  - \n", "no items with a title"),
    ("picture.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "unknown format"),
    ("notes.txt", b"my favourite papers: ORB-SLAM, NeRF", "unknown format"),
    ("latin1.bib", "@article{a, title={Caf\xe9}}".encode("latin-1"), "not UTF-8"),
    ("fake.sqlite", b"SQLite format 3\x00" + b"\x00" * 200, "not a readable Zotero database"),
])
def test_a_bad_library_file_is_one_clear_error_naming_it(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LibraryError) as err:
        load(path)
    assert str(path) in str(err.value) and problem in str(err.value)


def test_a_missing_file_or_a_directory_is_named_too(tmp_path):
    for path, problem in ((tmp_path / "nowhere.bib", "cannot read"), (tmp_path, "not a file")):
        with pytest.raises(LibraryError, match=problem) as err:
            load(path)
        assert str(path) in str(err.value)


@pytest.mark.parametrize("fmt", ["json", "bib", "ris"])
def test_a_huge_library_is_refused_with_its_size(tmp_path, fmt):
    n = 50_000
    path = tmp_path / f"huge.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps([{"title": f"Paper {i}"} for i in range(n)]), "utf-8")
    elif fmt == "bib":
        path.write_text("".join(f"@article{{k{i}, title={{Paper {i}}}}}\n" for i in range(n)), "utf-8")
    else:
        path.write_text("".join(f"TY  - JOUR\nTI  - Paper {i}\nER  - \n" for i in range(n)), "utf-8")
    with pytest.raises(LibraryError, match=f"50,000 items is more than the {MAX_ITEMS:,}") as err:
        load(path)
    assert str(path) in str(err.value)


def test_an_unchanged_file_is_parsed_once_and_an_edited_one_again(tmp_path):
    path = tmp_path / "lib.json"
    path.write_text(json.dumps([{"title": "First"}]), "utf-8")
    first = load(path)
    assert load(path) is first
    path.write_text(json.dumps([{"title": "First"}, {"title": "Second"}]), "utf-8")
    assert [i.title for i in load(path).items] == ["First", "Second"]


def test_spec_library_is_a_path_relative_to_the_feeds_directory(tmp_path):
    base = {"title": "T", "categories": ["cs.CV"]}
    spec = parse_feed_spec(tmp_path / "f.toml", {**base, "library": "zotero/my.bib"})
    assert spec.library == tmp_path / "zotero" / "my.bib"
    assert parse_feed_spec(tmp_path / "f.toml", {**base, "library": "/abs/lib.json"}).library == Path("/abs/lib.json")
    for bad in (3, "", "a\nb"):
        with pytest.raises(ConfigError, match="library"):
            parse_feed_spec(tmp_path / "f.toml", {**base, "library": bad})


def test_recent_library_items_weigh_more_than_old_ones():
    from service.library import Library, LibraryItem

    text = "Loop closure for visual SLAM with learned place recognition descriptors."
    old = Library("x", "BibTeX", (LibraryItem("Loop closing in SLAM", text, (), 2005),))
    new = Library("x", "BibTeX", (LibraryItem("Loop closing in SLAM", text, (), 2025),))
    candidate = [("Place recognition for loop closure", "Learned descriptors close loops in visual SLAM.")]
    today = dt.date(2026, 3, 1)
    assert match(new, candidate, today)[0].similarity > match(old, candidate, today)[0].similarity > 0


def _items() -> tuple[ListingItem, ...]:
    rows = [("Diffusion transformers for text-to-image generation", "We scale diffusion transformers.", ("A. B",)),
            ("Loop closure for Gaussian splatting SLAM", "Dense SLAM with 3D Gaussians, loop closing and "
             "pose graph optimization on keyframes.", ("C. D",)),
            ("Chart question answering benchmark", "Multimodal LLMs on charts.", ("E. F",)),
            ("Deep patch visual odometry on event cameras", "Patch tracking with recurrent updates and "
             "bundle adjustment for monocular visual odometry.", ("G. H",)),
            ("Medical image segmentation", "Organs in CT.", ("Luca Carlone",))]
    return tuple(ListingItem(f"2603.{n:05d}", 1, AnnounceType.NEW, t, a, au, ("cs.CV",))
                 for n, (t, a, au) in enumerate(rows, 1))


def test_library_similarity_ranks_the_theme_first_but_followed_authors_stay_first():
    spec = FeedSpec(name="f", path=None, title="F", categories=("cs.CV",), max_papers=3, authors=("L. Carlone",))
    lib = load(RANKING / "library.bib")
    items = _items()
    rankings = rank_all(spec, items, lib, dt.date(2026, 3, 2))
    chosen = [i.arxiv_id for i in select(spec, items, rankings)]
    # the followed author first (off the theme as it is), then the library's theme
    assert chosen == ["2603.00005", "2603.00002", "2603.00004"]
    why = rankings["2603.00002"].reasons
    assert why[0].startswith("similar to your library: ") and "Gaussian Splatting SLAM" in why[0]
    assert rankings["2603.00002"].score > rankings["2603.00001"].score
    assert not any(r.startswith("similar") for r in rankings["2603.00003"].reasons)
    # without a library: listing order among equals
    assert [i.arxiv_id for i in select(spec, items, rank_all(spec, items))] == ["2603.00005", "2603.00001",
                                                                                "2603.00002"]
    assert [i.arxiv_id for i in select(spec, items)] == ["2603.00005", "2603.00001", "2603.00002"]


def test_the_web_app_does_not_import_scikit_learn():
    code = "import sys, service.web, service.pipeline; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _with_library(feeds_dir: Path, library: str, max_papers: int) -> None:
    spec = feeds_dir / "cs-cv.toml"
    text = spec.read_text("utf-8").replace("max_papers = 10", f"max_papers = {max_papers}")
    spec.write_text(text + f'library = "{library}"\n', "utf-8")


def test_the_library_chooses_what_is_fetched_and_paid_for(env, feeds_dir, llm_stub, arxiv_stub):
    (feeds_dir / "zotero").mkdir()
    (feeds_dir / "zotero" / "slam.ris").write_bytes((RANKING / "library.ris").read_bytes())
    _with_library(feeds_dir, "zotero/slam.ris", 2)
    d = make_digest()
    result = d.refresh("cs-cv")
    assert result.ok, result.message
    day = d.store.get_day("cs-cv", dt.date(2026, 1, 28))
    ids = [e.paper.arxiv_id for e in day.entries]
    # without the library the listing's first two (DuwatBench, VGGT-SLAM 2.0) would be taken
    assert ids == ["2601.19887", "2601.19753"]  # VGGT-SLAM 2.0, WaterClear-GS (Gaussian splatting)
    assert {c["key"] for c in llm_stub.calls} == {"2601.19887v1", "2601.19753v1", "summary"}
    assert not [p for p in arxiv_stub.paths() if "2601.19898" in p]  # DuwatBench: no full text asked
    first = day.entries[0]
    assert any(w.startswith("similar to your library: ") and "VGGT" in w for w in first.why)
    assert first.score is not None and first.score > day.entries[1].score > 0

    from service.web import create_app

    client = create_app(digest_obj=d).test_client()
    api = client.get("/api/v1/feeds/cs-cv/days/2026-01-28").json
    assert api["entries"][0]["score"] == first.score and api["entries"][0]["why"] == list(first.why)
    feed = client.get("/feeds/cs-cv.json").json
    paper = next(i for i in feed["items"] if i["id"].endswith("2601.19887"))
    assert paper["_arxiv"]["score"] == first.score and paper["_arxiv"]["why"] == list(first.why)
    shown = f"{first.score:g}"
    for url in ("/feeds/cs-cv.atom", "/feeds/cs-cv.rss", "/feeds/cs-cv/2026-01-28", "/feeds/cs-cv/2026-01-28.md"):
        body = client.get(url).data.decode()
        assert "similar to your library" in body and shown in body, url
    d.close()


def test_a_broken_library_is_reported_and_the_feed_is_still_published(env, feeds_dir, llm_stub):
    (feeds_dir / "broken.bib").write_text("@article{a, title={Unclosed", "utf-8")
    _with_library(feeds_dir, "broken.bib", 10)
    d = make_digest()
    result = d.refresh("cs-cv")
    assert result.ok
    assert f"library {feeds_dir / 'broken.bib'}: malformed BibTeX" in result.message
    day = d.store.get_day("cs-cv", dt.date(2026, 1, 28))
    assert len(day.entries) == 10 and all(e.score == 0 and e.why == () for e in day.entries)
    d.close()


def test_min_score_filters_feed_views_and_bad_values_are_a_json_400(env, feeds_dir, llm_stub):
    import feedparser

    from service.web import create_app

    (feeds_dir / "lib.json").write_bytes((RANKING / "library.json").read_bytes())
    _with_library(feeds_dir, "lib.json", 10)
    d = make_digest()
    d.refresh("cs-cv")
    day = d.store.get_day("cs-cv", dt.date(2026, 1, 28))
    scores = sorted((e.score for e in day.entries), reverse=True)
    cut = scores[2]  # the third best: three papers at least as good
    client = create_app(digest_obj=d).test_client()

    def papers(query: str, fmt: str) -> int:
        resp = client.get(f"/feeds/cs-cv.{fmt}?{query}")
        assert resp.status_code == 200, resp.data[:200]
        items = resp.json["items"] if fmt == "json" else feedparser.parse(resp.data).entries
        return len([e for e in items if "2026-01-28" not in e["title"]])

    for fmt in ("atom", "rss", "json"):
        assert papers(f"min_score={cut}", fmt) == 3
        assert papers("min_score=0", fmt) == 10
        assert papers("min_score=999", fmt) == 0
    for bad in ("abc", "-1", "nan", "inf", "1e3", "1.23456", "1" * 11, "1001", "", "٣", "1&min_score=2"):
        resp = client.get(f"/feeds/cs-cv.atom?min_score={bad}")
        assert resp.status_code == 400 and resp.json["error"]["code"] == "bad_request", bad
        assert "min_score" in resp.json["error"]["message"]
    d.close()



def test_check_names_each_library_and_what_is_wrong_without_failing(env, feeds_dir, capsys):
    from service.cli import main

    (feeds_dir / "lib.bib").write_bytes((RANKING / "library.bib").read_bytes())
    _with_library(feeds_dir, "lib.bib", 10)
    assert main(["check"]) == 0
    assert f"note: cs-cv: library {feeds_dir / 'lib.bib'}: 30 items (BibTeX)" in capsys.readouterr().err
    (feeds_dir / "lib.bib").write_text("not a library", "utf-8")
    assert main(["check"]) == 0  # the feed still runs, on its other signals
    err = capsys.readouterr().err
    assert f"warning: cs-cv: library {feeds_dir / 'lib.bib'}: unknown format" in err


def _reference(library, candidates, today):
    """The definition (docs/ranking.md), computed the plain way: one TfidfVectorizer fitted on
    the library and the day together, the mean of the 5 nearest recency-weighted cosines."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from service.similarity import recency

    lib = [f"{i.title}. {i.title}. {i.abstract}" for i in library.items]
    day = [f"{t}. {t}. {a}" for t, a in candidates]
    x = TfidfVectorizer(stop_words="english", sublinear_tf=True, strip_accents="unicode",
                        ngram_range=(1, 2)).fit_transform(lib + day)
    sims = (x[len(lib):] @ x[:len(lib)].T).toarray() * np.array([recency(i, today) for i in library.items])
    return [float(np.sort(row)[-5:].mean()) for row in sims]


def test_cached_library_features_rank_as_a_fresh_fit_and_are_reused_by_content(tmp_path):
    from service import similarity
    from tests.ranking.report import days

    lib = load(RANKING / "library.bib")
    day = days()[0]
    candidates = [(i.title, i.abstract) for i in day.items]
    expected = _reference(lib, candidates, day.date)
    cache = tmp_path / "features"
    got = match(lib, candidates, day.date, cache)
    assert [m.similarity for m in got] == pytest.approx(expected, abs=1e-5)
    files = list(cache.glob("*.npz"))
    assert [f.name for f in files] == [f"{similarity.content_hash(lib)}.npz"]
    # another process (nothing in memory) reads the cached counts: the same matches
    similarity._fitted.clear()
    assert match(lib, candidates, day.date, cache) == got
    # a damaged cache file is derived data: ignored, the ranking is computed again
    similarity._fitted.clear()
    files[0].write_bytes(b"PK\x03\x04 not an npz")
    assert match(lib, candidates, day.date, cache) == got
    # an edited library is another fit, in another file
    edited = Library(lib.path, lib.format, lib.items[1:])
    match(edited, candidates, day.date, cache)
    assert len(list(cache.glob("*.npz"))) == 2
    assert [m.similarity for m in match(edited, candidates, day.date)] == pytest.approx(
        _reference(edited, candidates, day.date), abs=1e-5)
