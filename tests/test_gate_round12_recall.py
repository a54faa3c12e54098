"""Round 12b of the gate (issue 12): recall by family. Blind batches 15 and 16 got bad items past gate 10
in five families; each is tested here in phrasings of my own (both languages where the family exists in
both) with a near-miss in the other direction: the writer talking to itself (checking its reading of
the source, planning its own text), an instruction to the writer echoed into the answer, a count the
source states with another value (a share of the same total, a count of the same things, in words or
in Chinese), and a release told as done in words the gate did not know."""
from __future__ import annotations

import pytest

from service.gate import grounding, leaks

from .test_gate_round6 import PARTS, SRC, analysis, verdict
from .test_gate_round10 import with_part, zh_analysis


def _between(text: str):
    """The base analysis with `text` as a paragraph of its own after part 3."""
    return analysis(with_part(PARTS, 2, PARTS[2][1] + "\n\n" + text))


# --- the writer talking to itself ------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "Hold on, was it an order of magnitude or two? Looking at the abstract: one order. Fine.",
    "Hmm, which datasets were 3D? Re-reading it again, the medical ones.",
    "Let me verify the parameter claim before going on.",
    "I should confirm whether the robustness claim covers noise as well.",
    "(Note to myself: check the resolution-shift wording.)",
    "Right, now for part four, I'll keep the fields short.",
    "I'll lead with the parameter savings and skip the synthetic benchmarks.",
    "Plan: one line on robustness -> fields -> limits. Around 200 words.",
    "(Plan for the limitations: say what the abstract leaves out.)",
    "Turning now to section 4.",
])
def test_the_writer_checking_or_planning_its_own_text_leaks(text):
    v = verdict(_between(text), SRC)
    assert "leak" in v.codes, v.reasons


@pytest.mark.parametrize("text", [
    "等一下，摘要说的是三维医学数据集还是二维？再看一遍摘要：三维。",
    "我再确认一下参数量的说法。",
    "我先把应用写短一点，局限部分再展开。",
    "下面转到第四部分。",
])
def test_the_writer_talking_to_itself_leaks_in_chinese(text):
    v = verdict(zh_analysis(between=text), SRC, "zh")
    assert "leak" in v.codes, v.reasons


@pytest.mark.parametrize("text", [
    "A practitioner should confirm the robustness on their own scanners before relying on it.",
    "The plan of the method is simple: share a few spectral components across all layers.",
    "Whether the gains hold at other resolutions is something a reader will want to check again on new data.",
    "Wait times are not reported, and neither is the training cost.",
])
def test_advice_and_plain_statements_with_the_same_words_pass(text):
    v = verdict(_between(text), SRC)
    assert "leak" not in v.codes, v.reasons


@pytest.mark.parametrize("text", ["使用者需要自行确认在其设备上的稳健性。", "我们无法从摘要判断训练成本。"])
def test_chinese_advice_and_the_authors_we_pass(text):
    v = verdict(zh_analysis(between=text), SRC, "zh")
    assert "leak" not in v.codes, v.reasons


# --- an instruction to the writer echoed into the answer ---------------------------------------------
@pytest.mark.parametrize("text", [
    "Please write each part in at least three sentences, based only on the abstract.",
    "(Instruction: do not invent numbers that the abstract does not give.)",
    "You should end with the key findings and their verbatim evidence.",
    "Do not make up datasets; keep to the framework.",
])
def test_an_order_about_the_write_up_leaks(text):
    v = verdict(_between(text), SRC)
    assert "leak" in v.codes, v.reasons


@pytest.mark.parametrize("text", [
    "（写作要求：每个部分至少三句，只根据摘要写，不得虚构数据。）",
    "请基于下面的论文摘要，按五段式框架完成分析。",
    "不要杜撰摘要里没有的实验。",
])
def test_an_order_about_the_write_up_leaks_in_chinese(text):
    v = verdict(zh_analysis(between=text), SRC, "zh")
    assert "leak" in v.codes, v.reasons


@pytest.mark.parametrize("text", [
    "Do not expect the savings to carry over to 2D natural images: the abstract tests 3D medical data.",
    "Never use it unchecked on new scanners; the abstract gives no failure cases.",
])
def test_advice_to_the_reader_is_not_an_instruction(text):
    v = verdict(_between(text), SRC)
    assert "leak" not in v.codes, v.reasons


@pytest.mark.parametrize("text", ["不要指望它在自然图像上同样有效：摘要只测了三维医学数据。", "请注意，摘要没有给出计算成本。"])
def test_chinese_advice_to_the_reader_is_not_an_instruction(text):
    v = verdict(zh_analysis(between=text), SRC, "zh")
    assert "leak" not in v.codes, v.reasons


