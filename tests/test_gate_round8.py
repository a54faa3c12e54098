"""Round 8 of the gate (issue 12): precision on writers the gate has never seen (blind batch 8).
Each rule is a general signal with the near-misses it must still catch."""
from __future__ import annotations

import pytest

from service import gate
from service.prompts import PromptLibrary

from .test_gate_round6 import FINDINGS, PARTS, SRC, analysis, verdict

FW = PromptLibrary().frameworks
ZH_PARTS = [
    ("主要贡献", "SONIC 在频域中用共享的方向选择性分量参数化卷积算子。"),
    ("关键创新与方法", "方向选择性的 spectral 分量带来全局感受野，参数更少。"),
    ("潜在影响", "参数更少且对 resolution shifts 稳健，对分辨率多变的输入有帮助。"),
    ("相关领域与应用", "3D medical datasets 上的医学影像，以及分辨率变化下的遥感。"),
    ("可推断的局限性", "摘要没有给出 SONIC 的精度数字或计算成本。"),
]
ZH_FINDINGS = '\n\n## 关键发现\n\n- 稳健性。证据："SONIC shows improved robustness to geometric transformations"\n'


# --- structure: part labels and part names in other words -------------------------------------
@pytest.mark.parametrize("style", [
    "### Part {n} — {title}\n\n{body}", "## Section {n}: {title}\n\n{body}", "**Part {n}: {title}**\n\n{body}",
])
def test_part_labels_before_the_title_are_headings(style):
    text = "**Framework:** five-part analysis from the abstract only\n\n" + analysis(style=style)
    fw, sections, _, _ = gate.split_sections(text, FW)
    assert fw.name == "abstract" and len(sections) == 5, sections.keys()
    assert verdict(text).ok, verdict(text).reasons


@pytest.mark.parametrize("style", ["【{n}】{title}\n\n{body}", "### 第 {n} 部分 — {title}\n\n{body}", "（{n}）{title}\n\n{body}"])
def test_chinese_part_labels_are_headings(style):
    num = "一二三四五"
    text = "**框架：** 仅基于摘要的五段式分析\n\n" + "\n\n".join(
        style.format(n=num[i] if "【" in style else i + 1, title=t, body=b) for i, (t, b) in enumerate(ZH_PARTS)) + ZH_FINDINGS
    fw, sections, _, _ = gate.split_sections(text, FW)
    assert fw.name == "abstract" and len(sections) == 5, sections.keys()


def test_a_markdown_heading_naming_a_part_in_other_words_is_that_part():
    parts = list(PARTS)
    parts[0] = ("The core contribution, as stated", PARTS[0][1])
    parts[4] = ("What limits it (inferred)", PARTS[4][1])
    _, sections, _, _ = gate.split_sections(analysis(parts), FW)
    assert sections["contribution"].startswith("SONIC parameterises"), sections.keys()


@pytest.mark.parametrize("title", ["A note on the benchmarks", "Further reading", "Open questions"])
def test_a_heading_that_names_no_part_is_still_missing(title):
    parts = list(PARTS)
    parts[3] = (title, "Some text about the paper's benchmarks and 3D medical datasets.")
    v = verdict(analysis(parts))
    assert not v.ok and "missing_section" in v.codes, v.reasons


def test_a_dropped_part_with_labelled_headings_is_still_missing():
    text = analysis(PARTS[:3] + PARTS[4:], style="### Part {n} — {title}\n\n{body}")
    v = verdict(text)
    assert not v.ok and "missing_section" in v.codes, v.reasons


# --- numbers restated: derived from two numbers of one source sentence -----------------------
from service.gate import grounding  # noqa: E402

NUM_SRC = ("Inference takes 46 ms per frame on a laptop GPU, against a real-time budget of 2 ms. "
           "Accuracy rises from 62.0% to 71.5% over the strongest baseline. Of the 1,200 test scenes, 300 still fail. "
           "Training used 8 GPUs for 90 hours.")


