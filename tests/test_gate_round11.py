"""Round 11 of the gate (issue 12): recall by rule family, not by phrasing. Two families that blind
batch 14 got past gate 9, each in phrasings of my own with a near-miss in the other direction: any
markup-like tag outside code is the model's output format leaking (not only the wrapper names gate 9
listed), and a parameter written `name = value` that the source sets to another value."""
from __future__ import annotations

import pytest

from service.gate import grounding, leaks

from .test_gate_round6 import PARTS, SRC, analysis, verdict
from .test_gate_round8 import ZH_PARTS
from .test_gate_round10 import with_part, zh_analysis


# --- a markup-like tag of any name is a leak ---------------------------------------------------------
@pytest.mark.parametrize("tag", ["</part_two>", '<block index="3">', "<draft-v2>", "<seg_04/>", "</Findings_Section>"])
def test_a_tag_of_a_name_no_list_knows_leaks_between_parts(tag):
    v = verdict(analysis(with_part(PARTS, 1, PARTS[1][1] + "\n\n" + tag)), SRC)
    assert "leak" in v.codes, v.reasons


def test_a_tag_leaks_in_chinese_text_too():
    v = verdict(zh_analysis(between='</chapter_a>\n<chapter_b lang="zh">'), SRC, "zh")
    assert "leak" in v.codes, v.reasons


@pytest.mark.parametrize("text", [
    "The encoder marks each loop header with a `<blk_start>` token before decoding.",  # inline code
    "Line breaks in the table use <br> and exponents use <sup>2</sup>.",               # HTML a renderer takes
    "The gain holds for p<0.05 and for every a < b > c comparison.",                   # comparisons, not tags
])
def test_code_html_and_comparisons_are_not_tags(text):
    v = verdict(analysis(with_part(PARTS, 1, PARTS[1][1] + " " + text)), SRC)
    assert "leak" not in v.codes, v.reasons


def test_a_tag_the_paper_itself_names_is_not_a_leak():
    src = SRC + " Each dialogue turn is wrapped in a <turn_marker> element before training."
    v = verdict(analysis(with_part(PARTS, 1, PARTS[1][1] + " Every turn is wrapped in a <turn_marker> element.")), src)
    assert "leak" not in v.codes, v.reasons


def test_a_fenced_block_hides_its_tags():
    v = verdict(analysis(with_part(PARTS, 1, PARTS[1][1] + "\n\nExample input:\n\n```\n<query_item id=\"7\">\n```\n")), SRC)
    assert "leak" not in v.codes, v.reasons
    assert leaks.markup_tag("<query_item id=\"7\">") == "<query_item id=\"7\">"


# --- a parameter set to another value than the source's ------------------------------------------------
SET_SRC = SRC + (" Differentially private training with ε = 8 lowers the attack AUC; the retriever keeps k = 10 "
                 "candidates and the loss uses lambda = 0.5.")


@pytest.mark.parametrize("phrase", ["Private training with epsilon = 2 lowers the attack AUC.",
                                    "The retriever keeps k=20 candidates.", r"The loss weight is $\lambda = 0.25$."])
def test_a_parameter_the_source_sets_otherwise_is_ungrounded(phrase):
    v = verdict(analysis(with_part(PARTS, 2, PARTS[2][1] + " " + phrase)), SET_SRC)
    assert "ungrounded" in v.codes and "setting" in str(v.reasons), v.reasons


@pytest.mark.parametrize("phrase", ["Private training with epsilon = 8 lowers the attack AUC.",
                                    "Private training with ε=8.0 lowers the attack AUC.",
                                    "The retriever keeps k = 10 candidates.",
                                    "The loss weight is lambda = 50%.",  # 0.5 written as a percentage
                                    "A tighter budget, say n = 2, is not tried.",  # a name the source never sets
                                    "The authors do not report the K = 4 case."])  # K is not k
