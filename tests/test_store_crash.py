"""A publication survives SIGKILL at any moment: a real store in a writer process that
republishes days with large values (above diskcache's 32 KB file threshold) is killed
again and again, and after every kill each published day and the feed's current
documents read back whole, the old version or the new one, never missing or torn, and
no row names a value file that is gone (`arxiv-digest recover` is never needed)."""
from __future__ import annotations

import datetime as dt
import gzip
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from service.recover import database_readable
from service.store import SCHEMA, Store

from .store_writer import BASE, DATES, FEEDS, FORMATS, day, doc, stamped

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 32


def _damage(data_dir: Path) -> list[str]:
    """Everything a reader would find missing or torn in the store (empty: all whole)."""
    problems = []
    broken = database_readable(data_dir)
    if broken:
        return [f"database: {broken}"]
    cache = data_dir / "cache"
    con = sqlite3.connect(cache / "cache.db")
    try:
        rows = con.execute("SELECT key, filename FROM Cache WHERE filename IS NOT NULL").fetchall()
    finally:
        con.close()
    problems += [f"{key}: names the missing file {name}" for key, name in rows if not (cache / name).is_file()]
    store = Store(data_dir)
    try:
        for feed in FEEDS:
            dates = store.day_dates(feed)
            for date in dates:
                day = store.get_day(feed, date)
                if day is None:
                    problems.append(f"{feed}/{date}: listed, unreadable")
                elif {e.paper.title for e in day.entries} != {f"{feed} {date} stamp {int(day.cost_usd)}"}:
                    problems.append(f"{feed}/{date}: entries of different publications")
            if not dates:
                continue
            for fmt in FORMATS:
                doc = store.get_doc(feed, fmt, BASE)
                if doc is None:
                    problems.append(f"{feed} {fmt}: no document for generation {store.generation(feed)}")
                    continue
                _, date, _, stamp = doc.body.split(b"\n", 1)[0].decode().split("/")
                if doc.body != stamped(feed, dt.date.fromisoformat(date), fmt, int(stamp)) \
                        or gzip.decompress(doc.gzipped) != doc.body:
                    problems.append(f"{feed} {fmt}: torn document")
    finally:
        store.close()
    return problems