@pytest.mark.parametrize("sentence, flagged", [
    ("It is roughly 23× too slow for real time.", []),            # 46 / 2
    ("About 24× slower than the budget.", ["24×"]),               # 23 is not 24: only a round multiplier has slack
    ("About 20× slower than the budget.", ["20×"]),               # a round multiplier may be 5 % off, not 15 %
    ("Accuracy improves by 9.5 pp.", []),                         # 71.5 - 62.0
    ("A quarter of the scenes, 25%, still fail.", []),            # 300 of 1,200
    ("That is a 15.3% relative gain.", []),                       # (71.5 - 62.0) / 62.0
    # near-misses: numbers no pair of one sentence gives
    ("It is roughly 31× too slow for real time.", ["31×"]),
    ("Accuracy improves by 12.5 pp.", ["12.5 pp"]),
    ("40% of the scenes still fail.", ["40%"]),
    ("That is a 27% relative gain.", ["27%"]),
    ("Accuracy reaches 75.5% on the hardest split.", ["75.5%"]),  # a new result, not a derivation
    ("Inference is 6× the GPU count.", ["6×"]),                    # 46 / 8 pairs numbers of two sentences
])
def test_numbers_derived_from_a_pair_of_source_numbers_are_grounded(sentence, flagged):
    assert grounding.ungrounded_numbers(sentence, NUM_SRC) == flagged


# --- release claims: public material the paper used is not the paper releasing its code --------
CLAIM_SRC = ("We pretrain a segmentation model on public MRI datasets and evaluate it on 3 hospitals' scans. "
             "It improves Dice by 2.1 points.")


@pytest.mark.parametrize("sentence, claim", [
    ("模型在 30 个公开 MRI 数据集上预训练。", False),
    ("基于公开的脑部数据集训练，在三家医院的数据上评估。", False),
    ("It was pretrained using open-source MRI collections from several sites.", False),
    ("Benchmarks come from open-source medical imaging projects.", False),
    # the paper's own artefacts, released: still claims the source does not make
    ("代码和权重已在 GitHub 开源。", True),
    ("不过代码已经开源，便于复现。", True),          # 不过 is "however", not a negation
    ("作者公开了代码和模型权重。", True),
    ("The code is open-sourced on GitHub.", True),
    ("They open-source the implementation.", True),
])
def test_public_material_the_paper_used_is_not_a_release_claim(sentence, claim):
    assert bool(grounding.ungrounded_code_claim(sentence, CLAIM_SRC)) is claim, grounding.ungrounded_code_claim(sentence, CLAIM_SRC)


# --- language: acronyms are not words a language is told by ---------------------------------
from service.gate import language  # noqa: E402


@pytest.mark.parametrize("sentence, foreign", [
    # lingua's short-sentence Swedish: only seven words once the acronym is not counted
    ("Semi-informed attackers still get EER down to 27.5%.", False),
    ("Semi-informed attacker still brings WER down to 6.3%.", False),
    ("Angriparen får fortfarande ner felfrekvensen till 27,5 procent i alla testerna.", True),
    ("El atacante sigue bajando la tasa EER hasta el 27,5 por ciento en todas las pruebas.", True),
])
def test_a_short_english_sentence_with_acronyms_is_english(sentence, foreign):
    assert bool(language.foreign_sentence(sentence)) is foreign, language.foreign_sentence(sentence)


# --- quotes: a short word in quotes must not pair its closing mark with the next quote ----------
QUOTE_SRC = ("We distil the teacher into a small \"student\" network. The student runs on a phone at 30 frames per "
             "second and matches the teacher within one point.")


@pytest.mark.parametrize("sentence, flagged", [
    ('It trains a "student" copy of the teacher that runs on a phone, and "matches the teacher within one point".', 0),
    ('A "student" model: the paper says it "runs on a phone at 30 frames per second".', 0),
    # near-misses: an invented quote after a short quoted word is still caught
    ('It trains a "student" copy; the paper says it "runs on a laptop at 60 frames per second".', 1),
    ('The paper says the student "beats the teacher by five points on every benchmark".', 1),
])
def test_a_short_quoted_word_does_not_shift_the_quote_pairs(sentence, flagged):
    assert len(grounding.ungrounded_quotes(sentence, QUOTE_SRC)) == flagged, grounding.ungrounded_quotes(sentence, QUOTE_SRC)
