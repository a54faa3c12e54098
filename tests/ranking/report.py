"""NDCG@10 and recall@10 of each ranking signal on the labelled days: `.venv/bin/python -m tests.ranking.report`.

The library (`library.bib`, ~30 papers on visual SLAM and 3D reconstruction) and the days
(`days/*.toml`, each paper marked `wanted` or not) are described in docs/ranking.md. Days
with `split = "tune"` were used to choose the method and its constants; the `heldout`
day was not. Rankings are the service's own: `select.rank_all` and `select.select`.
"""
from __future__ import annotations

import datetime as dt
import math
import random
import sys
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from service.library import Library, load
from service.models import AnnounceType, FeedSpec, ListingItem
from service.select import rank_all, select

HERE = Path(__file__).parent
K = 10
#: What a holder of this library would write in a spec: its field's words and its people.
SPEC = FeedSpec(name="ranking", path=HERE / "spec.toml", title="Ranking", categories=("cs.CV",), max_papers=0,
                keywords=("SLAM", "visual odometry", "structure from motion", "3D reconstruction",
                          "bundle adjustment"),
                authors=("Luca Carlone", "Andrew J. Davison", "Daniel Cremers", "Marc Pollefeys"))
NONE = replace(SPEC, keywords=(), authors=())
#: signal name → (spec, whether the library is used)
SIGNALS: dict[str, tuple[FeedSpec, bool]] = {
    "listing order (no ranking)": (NONE, False),
    "keywords only": (replace(NONE, keywords=SPEC.keywords), False),
    "authors only": (replace(NONE, authors=SPEC.authors), False),
    "TF-IDF library only": (NONE, True),
    "keywords + authors": (SPEC, False),
    "combination (keywords + authors + library)": (SPEC, True),
}


@dataclass(frozen=True)
class LabelledDay:
    date: dt.date
    split: str
    items: tuple[ListingItem, ...]
    wanted: frozenset[str]


def days() -> list[LabelledDay]:
    out = []
    for path in sorted((HERE / "days").glob("*.toml")):
        doc = tomllib.loads(path.read_text("utf-8"))
        items = [ListingItem(p["id"], 1, AnnounceType.NEW, p["title"], p["abstract"], tuple(p["authors"]),
                             ("cs.CV",)) for p in doc["paper"]]
        # the files were written theme first; arXiv's order has nothing to do with a reader's
        # interest, so the listing is shuffled (the same way every run)
        random.Random(doc["date"]).shuffle(items)
        wanted = frozenset(p["id"] for p in doc["paper"] if p["wanted"])
        out.append(LabelledDay(dt.date.fromisoformat(doc["date"]), doc["split"], tuple(items), wanted))
    return out


def library() -> Library:
    return load(HERE / "library.bib")


def ranked(day: LabelledDay, spec: FeedSpec, lib: Library | None) -> list[str]:
    """The day's ids in the order the service would analyse them."""
    return [i.arxiv_id for i in select(spec, day.items, rank_all(spec, day.items, lib, day.date))]


def ndcg(order: list[str], wanted: frozenset[str], k: int = K) -> float:
    dcg = sum(1 / math.log2(n + 2) for n, i in enumerate(order[:k]) if i in wanted)
    ideal = sum(1 / math.log2(n + 2) for n in range(min(k, len(wanted))))
    return dcg / ideal if ideal else 0.0


def recall(order: list[str], wanted: frozenset[str], k: int = K) -> float:
    return len(set(order[:k]) & wanted) / len(wanted) if wanted else 0.0


def scores(split: str) -> dict[str, tuple[float, float]]:
    """signal → (mean NDCG@10, mean recall@10) over the days of `split`."""
    lib = library()
    chosen = [d for d in days() if d.split == split]
    out = {}
    for name, (spec, with_lib) in SIGNALS.items():
        orders = [(ranked(d, spec, lib if with_lib else None), d.wanted) for d in chosen]
        out[name] = (sum(ndcg(o, w) for o, w in orders) / len(orders),
                     sum(recall(o, w) for o, w in orders) / len(orders))
    return out


def table(splits: tuple[str, ...] = ("tune", "heldout")) -> str:
    all_days = days()
    lines = []
    for split in splits:
        chosen = [d for d in all_days if d.split == split]
        label = ", ".join(f"{d.date} ({len(d.items)} papers, {len(d.wanted)} wanted)" for d in chosen)
        lines += [f"**{split}** — {label}", "", "| signal | NDCG@10 | recall@10 |", "| --- | --- | --- |"]
        lines += [f"| {name} | {n:.3f} | {r:.3f} |" for name, (n, r) in scores(split).items()]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    # `--tune`: the tuning days only, for choosing constants without seeing the held-out day
    print(table(("tune",) if "--tune" in sys.argv else ("tune", "heldout")))
