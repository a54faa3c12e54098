"""Search over everything published: an SQLite FTS5 index beside the store.

The index lives in its own file (`DIGEST_DATA_DIR/search.sqlite`), apart from the
diskcache store: it is derived data, rebuilt from the store at any time (`arxiv-digest
reindex`, or lazily when it is missing or behind), and the web app can read it on a
read-only data directory. Each published day writes its rows when it is published
(`Digest.publish`); the feed's publication generation is kept with them, so a day whose
hook failed (a full disk, say) is caught up on the next search where the index can be
written. A query reads only: nothing of it is stored anywhere.

Tokenising: `unicode61` (diacritics folded, Porter stems for English) over text in which
every run of CJK characters is written as its overlapping bigrams. unicode61 alone keeps
a whole Chinese clause as one token (no spaces), so "采样" inside a sentence would never
match; the `trigram` tokenizer finds nothing shorter than three characters, and two
characters are the commonest Chinese word length (and "3D", "AI" in English). A query
term gets the same treatment and becomes a quoted phrase, so "采样策略" is the phrase
"采样 样策 策略". BENCHMARKS.md ("Search") has the measurement behind this choice.

User input never reaches MATCH syntax: every term is a double-quoted phrase (quotes
doubled), so `"`, `*`, `NEAR(`, `OR`, `-` and `title:` are words or nothing. Snippets are
cut and highlighted here, on the original text, as (text, matched) parts: the renderer
escapes every part, so no marker can be forged by the indexed text.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote

import filelock
from markupsafe import Markup, escape

from .errors import BadRequest, DigestError
from .models import Day, Entry
from .untrusted import scrub

log = logging.getLogger(__name__)

#: Bumped when what is indexed or how it is tokenised changes: an older index is rebuilt.
SCHEMA = "4"
#: Longest query accepted (characters); longer is a 400, not a silent cut.
MAX_QUERY = 200
#: Most terms in one query (each is a phrase that every hit must contain).
MAX_TERMS = 16
#: Characters of context shown around the first match in a snippet.
SNIPPET_BEFORE, SNIPPET_AFTER = 60, 180
#: Column weights for bm25: a word of the title counts more than one deep in the analysis.
COLUMNS = ("title", "authors", "abstract", "analysis", "findings")
WEIGHTS = (10.0, 6.0, 3.0, 1.0, 1.5)
#: Row ids sort by day: the day's ordinal in the high bits, so "then newest day" is the
#: rowid and a page of results needs no join (BENCHMARKS.md, "Search").
_DAY_SHIFT = 20
#: Where a snippet is taken from, first match wins (the title is shown anyway).
SNIPPET_FIELDS = ("analysis", "findings", "abstract", "authors", "title")

#: Han (with extensions and compatibility ideographs), kana, Hangul, bopomofo: scripts
#: written without spaces between words.
_CJK = re.compile("[\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
                  "\U00020000-\U0003134f]+")
#: What unicode61 keeps in a token: letters, digits (and private-use, never in our text).
_WORD = re.compile(r"[^\W_]+")
_MARKDOWN = (re.compile(r"\[([^\]]*)\]\([^)]*\)"), re.compile(r"(\*\*|__|`|^#+\s*|^\s*[-*]\s+)", re.M))


class SearchUnavailable(DigestError):
    """The index cannot answer: FTS5 missing from this SQLite, or no index on a read-only
    data directory. A 503 that says what to do."""

    status, code = 503, "search_unavailable"


@dataclass(frozen=True)
class Snippet:
    """Text around the first match, as (text, matched) parts; `html()` escapes each part."""

    field: str
    parts: tuple[tuple[str, bool], ...]

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.parts)

    def html(self) -> Markup:
        return Markup("".join(f"<mark>{escape(t)}</mark>" if hit else str(escape(t)) for t, hit in self.parts))


@dataclass(frozen=True)
class Hit:
    """One paper as published on one day of one feed."""

    feed: str
    date: dt.date
    arxiv_id: str
    versioned_id: str
    title: str
    authors: tuple[str, ...]
    #: bm25 score (lower is better), for ordering; not comparable across queries.
    rank: float
    snippet: Snippet
    #: The title as highlighted parts (the snippet may come from another field).
    title_parts: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Results:
    query: str
    feed: str | None
    page: int
    per_page: int
    total: int
    hits: tuple[Hit, ...]

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


# --- text ------------------------------------------------------------------------------
@cache
def fts5_available() -> bool:
    """Whether this Python's SQLite has FTS5 (asked once per process)."""
    with closing(sqlite3.connect(":memory:")) as con:
        try:
            con.execute("CREATE VIRTUAL TABLE probe USING fts5(x)")
            return True
        except sqlite3.OperationalError:
            return False


