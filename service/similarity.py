"""How close each of the day's papers is to the reader's library: TF-IDF, no model download.

Title and abstract of the library's items and of the day's candidates are turned into one
TF-IDF space (scikit-learn, fitted on both, so a word common to the whole day counts
little); a candidate's similarity is the mean cosine of its `TOP_K` nearest library items,
each weighted by how recent it is (the year it was added, else published), so the reader's
current work counts more than a classic from long ago. arxiv-sanity-lite ranks with the same
features and a linear SVM; on our labelled days (`docs/ranking.md`) the nearest-items mean
ranked at least as well and explains itself: the nearest items are the "why".

The library's term counts are the slow part (reading every item's words: seconds for
20,000 items), so they are computed once per version of its content and cached in memory
and on disk (`fit`); each day counts only its own papers and weighs both sides anew.

scikit-learn is imported when a library is scored, never by the web app.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .library import Library, LibraryItem

log = logging.getLogger(__name__)

#: Library items a candidate's similarity is the mean of (5 on the tuning days of
#: tests/ranking: 1 and 3 ranked worse, 8 a little better, but a small k keeps a library's
#: smaller topics visible).
TOP_K = 5
#: Nearest items named in the "why" at most, and the cosine one must reach to be named.
SHOWN, SHOWN_MIN = 2, 0.10
#: Recency: weight of an item `HALF_LIFE` years old relative to a new one is 1/2 above FLOOR.
HALF_LIFE, FLOOR = 4.0, 0.5


@dataclass(frozen=True)
class Match:
    """One candidate against the library: similarity in [0, 1] and the nearest items' titles."""

    similarity: float
    nearest: tuple[str, ...] = ()


def recency(item: LibraryItem, today: dt.date) -> float:
    """1 for an item of this year, falling to FLOOR for old ones."""
    year = item.added.year if item.added else item.year
    if year is None:
        return FLOOR + (1 - FLOOR) / 2
    age = max(0, today.year - year)
    return FLOOR + (1 - FLOOR) * 0.5 ** (age / HALF_LIFE)


def _text(title: str, abstract: str) -> str:
    return f"{title}. {title}. {abstract}"  # the title says what a paper is about: count it twice


#: Term columns: terms are hashed (no vocabulary to build, sort or keep: a 20,000-item
#: library's unigrams and bigrams are millions of strings). At 2^31 buckets, ~0.1% of the
#: 2.6 million terms of bench/library.py's 20,000 synthetic items share a bucket with another
#: (at 2^24, two of the labelled day's 50 similarities already moved by 1e-4); a shared bucket
#: merges two terms' counts. Only the buckets used become columns.
N_FEATURES = 2 ** 31 - 1
#: Fitted libraries kept in memory, the least recently used dropped (a 20,000-item library's are ~50 MB).
KEPT = 2
#: Files kept in the on-disk cache of fitted libraries (the least recently used go).
KEPT_ON_DISK = 8
#: Changes whenever the features change: cached fits of an older kind are not read.
FEATURES_VERSION = 1


@dataclass(frozen=True)
class Fitted:
    """A library's term counts, computed once per version of its content (the slow part of
    ranking: reading every item's words) and reused by every day ranked against it."""

    #: Sorted hashed-term buckets the library uses: column j of `tf` is bucket `cols[j]`.
    cols: object
    #: Items × columns, sublinear term frequency (1 + ln count), scipy CSR, float32.
    tf: object
    #: Items each column occurs in.
    df: object


_fitted: dict[str, Fitted] = {}
_fitted_lock = threading.Lock()


@cache
def _hasher():
    import numpy as np
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(n_features=N_FEATURES, alternate_sign=False, norm=None, stop_words="english",
                             strip_accents="unicode", ngram_range=(1, 2), dtype=np.float32)


def _counts(texts: list[str]):
    """Sublinear term frequencies (CSR, hashed columns, sorted indices) of each text."""
    import numpy as np

    x = _hasher().transform(texts).tocsr()
    x.sum_duplicates()
    x.data = (1.0 + np.log(x.data)).astype(np.float32)
    return x


