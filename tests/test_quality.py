"""The gate's checks on their own (the labelled corpus comes with the quality issue)."""
from __future__ import annotations

import pytest

from service import gate
from service.prompts import PromptLibrary

FW = PromptLibrary().frameworks


GOOD_ZH = "作者提出了一种新的因子图设计，消除了高维漂移和平面退化问题，并在多个数据集上验证了效果。"
DISTINCT_ZH = [
    "该工作构建了一个包含一千余个样本的书法基准，覆盖六种经典与现代书写风格。",
    "方法的关键在于把注意力层的响应用作免训练的检索验证信号，从而剔除错误匹配。",
    "这一思路可能推动前馈式三维重建在机器人与增强现实中的落地应用。",
    "水下成像、医学影像等存在分辨率变化的场景都可以从中受益。",
    "摘要没有报告推理时延与显存占用，实际部署成本仍需全文验证。",
]


def sections_for(fw_name: str, first: str) -> dict[str, str]:
    bodies = [first] + DISTINCT_ZH
    return {s.key: bodies[i] for i, s in enumerate(FW[fw_name].sections)}


def verdict_for(sections: dict, lang="zh", source="") -> gate.Verdict:
    v = gate.Verdict()
    gate.check_sections(sections, FW["abstract"], lang, source, v)
    return v


def test_good_analysis_passes():
    assert verdict_for(sections_for("abstract", GOOD_ZH)).ok


@pytest.mark.parametrize("text, code", [
    ("好的，请您提供论文的全文，我将为您分析。这样我才能给出详细的方法分析与总结。", "refusal"),
    ("一旦您提供论文内容，我将按照框架进行分析。作者提出了新的方法并做了实验验证。", "refusal"),
    ("Please provide the full text of the paper so that I can analyse the method in detail.", "refusal"),
    ("I don't have access to the paper, but based on the title it seems to propose a method.", "refusal"),
])
def test_refusals_are_rejected(text, code):
    sections = sections_for("abstract", GOOD_ZH)
    sections["contribution"] = text
    assert code in verdict_for(sections, lang="zh").codes


def test_placeholders_and_empty_parts_are_template_echo():
    sections = sections_for("abstract", GOOD_ZH)
    sections["impact"] = "..."
    sections["limitations"] = "[待补充]"
    del sections["applications"]
    v = verdict_for(sections)
    assert v.codes.count("template_echo") == 1 and "missing_section" in v.codes
    assert len([r for r in v.reasons if r.code == "template_echo"]) == 2


def test_truncation_and_prose_answers():
    v = gate.Verdict()
    assert gate.check_stop("max_tokens", {"sections": {}}, "", "zh", v)
    assert v.codes == ("truncated",)
    v = gate.Verdict()
    assert not gate.check_stop("end_turn", None, "请提供论文。", "zh", v)
    assert set(v.codes) == {"no_structure", "refusal"}


def test_preamble_is_stripped_not_rejected():
    body = "好的，作为一名计算机视觉研究者，我将为您分析这篇论文。" + GOOD_ZH
    assert gate.strip_preamble(body) == GOOD_ZH
    sections = sections_for("abstract", GOOD_ZH)
    sections["contribution"] = body
    v = gate.Verdict()
    cleaned = gate.check_sections(sections, FW["abstract"], "zh", "", v)
    assert v.ok and not cleaned[0][1].startswith("好的")


def test_mentioning_provide_in_passing_is_fine():
    sections = sections_for("abstract", GOOD_ZH)
    sections["impact"] = "该数据集为多模态模型提供了新的评测基准，作者还提供了开源代码。"
    assert verdict_for(sections).ok


def test_grounding_keeps_only_verbatim_quotes():
    source = "We present VGGT-SLAM 2.0, a real time RGB feed-forward SLAM system.\nIt has  23 percent less pose error."
    kept, dropped = gate.ground_findings([
        {"claim": "a", "evidence": "We present VGGT-SLAM 2.0, a real time RGB feed-forward SLAM system."},
        {"claim": "b", "evidence": "It has 23 percent less pose error."},  # whitespace differs: fine
        {"claim": "c", "evidence": "It has 40 percent less pose error."},
        {"claim": "d", "evidence": "short"},
    ], source)
    assert [f.claim for f in kept] == ["a", "b"] and len(dropped) == 2


