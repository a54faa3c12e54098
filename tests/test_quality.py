"""The gate's checks on their own (the labelled corpus comes with the quality issue)."""
from __future__ import annotations

import pytest

from service import quality
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


def verdict_for(sections: dict, lang="zh", source="") -> quality.Verdict:
    v = quality.Verdict()
    quality.check_sections(sections, FW["abstract"], lang, source, v)
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
    v = quality.Verdict()
    assert quality.check_stop("max_tokens", {"sections": {}}, "", "zh", v)
    assert v.codes == ("truncated",)
    v = quality.Verdict()
    assert not quality.check_stop("end_turn", None, "请提供论文。", "zh", v)
    assert set(v.codes) == {"no_structure", "refusal"}


def test_preamble_is_stripped_not_rejected():
    body = "好的，作为一名计算机视觉研究者，我将为您分析这篇论文。" + GOOD_ZH
    assert quality.strip_preamble(body) == GOOD_ZH
    sections = sections_for("abstract", GOOD_ZH)
    sections["contribution"] = body
    v = quality.Verdict()
    cleaned = quality.check_sections(sections, FW["abstract"], "zh", "", v)
    assert v.ok and not cleaned[0][1].startswith("好的")


def test_mentioning_provide_in_passing_is_fine():
    sections = sections_for("abstract", GOOD_ZH)
    sections["impact"] = "该数据集为多模态模型提供了新的评测基准，作者还提供了开源代码。"
    assert verdict_for(sections).ok


def test_grounding_keeps_only_verbatim_quotes():
    source = "We present VGGT-SLAM 2.0, a real time RGB feed-forward SLAM system.\nIt has  23 percent less pose error."
    kept, dropped = quality.ground_findings([
        {"claim": "a", "evidence": "We present VGGT-SLAM 2.0, a real time RGB feed-forward SLAM system."},
        {"claim": "b", "evidence": "It has 23 percent less pose error."},  # whitespace differs: fine
        {"claim": "c", "evidence": "It has 40 percent less pose error."},
        {"claim": "d", "evidence": "short"},
    ], source)
    assert [f.claim for f in kept] == ["a", "b"] and len(dropped) == 2


def test_repetition_is_measured():
    loop = "该方法通过引入新的模块显著提升了性能表现并且具有很好的泛化能力。" * 4
    share, top = quality.repetition(GOOD_ZH + loop)
    assert top == 4 and share > 0.5
    assert quality.repetition(GOOD_ZH) == (0.0, 1)
