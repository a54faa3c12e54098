"""Write misses.toml: the items the gate gets wrong today (xfailed by tests/test_quality_corpus.py).

    .venv/bin/python -m tests.corpus.misses

Run after a change to the gate; a diff here is a change in behaviour to explain in the commit.
"""
from __future__ import annotations

import sys

from service.prompts import PromptLibrary

from .report import CORPUS, correct, judge, load_items


def main() -> int:
    fw = PromptLibrary().frameworks
    lines = ["# Items the gate gets wrong today (tests/corpus/misses.py writes this; tests/test_quality_corpus.py",
             "# xfails them, and fails when one starts passing). What changed after held-out results were seen is in docs/quality.md.",
             "misses = ["]
    for split in ("dev", "held-out"):
        for item in load_items(split):
            if item.known_miss:
                continue
            verdict = judge(item, fw)
            if not correct(item, verdict):
                expected = "pass" if not item.bad else ",".join(item.expected)
                lines.append(f'  "{item.name}",  # {split}: expected {expected}, gate says {",".join(verdict.codes) or "pass"}')
    (CORPUS / "misses.toml").write_text("\n".join(lines + ["]"]) + "\n", "utf-8")
    print(len(lines) - 3, "misses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