def test_repetition_is_measured():
    loop = "该方法通过引入新的模块显著提升了性能表现并且具有很好的泛化能力。" * 4
    share, top = gate.repetition(GOOD_ZH + loop)
    assert top == 4 and share > 0.5
    assert gate.repetition(GOOD_ZH) == (0.0, 1)


# --- issue 12: checks that generalise (each of these failed on the phrase-list gate) -------------
SOURCE = ("Youtu-VL: Unleashing Visual Potential\nExtensive empirical evaluations demonstrate that Youtu-VL "
          "achieves competitive performance, 84.1% on the benchmark with 1,272 samples. We propose a method.")
FW_FULL = FW["fulltext"]


def test_quote_matching_ignores_case_whitespace_and_quote_style():
    kept, _ = gate.ground_findings([{"claim": "a", "evidence": "extensive  empirical evaluations demonstrate that"},
                                    {"claim": "b", "evidence": "“Extensive empirical evaluations demonstrate”"}], SOURCE)
    assert len(kept) == 2


@pytest.mark.parametrize("claim, kept", [("84.10% on the benchmark", 1), ("87.3% on the benchmark", 0),
                                         ("no numbers here", 1)])
def test_a_claims_numbers_must_be_in_its_evidence(claim, kept):
    found, _ = gate.ground_findings([{"claim": claim, "evidence": "achieves competitive performance, 84.1% on the benchmark"}],
                                    SOURCE)
    assert len(found) == kept


def test_numbers_are_compared_in_normal_form():
    from service.gate.grounding import ungrounded_numbers
    assert ungrounded_numbers("It reaches 84.10 % with 1272 samples.", SOURCE) == []
    assert ungrounded_numbers("It reaches 87.3% with 1,272 samples.", SOURCE) == ["87.3%"]


def test_specifics_in_the_body_are_grounded():
    sections = sections_for("abstract", "Youtu-VL 在基准上达到 87.3% 的准确率，并在 COCO 数据集上优于基线，代码已开源。")
    v = verdict_for(sections, source="Youtu-VL: a framework\nWe propose Youtu-VL, a unified model.")
    details = " ".join(r.detail for r in v.reasons if r.code == "ungrounded")
    assert "87.3" in details and "COCO" in details and "code" in details


@pytest.mark.parametrize("text", [
    "The experiments section was not provided, so the reported numbers cannot be discussed here.",
    "Since only the title was shared with me, the details below are educated guesses.",
    "My knowledge cutoff predates this paper, so I cannot confirm what it reports.",
    "Would you like me to expand on the training setup?",
    "由于未提供论文全文，实验部分无法讨论。",
    "您希望我进一步展开训练细节吗？",
])
def test_meta_talk_in_other_phrasings_is_a_refusal(text):
    assert gate.refusal.meta_talk(text)


@pytest.mark.parametrize("text", [
    "The attacker cannot access the weights and only sees the public chat interface.",
    "Safety-tuned models answer \"I'm sorry, but I can't help with that\" on the first turn.",
    "Based on the abstract alone, the size of the gain cannot be judged.",
    "The abstract does not provide runtime numbers.",
    "攻击者无法访问模型权重，只能通过公开接口发送消息。",
    "摘要未给出推理时延。",
    "该方法能否推广到室外场景？",
])
def test_papers_about_refusals_and_honest_disclaimers_are_not_meta_talk(text):
    assert gate.refusal.meta_talk(text) == []


@pytest.mark.parametrize("text", [
    "<thinking>The user wants five parts.</thinking>",
    "Let me analyse the paper step by step.",
    '{"name": "record_analysis", "input": {',
    "You are a research assistant who writes careful, factual analyses of computer science papers.",
    "让我先分析一下这篇论文的结构。",
])
def test_leaks_are_found_anywhere(text):
    assert gate.leaks.leaks(text)


