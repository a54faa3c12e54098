"""Serving from a data directory that cannot be written (a read-only mount, a full disk at
start-up): diskcache writes when it opens, so its database is read here directly (SQLite's
read-only modes), with diskcache's own `Disk` to turn rows back into values.

Only reads work; a write raises `sqlite3.OperationalError`, which the document cache already
treats like a full disk (serve what was rendered, store nothing).
"""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import quote

import diskcache


class ReadOnlyCache:
    """The part of `diskcache.Cache`'s interface the store reads with (string keys only)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._disk = diskcache.Disk(str(directory))
        self._local = threading.local()
        self._con()  # fail now, not on the first request, if the database cannot be read at all

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
        return con

    def _connect(self) -> sqlite3.Connection:
        """`mode=ro` reads the write-ahead log too, and works while its -wal and -shm files
        exist; without them everything is in the database file, which `immutable=1` reads."""
        path = quote(str(self.directory / "cache.db"))
        for flags in ("mode=ro", "immutable=1"):
            try:
                con = sqlite3.connect(f"file:{path}?{flags}", uri=True, check_same_thread=False)
                con.execute("SELECT 1 FROM Cache LIMIT 1").fetchall()
                return con
            except sqlite3.OperationalError:
                if flags == "immutable=1":
                    raise
        raise AssertionError("unreachable")

    def get(self, key: str, default=None):
        row = self._con().execute("SELECT expire_time, mode, filename, value FROM Cache WHERE key = ? AND raw = 1",
                                  (key,)).fetchone()
        if row is None:
            return default
        expire_time, mode, filename, value = row
        if expire_time is not None and expire_time < time.time():
            return default
        try:
            return self._disk.fetch(mode, filename, value, False)
        except OSError:  # a value file gone missing
            return default

    def _refuse(self, *args, **kwargs):
        raise sqlite3.OperationalError(f"the data directory {self.directory.parent} is read-only")

    set = incr = delete = transact = _refuse

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None


class ReadOnlyLog(list):
    """A log (`llm_log`, `rejects`) that cannot be appended to; reading shows nothing."""

    def __init__(self, directory: Path):
        super().__init__()
        self.directory = directory

    def append(self, item) -> None:
        raise sqlite3.OperationalError(f"the data directory {self.directory.parent} is read-only")

    @property
    def cache(self) -> "ReadOnlyLog":
        return self

    def close(self) -> None:
        pass
