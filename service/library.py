"""The reader's own library (a Zotero export or a copy of `zotero.sqlite`) → a frozen `Library`.

A feed spec's `library` names the file; ranking (`similarity.py`) compares each day's
papers with its items. The file is untrusted input: whatever is wrong with it (not found,
malformed, empty, too big, a format we don't read) is one `LibraryError` naming the file
and the problem, and the feed is ranked by its other signals. Parsed libraries are kept
in memory by path, modification time and size, so an unchanged file is read once.

Formats, told apart by their content (not their name): BibTeX (`bibtexparser`), CSL-JSON
(Zotero's "CSL JSON" export), RIS (`rispy`) and Zotero's SQLite database, read-only and
`immutable` because Zotero keeps it locked while it runs (export a copy or point at it).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import DigestError
from .untrusted import clean_text as clean

#: Items beyond this are refused, not truncated: a library that large is not a reader's own
#: papers (export the collection you work from).
MAX_ITEMS = 20_000
#: Text exports beyond this are refused before parsing.
MAX_BYTES = 64 * 1024 * 1024
#: Per-field caps, far above any real title or abstract.
MAX_TITLE, MAX_ABSTRACT = 2_000, 5_000
FORMATS = ("BibTeX", "CSL-JSON", "RIS", "zotero.sqlite")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_BIB_ENTRY = re.compile(rb"^[ \t]*@(?!string\b|comment\b|preamble\b)\w+[ \t]*[{(]", re.I | re.M)
_RIS_ENTRY = re.compile(rb"^TY  - ", re.M)


class LibraryError(DigestError):
    """A library file we cannot use: names the file and what is wrong with it."""

    status, code = 422, "library"

    def __init__(self, file: Path | str, problem: str):
        self.file, self.problem = str(file), problem
        super().__init__(f"library {self.file}: {problem}")


@dataclass(frozen=True)
class LibraryItem:
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    #: When the reader added it (only zotero.sqlite knows); recency weighting prefers it.
    added: dt.date | None = None


@dataclass(frozen=True)
class Library:
    path: str
    format: str
    items: tuple[LibraryItem, ...]


_cache: dict[str, tuple[tuple[int, int], Library]] = {}
_cache_lock = threading.Lock()


def load(path: Path) -> Library:
    """The library at `path`, parsed once per version of the file; `LibraryError` if unusable."""
    try:
        st = path.stat()
    except OSError as e:
        raise LibraryError(path, f"cannot read: {e.strerror or e}") from e
    if not path.is_file():
        raise LibraryError(path, "not a file")
    key, stamp = str(path.resolve()), (st.st_mtime_ns, st.st_size)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    library = parse(path)
    with _cache_lock:
        _cache[key] = (stamp, library)
    return library


def parse(path: Path) -> Library:
    """Read and check one library file, whatever its format (told by its content)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError as e:
        raise LibraryError(path, f"cannot read: {e.strerror or e}") from e
    if head == _SQLITE_MAGIC:
        fmt, items = "zotero.sqlite", _sqlite(path)
    else:
        if path.stat().st_size > MAX_BYTES:
            raise LibraryError(path, f"{path.stat().st_size:,} bytes is more than the {MAX_BYTES:,} read; "
                               "export the collection you work from instead")
        data = path.read_bytes()
        fmt = _sniff(data)
        if fmt is None:
            raise LibraryError(path, f"unknown format: expected one of {', '.join(FORMATS)} "
                               "(Zotero: File → Export Library…)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise LibraryError(path, f"not UTF-8 text (byte {e.start}); export it again as UTF-8") from e
        items = {"BibTeX": _bibtex, "CSL-JSON": _csl, "RIS": _ris}[fmt](path, text, data)
    items = [i for i in items if i is not None]
    if not items:
        raise LibraryError(path, f"no items with a title in this {fmt} file (is it empty?)")
    if len(items) > MAX_ITEMS:
        raise LibraryError(path, f"{len(items):,} items is more than the {MAX_ITEMS:,} used; "
                           "export the collection you work from instead")
    return Library(str(path), fmt, tuple(items))


def _sniff(data: bytes) -> str | None:
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"[", b"{"):
        return "CSL-JSON"
    if _RIS_ENTRY.search(data) or data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"TY  -"):
        return "RIS"
    if _BIB_ENTRY.search(data):  # anywhere: exports may open with a long comment
        return "BibTeX"
    return None


def _too_many(path: Path, count: int) -> None:
    """Refuse a huge file before the slow parse of every entry."""
    if count > MAX_ITEMS:
        raise LibraryError(path, f"{count:,} items is more than the {MAX_ITEMS:,} used; "
                           "export the collection you work from instead")


def _item(title: object, abstract: object = "", authors: list | tuple = (), year: object = None,
          added: dt.date | None = None) -> LibraryItem | None:
    """One checked item; None without a title (notes, attachments, junk)."""
    title = _text(title, MAX_TITLE)
    if not title:
        return None
    return LibraryItem(title, _text(abstract, MAX_ABSTRACT),
                       tuple(a for a in (_name(_text(x, 300)) for x in authors) if a)[:100], _year(year), added)


def _name(name: str) -> str:
    """"Family, Given" → "Given Family", so every format names people alike."""
    family, comma, given = name.partition(",")
    return f"{given.strip()} {family.strip()}".strip() if comma and "," not in given else name


def _text(value: object, cap: int) -> str:
    if not isinstance(value, str):
        return ""
    return " ".join(clean(value).replace("{", "").replace("}", "").split())[:cap]


