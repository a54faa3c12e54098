"""Run the quality gate on the labelled corpus: a per-item table, then precision and recall.

    .venv/bin/python -m tests.corpus.report          # table + figures
    .venv/bin/python -m tests.corpus.report --wrong  # only the items the gate gets wrong

"Positive" is a rejection: precision = rejected bad / all rejected, recall = rejected bad /
all bad. An item counts as correctly rejected only when every expected reason code is
among the codes the gate produced.
"""
from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from service.prompts import PromptLibrary
from service.quality import Verdict, check_analysis_text

CORPUS = Path(__file__).resolve().parent


@dataclass
class Item:
    file: str
    language: str
    source: str
    expected: str | list[str]
    note: str
    known_miss: bool = False

    @property
    def bad(self) -> bool:
        return self.expected != "pass"

    def text(self) -> str:
        return (CORPUS / self.file).read_text("utf-8")

    def source_text(self) -> str:
        return (CORPUS / self.source).read_text("utf-8")


def load_items() -> list[Item]:
    data = tomllib.loads((CORPUS / "labels.toml").read_text("utf-8"))
    return [Item(**row) for row in data["item"]]


def judge(item: Item, frameworks=None) -> Verdict:
    return check_analysis_text(item.text(), item.language, frameworks or PromptLibrary().frameworks,
                               item.source_text())


def correct(item: Item, verdict: Verdict) -> bool:
    if not item.bad:
        return verdict.ok
    return set(item.expected) <= set(verdict.codes)


def figures(results: list[tuple[Item, Verdict]]) -> dict[str, float]:
    tp = sum(1 for i, v in results if i.bad and not v.ok)
    fp = sum(1 for i, v in results if not i.bad and not v.ok)
    fn = sum(1 for i, v in results if i.bad and v.ok)
    exact = sum(1 for i, v in results if correct(i, v))
    return {"items": len(results), "bad": sum(i.bad for i, _ in results), "tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "codes_match": exact}


def main(argv: list[str]) -> int:
    frameworks = PromptLibrary().frameworks
    results = [(item, judge(item, frameworks)) for item in load_items()]
    only_wrong = "--wrong" in argv
    print(f"{'item':<34} {'lang':<4} {'expected':<30} {'gate':<38} ok")
    for item, verdict in results:
        ok = correct(item, verdict)
        if only_wrong and ok:
            continue
        expected = "pass" if not item.bad else ",".join(item.expected)
        got = ",".join(verdict.codes) or "pass"
        mark = "yes" if ok else ("KNOWN MISS" if item.known_miss else "NO")
        print(f"{Path(item.file).stem:<34} {item.language:<4} {expected:<30} {got:<38} {mark}")
    f = figures(results)
    print(f"\n{f['items']} items, {f['bad']} bad, {f['items'] - f['bad']} good")
    print(f"reject: {f['tp']} true, {f['fp']} false; missed: {f['fn']}")
    print(f"precision {f['precision']:.3f}  recall {f['recall']:.3f}  "
          f"(expected codes all present: {f['codes_match']}/{f['items']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
