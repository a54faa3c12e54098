"""Precision by rule, not by phrasing: for each finest-grained rule of the gate, the good items it
fires on and the bad items it alone rejects; and the pass rate of each benign mutation operator.

    .venv/bin/python -m tests.corpus.rules                  # rule table (hand-written items), operators, figures
    .venv/bin/python -m tests.corpus.rules --save FILE      # also keep every item's reasons (JSON) ...
    .venv/bin/python -m tests.corpus.rules --diff FILE      # ... and list the items whose verdict changed since

A rule's name is its reason code and the sub-rule that produced it, read from the reason's detail
(the gate's checks name their kind there: `refusal:input`, `leak:chain-of-thought`,
`ungrounded:numbers`). "alone" = the item is rejected and every reason it gets is this rule: the
bad items the rule would let through if it were removed. A rule that fires on goods of several
blind batches and rejects few bad items alone is where precision is lost on a stranger's style.
"""
from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from service.gate import Reason
from service.prompts import PromptLibrary

from .report import Item, figures, judge, load_items, load_split

#: (code, pattern on the detail, sub-rule name), first match wins; the kinds in parentheses or
#: after "leaks" are the checks' own names.
_SUBRULES: tuple[tuple[str, str, str], ...] = (
    ("ungrounded", r"^numbers that are not", "numbers"),
    ("ungrounded", r"^names that are not", "names"),
    ("ungrounded", r"^counts that are not", "counts"),
    ("ungrounded", r"^numbers the source states otherwise \(a setting\)", "setting"),
    ("ungrounded", r"^counts the source states otherwise", "count_conflict"),
    ("ungrounded", r"^numbers the source states otherwise", "conflict"),
    ("ungrounded", r"^claims released code", "code_claim"),
    ("ungrounded", r"^quoted evidence", "quote"),
    ("ungrounded", r"^points to parts", "refs"),
    ("ungrounded", r"^the answer .*content words", "off_paper"),
    ("ungrounded", r"^a finding has no verbatim", "finding_unquoted"),
    ("ungrounded", r"^a finding's numbers", "finding_numbers"),
    ("ungrounded", r"^no key finding", "findings_none"),
    ("missing_section", r"no framework headings", "no_framework"),
    ("missing_section", r"is missing or empty", "part_missing"),
    ("template_echo", r"placeholder in brackets", "bracket_placeholder"),
    ("template_echo", r"holds a placeholder", "placeholder"),
    ("template_echo", r"instruction", "instruction"),
    ("template_echo", r"what to write", "directive"),
    ("template_echo", r"only (?:lists|restates)", "bare_labels"),
    ("truncated", r"stop_reason", "max_tokens"),
    ("truncated", r"mid-sentence", "last_part"),
    ("language", r"English sentence in Chinese", "english_in_zh"),
    ("language", r"not mostly Chinese", "zh_share"),
    ("language", r"not English", "cjk_in_en"),
    ("language", r" is in ", "lingua"),
    ("repetition", r"repeated sentences", "sentences"),
    ("repetition", r"-grams", "ngrams"),
    ("repetition", r"paraphrase", "paraphrase"),
    ("repetition", r"on one template", "template_run"),
    ("repetition", r"says the same thing again", "restatement"),
    ("repetition", r"a list of", "list_flood"),
    ("refusal", r"talks about its input, not the paper", "document_talk"),
    ("refusal", r"\((\w+)\):", r"\1"),
    ("leak", r"text outside the framework", "after_findings"),
    ("leak", r"leaks ([\w/ -]+?):", r"\1"),
    ("foreign_link", r"^links", "link"),
    ("foreign_link", r"^markup", "markup"),
)


def rule_name(reason: Reason) -> str:
    for code, pattern, name in _SUBRULES:
        if reason.code == code:
            m = re.search(pattern, reason.detail)
            if m:
                return f"{code}:{m.expand(name).replace(' ', '_')}"
    return reason.code


def batch(item: Item) -> str:
    m = re.match(r"(c\d+|r\d+)-", item.group)
    return m.group(1) if m else "seed/r1-3"


