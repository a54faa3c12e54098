"""Round 9 of the gate (issue 12): precision that survives a stranger's style. Each rule family
that rejected good analyses of several blind batches is made robust as a family (heading forms,
numbers restated, material used called open source, a list of fields, a reviewer's wish); each
test is written in phrasings of my own, with a near-miss that must still be caught."""
from __future__ import annotations

import pytest

from service import gate
from service.gate import grounding
from service.prompts import PromptLibrary

from .test_gate_round6 import FINDINGS, PARTS, SRC, analysis, verdict
from .test_gate_round8 import ZH_FINDINGS, ZH_PARTS

FW = PromptLibrary().frameworks


# --- structure: headings in other house styles ---------------------------------------------
@pytest.mark.parametrize("extra", [" (as far as the abstract shows)", " — what the abstract lets us say",
                                   " (inferred from the abstract alone)"])
def test_a_markdown_heading_with_extra_words_beyond_sixty_characters_is_its_part(extra):
    text = analysis(style="## {n}. {title}" + extra + "\n\n{body}")
    fw, sections, _, _ = gate.split_sections(text, FW)
    assert fw.name == "abstract" and len(sections) == 5, sections.keys()
    assert verdict(text).ok, verdict(text).reasons


def test_a_long_plain_line_opening_with_a_part_name_is_not_a_heading():
    parts = list(PARTS)
    parts[1] = (PARTS[1][0], PARTS[1][1] + "\nLimitations of the shared spectral components are discussed only briefly "
                                           "in the abstract, which mentions robustness instead.")
    _, sections, _, _ = gate.split_sections(analysis(parts), FW)
    assert "discussed only briefly" in sections["innovations"], sections.keys()


def test_a_numbered_bold_title_in_other_words_is_the_part_of_that_number():
    parts = list(ZH_PARTS)
    parts[4] = ("从摘要能推断出的不足", ZH_PARTS[4][1])
    text = "\n\n".join(f"**{i + 1}. {t}**\n\n{b}" for i, (t, b) in enumerate(parts)) + ZH_FINDINGS
    fw, sections, _, _ = gate.split_sections(text, FW)
    assert len(sections) == 5 and sections["limitations"].startswith("摘要没有给出"), sections.keys()


def test_a_numbered_bold_subtitle_inside_a_part_is_not_a_later_part():
    # "**1. …局限…**" inside part 2 names the limitations part by its words, but its number is not 5:
    # it is a point of the method part, and the real limitations part is missing.
    parts = list(ZH_PARTS[:4])
    parts[1] = (ZH_PARTS[1][0], ZH_PARTS[1][1] + "\n\n**1. 方向分量的局限与代价**\n\n分量数目固定，参数更少。")
    text = "\n\n".join(f"**{i + 1}. {t}**\n\n{b}" for i, (t, b) in enumerate(parts)) + ZH_FINDINGS
    v = verdict(text, lang="zh")
    assert "missing_section" in v.codes, v.reasons


# --- numbers restated ------------------------------------------------------------------------
NUM_SRC = ("We test the scheduler on 4,096-node clusters. Median job latency falls from 212.5 ms to 180.3 ms, "
           "and it cuts energy use by 36% relative to the default scheduler. Accuracy is 0.81 on the old trace; "
           "on the new trace it is only 0.27.")


@pytest.mark.parametrize("phrase", [
    "latency falls by 32.2 ms (from 212.5 to 180.3)",   # a difference, unit words
    "median latency changes by −32.2 ms",                # a signed change
    "energy drops by 36%, i.e. the scheduler needs 0.64 of the default's energy",  # complement
    "it needs 64% of the default's energy",
    "runs on 4,096 nodes",                               # a number written into a compound
    "accuracy on the new trace is a third of the old one (33%)",  # a share of two numbers across a semicolon
])
def test_a_number_the_source_supports_in_other_words_is_grounded(phrase):
    assert not grounding.ungrounded_numbers(f"In short, {phrase}.", NUM_SRC), phrase


@pytest.mark.parametrize("phrase", [
    "latency falls by 35.2 ms", "median latency changes by −28.4 ms", "it needs 0.59 of the default's energy",
    "runs on 4,000 nodes", "accuracy on the new trace is 41% of the old one",
])
def test_a_number_the_source_does_not_support_is_still_ungrounded(phrase):
    assert grounding.ungrounded_numbers(f"In short, {phrase}.", NUM_SRC), phrase


def test_numbers_of_two_sentences_are_not_compared():
    src = "On the old trace accuracy is 0.81. The new trace is harder. There accuracy is only 0.27."
    assert grounding.ungrounded_numbers("The new trace gives 33% of the old accuracy.", src)


