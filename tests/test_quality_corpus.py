"""The gate on the labelled corpus (tests/corpus/labels.toml): every verdict matches its label,
and precision/recall of "reject" do not fall below what docs/quality.md reports."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.cli import main
from service.prompts import PromptLibrary

from .corpus.report import CORPUS, correct, figures, judge, load_items

ITEMS = load_items()
FW = PromptLibrary().frameworks
#: measured on the corpus (docs/quality.md); one known miss (en-inject-praise)
MIN_PRECISION, MIN_RECALL = 1.0, 48 / 49


def test_corpus_is_big_and_balanced():
    assert len(ITEMS) >= 48
    good, bad = [i for i in ITEMS if not i.bad], [i for i in ITEMS if i.bad]
    assert {i.language for i in good} == {"zh", "en"} and len(good) >= 15
    codes = {c for i in bad for c in i.expected}
    assert {"refusal", "template_echo", "empty_section", "missing_section", "truncated", "repetition",
            "language", "ungrounded", "foreign_link"} <= codes
    for item in ITEMS:
        assert (CORPUS / item.file).is_file() and (CORPUS / item.source).is_file()


@pytest.mark.parametrize("item", ITEMS, ids=[Path(i.file).stem for i in ITEMS])
def test_item_verdict_matches_label(item):
    verdict = judge(item, FW)
    if item.known_miss:
        assert not correct(item, verdict), "a known miss is now caught: drop known_miss from the label"
        pytest.xfail(f"known miss: {item.note}")
    if item.bad:
        assert set(item.expected) <= set(verdict.codes), [str(r) for r in verdict.reasons]
    else:
        assert verdict.ok, [str(r) for r in verdict.reasons]


def test_precision_and_recall():
    f = figures([(i, judge(i, FW)) for i in ITEMS])
    assert f["precision"] >= MIN_PRECISION and f["recall"] >= MIN_RECALL, f


@pytest.mark.parametrize("name", ["zh-seed-abs-vggt", "en-near-provide", "zh-refusal-seed-style",
                                  "en-inject-link-only", "zh-loop-ngram-varying"])
def test_lint_analysis_cli_agrees(name, capsys):
    item = next(i for i in ITEMS if Path(i.file).stem == name)
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
