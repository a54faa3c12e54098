"""The gate on the labelled corpus (tests/corpus/): every verdict matches its label, and
precision/recall of "reject" on the held-out split do not fall below what docs/quality.md reports.

Thresholds were tuned on the dev split only; the floors below are the held-out measurements."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from service.cli import main
from service.prompts import PromptLibrary

from .corpus import mutate, split
from .corpus.report import CORPUS, correct, figures, load_items, load_split
from .corpus.report import judge as _judge

ITEMS = load_items()
FW = PromptLibrary().frameworks
_VERDICTS: dict = {}


def judge(item, frameworks):
    """The gate is pure: judge each item once per run."""
    if item.name not in _VERDICTS:
        _VERDICTS[item.name] = _judge(item, frameworks)
    return _VERDICTS[item.name]
#: held-out, all items (hand-written + mutants), measured (docs/quality.md, round 6): 0.993 / 0.978; round 9: 1.000 / 0.978.
#: Round 13 (gate 12) added nine blind batches (20-28, 748 items no gate author read, each measured once
#: before it joined): 0.984 / 0.970
MIN_PRECISION, MIN_RECALL = 0.98, 0.965
#: held-out, hand-written items only (the harder part; batches 3, 4 and 5 included), measured: 0.995 / 0.922;
#: with blind batches 20-28 (gate 12): 0.970 / 0.946
MIN_HAND_PRECISION, MIN_HAND_RECALL = 0.965, 0.94
#: dev (batches 6-9 and their mutants, 16 benign operators). Batch 8 joined dev in round 8 with its
#: false positives and their benign mutants (66 FP at the move); measured after round 8: 0.984 / 0.996;
#: batch 9 joined in round 9 (gate 7 on the round-9 corpus: 0.895 / 0.996); after round 9: 0.996 / 0.995
MIN_DEV_PRECISION, MIN_DEV_RECALL = 0.99, 0.99
#: the seed digest: its seven published analyses, and corpus items built like its three omitted ones
SEED_GOOD = ["zh-seed-abs-vggt", "zh-seed-abs-youtu", "zh-seed-abs-geodiff3d", "zh-seed-abs-waterclear",
             "zh-seed-ft-egohand", "zh-seed-ft-sonic", "zh-seed-ft-hexformer"]
SEED_GARBAGE = ["zh-refusal-seed-style", "zh-loop-then-cut", "zh-echo-bare-labels"]
#: known misses, kept in the corpus and counted in the figures (see their notes)
KNOWN = {i.name for i in ITEMS if i.known_miss} | set(tomllib.loads((CORPUS / "misses.toml").read_text("utf-8"))["misses"])


def test_corpus_is_big_and_balanced():
    assert len(ITEMS) >= 250
    good, bad = [i for i in ITEMS if not i.bad], [i for i in ITEMS if i.bad]
    assert {i.language for i in good} == {i.language for i in bad} == {"zh", "en"}
    assert {i.framework for i in good} == {i.framework for i in bad} == {"fulltext", "abstract"}
    assert len(good) >= 100 and len([i for i in ITEMS if not i.base]) >= 140
    codes = {c for i in bad for c in i.expected}
    assert {"refusal", "template_echo", "empty_section", "missing_section", "truncated", "repetition", "language",
            "ungrounded", "foreign_link", "leak", "generic", "wrong_framework"} <= codes
    for item in ITEMS:
        assert (CORPUS / item.file).is_file() and (CORPUS / item.source).is_file()


def test_mutants_are_reproducible():
    """mutations.toml and analyses/mut/ are exactly what mutate.py generates (fixed seed, no hand edits)."""
    generated = mutate.generate()
    assert (CORPUS / "mutations.toml").read_text("utf-8") == mutate.render_labels([lab for _, _, lab in generated])
    for name, text, _ in generated:
        assert (mutate.OUT / name).read_text("utf-8") == text, name
    assert {p.name for p in mutate.OUT.glob("*.md")} == {n for n, _, _ in generated}


def test_split_is_the_drawn_one_and_covers_every_group():
    """Every group is in exactly one split, where the seeded hash put it (nobody moved items by hand)."""
    drawn = load_split()
    dev, held = set(drawn["dev"]), set(drawn["held-out"])
    assert not dev & held and {i.group for i in ITEMS} <= dev | held
    assert all(split.assign(g) == "dev" for g in dev) and all(split.assign(g) == "held_out" for g in held)


@pytest.mark.parametrize("item", ITEMS, ids=[i.name for i in ITEMS])
def test_item_verdict_matches_label(item):
    verdict = judge(item, FW)
    if item.name in KNOWN:
        assert not correct(item, verdict), "a known miss is now right: drop it from misses.toml / known_miss"
        pytest.xfail(f"known miss: {item.note}")
    if item.bad:
        assert set(item.expected) <= set(verdict.codes), [str(r) for r in verdict.reasons]
    else:
        assert verdict.ok, [str(r) for r in verdict.reasons]


def _figures(split_name: str, hand_only: bool = False) -> dict:
    items = [i for i in load_items(split_name) if not (hand_only and i.base)]
    return figures([(i, judge(i, FW)) for i in items])


def test_held_out_precision_and_recall():
    f = _figures("held-out")
    assert f["precision"] >= MIN_PRECISION and f["recall"] >= MIN_RECALL, f
    f = _figures("held-out", hand_only=True)
    assert f["precision"] >= MIN_HAND_PRECISION and f["recall"] >= MIN_HAND_RECALL, f


def test_dev_precision_and_recall():
    f = _figures("dev")
    assert f["precision"] >= MIN_DEV_PRECISION and f["recall"] >= MIN_DEV_RECALL, f


def test_seed_good_pass_and_seed_garbage_is_rejected():
    by_name = {i.name: i for i in ITEMS}
    for name in SEED_GOOD:
        assert judge(by_name[name], FW).ok, name
    for name in SEED_GARBAGE:
        assert not judge(by_name[name], FW).ok, name


@pytest.mark.parametrize("name", ["zh-seed-abs-vggt", "en-near-provide", "zh-refusal-seed-style",
                                  "en-inject-link-only", "zh-loop-ngram-varying", "en-abs-youtu"])
def test_lint_analysis_cli_agrees(name, capsys):
    item = next(i for i in ITEMS if i.name == name)
    code = main(["lint-analysis", str(CORPUS / item.file), "--source", str(CORPUS / item.source),
                 "--lang", item.language])
    lines = capsys.readouterr().out.splitlines()
    if not item.bad:
        assert code == 0 and lines == ["ok"]
        return
    assert code == 1
    verdict = judge(item, FW)
    assert lines == [str(r) for r in verdict.reasons]  # one line per reason, "code: detail"
    assert set(item.expected) <= {line.split(":", 1)[0] for line in lines}