def test_a_leak_in_any_tool_field_rejects():
    sections = sections_for("abstract", GOOD_ZH)
    reply = {"sections": sections, "findings": [{"claim": "x", "evidence": "Let me analyse the abstract first, then."}],
             "notes": ["<thinking>draft</thinking>"]}
    j = gate.judge_analysis_reply("end_turn", reply, "", FW["abstract"], "zh", "")
    assert "leak" in j.verdict.codes


def test_whole_answer_in_a_code_block_is_a_leak(tmp_path):
    text = "```markdown\n## 主要贡献\n\n" + GOOD_ZH + "\n```\n"
    assert "leak" in gate.check_analysis_text(text, "zh", FW).codes


@pytest.mark.parametrize("lang, text", [
    ("en", "La méthode proposée construit un graphe de facteurs sur les sous-cartes et les aligne avec une similarité."),
    ("zh", GOOD_ZH + "El método propuesto construye un grafo de factores sobre los submapas y los alinea después."),
])
def test_drift_into_a_third_language(lang, text):
    assert gate.language.language_problem(text, lang)


def test_english_terms_and_quotes_in_chinese_are_not_drift():
    text = GOOD_ZH + "原文写道 “We present VGGT-SLAM 2.0, a real time RGB feed-forward SLAM system.” 该系统基于 VGGT。"
    assert gate.language.language_problem(text, "zh") is None


def test_loops_with_counters_long_lists_and_restatements():
    from service.gate.loops import loop_problem
    counter = "".join(f"在第{k}个测试场景中，该方法同样保持了稳定的重建效果。" for k in range(1, 9))
    flood = "\n".join(f"- setting {k}: stable" for k in range(1, 41))
    restated = "换句话说，基准揭示了短板。也就是说，基准暴露出不足。总之，基准表明仍有短板。"
    assert loop_problem(GOOD_ZH + counter) and loop_problem(flood) and loop_problem(restated)
    from service.gate.loops import longest_list
    outline = "\n".join(f"{k}. step\n" + "\n".join(f"   - detail {j}" for j in range(1, 6)) for k in range(1, 9))
    assert longest_list(outline) == 8  # 48 items, but a structured outline: no level is longer than 8


def test_generic_filler_shares_nothing_with_the_paper():
    from service.gate.specificity import generic_part
    src = "VGGT-SLAM 2.0: dense feed-forward SLAM with a factor graph and attention-based loop closure verification."
    assert generic_part("This work makes a valuable contribution to the field and opens promising directions.", src, "en")
    assert not generic_part("The factor graph removes drift, and attention verifies loop closures.", src, "en")


@pytest.mark.parametrize("heading", ["1. **Main contribution**", "**1. Main contribution**", "### 1. Main contribution",
                                     "Main contribution:", "**主要贡献：**", "一、主要贡献"])
def test_heading_styles(heading):
    fw, sections, _, _ = gate.split_sections(f"{heading}\n\nbody\n\n## Potential impact\n\nmore\n", FW)
    assert fw is not None and fw.name == "abstract" and list(sections)[0] == "contribution"


@pytest.mark.parametrize("last, cut", [
    ("- first point without a stop\n- second point without a stop\n- third point without a stop", False),
    ("- first point, stopped.\n- second point, stopped.\n- third point and the", True),
    ("One sentence here. Another one that stops in the", True),
    ("Text.\n\n> Note: this rests on the abstract only", False),
    ("- 代码要等论文发表后才发布，目前无法复现\n- 摘要没有说明训练成本\n- 频域建模的开销也未提及", False),
    ("- 代码要等论文发表后才发布，目前无法复现\n- 摘要没有说明训练成本\n- 频域建模的开销以及", True),
])
def test_truncation_knows_list_style_and_callouts(last, cut):
    from service.gate.structure import cut_off
    assert (cut_off(last) is not None) == cut


def test_seven_parts_from_an_abstract_are_the_wrong_framework():
    text = "\n\n".join(f"## {s.headings['en']}\n\nThe factor graph of VGGT-SLAM removes drift in this part {i}."
                       for i, s in enumerate(FW_FULL.sections))
    v = gate.check_analysis_text(text, "en", FW, "VGGT-SLAM: a factor graph that removes drift.")
    assert "wrong_framework" in v.codes


