"""Speed of the reader's library: parsing each export format, and ranking a day against it.

    .venv/bin/python -m bench.library        # results in bench/results/library.json

Libraries of 1,000, 5,000 and 20,000 (the most we read) items with ~120-word abstracts made
from the labelled set's words (tests/ranking, seeded), written as CSL-JSON, BibTeX and RIS;
a day of 400 candidates (a big cs.CV day) ranked with `select.rank_all`: the first day against
a library (its counts fitted and cached on disk) and later days (read from that cache, nothing
in memory: a new process). Parsing happens once per version of the file (then it is kept in
memory); ranking once per refresh.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_result  # noqa: E402
from service import similarity  # noqa: E402
from service.library import parse  # noqa: E402
from service.models import AnnounceType, FeedSpec, ListingItem  # noqa: E402
from service.select import rank_all  # noqa: E402
from tests.ranking.report import days, library  # noqa: E402

SIZES = (1_000, 5_000, 20_000)
CANDIDATES = 400


def vocabulary() -> list[str]:
    text = " ".join(f"{i.title} {i.abstract}" for i in library().items)
    text += " ".join(f"{i.title} {i.abstract}" for d in days() for i in d.items)
    return re.findall(r"[A-Za-z][A-Za-z-]+", text)


def write(directory: Path, n: int, words: list[str], rnd: random.Random) -> dict[str, Path]:
    items = [{"title": " ".join(rnd.choices(words, k=9)).capitalize(), "abstract": " ".join(rnd.choices(words, k=120)),
              "author": [{"family": rnd.choice(words), "given": rnd.choice(words)}],
              "issued": {"date-parts": [[rnd.randint(2000, 2026)]]}} for _ in range(n)]
    paths = {fmt: directory / f"lib-{n}.{ext}" for fmt, ext in (("CSL-JSON", "json"), ("BibTeX", "bib"),
                                                                  ("RIS", "ris"))}
    paths["CSL-JSON"].write_text(json.dumps(items), "utf-8")
    paths["BibTeX"].write_text("".join(
        f"@article{{k{k}, title={{{i['title']}}}, author={{{i['author'][0]['family']}, {i['author'][0]['given']}}}, "
        f"year={{{i['issued']['date-parts'][0][0]}}}, abstract={{{i['abstract']}}}}}\n" for k, i in enumerate(items)),
        "utf-8")
    paths["RIS"].write_text("".join(
        f"TY  - JOUR\nTI  - {i['title']}\nAU  - {i['author'][0]['family']}, {i['author'][0]['given']}\n"
        f"PY  - {i['issued']['date-parts'][0][0]}\nAB  - {i['abstract']}\nER  - \n\n" for i in items), "utf-8")
    return paths


def main() -> None:
    rnd = random.Random(15)
    words = vocabulary()
    spec = FeedSpec(name="bench", path=None, title="B", categories=("cs.CV",), keywords=("SLAM",))
    day = tuple(ListingItem(f"2603.{k:05d}", 1, AnnounceType.NEW, " ".join(rnd.choices(words, k=10)),
                            " ".join(rnd.choices(words, k=150)), ("A. B",), ("cs.CV",)) for k in range(CANDIDATES))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            row: dict = {"items": n}
            for fmt, path in write(Path(tmp), n, words, rnd).items():
                start = time.perf_counter()
                lib = parse(path)
                row[f"parse_s_{fmt}"] = round(time.perf_counter() - start, 3)
                row[f"bytes_{fmt}"] = path.stat().st_size
            cache = Path(tmp) / f"features-{n}"
            similarity._fitted.clear()  # the first day against this library: counts are fitted
            start = time.perf_counter()
            rank_all(spec, day, lib, dt.date(2026, 3, 2), cache)
            row["rank_day_s_first"] = round(time.perf_counter() - start, 3)
            runs = []
            for _ in range(3):  # later days: the fitted counts from the disk cache (a new process)
                similarity._fitted.clear()
                start = time.perf_counter()
                rank_all(spec, day, lib, dt.date(2026, 3, 2), cache)
                runs.append(time.perf_counter() - start)
            row["rank_day_s_cached_median_of_3"] = round(sorted(runs)[1], 3)
            row["features_cache_bytes"] = sum(f.stat().st_size for f in cache.glob("*.npz"))
            results.append(row)
            print(row, flush=True)
    path = write_result("library", {"command": ".venv/bin/python -m bench.library", "candidates": CANDIDATES,
                                    "results": results})
    print(path.read_text("utf-8"))


if __name__ == "__main__":
    main()