def test_publications_killed_at_random_moments_leave_every_day_readable(tmp_path):
    data_dir = tmp_path / "var"
    rng = random.Random(20261125)
    damaged, before = [], set()
    for round_ in range(ROUNDS):
        child = subprocess.Popen([sys.executable, "-m", "tests.store_writer", str(data_dir), str(round_)],
                                 cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline() == "ready\n"
            time.sleep(rng.uniform(0.02, 0.2))
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        assert child.returncode == -signal.SIGKILL
        problems = set(_damage(data_dir))
        if problems - before:  # damage this kill did (an earlier kill's stays until its day is republished)
            damaged.append((round_, sorted(problems - before)))
        before = problems
    store = Store(data_dir)
    try:
        published = sum(store.generation(f) for f in FEEDS)
    finally:
        store.close()
    assert published > ROUNDS  # the writer got going every round, and the kills came mid-loop
    assert not damaged, f"{len(damaged)} of {ROUNDS} kills left the store damaged: {damaged[:3]}"


def _old_layout(data_dir: Path) -> Store:
    """Make the store at `data_dir` write as stores did before values moved into their rows:
    diskcache's default threshold, 32 KB and more in files (what `Store` set until then)."""
    store = Store(data_dir)
    store.cache.reset("disk_min_file_size", 2**15)
    return store


def _files(store: Store) -> tuple[set[str], set[str]]:
    """Value files on disk, and those the rows name."""
    cache = store.data_dir / "cache"
    on_disk = {p.relative_to(cache).as_posix() for p in cache.rglob("*.val")}
    named = {name for (name,) in store.cache._sql("SELECT filename FROM Cache WHERE filename IS NOT NULL")}
    return on_disk, named


@pytest.mark.parametrize("layout", ["inline", "files written before"])
def test_a_publication_rolled_back_leaves_the_day_it_replaced_readable(tmp_path, layout):
    """The same hole without a kill: an enclosing transaction that fails after a publication
    (so the COMMIT never comes) rolled back to rows whose value files the publication had
    already removed. A store written before keeps its files until each row is rewritten, so
    their removal must wait for the COMMIT too."""
    rng = random.Random(1)
    feed, date = FEEDS[0], DATES[0]
    first = day(feed, date, 1, rng)
    docs = {(fmt, BASE): doc(stamped(feed, date, fmt, 1)) for fmt in FORMATS}
    writer = _old_layout(tmp_path / "var") if layout != "inline" else Store(tmp_path / "var")
    writer.publish(first, docs)
    writer.close()
    store = Store(tmp_path / "var")
    try:
        assert bool(_files(store)[1]) == (layout != "inline")
        try:
            with store.cache.transact():
                store.publish(day(feed, date, 2, rng), {(fmt, BASE): doc(stamped(feed, date, fmt, 2))
                                                        for fmt in FORMATS})
                raise RuntimeError("failed before the COMMIT")
        except RuntimeError:
            pass
        assert store.get_day(feed, date) == first
        assert {fmt: store.get_doc(feed, fmt, BASE) for fmt in FORMATS} == {fmt: docs[fmt, BASE] for fmt in FORMATS}
        on_disk, named = _files(store)
        assert on_disk == named  # the rolled-back publication left no file behind
    finally:
        store.close()


def test_a_store_written_with_value_files_stays_readable_and_moves_into_rows_as_it_is_rewritten(tmp_path):
    rng = random.Random(2)
    days = {(f, d): day(f, d, 1, rng) for f in FEEDS for d in DATES}
    docs = {f: {(fmt, BASE): doc(stamped(f, DATES[-1], fmt, 1)) for fmt in FORMATS} for f in FEEDS}
    old = _old_layout(tmp_path / "var")
    for (f, d), one in days.items():
        old.publish(one, docs[f] if d == DATES[-1] else {})
    old.close()
    store = Store(tmp_path / "var")
    try:
        on_disk, named = _files(store)
        assert len(named) == len(days) + len(FEEDS) * len(FORMATS) and on_disk == named
        assert all(store.get_day(f, d) == one for (f, d), one in days.items())
        assert all(store.get_doc(f, fmt, BASE) == docs[f][fmt, BASE] for f in FEEDS for fmt in FORMATS)
        again = day(FEEDS[0], DATES[-1], 2, rng)
        store.publish(again, {(fmt, BASE): doc(stamped(FEEDS[0], DATES[-1], fmt, 2)) for fmt in FORMATS})
        assert store.get_day(FEEDS[0], DATES[-1]) == again
        on_disk, named = _files(store)  # the rewritten rows are inline now, their old files gone
        assert len(named) == len(days) - 1 + (len(FEEDS) - 1) * len(FORMATS) and on_disk == named
    finally:
        store.close()


def test_a_reader_never_finds_a_published_day_missing_while_it_is_republished(tmp_path):
    """With values in files, a reader whose row lookup came just before a republication's
    COMMIT opened the file that the writer removed right after it, and read the day as
    missing (a 404 for a listed day, mid-publication); values in their rows commit with them."""
    writer, reader, rng = Store(tmp_path / "var"), Store(tmp_path / "var"), random.Random(3)
    feed, date = FEEDS[0], DATES[0]
    writer.publish(day(feed, date, 1, rng), {})
    done, reads, missing = threading.Event(), [0], [0]

    def read() -> None:
        while not done.is_set():
            reads[0] += 1
            missing[0] += reader.get_day(feed, date) is None

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for stamp in range(2, 250):
            writer.publish(day(feed, date, stamp, rng), {})
    finally:
        done.set()
        thread.join()
        writer.close(), reader.close()
    assert reads[0] > 250 and missing[0] == 0, f"{missing[0]} of {reads[0]} reads found no day"