def test_a_parameter_the_source_sets_alike_or_never_sets_passes(phrase):
    v = verdict(analysis(with_part(PARTS, 2, PARTS[2][1] + " " + phrase)), SET_SRC)
    assert "setting" not in str(v.reasons), v.reasons


def test_a_changed_setting_in_chinese_text_is_ungrounded():
    v = verdict(zh_analysis(with_part(ZH_PARTS, 2,
                                      "差分隐私训练在 ε = 4 时把攻击 AUC 降下来。")), SET_SRC, "zh")
    assert "setting" in str(v.reasons), v.reasons
    assert grounding.conflicting_settings("差分隐私训练在 ε = 8 时把攻击 AUC 降下来。", SET_SRC) == []


# --- a name in a sentence that compares with or trains on something -------------------------------------
NAME_SRC = SRC + (" SONIC is compared with FNO and UNet on the BraTS and KiTS volumes after fine-tuning on v1.5 of "
                  "the MedPatch collection.")


@pytest.mark.parametrize("phrase", ["SONIC 的鲁棒性与 FNO、UNet 和 Swinformer 相当。",
                                    "SONIC 用 Decathlon 的三百个体积微调后，参数少一个数量级。"])
def test_a_name_the_source_lacks_in_a_chinese_comparison_or_training_sentence_is_ungrounded(phrase):
    v = verdict(zh_analysis(with_part(ZH_PARTS, 2, phrase)), NAME_SRC, "zh")
    assert "ungrounded" in v.codes and "names" in str(v.reasons), v.reasons


@pytest.mark.parametrize("phrase", ["SONIC 的鲁棒性与 FNO 和 UNet 相当。",
                                    "在 BraTS 和 KiTS 上微调后，SONIC 参数少一个数量级。",
                                    "它在 MedPatch v1.5 上训练，适合 Transformer 之外的场景。"])
def test_names_the_source_has_in_such_sentences_pass(phrase):
    v = verdict(zh_analysis(with_part(ZH_PARTS, 2, phrase)), NAME_SRC, "zh")
    assert "names" not in str(v.reasons), v.reasons


# --- "already released" against an active promise ("We will release") -----------------------------------
PROMISE_SRC = SRC + " We will release the code and the trained weights."


@pytest.mark.parametrize("phrase", ["代码和训练好的权重都已在 GitHub 开源，复现门槛较低。",
                                    "The code and the trained weights are already available on GitHub."])
def test_a_release_claimed_done_against_an_active_promise_is_ungrounded(phrase):
    assert grounding.ungrounded_code_claim(phrase, PROMISE_SRC), phrase


@pytest.mark.parametrize("phrase", ["作者承诺将公开代码和训练好的权重。",
                                    "The authors say they will release the code and the weights."])
def test_the_promise_restated_passes(phrase):
    assert grounding.ungrounded_code_claim(phrase, PROMISE_SRC) is None


# --- a plan of the write-up before the first part --------------------------------------------------------
@pytest.mark.parametrize("opening", ["理一下：参数量的数字放进第二部分，局限性单列。下面开始。\n\n",
                                     "Draft order: numbers go in part 3, limits last; use the five headings.\n\n"])
def test_a_plan_of_the_parts_before_the_first_part_leaks(opening):
    lang = "zh" if "理" in opening else "en"
    text = zh_analysis(opening=opening) if lang == "zh" else opening + analysis()
    v = verdict(text, SRC, lang)
    assert "leak" in v.codes, v.reasons


@pytest.mark.parametrize("opening", ["> 说明：以下分析仅基于摘要，第三部分的数字均摘自摘要。\n\n",
                                     "*Based on the abstract only; the full paper was not available.*\n\n",
                                     "**分析框架：** 五段式摘要分析\n\n"])
def test_a_note_on_the_basis_or_the_framework_label_before_the_parts_passes(opening):
    lang = "zh" if "分析" in opening else "en"
    text = zh_analysis(opening=opening) if lang == "zh" else opening + analysis()
    v = verdict(text, SRC, lang)
    assert "leak" not in v.codes, v.reasons