def test_reasons_stay_typed():
    v = verdict_for({"contribution": "请您提供论文全文。"})
    assert v.reasons and all(isinstance(r, gate.Reason) for r in v.reasons)


@pytest.mark.parametrize("text, meta", [
    ("As I read it, the abstract leaves the tokenizer open.", True),
    ("My copy of the paper ends after the abstract.", True),
    # round 7: a first-person opinion on the paper is a reviewer's voice (batch 7's c7-en-cellmosaic)
    ("在我看来，这为模型改进指明了方向。", False),
    ("在我看来，我无法判断实验是否充分。", True),
    ("A monitor trades Type I errors for fewer misses.", False),
    ("该方法采用自我监督而非人工标注。", False),
    ("我们提出了一种新的因子图设计。", False),
    ("Any agent whose tool I/O passes through untrusted text is exposed.", False),
])
def test_the_models_own_voice_is_meta_talk(text, meta):
    assert bool(gate.refusal.meta_talk(text)) == meta


def test_prose_after_the_findings_is_a_leak():
    from service.gate.structure import stray_after_findings
    assert stray_after_findings("\n- a. Evidence: \"x\"\n- b. Evidence: \"y\"\n\nEnd of analysis. Word count: 430.\n")
    assert stray_after_findings("\n- a. Evidence: \"x\"\n  continued on a second line\n\n---\n") is None


def test_a_self_introduction_ending_in_a_colon_is_stripped_not_rejected():
    body = "作为一名计算机视觉研究者，我对这篇论文摘要进行了分析。以下是我的评估：\n" + GOOD_ZH
    assert gate.strip_preamble(body) == GOOD_ZH
    sections = sections_for("abstract", body)
    v = gate.Verdict()
    cleaned = gate.check_sections(sections, FW["abstract"], "zh", "", v)
    assert v.ok and cleaned[0][1] == GOOD_ZH


@pytest.mark.parametrize("text", [
    "Only a summary of the paper reached this analysis, so the block's internals stay a black box.",
    "Readers who have the PDF should check Table 2, since it was not available when this was written.",
    "如果还想了解各防御方法的实现细节，可以继续问。",
])
def test_the_write_up_talking_about_its_own_input_or_offering_more(text):
    assert gate.refusal.meta_talk(text)


def test_working_steps_are_a_leak():
    assert gate.leaks.leaks("Step 1 - read the abstract. Step 2 - fill the five fields.")


def test_compound_names_must_be_in_the_source_as_one_name():
    from service.gate.grounding import ungrounded_names
    src = "Music Audio-Visual Question Answering (AVQA) with HexFormer Hybrid variants."
    assert ungrounded_names("Results on MUSIC-AVQA show the largest gains.", src) == ["MUSIC-AVQA"]
    assert ungrounded_names("Compared with HexFormer-Hybrid, it is smaller.", src) == []


def test_short_sentences_on_one_template_are_a_loop():
    from service.gate.loops import loop_problem
    assert loop_problem("The gains may be small. The improvements might be modest. The benefit could be limited. "
                        "The advantage may be minor.")
    assert loop_problem("The method is fast. It needs no training. Loop closures are verified by attention. "
                        "The map stays consistent.") is None


# --- round 4: structural signals without a person ----------------------------------------
@pytest.mark.parametrize("text", [
    "With no results section available, the size of the gains stays open.",
    "The excerpt supplied ends before the architecture, so the block is only named.",
    "A closer look at the ablations is not possible without access to the full paper.",
    "The remaining detail was not part of what came through.",
    "The supplementary link could not be loaded, so only the abstract is discussed.",
    "For policy reasons, the exact jailbreak prompts are not reproduced here.",
    "由于所给材料缺少附录，实现细节暂缺。",
    "论文的补充材料链接未能加载，因此这里只讨论摘要。",
    "考虑到安全风险，具体的越狱提示这里不便详细展开。",
    "要是方便，把实验表格贴过来，这部分可以写得更具体。",
])
def test_meta_talk_without_a_person_is_a_refusal(text):
    assert gate.refusal.meta_talk(text)


