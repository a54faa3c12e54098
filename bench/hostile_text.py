"""Link scanning of hostile text stays linear: each pathological input at n and 4n characters.

The link policy scans every untrusted text it renders or judges (abstracts, analyses); a
regex that backtracks quadratically would let one 600 kB abstract stall a refresh or a
render. Linear means the 4n time is about 4x the n time, not 16x.

    .venv/bin/python -m bench.hostile_text     # writes bench/results/hostile-text.json
"""
from __future__ import annotations

import json
import time

from bench.common import RESULTS, machine
from service import links

CASES = {"one long word": "a", "colons": "x:", "dotted labels": "a.", "slashes": "/", "at signs": "a@",
         "www": "www.", "mixed punctuation": "ab-cd.ef_gh+"}
N = 100_000


def _time(fn, text: str) -> float:
    started = time.perf_counter()
    fn(text)
    return time.perf_counter() - started


def main() -> None:
    rows = {}
    for name, unit in CASES.items():
        row = {}
        for what, fn in (("escape_text", links.escape_text), ("foreign_links", lambda t: links.foreign_links(t, "")),
                         ("source_links", links.source_links)):
            small, large = (_time(fn, unit * (size // len(unit))) for size in (N, 4 * N))
            row[what] = {"n_s": round(small, 4), "4n_s": round(large, 4), "ratio": round(large / max(small, 1e-6), 1)}
        rows[name] = row
        print(name, {k: v["ratio"] for k, v in row.items()}, flush=True)
    out = {"machine": machine(), "command": ".venv/bin/python -m bench.hostile_text", "n_chars": N, "cases": rows}
    (RESULTS / "hostile-text.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