# --- release claims: material the paper used ------------------------------------------------
CODE_SRC = "We benchmark six reward models on 900 solutions sampled from three language models and 40 kernels."


@pytest.mark.parametrize("sentence", ["解答由三个开源模型生成，共 900 份。", "评测用的 kernel 来自开源 HPC 应用和 PolyBench。",
                                      "The solutions come from three open-source models."])
def test_open_source_material_the_paper_used_is_not_a_release_claim(sentence):
    assert grounding.ungrounded_code_claim(sentence, CODE_SRC) is None, sentence


@pytest.mark.parametrize("sentence", ["作者已开源全部代码和 900 份解答。", "代码已在 GitHub 开源。", "评测框架开源在 GitHub 上。",
                                      "The benchmark is open-sourced on GitHub."])
def test_a_release_claim_the_source_lacks_is_still_ungrounded(sentence):
    assert grounding.ungrounded_code_claim(sentence, CODE_SRC), sentence


# --- specificity: a part that lists fields ---------------------------------------------------
@pytest.mark.parametrize("apps", [
    "Hospital imaging archives, satellite change detection, and industrial inspection lines with moving cameras.",
    "- Hospital imaging archives\n- Satellite change detection\n- Industrial inspection with moving cameras",
])
def test_an_applications_part_listing_other_fields_is_not_generic(apps):
    parts = list(PARTS)
    parts[3] = (PARTS[3][0], apps)
    assert verdict(analysis(parts)).ok, verdict(analysis(parts)).reasons


def test_a_chinese_applications_part_listing_fields_is_not_generic():
    parts = list(ZH_PARTS)
    parts[3] = (ZH_PARTS[3][0], "医院影像归档、卫星遥感变化检测、带移动相机的工业质检流水线。")
    text = "\n\n".join(f"## {t}\n\n{b}" for t, b in parts) + ZH_FINDINGS
    assert gate.check_analysis_text(text, "zh", FW, SRC).ok, gate.check_analysis_text(text, "zh", FW, SRC).reasons


@pytest.mark.parametrize("apps", [
    "This could benefit many fields, and it has broad applications across industry and academia.",
    "Many areas, many applications, many fields and many future directions.",
])
def test_filler_is_still_generic_even_with_commas(apps):
    parts = list(PARTS)
    parts[3] = (PARTS[3][0], apps)
    assert "generic" in verdict(analysis(parts)).codes


def test_chinese_filler_in_a_list_is_still_generic():
    parts = list(ZH_PARTS)
    parts[3] = (ZH_PARTS[3][0], "具有广泛的应用前景、重要的理论意义、实际应用价值。")
    text = "\n\n".join(f"## {t}\n\n{b}" for t, b in parts) + ZH_FINDINGS
    assert "generic" in gate.check_analysis_text(text, "zh", FW, SRC).codes


# --- meta-talk: a reviewer's wish is an opinion on the paper -----------------------------------
@pytest.mark.parametrize("sentence", ["I would also want to know how SONIC behaves on natural images.",
                                      "I'd like to see the compute cost of SONIC reported."])
def test_a_reviewers_wish_about_the_paper_is_not_meta_talk(sentence):
    parts = list(PARTS)
    parts[4] = (PARTS[4][0], PARTS[4][1] + " " + sentence)
    assert verdict(analysis(parts)).ok, verdict(analysis(parts)).reasons


@pytest.mark.parametrize("sentence", ["I would also want to see the full text before judging the method.",
                                      "I'd like you to send the experiments section."])
def test_a_wish_about_the_input_or_to_the_reader_is_still_meta_talk(sentence):
    parts = list(PARTS)
    parts[4] = (PARTS[4][0], PARTS[4][1] + " " + sentence)
    assert "refusal" in verdict(analysis(parts)).codes


# --- heading words are published, so judged ---------------------------------------------------
@pytest.mark.parametrize("extra, code", [
    (" — please upload the experiments section so I can go further", "refusal"),
    (" (it beats DROID-SLAM on every metric)", "ungrounded"),
])
def test_words_glued_to_a_heading_are_judged(extra, code):
    parts = list(PARTS)
    parts[4] = (PARTS[4][0] + extra, PARTS[4][1])
    assert code in verdict(analysis(parts)).codes, verdict(analysis(parts)).reasons


def test_a_chinese_title_in_other_words_is_judged_whole():
    parts = list(ZH_PARTS)
    parts[4] = ("从摘要推断的局限 与 DROID-SLAM 相比全面领先", ZH_PARTS[4][1])
    text = "\n\n".join(f"### {t}\n\n{b}" for t, b in parts) + ZH_FINDINGS
    assert "ungrounded" in gate.check_analysis_text(text, "zh", FW, SRC).codes