@pytest.mark.parametrize("text", [
    "The attack logs are not available to the agents under test, which is the point of the setting.",
    "The experiments section of the paper also reports qualitative results.",
    "Code is not available yet; the authors promise it after publication.",
    "接下来，作者分析了监控器的额外延迟。",
    "代码尚未开源，作者称将在项目主页发布。",
])
def test_near_misses_of_input_talk_and_narration_pass(text):
    assert gate.refusal.meta_talk(text) == [] and gate.leaks.leaks(text) == []


@pytest.mark.parametrize("text", [
    "Moving on to the methodology, the benchmark is built from four environments.",
    "Now consider the applications section, which follows from the above.",
    "Turning now to the next part of this analysis, the defences deserve a look.",
    "接下来考虑方法部分，先把关键词理一理。",
    "下面接着写应用部分。",
    "嗯，这篇讲的是多轮越狱，先把要点列出来再写。",
    "（草拟：局限性这段还要再补两句。）",
])
def test_process_narration_is_a_leak(text):
    assert gate.leaks.leaks(text)


def test_a_release_claimed_as_done_when_the_source_only_promises_it():
    from service.gate.grounding import ungrounded_code_claim
    promised = "We propose X. The code and pretrained models will be released after publication."
    assert ungrounded_code_claim("代码和预训练模型均已在 GitHub 开源。", promised)
    assert ungrounded_code_claim("The code has been released on GitHub.", promised)
    assert ungrounded_code_claim("代码将在论文发表后开源。", promised) is None
    assert ungrounded_code_claim("代码已开源。", "Code and data: https://github.com/x/y") is None
    assert ungrounded_code_claim("作者同时放出了完整的训练代码和模型权重。", "We propose X, a model.")


def test_chinese_filler_is_measured_by_its_share_of_stock_phrasing():
    from service.gate.specificity import content_share_zh, generic_part
    filler = "总的来看，这项研究意义重大，为该方向的后续工作奠定了良好基础，具有较高的参考价值。"
    specific = "对阿拉伯书法这类艺术化文字，基准揭示了模型在连笔和风格变化上的具体短板。"
    assert content_share_zh(filler) < 0.3 <= content_share_zh(specific)
    assert generic_part(filler, "An English abstract.", "zh", others="书法 连笔 基准 " + filler)


@pytest.mark.parametrize("heading", ["**I. Main contribution**", "【主要贡献】", "IV. Main contribution"])
def test_odd_heading_styles(heading):
    fw, sections, _, _ = gate.split_sections(f"{heading}\n\nbody\n\n## Potential impact\n\nmore\n", FW)
    assert fw is not None and fw.name == "abstract" and list(sections)[0] == "contribution"


def test_invented_benchmark_in_a_chinese_sentence_is_ungrounded():
    from service.gate.grounding import ungrounded_names
    assert ungrounded_names("在 JailbreakBench 上的复现实验也得到类似结论。", "We study refusal erosion on EROSION-500.")


# --- round 5: precision bugs found by batch 4 (fixed after it was measured) --------------
def test_training_data_as_the_papers_subject_is_not_a_cutoff():
    assert gate.refusal.meta_talk("Instead of scaling training data, the model is conditioned on examples.") == []
    assert gate.refusal.meta_talk("The benchmark appeared after the training data cutoff.")
    assert gate.refusal.meta_talk("This paper is beyond my training data, so later work is unknown.")


def test_an_applications_part_sharing_the_papers_fields_is_specific():
    from service.gate.specificity import generic_part
    src = "3D scene generation is a core technology for gaming, film/VFX, and VR/AR. We generate scenes."
    body = "Level prototyping for games, previsualisation and VFX backgrounds, and scene authoring."
    assert not generic_part(body, src, "en")
    assert generic_part("This could benefit many applications and open avenues for future research.", src, "en")


def test_the_papers_users_are_not_the_models_user():
    src = "The user asks the agent for a benign task while a third party controls the content."
    assert gate.leaks.leaks("设定上，用户要求代理完成一个良性任务。", source=src) == []
    assert gate.leaks.leaks("用户要求我分析这篇论文的五个部分。", source=src)
    assert gate.leaks.leaks("设定上，用户要求代理完成一个良性任务。", source="A paper about scene generation.")