def run(items: list[Item]) -> dict[str, list[list[str]]]:
    fw = PromptLibrary().frameworks
    return {i.name: [[r.code, r.detail] for r in judge(i, fw).reasons] for i in items}


def rule_table(items: list[Item], reasons: dict[str, list[list[str]]]) -> list[tuple[str, dict]]:
    rows: dict[str, dict] = defaultdict(lambda: {"good": [], "alone": 0, "bad": 0, "good_batches": set()})
    for item in items:
        names = {rule_name(Reason(c, d)) for c, d in reasons[item.name]}
        for n in names:
            row = rows[n]
            if item.bad:
                row["bad"] += 1
                row["alone"] += len(names) == 1
            else:
                row["good"].append(item.name)
                row["good_batches"].add(batch(item))
    return sorted(rows.items(), key=lambda kv: (-len(kv[1]["good"]), kv[0]))


def operator_rates(items: list[Item], reasons: dict[str, list[list[str]]], split: dict[str, set]) -> dict:
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"dev": [0, 0], "held-out": [0, 0]})
    for item in items:
        if item.bad or not item.kind.startswith("benign "):
            continue
        where = "dev" if item.group in split["dev"] else "held-out"
        cell = out[item.kind.removeprefix("benign ")][where]
        cell[0] += not reasons[item.name]
        cell[1] += 1
    return dict(sorted(out.items()))


def main(argv: list[str]) -> int:
    items = load_items()
    split = {k: set(v) for k, v in load_split().items()}
    reasons = run(items)
    if "--save" in argv:
        Path(argv[argv.index("--save") + 1]).write_text(json.dumps(reasons, ensure_ascii=False), "utf-8")
    if "--diff" in argv:
        old = json.loads(Path(argv[argv.index("--diff") + 1]).read_text("utf-8"))
        for item in items:
            was, now = bool(old.get(item.name)), bool(reasons[item.name])
            if item.name in old and was != now:
                where = "dev" if item.group in split["dev"] else "held-out"
                label = "bad" if item.bad else "good"
                print(f"{'newly rejected' if now else 'newly passes'}: {item.name} ({where}, {label})"
                      f"{'' if not now else '  ' + '; '.join(d[:70] for _, d in reasons[item.name])}")
    hand = [i for i in items if not i.base]
    print("\n| rule | goods it rejects (hand-written) | batches of those goods | bad items rejected | "
          "bad items rejected by it alone |\n|---|---|---|---|---|")
    for name, row in rule_table(hand, reasons):
        print(f"| `{name}` | {len(row['good'])} | {', '.join(sorted(row['good_batches'])) or '-'} | {row['bad']} | "
              f"{row['alone']} |")
    print("\n| benign operator | dev pass | held-out pass |\n|---|---|---|")
    for op, cells in operator_rates(items, reasons, split).items():
        print(f"| {op} | " + " | ".join(f"{p}/{n}" for p, n in (cells['dev'], cells['held-out'])) + " |")
    print("\n| set | items | bad | TP | FP | FN | precision | recall |\n|---|---|---|---|---|---|---|---|")
    for label, subset in (("dev, all", [i for i in items if i.group in split["dev"]]),
                          ("dev, hand-written", [i for i in hand if i.group in split["dev"]]),
                          ("held-out, all", [i for i in items if i.group in split["held-out"]]),
                          ("held-out, hand-written", [i for i in hand if i.group in split["held-out"]]),
                          ("batch 9, hand-written", [i for i in hand if i.name.startswith("c9-")])):
        f = figures([(i, _Verdict(reasons[i.name])) for i in subset])
        print(f"| {label} | {f['items']} | {f['bad']} | {f['tp']} | {f['fp']} | {f['fn']} | "
              f"{f['precision']:.3f} | {f['recall']:.3f} |")
    if "--goods" in argv:
        for name, row in rule_table(hand, reasons):
            if row["good"]:
                print(f"{name}: {', '.join(row['good'])}")
    return 0


class _Verdict:
    """The saved reasons as much of a Verdict as `figures` reads."""

    def __init__(self, reasons: list[list[str]]):
        self.codes = [c for c, _ in reasons]
        self.ok = not reasons


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