def content_hash(library: Library) -> str:
    """What the fit depends on: the items' words, in order, and the features' settings."""
    h = hashlib.sha256(f"{FEATURES_VERSION}:{N_FEATURES}".encode())
    for i in library.items:
        h.update(_text(i.title, i.abstract).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def fit(library: Library, cache_dir: Path | None = None) -> Fitted:
    """The library's `Fitted` counts: from memory, else the disk cache, else computed (and
    cached on disk, written whole then renamed, so a reader never sees half a file)."""
    key = content_hash(library)
    with _fitted_lock:
        hit = _fitted.pop(key, None)
        if hit is not None:
            _fitted[key] = hit  # most recent last
    if hit is not None:
        if cache_dir and not (cache_dir / f"{key}.npz").exists():
            _write(cache_dir, key, hit)
        return hit
    fitted = _read(cache_dir / f"{key}.npz") if cache_dir else None
    if fitted is None:
        fitted = _compute(library)
        if cache_dir:
            _write(cache_dir, key, fitted)
    with _fitted_lock:
        _fitted[key] = fitted
        while len(_fitted) > KEPT:
            _fitted.pop(next(iter(_fitted)))
    return fitted


def _compute(library: Library) -> Fitted:
    import numpy as np
    from scipy import sparse

    x = _counts([_text(i.title, i.abstract) for i in library.items])
    cols, inverse = np.unique(x.indices, return_inverse=True)  # monotone: rows stay sorted
    tf = sparse.csr_matrix((x.data, inverse.astype(np.int32), x.indptr), shape=(x.shape[0], len(cols)))
    df = np.bincount(tf.indices, minlength=len(cols)).astype(np.int64)
    return Fitted(cols.astype(np.int64), tf, df)


def _read(path: Path) -> Fitted | None:
    """A cached fit, or None when there is none or it cannot be used (it is derived data)."""
    import numpy as np
    from scipy import sparse

    try:
        with np.load(path, allow_pickle=False) as f:
            shape = tuple(int(v) for v in f["shape"])
            tf = sparse.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=shape)
            fitted = Fitted(f["cols"], tf, f["df"])
        if len(fitted.cols) != shape[1] or len(fitted.df) != shape[1] or \
                not (fitted.cols[1:] > fitted.cols[:-1]).all():  # sorted: looked up by bisection
            return None
        tf.check_format(full_check=True)  # indices within bounds: a damaged file is refused
        os.utime(path)  # recently used: kept
        return fitted
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None


