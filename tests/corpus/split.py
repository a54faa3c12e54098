"""The dev / held-out split, drawn once by group with a fixed seed.

    .venv/bin/python -m tests.corpus.split      # writes split.toml (adds new groups; never moves old ones)

A group is an analysis and all its mutants, so no held-out item is a variant of a dev item.
The assignment is a hash of (seed, group): deterministic, independent of the order items were
added, and not chosen by anyone looking at results. Thresholds are tuned on dev only. Blind batches
(names starting with BLIND_PREFIXES) go to held-out whole: they measure generalisation.
"""
from __future__ import annotations

import hashlib
import sys
import tomllib

from .report import CORPUS, load_items

SEED = "arxiv-digest-gate-split-2026-11-25"
HELD_OUT_SHARE = 0.5
#: blind batches, written after rounds of tuning and measured once: held-out only, never tuned on
BLIND_PREFIXES = ("c3-", "c4-", "c5-", "c20-", "c21-", "c22-", "c23-", "c24-", "c25-", "c26-", "c27-", "c28-")
#: cases written to tune on (round 4): dev only
DEV_PREFIXES = ("r4-", "c6-", "c7-", "r7-", "c8-", "c9-", "c10-", "c11-", "c12-", "c13-", "c14-", "c15-", "c16-", "c17-", "c18-", "c19-")


def assign(group: str) -> str:
    if group.startswith(BLIND_PREFIXES):
        return "held_out"
    if group.startswith(DEV_PREFIXES):
        return "dev"
    h = int(hashlib.sha256(f"{SEED}:{group}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "held_out" if h < HELD_OUT_SHARE else "dev"


def main() -> int:
    path = CORPUS / "split.toml"
    old = tomllib.loads(path.read_text("utf-8")) if path.is_file() else {"dev": [], "held_out": []}
    known = {g: s for s in ("dev", "held_out") for g in old[s]}
    for group in sorted({i.group for i in load_items()}):
        if group.startswith(BLIND_PREFIXES + DEV_PREFIXES):
            known[group] = assign(group)  # fixed by prefix: a blind batch moves to dev once tuned on
        else:
            known.setdefault(group, assign(group))
    out = {s: sorted(g for g, v in known.items() if v == s) for s in ("dev", "held_out")}
    body = "".join(f"{s} = [\n" + "".join(f'  "{g}",\n' for g in out[s]) + "]\n" for s in ("dev", "held_out"))
    path.write_text("# Drawn by tests/corpus/split.py (hash of seed and group); tune on dev only.\n" + body, "utf-8")
    print({s: len(v) for s, v in out.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
