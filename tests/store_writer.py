"""A process that republishes days with large values until it is killed (tests/test_store_crash.py).

Run as `python -m tests.store_writer <data_dir> <seed>`: it opens the real store, prints
"ready", then publishes forever, each publication stamped with a number one higher than
what the store holds, in the day (`cost_usd`, every entry's title) and in every document
(`stamped`), so the killing test can tell a whole old or new version from a torn one.
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import random
import sys
from pathlib import Path

from service.models import (AnnounceType, Day, Entry, EntryStatus, PaperMeta, RenderedDoc, TextSource)
from service.store import Store

FEEDS = ("f1", "f2")
DATES = tuple(dt.date(2026, 1, 26) + dt.timedelta(days=i) for i in range(3))
FORMATS = ("atom", "rss", "json", "html")
BASE = "https://digest.example"
#: Entries a day: with their ~2 KB abstracts a day pickles to ~50 KB (diskcache's default
#: puts values of 32 KB and more in files of their own).
ENTRIES = 24
DOC_BYTES = 48_000
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def stamped(feed: str, date: dt.date, fmt: str, stamp: int) -> bytes:
    """A document body that says which publication wrote it, ~48 KB, hardly compressible."""
    head = f"{feed}/{date}/{fmt}/{stamp}\n".encode()
    seed = hashlib.sha256(head).digest()
    blocks = (hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(DOC_BYTES // 32))
    return head + b"".join(blocks)


def doc(body: bytes) -> RenderedDoc:
    return RenderedDoc(body, gzip.compress(body, mtime=0), hashlib.sha256(body).hexdigest()[:16],
                       "application/octet-stream", T0)


def day(feed: str, date: dt.date, stamp: int, rng: random.Random) -> Day:
    words = [f"w{rng.randrange(10_000)}" for _ in range(400)]
    entries = tuple(Entry(
        paper=PaperMeta(arxiv_id=f"2601.{i:05d}", version=1, title=f"{feed} {date} stamp {stamp}",
                        authors=("A. Author",), abstract=" ".join(rng.sample(words, 300)),
                        categories=("cs.CV",), published=T0, updated=T0),
        announce_type=AnnounceType.NEW, status=EntryStatus.DISABLED, source=TextSource.ABSTRACT,
        analysis=None, findings=()) for i in range(ENTRIES))
    return Day(feed=feed, date=date, entries=entries, summary=None, summary_status=EntryStatus.DISABLED,
               published=T0, updated=T0, cost_usd=float(stamp))


def main(data_dir: str, seed: int) -> None:
    rng = random.Random(seed)
    store = Store(Path(data_dir))
    stamp = 1 + max((int(d.cost_usd) for f in FEEDS for date in DATES if (d := store.get_day(f, date))),
                    default=0)
    print("ready", flush=True)
    while True:
        feed, date = rng.choice(FEEDS), rng.choice(DATES)
        published = day(feed, date, stamp, rng)
        store.publish(published, {(fmt, BASE): doc(stamped(feed, date, fmt, stamp)) for fmt in FORMATS})
        stamp += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