def _bigrams(run: str) -> str:
    if len(run) == 1:
        return run
    return " ".join(run[i:i + 2] for i in range(len(run) - 1))


def segment(text: str) -> str:
    """What the index stores and a query term is compared as: CJK runs as bigrams."""
    return _CJK.sub(lambda m: f" {_bigrams(m[0])} ", unicodedata.normalize("NFKC", text))


def plain(markdown: str) -> str:
    """Analysis Markdown as readable text for snippets (links as their text, no emphasis marks)."""
    text = _MARKDOWN[0].sub(r"\1", markdown)
    return _MARKDOWN[1].sub("", text)


def parse_query(raw: str) -> tuple[str, list[str]]:
    """The user's query → (FTS5 MATCH expression, terms to highlight). Raises `BadRequest`
    naming `q` for what cannot be searched; never lets the text act as query syntax."""
    if len(raw) > MAX_QUERY:
        raise BadRequest("q", f"q is too long ({len(raw)} characters): at most {MAX_QUERY}")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in raw):
        raise BadRequest("q", "q has control characters")
    terms = unicodedata.normalize("NFKC", raw).split()
    phrases, shown = [], []
    for term in terms:
        words = _WORD.findall(term)
        if not words:
            continue  # only punctuation: nothing unicode61 would index
        tokens = segment(" ".join(words)).split()
        phrase = '"' + " ".join(tokens).replace('"', '""') + '"'
        if len(words) == 1 and _CJK.fullmatch(words[0]) and len(words[0]) == 1:
            phrase += " *"  # one CJK character: a prefix of the bigrams that start with it
        phrases.append(phrase)
        shown += words
    if not phrases:
        raise BadRequest("q", "q has no words to search for" if raw.strip() else "q is empty: give a word to search for")
    if len(phrases) > MAX_TERMS:
        raise BadRequest("q", f"q has {len(phrases)} words: at most {MAX_TERMS}")
    return " AND ".join(phrases), shown


#: English endings the index's Porter stemmer folds: a highlight matches the word's stem and
#: any ending, so "reconstructions" still marks "reconstruction" in the snippet.
_ENDINGS = re.compile(r"(?<=[a-z]{3})(ations?|ings?|ions?|ed|es|s)$", re.I)


def _highlighter(words: list[str]) -> re.Pattern | None:
    if not words:
        return None
    alternatives = sorted({w.casefold() for w in words}, key=len, reverse=True)
    return re.compile("|".join(rf"{re.escape(_ENDINGS.sub('', w))}[^\W_]*" if w.isascii() and w.isalpha()
                               else re.escape(w) for w in alternatives), re.I)


def _parts(text: str, pattern: re.Pattern | None) -> tuple[tuple[str, bool], ...]:
    if pattern is None:
        return ((text, False),) if text else ()
    parts, at = [], 0
    for m in pattern.finditer(text):
        if m.start() > at:
            parts.append((text[at:m.start()], False))
        parts.append((m[0], True))
        at = m.end()
    if at < len(text):
        parts.append((text[at:], False))
    return tuple(parts)


def snippet(fields: dict[str, str], pattern: re.Pattern | None) -> Snippet:
    """Context around the first match of the first field that has one (else the abstract's start)."""
    for name in SNIPPET_FIELDS:
        text = fields.get(name) or ""
        m = pattern.search(text) if pattern else None
        if m:
            break
    else:
        name, text, m = "abstract", fields.get("abstract") or "", None
    start = max(0, (m.start() if m else 0) - SNIPPET_BEFORE)
    end = min(len(text), (m.end() if m else 0) + SNIPPET_AFTER)
    if start > 0:  # cut at a space when there is one near, not inside a word
        space = text.find(" ", start, start + 20)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", end - 20, end)
        end = space if space != -1 else end
    cut = " ".join(text[start:end].split())
    cut = ("… " if start > 0 else "") + cut + (" …" if end < len(text) else "")
    return Snippet(name, _parts(cut, pattern))


def entry_fields(entry: Entry) -> dict[str, str]:
    """The searchable text of one published entry, as shown (clean, plain)."""
    p = entry.paper
    analysis = "\n".join(plain(body) for _, body in entry.analysis.sections) if entry.analysis else ""
    findings = "\n".join(f"{plain(f.claim)} {f.evidence}" for f in entry.findings)
    return {"title": " ".join(p.title.split()), "authors": "\n".join(" ".join(a.split()) for a in p.authors),
            "abstract": " ".join(p.abstract.split()), "analysis": analysis, "findings": findings}


