"""Round 7 of the gate (issue 12): rules written after blind batch 7, each as a general signal,
each with the near-misses it must let through."""
from __future__ import annotations

import pytest

from service.gate import refusal


# --- refusal: first person is the model about itself, unless it is an opinion on the paper ----
@pytest.mark.parametrize("sentence, meta", [
    ("More interesting to me is the rare-cell claim: rare populations are identified more reliably.", False),
    ("In my view the spectral parameterisation is the real contribution.", False),
    ("I find the robustness claim the most convincing part of the abstract.", False),
    ("To me, the parameter savings matter more than the accuracy.", False),
    ("My main concern is that no compute costs are reported.", False),
    ("在我看来，参数量的减少比精度提升更重要。", False),
    ("我认为稀有细胞的结果最有价值。", False),
    # still the model about itself: its capability, its input, the reader, its next step
    ("I cannot assess the experiments beyond what is described here.", True),
    ("To me it is unclear, since I don't have the full paper.", True),
    ("I will now turn to the limitations.", True),
    ("In my view you should read the appendix yourself.", True),
    ("I think I should mention that my knowledge of this field is limited.", True),
    ("我认为我无法判断实验细节。", True),
    ("我将在下一部分讨论局限性。", True),
])
def test_a_first_person_opinion_on_the_paper_is_not_meta_talk(sentence, meta):
    assert bool(refusal.meta_talk(sentence)) is meta, refusal.meta_talk(sentence)


# --- coined names: a hyphenated descriptor ("RGB-only", "Transformer-based") is not a name ---
NAME_SRC = ("VGGT-SLAM 2.0: a feed-forward SLAM system that aligns submaps from VGGT. On TUM it reduces pose error "
            "by 23 percent compared with VGGT-SLAM, and we release ScanBench, a new benchmark.")


@pytest.mark.parametrize("sentence, flagged", [
    ("It is a real-time, RGB-only SLAM system that beats VGGT-SLAM on TUM.", []),
    ("A Transformer-based front end gives lower error than VGGT-SLAM.", []),
    ("Its LLaMA-style decoder is compared with VGGT-SLAM on TUM.", []),
    ("A VGGT-based retrieval check improves on VGGT-SLAM.", []),
    ("Compared with prior SLAM-like pipelines, the error drops on TUM.", []),
    # still names: a version number, a coined CamelCase, a baseline the source lacks
    ("It outperforms a GPT-4-based planner on TUM.", ["GPT-4"]),
    ("It beats DROID-SLAM on TUM.", ["DROID-SLAM"]),
    ("It is evaluated on ScanNetPro-like scenes as well.", ["ScanNetPro"]),
])
def test_a_hyphenated_descriptor_is_judged_by_its_stem(sentence, flagged):
    from service.gate import grounding
    assert grounding.ungrounded_names(sentence, NAME_SRC) == flagged


# --- a last list item ending on an embedded question ("does not say which") is complete ---------
LIST = "- Ortholog mapping is assumed to be available, and genes without orthologs may drop out\n"


@pytest.mark.parametrize("last, cut", [
    ("- Unmatched programs could be novel biology or noise; the abstract does not say which", False),
    ("- It could be either, and it is unclear which", False),
    ("- Two readings are possible and the results do not show which", False),
    ("- Unmatched programs could be novel biology or noise, which", True),
    ("- Unmatched programs are compared with the baselines which", True),
])
def test_an_embedded_question_ending_on_which_is_not_a_cut(last, cut):
    from service.gate import structure
    assert (structure.cut_off(LIST + last) is not None) == cut


# --- code claims: "already on GitHub" / "now on Hugging Face" ------------------------------------
CODE_SRC = "We present a quadruped controller that adapts to granular terrain, reaching 0.8 m/s on dry sand."


@pytest.mark.parametrize("sentence, claim", [
    ("On the positive side, the code is already on GitHub, which should make it easy to try.", True),
    ("The weights are now on Hugging Face.", True),
    # c7-zh-quadmpc-opensource: a negation in the next clause ("，复现难度不大") no longer cancels the claim
    # (round 10: the window after a claim ends at the clause; "与否"/"是否" below are caught in the claim's own clause)
    ("好在作者已经在 GitHub 上开源了控制器代码，复现难度不大。", True),
    ("作者开源了全部代码，但不包括训练数据。", True),
    ("代码开源与否，摘要没有说明。", False),
    # near-misses: the claim is negated in its own clause
    ("The abstract does not say whether the code is already on GitHub.", False),
    ("作者没有开源控制器代码，复现难度不小。", False),
    ("代码是否开源，摘要没有说明。", False),
])
def test_a_code_claim_already_on_a_host(sentence, claim):
    from service.gate import grounding
    assert (grounding.ungrounded_code_claim(sentence, CODE_SRC) is not None) == claim
