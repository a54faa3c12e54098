"""Run the quality gate on the labelled corpus: per-item table, per-kind table, precision and recall.

    .venv/bin/python -m tests.corpus.report                     # every item, then the figures
    .venv/bin/python -m tests.corpus.report --split held-out    # only the held-out split
    .venv/bin/python -m tests.corpus.report --split dev --wrong # only what the gate gets wrong on dev
    .venv/bin/python -m tests.corpus.report --split held-out --hand      # hand-written items only (no mutants)
    .venv/bin/python -m tests.corpus.report --only c4- --quiet           # one batch (item names starting so)

Items: hand-written ones in labels.toml, generated ones in mutations.toml (tests/corpus/mutate.py).
The split (split.toml) was drawn once, by group (an analysis and all its mutants share a group),
so no held-out item is a variant of a dev item.

"Positive" is a rejection: precision = rejected bad / all rejected, recall = rejected bad / all
bad. An item counts as correctly handled only when a good one passes, and a bad one is rejected
with every expected reason code among the codes the gate produced.
"""
from __future__ import annotations

import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from service.gate import Verdict, check_analysis_text
from service.prompts import PromptLibrary

CORPUS = Path(__file__).resolve().parent


@dataclass
class Item:
    file: str
    language: str
    source: str
    expected: str | list[str]
    note: str
    known_miss: bool = False
    #: False when the analysis was written from a text the corpus lacks: judged without a source
    source_complete: bool = True
    kind: str = ""
    base: str = ""

    @property
    def name(self) -> str:
        return Path(self.file).stem

    @property
    def group(self) -> str:
        return self.base or self.name

    @property
    def bad(self) -> bool:
        return self.expected != "pass"

    @property
    def label_kind(self) -> str:
        if self.kind:
            return self.kind
        if not self.bad:
            return "near-miss" if self.note.startswith("near-miss") else "good"
        return self.expected[0]

    @property
    def framework(self) -> str:
        text = self.text()
        return "fulltext" if ("方法设计详解" in text or "Method in detail" in text) else "abstract"

    def text(self) -> str:
        return (CORPUS / self.file).read_text("utf-8")

    def source_text(self) -> str | None:
        return (CORPUS / self.source).read_text("utf-8") if self.source_complete else None


def load_items(split: str | None = None) -> list[Item]:
    items = []
    for labels in ("labels.toml", "mutations.toml"):
        path = CORPUS / labels
        if path.is_file():
            items += [Item(**row) for row in tomllib.loads(path.read_text("utf-8")).get("item", [])]
    if split is not None:
        groups = set(load_split()[split])
        items = [i for i in items if i.group in groups]
    return items


def load_split() -> dict[str, list[str]]:
    data = tomllib.loads((CORPUS / "split.toml").read_text("utf-8"))
    return {"dev": data["dev"], "held-out": data["held_out"]}


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


def per_kind(results: list[tuple[Item, Verdict]]) -> dict[str, dict[str, int]]:
    """kind -> {items, zh, en, right}: right = passed (good kinds) or rejected (bad kinds)."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: {"items": 0, "zh": 0, "en": 0, "right": 0, "codes": 0})
    for item, verdict in results:
        row = table[("pass: " if not item.bad else "") + item.label_kind]
        row["items"] += 1
        row[item.language] += 1
        row["right"] += (verdict.ok != item.bad)
        row["codes"] += correct(item, verdict)
    return dict(sorted(table.items()))


def main(argv: list[str]) -> int:
    frameworks = PromptLibrary().frameworks
    split = argv[argv.index("--split") + 1] if "--split" in argv else None
    items = load_items(split)
    if "--hand" in argv:
        items = [i for i in items if not i.base]
    if "--only" in argv:
        items = [i for i in items if i.name.startswith(argv[argv.index("--only") + 1])]
    results = [(item, judge(item, frameworks)) for item in items]
    only_wrong = "--wrong" in argv
    if "--quiet" not in argv:
        print(f"{'item':<46} {'lang':<4} {'expected':<26} {'gate':<34} ok")
        for item, verdict in results:
            ok = correct(item, verdict)
            if only_wrong and ok:
                continue
            expected = "pass" if not item.bad else ",".join(item.expected)
            got = ",".join(verdict.codes) or "pass"
            mark = "yes" if ok else ("KNOWN MISS" if item.known_miss else "NO")
            print(f"{item.name[:46]:<46} {item.language:<4} {expected:<26} {got:<34} {mark}")
            if not ok and "--why" in argv:
                for r in verdict.reasons:
                    print(f"      {str(r)[:150]}")
    print(f"\n| kind | items | zh | en | handled right | expected codes |\n|---|---|---|---|---|---|")
    for kind, row in per_kind(results).items():
        print(f"| {kind} | {row['items']} | {row['zh']} | {row['en']} | {row['right']}/{row['items']} | "
              f"{row['codes']}/{row['items']} |")
    f = figures(results)
    print(f"\n{split or 'all'}: {f['items']} items, {f['bad']} bad, {f['items'] - f['bad']} good")
    print(f"reject: {f['tp']} true, {f['fp']} false; missed: {f['fn']}")
    print(f"precision {f['precision']:.3f}  recall {f['recall']:.3f}  "
          f"(expected codes all present: {f['codes_match']}/{f['items']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