# --- the index --------------------------------------------------------------------------
_TOKENIZE = "porter unicode61 remove_diacritics 2"
_CREATE = (
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries(id INTEGER PRIMARY KEY, feed TEXT NOT NULL, date TEXT NOT NULL, "
    "arxiv_id TEXT NOT NULL, versioned_id TEXT NOT NULL, title TEXT NOT NULL, authors TEXT NOT NULL, "
    "abstract TEXT NOT NULL, analysis TEXT NOT NULL, findings TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS entries_day ON entries(feed, date)",
    # `feed` is one token per feed (feed_token), so the feed filter is part of MATCH, weight 0.
    # Contentless: the text is in `entries` once (FTS5 would keep a second, segmented copy).
    f"CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5({', '.join(COLUMNS)}, feed, content='', "
    f"tokenize='{_TOKENIZE}')",
    f"INSERT INTO fts(fts, rank) VALUES ('rank', 'bm25({', '.join(map(str, WEIGHTS))}, 0.0)')",
)


def _fts_row(feed: str, fields: Iterable[str]) -> tuple[str, ...]:
    """What the fts table is given for a row: inserting and deleting must pass the same."""
    return (*(segment(f) for f in fields), feed_token(feed))


def _unindex(con: sqlite3.Connection, where: str, args: tuple) -> None:
    """Remove rows from `entries` and, with the values they were indexed with, from the
    contentless fts table (FTS5's 'delete' command)."""
    old = con.execute(f"SELECT id, feed, {', '.join(COLUMNS)} FROM entries WHERE {where}", args).fetchall()
    con.executemany(f"INSERT INTO fts(fts, rowid, {', '.join(COLUMNS)}, feed) VALUES ('delete', ?, ?, ?, ?, ?, ?, ?)",
                    ((row[0], *_fts_row(row[1], row[2:])) for row in old))
    con.execute(f"DELETE FROM entries WHERE {where}", args)


def feed_token(feed: str) -> str:
    """A feed's name as one unicode61 token ("cs-cv" would be two, and a prefix of "cs-cv-zh")."""
    return "f" + feed.encode().hex()


def _feed_filter(feeds: list[str]) -> str:
    return "feed : (" + " OR ".join(f'"{feed_token(f)}"' for f in feeds) + ")"


class SearchIndex:
    """The FTS5 index file: written by publishing and `reindex`, read by searches.

    Reads use one read-only connection per thread (reopened if the file is replaced);
    writes take a file lock, so two processes never build at once."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path, self.read_only = path, read_only
        self._local = threading.local()
        self._lock = filelock.FileLock(str(path) + ".lock", thread_local=False)

    # connections
    def _reader(self) -> sqlite3.Connection:
        try:
            ino = os.stat(self.path).st_ino
        except FileNotFoundError:
            raise self._missing() from None
        cached = getattr(self._local, "con", None)
        if cached is not None and cached[0] == ino:
            return cached[1]
        if cached is not None:
            cached[1].close()
        con = None
        for flags in ("mode=ro", "immutable=1"):  # immutable: a read-only dir with a -journal left behind
            try:
                con = sqlite3.connect(f"file:{quote(str(self.path))}?{flags}", uri=True, check_same_thread=False)
                con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchall()
                break
            except sqlite3.OperationalError:
                if con is not None:
                    con.close()
                con = None
        if con is None:
            raise SearchUnavailable(f"the search index {self.path} cannot be read: run `arxiv-digest reindex`")
        self._local.con = (ino, con)
        return con

    def _missing(self) -> SearchUnavailable:
        return SearchUnavailable(f"there is no search index ({self.path}) and the data directory is read-only: "
                                 "run `arxiv-digest reindex` where it can be written")

    def _writer(self) -> sqlite3.Connection:
        if not fts5_available():
            raise SearchUnavailable(f"this Python's SQLite ({sqlite3.sqlite_version}) has no FTS5: search needs it")
        con = sqlite3.connect(str(self.path), timeout=30)
        con.execute("PRAGMA busy_timeout = 30000")
        for statement in _CREATE:
            con.execute(statement)
        return con

    def close(self) -> None:
        cached = getattr(self._local, "con", None)
        if cached is not None:
            cached[1].close()
            self._local.con = None

    # state
    def generations(self) -> dict[str, int] | None:
        """Each feed's publication generation the index holds; None when there is no index
        or it is of another schema (then it must be rebuilt)."""
        try:
            rows = dict(self._reader().execute("SELECT key, value FROM meta").fetchall())
        except SearchUnavailable:
            return None
        if rows.get("schema") != SCHEMA:
            return None
        return {k[4:]: int(v) for k, v in rows.items() if k.startswith("gen:")}

    # writes
    def put_day(self, day: Day, generation: int) -> None:
        """Replace the rows of one day (a republished day never leaves duplicates). The
        feed's generation advances only if the index held the one before it; otherwise an
        earlier day is missing and `catch_up` re-reads the feed."""
        with self._lock, closing(self._writer()) as con, con:
            held = con.execute("SELECT value FROM meta WHERE key = ?", (f"gen:{day.feed}",)).fetchone()
            schema = con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            self._write_day(con, day)
            if schema is None:  # a fresh file: other feeds' days are caught up by the next search
                con.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
            elif schema[0] != SCHEMA:
                return
            if (int(held[0]) if held else 0) == generation - 1:  # held every earlier publication
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"gen:{day.feed}", str(generation)))

    @staticmethod
    def _write_day(con: sqlite3.Connection, day: Day) -> None:
        day = scrub(day)
        date = day.date.isoformat()
        _unindex(con, "feed = ? AND date = ?", (day.feed, date))
        low = day.date.toordinal() << _DAY_SHIFT
        last = con.execute("SELECT max(id) FROM entries WHERE id >= ? AND id < ?",
                           (low, low + (1 << _DAY_SHIFT))).fetchone()[0]
        rowid = last + 1 if last is not None else low
        for entry in day.entries:
            fields = entry_fields(entry)
            con.execute("INSERT INTO entries(id, feed, date, arxiv_id, versioned_id, title, authors, abstract, "
                        "analysis, findings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (rowid, day.feed, date, entry.paper.arxiv_id, entry.paper.versioned_id,
                         *(fields[c] for c in COLUMNS)))
            con.execute(f"INSERT INTO fts(rowid, {', '.join(COLUMNS)}, feed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (rowid, *_fts_row(day.feed, (fields[c] for c in COLUMNS))))
            rowid += 1

    def replace_feeds(self, feeds: dict[str, tuple[int, Iterable[Day]]], everything: bool = False,
                      wait: float = -1) -> int:
        """Re-read whole feeds (name → (generation, its days)) in one transaction; with
        `everything`, drop what other feeds left too. Returns the rows written. `wait`:
        seconds to wait for another writer (-1: as long as it takes; else `filelock.Timeout`)."""
        rows = 0
        with self._lock.acquire(timeout=wait), closing(self._writer()) as con, con:
            schema = con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if everything or (schema is not None and schema[0] != SCHEMA):
                con.execute("DELETE FROM entries")
                con.execute("INSERT INTO fts(fts) VALUES ('delete-all')")
                con.execute("DELETE FROM meta")
            for feed, (generation, days) in feeds.items():
                _unindex(con, "feed = ?", (feed,))
                for day in days:
                    self._write_day(con, day)
                    rows += len(day.entries)
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"gen:{feed}", str(generation)))
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA,))
        return rows

    # reads
    def search(self, raw: str, feeds: list[str], page: int = 1, per_page: int = 20,
               feed: str | None = None, held: Iterable[str] | None = None) -> Results:
        """Hits for `raw` among `feeds` (`feed`: the one asked for, if any), best bm25
        first, then newest day. `held`: the feeds the index holds (no filter is needed
        when `feeds` covers them all)."""
        match, words = parse_query(raw)
        con = self._reader()
        if not feeds:
            return Results(raw, feed, page, per_page, 0, ())
        if held is None or not set(held) <= set(feeds):
            match = f"{match} AND {_feed_filter(feeds)}"
        try:
            total = con.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (match,)).fetchone()[0]
            ids = con.execute("SELECT rowid, rank FROM fts WHERE fts MATCH ? ORDER BY rank, rowid DESC "
                              "LIMIT ? OFFSET ?", (match, per_page, (page - 1) * per_page)).fetchall()
            found = {r[0]: r[1:] for r in con.execute(
                "SELECT id, feed, date, arxiv_id, versioned_id, title, authors, abstract, analysis, findings "
                f"FROM entries WHERE id IN ({', '.join('?' * len(ids))})", [i for i, _ in ids])}
        except sqlite3.OperationalError as e:  # a query we built wrongly: a bug, not the user's fault
            raise DigestError(f"search failed: {e}") from e
        pattern = _highlighter(words)
        hits = []
        for rowid, score in ids:
            if rowid not in found:
                continue
            name, date, arxiv_id, vid, title, authors, abstract, analysis, findings = found[rowid]
            names = tuple(a for a in authors.split("\n") if a)
            fields = dict(zip(COLUMNS, (title, ", ".join(names), abstract, analysis, findings)))
            hits.append(Hit(name, dt.date.fromisoformat(date), arxiv_id, vid, title, names, score,
                            snippet(fields, pattern), _parts(title, pattern)))
        return Results(raw, feed, page, per_page, total, tuple(hits))