def test_an_instruction_the_paper_itself_studies_is_not_a_leak():
    src = SRC + " Annotators were told: Please write each part in at least three sentences, based only on the abstract."
    assert leaks.instruction_to_writer("Please write each part in at least three sentences, based only on the abstract.",
                                       src) is None


# --- a count the source states with another value --------------------------------------------------------
CSRC = ("We evaluate the planner in three warehouses with 40 robots each. It beats the greedy baseline in 7 of 9 "
        "layouts and finishes 1,250 orders per hour over six shifts.")


@pytest.mark.parametrize("claim", [
    "It beats the greedy baseline in 8 of 9 layouts.",
    "It wins in six out of nine layouts.",
    "The planner was tested in four warehouses.",
    "It was tested in 5 warehouses with 40 robots each.",
    "Over eight shifts it finishes 1,250 orders per hour.",
])
def test_a_count_the_source_states_otherwise_is_caught(claim):
    assert grounding.conflicting_counts(claim, CSRC), claim


@pytest.mark.parametrize("claim", [
    "9 个布局中有 8 个优于贪心基线。",
    "在十二轮测试中每小时完成 1,250 单。",
])
def test_a_count_in_chinese_against_an_english_source(claim):
    src = CSRC + " Each layout is replayed over 6 rounds."
    assert grounding.conflicting_counts(claim, src), claim


@pytest.mark.parametrize("claim", [
    "It beats the greedy baseline in 7 of 9 layouts, and in two of the three warehouses it never stalls.",
    "It was tested in three warehouses; the other two warehouses of the company were not used.",
    "With 40 robots it loses in 2 of the 9 layouts.",
    "9 个布局中有 7 个优于基线，六轮班次共完成 1,250 单。",
])
def test_counts_the_source_states_or_parts_of_them_pass(claim):
    assert grounding.conflicting_counts(claim, CSRC) == [], claim


def test_a_count_the_source_gives_in_other_words_passes():
    src = "Across 11 judge models we measure calibration, and aggregating three judges raises agreement."
    assert grounding.conflicting_counts("ECE averages 0.187 over 11 judges.", src) == []
    assert grounding.conflicting_counts("在 11 个模型上测量校准，三个模型投票。", src.replace("judges", "models")) == []


def test_a_changed_count_rejects_the_analysis():
    src = SRC + " The components were tested on 12 datasets, and SONIC wins on 10 of 12 datasets."
    part = PARTS[2][1] + " SONIC wins on 11 of 12 datasets."
    v = verdict(analysis(with_part(PARTS, 2, part)), src)
    assert "ungrounded" in v.codes, v.reasons


# --- a release told as done in other words -------------------------------------------------------------
PROMISE = SRC + " Code and weights will be released upon publication."


@pytest.mark.parametrize("claim", [
    "The weights are already online, so it is easy to try.",
    "Checkpoints can be downloaded today.",
    "The code is up on GitHub.",
    "权重已上传到 Hugging Face，可以直接试用。",
    "可以在项目主页下载代码。",
])
def test_a_release_told_as_done_where_the_source_only_promises_is_caught(claim):
    assert grounding.ungrounded_code_claim(claim, PROMISE), claim


@pytest.mark.parametrize("claim", [
    "The weights are not online yet; the authors promise them upon publication.",
    "Once the checkpoints can be downloaded, the robustness claim can be checked.",
    "代码尚未上传，作者承诺在发表后公开。",
])
def test_a_release_promised_or_denied_passes(claim):
    assert grounding.ungrounded_code_claim(claim, PROMISE) is None, claim


# --- a name for where the data or the test material comes from ----------------------------------------------
@pytest.mark.parametrize("claim, lang", [
    ("The training scans come mostly from the Harbourview Archive.", "en"),
    ("Rendering quality is shown for the Atrium and Old Mill scenes.", "en"),
    ("Pretraining uses the Nordic Speech corpus.", "en"),
    ("样本大多来自 Harbour 档案库。", "zh"),
])
def test_a_data_source_or_scene_the_source_never_names_is_ungrounded(claim, lang):
    assert grounding.ungrounded_names(claim, SRC), claim


@pytest.mark.parametrize("claim", [
    "The training scans come mostly from the public 3D medical datasets the abstract mentions.",
    "Rendering is tested on indoor scenes with strong indirect light.",
    "Pretraining data come from the SONIC authors' own collection.",
    "提升复杂交通场景中的 Object Detection 能力（自动驾驶，Autonomous Driving）。",  # 场景: a use case, not a scene
    "增益主要来自方向选择性分量。",
])
def test_data_origins_without_a_new_name_pass(claim):
    assert grounding.ungrounded_names(claim, SRC) == [], claim