def _write(cache_dir: Path, key: str, fitted: Fitted) -> None:
    import numpy as np

    tmp = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".tmp-", suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, cols=fitted.cols, df=fitted.df, data=fitted.tf.data, indices=fitted.tf.indices,
                     indptr=fitted.tf.indptr, shape=np.array(fitted.tf.shape))
        os.replace(tmp, cache_dir / f"{key}.npz")
        tmp = None
        files = sorted(cache_dir.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[KEPT_ON_DISK:]:
            old.unlink(missing_ok=True)
    except OSError as e:  # a full or read-only disk costs speed, not the ranking
        log.warning("library features not cached in %s: %s", cache_dir, e)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()


def _weighted(x, idf):
    """Rows of `x` weighted by `idf` and L2-normalised, in one pass over the stored values
    (multiplying by a diagonal matrix took most of a cached ranking's time)."""
    import numpy as np
    from scipy import sparse

    data = x.data * idf[x.indices]
    lengths = np.diff(x.indptr)
    sums = np.zeros(len(lengths), dtype=np.float64)
    rows = lengths > 0
    sums[rows] = np.add.reduceat((data.astype(np.float64)) ** 2, x.indptr[:-1][rows])
    norms = np.sqrt(sums)
    norms[norms == 0] = 1.0
    data = (data / np.repeat(norms, lengths)).astype(np.float32)
    return sparse.csr_matrix((data, x.indices, x.indptr), shape=x.shape)


def match(library: Library, candidates: Sequence[tuple[str, str]], today: dt.date,
          cache_dir: Path | None = None) -> list[Match]:
    """One `Match` per (title, abstract) candidate, in order. The TF-IDF space is the
    library's and the day's documents together (the day's common words weigh little); only
    the library's counts are reused (`fit`, cached in `cache_dir` by content), the weights
    are computed for each day."""
    if not candidates or not library.items:
        return [Match(0.0) for _ in candidates]
    import numpy as np
    from scipy import sparse

    lib = fit(library, cache_dir)
    day = _counts([_text(t, a) for t, a in candidates])
    # the day's buckets as columns: the library's where it has them, new ones after
    n_lib = len(lib.cols)
    pos = np.searchsorted(lib.cols, day.indices)
    known = pos < n_lib
    known[known] = lib.cols[pos[known]] == day.indices[known]
    new_buckets, new_index = np.unique(day.indices[~known], return_inverse=True)
    cols = np.where(known, pos, 0)
    cols[~known] = n_lib + new_index
    day = sparse.csr_matrix((day.data, cols.astype(np.int32), day.indptr), shape=(day.shape[0], n_lib + len(new_buckets)))
    # smooth idf over library and day, as scikit-learn's TfidfTransformer computes it
    n = library_size = len(library.items)
    n += day.shape[0]
    df = np.bincount(day.indices, minlength=day.shape[1]).astype(np.float64)
    df[:n_lib] += lib.df
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    x_lib = _weighted(lib.tf, idf[:n_lib])
    x_day = _weighted(day, idf)[:, :n_lib]
    if x_lib.nnz == 0 or x_day.nnz == 0:  # nothing but stop words on one side
        return [Match(0.0) for _ in candidates]
    sims = (x_day @ x_lib.T).toarray()  # rows are L2-normalised: cosine
    weights = np.array([recency(i, today) for i in library.items], dtype=np.float32)
    weighted = sims * weights
    k = min(TOP_K, library_size)
    out = []
    for row, raw in zip(weighted, sims):
        top = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
        top = top[np.argsort(-row[top])]
        shown = tuple(library.items[j].title for j in top[:SHOWN] if raw[j] >= SHOWN_MIN)
        out.append(Match(float(row[top].mean()), shown))
    return out


def blend(library: Library, words: Sequence[Match], candidates: Sequence[tuple[str, str]], vectors,
          today: dt.date, max_items: int) -> list[Match]:
    """`words` (the TF-IDF matches) blended half and half with closeness in meaning:
    `vectors(texts)` gives L2-normalised embeddings (`embeddings.Embedder`) of the library's
    `max_items` most recent items and of the candidates, and a candidate's closeness is the
    same recency-weighted mean of its `TOP_K` nearest items. Embedding cosines sit on a
    model-dependent floor (unrelated texts are 0.3–0.6 apart, not 0), so closeness counts
    from the day's median: a typical paper of the day gets 0, the closest ones up to 1. The
    nearest items by meaning join the "why" after those by words. Raises what `vectors`
    raises (the caller ranks by words alone then)."""
    import numpy as np

    if not candidates or not library.items:
        return list(words)
    newest = sorted(range(len(library.items)), key=lambda j: -(recency(library.items[j], today)))[:max_items]
    texts = [_text(library.items[j].title, library.items[j].abstract) for j in newest]
    vecs = vectors(texts + [_text(t, a) for t, a in candidates])
    lib, day = vecs[:len(texts)], vecs[len(texts):]
    sims = day @ lib.T
    weights = np.array([recency(library.items[j], today) for j in newest], dtype=np.float32)
    weighted = sims * weights
    k = min(TOP_K, len(newest))
    tops = np.argsort(-weighted, axis=1)[:, :k]
    raw = np.take_along_axis(weighted, tops, axis=1).mean(axis=1)
    floor = float(np.median(raw))
    close = np.clip((raw - floor) / max(1e-6, 1.0 - floor), 0.0, 1.0)
    out = []
    for m, c, top, row in zip(words, close, tops, sims):
        by_meaning = tuple(library.items[newest[j]].title for j in top[:SHOWN] if c > 0 and row[j] > floor)
        shown = tuple(dict.fromkeys(m.nearest + by_meaning))[:SHOWN]
        out.append(Match((m.similarity + float(c)) / 2, shown))
    return out