def _year(value: object) -> int | None:
    m = re.search(r"\b(1[5-9]\d\d|2\d\d\d)\b", str(value)) if value is not None else None
    return int(m.group(1)) if m else None


def _bibtex(path: Path, text: str, data: bytes) -> list[LibraryItem | None]:
    import bibtexparser

    _too_many(path, len(_BIB_ENTRY.findall(data)))
    try:
        parsed = bibtexparser.parse_string(text)
    except Exception as e:  # a parser's own failure on hostile input is still "malformed"
        raise LibraryError(path, f"malformed BibTeX: {e}") from e
    if not parsed.entries and parsed.failed_blocks:
        first = parsed.failed_blocks[0]
        raise LibraryError(path, f"malformed BibTeX: no entry could be read "
                           f"({len(parsed.failed_blocks)} broken, the first at line {first.start_line + 1})")
    items = []
    for entry in parsed.entries:
        f = {k.lower(): _latex(v.value) for k, v in entry.fields_dict.items() if isinstance(v.value, str)}
        authors = [a.strip() for a in re.split(r"\s+and\s+", f.get("author", "")) if a.strip()]
        items.append(_item(f.get("title"), f.get("abstract", ""), authors, f.get("year") or f.get("date")))
    return items


@cache
def _latex_decoder():
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text()


def _latex(value: str) -> str:
    """LaTeX accents and commands as text ({\\'e} → é), only where there are any: decoding
    every field (bibtexparser's LatexDecodingMiddleware) takes minutes on a large library."""
    if "\\" not in value:
        return value
    try:
        return _latex_decoder().latex_to_text(value)
    except Exception:  # an odd macro: the raw text still ranks
        return value


def _csl(path: Path, text: str, data: bytes) -> list[LibraryItem | None]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise LibraryError(path, f"malformed CSL-JSON: {e.msg} at line {e.lineno}, column {e.colno}") from e
    except RecursionError as e:
        raise LibraryError(path, "malformed CSL-JSON: nested too deeply") from e
    if isinstance(doc, dict) and isinstance(doc.get("items"), list):
        doc = doc["items"]
    if not isinstance(doc, list):
        raise LibraryError(path, "malformed CSL-JSON: expected a list of items")
    _too_many(path, len(doc))
    items = []
    for obj in doc:
        if not isinstance(obj, dict):
            continue
        authors = []
        for a in obj.get("author") or ():
            if isinstance(a, dict):
                name = a.get("literal") or " ".join(str(a[k]) for k in ("given", "family") if a.get(k))
                authors.append(name)
        issued = obj.get("issued") if isinstance(obj.get("issued"), dict) else {}
        parts = issued.get("date-parts") or [[issued.get("raw") or issued.get("literal")]]
        year = parts[0][0] if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] else None
        items.append(_item(obj.get("title"), obj.get("abstract", ""), authors, year))
    return items


def _ris(path: Path, text: str, data: bytes) -> list[LibraryItem | None]:
    import rispy

    _too_many(path, len(_RIS_ENTRY.findall(data)))
    try:
        records = rispy.loads(text)
    except Exception as e:  # rispy raises its own exceptions on a broken record
        raise LibraryError(path, f"malformed RIS: {e}") from e
    items = []
    for r in records:
        title = r.get("title") or r.get("primary_title") or r.get("translated_title")
        authors = list(r.get("authors") or r.get("first_authors") or ())
        items.append(_item(title, r.get("abstract", ""), authors, r.get("year") or r.get("date")))
    return items


#: Item types that are not papers (Zotero's schema names).
_NOT_PAPERS = ("attachment", "note", "annotation")


def _sqlite(path: Path) -> list[LibraryItem | None]:
    """Zotero's own tables (items, itemData by field name, creators); read-only, immutable."""
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        with sqlite3.connect(uri, uri=True) as db:
            count = db.execute(
                "SELECT count(*) FROM items i JOIN itemTypes t USING (itemTypeID) "
                f"WHERE t.typeName NOT IN ({','.join('?' * len(_NOT_PAPERS))}) "
                "AND i.itemID NOT IN (SELECT itemID FROM deletedItems)", _NOT_PAPERS).fetchone()[0]
            _too_many(path, count)
            fields: dict[int, dict[str, str]] = {}
            for item_id, name, value in db.execute(
                    "SELECT d.itemID, f.fieldName, v.value FROM itemData d JOIN fields f USING (fieldID) "
                    "JOIN itemDataValues v USING (valueID) WHERE f.fieldName IN ('title', 'abstractNote', 'date')"):
                fields.setdefault(item_id, {})[name] = value
            creators: dict[int, list[str]] = {}
            for item_id, first, last in db.execute(
                    "SELECT ic.itemID, c.firstName, c.lastName FROM itemCreators ic JOIN creators c "
                    "USING (creatorID) ORDER BY ic.itemID, ic.orderIndex"):
                creators.setdefault(item_id, []).append(" ".join(p for p in (first, last) if p))
            rows = db.execute(
                "SELECT i.itemID, i.dateAdded FROM items i JOIN itemTypes t USING (itemTypeID) "
                f"WHERE t.typeName NOT IN ({','.join('?' * len(_NOT_PAPERS))}) "
                "AND i.itemID NOT IN (SELECT itemID FROM deletedItems)", _NOT_PAPERS).fetchall()
    except sqlite3.Error as e:
        raise LibraryError(path, f"not a readable Zotero database: {e}") from e
    items = []
    for item_id, added in rows:
        f = fields.get(item_id, {})
        items.append(_item(f.get("title"), f.get("abstractNote", ""), creators.get(item_id, []),
                           f.get("date"), _date(added)))
    return items


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
