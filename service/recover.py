"""A second copy of everything published, as plain files, and `arxiv-digest recover`, which
rebuilds the store's published days from it.

The store (one SQLite file) holds the only copy of each published day; a corrupt
`cache.db` would lose them all. So every publication also writes, after the store's
transaction committed, under `<DIGEST_DATA_DIR>/published/`:

- `days/<feed>/<date>.day`: the `Day` exactly as the store holds it (a pickle, as diskcache
  stores its values: the same trust as the database next to it);
- `site/…`: the documents rendered for `DIGEST_PUBLIC_URL` at publication (the feeds, the
  day's documents and its neighbours', the first page of days), in export-site's layout,
  so nginx could serve them while the store is broken (`export_site.file_for`).

Each file is written atomically (a temporary file renamed over it) at a path confined to
the directory (feed names and dates are ours, but nothing upstream may steer a write).
`recover` moves an unreadable database aside, opens a fresh store and publishes every
copied day again, oldest first: the documents are rendered from the same days and specs,
so they come out byte for byte as before, which it checks against the copied files.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import pickle
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .export_site import _write, confined, file_for
from .models import Day, FeedSpec, RenderedDoc, utcnow
from .urls import Urls

log = logging.getLogger(__name__)

COPY_DIR = "published"
_PATHS = Urls("")


def copy_dir(data_dir: Path) -> Path:
    return Path(data_dir) / COPY_DIR


def _day_file(directory: Path, feed: str, date: dt.date) -> Path | None:
    return confined(directory, f"days/{feed}/{date.isoformat()}.day")


def _urls(feed: str, rendered: dict[tuple[str, str], RenderedDoc]) -> Iterator[tuple[str, RenderedDoc]]:
    """(URL path, document) of what `Documents.for_publication` rendered, by its keys
    (`<spec>:<fmt>`, `<spec>:day:<date>:<fmt>`, `<spec>:days:<page>:<per_page>`)."""
    for (key, _base), doc in rendered.items():
        parts = key.split(":")
        try:
            if len(parts) == 2:
                yield _PATHS.feed(feed, parts[1]), doc
            elif parts[1] == "day":
                date, fmt = dt.date.fromisoformat(parts[2]), parts[3]
                yield (_PATHS.day(feed, date, fmt), doc)
            elif parts[1] == "days" and parts[2] == "1":
                yield f"/api/v1/feeds/{feed}/days", doc
        except (IndexError, KeyError, ValueError):
            log.warning("published copy: no file for the document key %r", key)


def write_copy(data_dir: Path, day: Day, rendered: dict[tuple[str, str], RenderedDoc]) -> int:
    """Write the day and its rendered documents as files; how many files changed."""
    directory = copy_dir(data_dir)
    path = _day_file(directory, day.feed, day.date)
    if path is None:
        raise OSError(f"published copy: {day.feed}/{day.date} is not a plain path under {directory}")
    written = _write(path, pickle.dumps(day, protocol=pickle.HIGHEST_PROTOCOL), day.updated.timestamp())
    for url, doc in _urls(day.feed, rendered):
        rel = "site/" + file_for(url, doc.content_type)
        target = confined(directory, rel)
        if target is None:
            log.error("published copy: not writing %r outside %s", url, directory)
            continue
        written += _write(target, doc.body, doc.last_modified.timestamp())
    return written


def copied_days(data_dir: Path) -> list[Path]:
    """Every copied day file, oldest date first (then by feed)."""
    root = copy_dir(data_dir) / "days"
    if not root.is_dir():
        return []
    found = [p for feed in root.iterdir() if feed.is_dir() for p in feed.glob("*.day")]
    return sorted(found, key=lambda p: (p.stem, p.parent.name))


def copy_report(data_dir: Path) -> dict:
    """For /healthz: where the copy is and how many days it holds (no database needed)."""
    return {"directory": str(copy_dir(data_dir)), "days": len(copied_days(data_dir)),
            "recover": "arxiv-digest recover rebuilds the store's published days from it"}


def database_readable(data_dir: Path) -> str | None:
    """None if the store's database opens and passes SQLite's quick check, else why not."""
    db = Path(data_dir) / "cache" / "cache.db"
    if not db.is_file():
        return None  # no store yet: a fresh one is made
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            verdict = con.execute("PRAGMA quick_check").fetchone()[0]
            con.execute("SELECT count(*) FROM Cache").fetchone()
        finally:
            con.close()
    except sqlite3.Error as e:
        return f"{type(e).__name__}: {e}"
    return None if verdict == "ok" else f"quick_check: {verdict}"


@dataclass
class Recovery:
    moved_aside: Path | None = None
    restored: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: Copied document files whose bytes the recovered store does not render again.
    mismatched: list[str] = field(default_factory=list)
    checked: int = 0


def recover(settings, specs: dict[str, FeedSpec] | None = None) -> Recovery:
    """Rebuild the store's published days from the copy (see the module docstring)."""
    from .pipeline import make_digest

    out = Recovery()
    broken = database_readable(settings.data_dir)
    if broken:
        cache = Path(settings.data_dir) / "cache"
        out.moved_aside = cache.with_name(f"cache.unreadable-{utcnow().strftime('%Y%m%dT%H%M%S')}")
        log.warning("the store's database is unreadable (%s): moving %s to %s", broken, cache, out.moved_aside)
        os.replace(cache, out.moved_aside)
    digest = make_digest(settings)
    try:
        specs = specs or digest.specs
        for path in copied_days(settings.data_dir):
            try:
                day = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, as trusted as cache.db
            except Exception as e:  # noqa: BLE001 - a damaged copy of one day must not stop the others
                out.skipped.append(f"{path}: unreadable ({type(e).__name__}: {e})")
                continue
            if not isinstance(day, Day):
                out.skipped.append(f"{path}: holds a {type(day).__name__}, not a day")
                continue
            name = f"{day.feed}/{day.date.isoformat()}"
            spec = specs.get(day.feed)
            if spec is None:
                out.skipped.append(f"{name}: no feed spec named {day.feed!r}")
                continue
            if digest.store.get_day(day.feed, day.date) == day:
                out.already.append(name)
                continue
            digest.store.publish(day, digest.documents.for_publication(spec, day))
            out.restored.append(name)
        _verify(digest, settings, out)
    finally:
        digest.close()
    return out


def _verify(digest, settings, out: Recovery) -> None:
    """Every copied document file must be what the store now serves at its URL."""
    from .export_site import documents

    site = copy_dir(settings.data_dir) / "site"
    if not settings.public_url or not site.is_dir():
        return
    for url, doc in documents(digest, settings.public_url):
        path = confined(site, file_for(url, doc.content_type))
        if path is None or not path.is_file():
            continue
        out.checked += 1
        if path.read_bytes() != doc.body:
            out.mismatched.append(url)
