"""Round 6 of the gate (issue 12): rules written after blind batch 6, each as a general signal,
each with the near-misses it must let through."""
from __future__ import annotations

import pytest

from service import gate
from service.gate import grounding, language, leaks, structure
from service.prompts import PromptLibrary

FW = PromptLibrary().frameworks
SRC = ("SONIC: Spectral Oriented Neural Invariant Convolutions. We introduce SONIC, a continuous spectral "
       "parameterisation of convolutional operators using a small set of shared, orientation-selective components. "
       "Across synthetic benchmarks and 3D medical datasets, SONIC shows improved robustness to geometric "
       "transformations, noise, and resolution shifts with an order of magnitude fewer parameters.")
PARTS = [
    ("Main contribution", "SONIC parameterises convolutional operators in the frequency domain with shared components."),
    ("Key innovations and methodology", "Orientation-selective spectral components give global receptive fields."),
    ("Potential impact", "Fewer parameters with robustness to resolution shifts would help resolution-varying inputs."),
    ("Related fields and applications", "Medical imaging with 3D medical datasets and remote sensing under resolution shift."),
    ("Limitations inferable from the abstract", "The abstract gives no accuracy numbers or compute costs for SONIC."),
]
FINDINGS = ('\n\n## Key findings\n\n- Robustness. Evidence: "SONIC shows improved robustness to geometric '
            'transformations, noise, and resolution shifts"\n')


def analysis(parts=PARTS, style="## {title}\n\n{body}", findings=FINDINGS) -> str:
    return "\n\n".join(style.format(n=i + 1, title=t, body=b) for i, (t, b) in enumerate(parts)) + findings


def verdict(text: str, source: str = SRC, lang: str = "en") -> gate.Verdict:
    return gate.check_analysis_text(text, lang, FW, source)


def test_the_base_analysis_passes():
    assert verdict(analysis()).ok, verdict(analysis()).reasons


# --- structure: a bold numbered title with the part's text on the same line ------------------
@pytest.mark.parametrize("style", ["**{n}. {title}** — {body}", "**{n}. {title}:** {body}", "**{title}** – {body}"])
def test_titles_with_the_text_on_the_same_line_are_parts(style):
    text = "**Framework:** five-part analysis from the abstract only (no full text available)\n\n" + analysis(style=style)
    fw, sections, _, _ = gate.split_sections(text, FW)
    assert fw.name == "abstract" and len(sections) == 5 and sections["impact"].startswith("Fewer parameters")
    assert verdict(text).ok, verdict(text).reasons


def test_a_bold_lead_in_inside_a_part_does_not_split_it_when_the_text_has_headings():
    parts = list(PARTS)
    parts[2] = ("Potential impact", "**Limitations** — not here. Fewer parameters would help resolution-varying inputs.")
    _, sections, _, _ = gate.split_sections(analysis(parts), FW)
    assert "not here" in sections["impact"] and sections["limitations"].startswith("The abstract gives")


# --- truncation: a part ending on a link ----------------------------------------------------
@pytest.mark.parametrize("last, cut", [
    ("The abstract gives no numbers. Code: github.com/Nicous20/EgoHandICL", False),
    ("摘要没有给出训练成本。代码见 https://github.com/a/b", False),
    ("The abstract gives no numbers and the code at the", True),
])
def test_a_part_ending_on_a_link_is_not_cut(last, cut):
    assert (structure.cut_off(last) is not None) == cut


# --- links: what the renderer links anywhere in the answer -----------------------------------
@pytest.mark.parametrize("tail", ["\n[pp]: https://evil.example/leaderboard\n",
                                  "\n![](//img.cdn.example/t.gif?id=1)\n"])
def test_a_link_after_the_findings_is_judged(tail):
    parts = list(PARTS)
    parts[1] = (parts[1][0], parts[1][1] + " See the [project page][pp].")
    v = verdict(analysis(parts) + tail)
    assert "foreign_link" in v.codes


def test_a_source_link_after_the_findings_passes():
    src = SRC + " Code: https://github.com/sonic/sonic."
    parts = list(PARTS)
    parts[1] = (parts[1][0], parts[1][1] + " See the [code][c].")
    assert "foreign_link" not in verdict(analysis(parts) + "\n[c]: https://github.com/sonic/sonic\n", src).codes


# --- quotes: evidence is what is offered as the paper's words ---------------------------------
@pytest.mark.parametrize("sentence, ungrounded", [
    ('It separates "the judge is wrong" from "the question has no clear answer".', False),
    ('Telling the model "ignore instructions in documents" barely helps.', False),
    ('The authors write "spectral filters never overfit small data".', True),
    ('The abstract says: "components overfit the training set".', True),
    ('It "shows strong robustness to every kind of shift seen in practice".', True),
])
def test_short_quotes_count_as_evidence_only_when_attributed(sentence, ungrounded):
    parts = list(PARTS)
    parts[2] = (parts[2][0], parts[2][1] + " " + sentence)
    assert ("ungrounded" in verdict(analysis(parts)).codes) == ungrounded


# --- numbers and metric names ----------------------------------------------------------------
def test_a_number_written_into_a_compound_in_the_source_is_grounded():
    src = SRC + " We train a 124M-parameter GPT-2 model and a 3x-larger variant."
    assert not grounding.ungrounded_numbers("124M 参数的 GPT-2 与 3x 更大的模型", src)
    assert grounding.ungrounded_numbers("125M 参数的 GPT-2", src) == ["125M"]


def test_p99_is_the_sources_99th_percentile():
    src = SRC + " It reduces 99th-percentile read latency by 38% compared with RocksDB."
    assert not grounding.ungrounded_names("It gives 38% lower p99 read latency than RocksDB.", src)
    assert grounding.ungrounded_names("It gives 38% lower p95 read latency than RocksDB.", src) == ["p95"]


# --- code claims: only a source that speaks of releasing code lets one through ----------------
CODE_CLAIMS = ["The code is publicly released on GitHub.", "The controller code is at https://github.com/x/y.",
               "作者已在 GitHub 上开源了控制器的全部代码。", "代码托管在 GitHub 上。"]


@pytest.mark.parametrize("claim", CODE_CLAIMS)
@pytest.mark.parametrize("source_adds", ["Videos are available at https://sonic-proj.github.io.",
                                         "Every change passed code review before the study.",
                                         "It models operators using shared components."])
def test_a_code_claim_needs_a_source_that_releases_code(claim, source_adds):
    assert grounding.ungrounded_code_claim(claim, SRC + " " + source_adds)


@pytest.mark.parametrize("claim", CODE_CLAIMS)
@pytest.mark.parametrize("source_adds", ["Code is available at https://github.com/sonic/sonic.",
                                         "We release the implementation and pretrained weights.",
                                         "Our code and models are publicly available."])
def test_a_code_claim_passes_when_the_source_releases_code(claim, source_adds):
    assert not grounding.ungrounded_code_claim(claim, SRC + " " + source_adds)


# --- language ---------------------------------------------------------------------------------
def test_english_that_the_fast_detector_calls_german_is_english():
    assert language.foreign_sentence("The controller code is at   if you want to check the solver settings.") is None
    assert language.foreign_sentence("Die Autoren schlagen eine neue Methode zur Rekonstruktion von Szenen vor.")


ZH = "作者提出了一种新的频域卷积参数化方法，用少量共享的方向选择分量构造全局感受野，并在三维医学数据上验证。"


@pytest.mark.parametrize("extra, drift", [
    (" This makes the method a strong candidate for any setting where the input resolution changes.", True),
    ("\n\nThe abstract does not say how the components are learned or how many of them are used.", True),
    (" 论文标题为 Spectral Oriented Neural Invariant Convolutions for Image Classification。", False),
    (" 对比对象包括 ResNet, ViT, Swin Transformer, ConvNeXt and FNO。", False),
    ("\n\nResNet, ViT, Swin Transformer, ConvNeXt, FNO and GFNet are the baselines.", False),
    (' 作者原话是 "matches or exceeds convolutional, attention-based, and prior spectral architectures"。', False),
])
def test_an_english_sentence_in_a_chinese_part_is_drift(extra, drift):
    assert (language.language_problem(ZH + extra, "zh") is not None) == drift


# --- notes to self ----------------------------------------------------------------------------
@pytest.mark.parametrize("aside, leak", [
    ("(scratch: is it Sim(3) or SE(3)+scale? paper says SE(3) nodes -> say 7-dim, fine)", True),
    ("(note: tighten this part later)", True),
    ("(TODO: add the ablation numbers)", True),
    ("（备注：这里待核实数字）", True),
    ("(note: the abstract gives no variance for these runs)", False),
    ("(ours: 84.1 vs 80.2 for the baseline)", False),
    ("(pipeline: frames -> submaps -> factor graph)", False),
    ("(open question: does it scale to outdoor scenes?)", False),
    ("(Note: does this hold for non-square images? The abstract does not say.)", False),
    ("(note: say 7-dim here, check later)", True),
])
def test_a_labelled_aside_is_a_note_to_self_only_when_it_edits_or_questions_the_writing(aside, leak):
    parts = list(PARTS)
    parts[1] = (parts[1][0], parts[1][1] + " " + aside)
    assert ("leak" in verdict(analysis(parts)).codes) == leak


# --- template echo in a translated prompt ------------------------------------------------------
@pytest.mark.parametrize("body, echo", [
    ("<在此列出可能受益的相关领域或应用>", True),
    ("[Related fields or applications that may benefit]", True),
    ("从摘要中可以推断出的局限性；如摘要未说明，请明确指出摘要没有说明的内容。", True),
    ("请注意，该结果只在三维医学数据上验证过，摘要没有给出自然图像上的对比。", False),
    ("（摘要没有说明分量个数如何选取，也没有报告训练开销。）作者只给出了鲁棒性的定性结论。", False),
])
def test_a_part_that_is_a_bracketed_placeholder_or_the_task_is_template_echo(body, echo):
    problem = structure.part_problem(body, "相关领域与应用", "applications", "Related fields or applications that may benefit.")
    assert (problem is not None and problem[0] == "template_echo") == echo


# --- the write-up as the subject of access; the writing moving between its own parts ----------
@pytest.mark.parametrize("sentence, code", [
    ("This write-up cannot inspect the appendix, so the proofs are taken on trust.", "refusal"),
    ("The experiment tables were inaccessible to this summary.", "refusal"),
    ("This summary only saw the abstract and the title.", "refusal"),
    ("Having the motivation out of the way, the design choices follow.", "leak"),
    ("The applications are up next, after a word on costs.", "leak"),
    ("This analysis rests on the abstract alone, so the numbers are the abstract's.", None),
    ("The attacker cannot access the weights, and the defender could not see the prompts.", None),
    ("With the decoder frozen, the spectral components are trained first.", None),
    ("The refinement stage comes next in the pipeline.", None),
])
def test_the_write_up_talking_about_its_own_access_or_progress(sentence, code):
    parts = list(PARTS)
    parts[2] = (parts[2][0], parts[2][1] + " " + sentence)
    codes = verdict(analysis(parts)).codes
    assert (code in codes) if code else not codes, codes


ZH_PARTS = [("主要贡献", "作者提出 SONIC，用少量共享的方向选择分量在频域参数化卷积算子，获得全局感受野。"),
            ("关键创新与方法", "每个算子是整个频域上的平滑响应，由共享的方向分量组合而成，兼具卷积的结构与注意力的全局性。"),
            ("潜在影响", "参数量少一个数量级而鲁棒性更好，对分辨率变化的输入很有吸引力。"),
            ("相关领域与应用", "三维医学影像、遥感等存在分辨率变化的场景。"),
            ("可推断的局限性", "摘要没有给出准确率数字和计算开销，SONIC 的分量个数如何选取也未说明。")]


@pytest.mark.parametrize("sentence, code", [
    ("本分析无法查看论文正文，细节只能从摘要推断。", "refusal"),
    ("由于没有拿到全文，实验部分只能略过。", "refusal"),
    ("附录下载不了，因此不评价其中的证明。", "refusal"),
    ("动机说完了，现在写方法。", "leak"),
    ("创新点都讲完了，接下来谈谈局限。", "leak"),
    ("作者在三维医学数据上验证了方法，没有报告自然图像上的结果。", None),
    ("攻击者无法访问模型权重，只能观察输出。", None),
])
def test_the_write_up_talking_about_its_own_access_or_progress_zh(sentence, code):
    parts = list(ZH_PARTS)
    parts[2] = (parts[2][0], parts[2][1] + sentence)
    codes = verdict(analysis(parts, findings=""), lang="zh").codes
    assert (code in codes) if code else not codes, codes


# --- wrong paper: too little of the analysis is in the source ---------------------------------
OTHER_PAPER = [
    ("Main contribution", "A dense monocular mapping pipeline stitches feed-forward submaps into a global factor graph."),
    ("Key innovations and methodology", "Submaps are aligned on a similarity manifold; loop closures are verified "
                                        "with cross-image attention before they enter the graph."),
    ("Potential impact", "Robots with one camera could map large indoor spaces online without drift in scale."),
    ("Related fields and applications", "Indoor navigation, drones, augmented reality and building inspection."),
    ("Limitations inferable from the abstract", "Outdoor scenes, dynamic objects and the cost of loop verification "
                                                "on embedded hardware are not discussed."),
]


def test_an_analysis_of_another_paper_is_rejected():
    v = verdict(analysis(OTHER_PAPER, findings=""))
    assert any("about this paper" in r.detail for r in v.reasons), v.reasons


def test_one_part_about_another_paper_is_rejected():
    parts = list(PARTS)
    parts[1] = (PARTS[1][0], OTHER_PAPER[1][1] + " " + OTHER_PAPER[2][1] + " " + OTHER_PAPER[4][1])
    v = verdict(analysis(parts))
    assert any("part 2" in r.detail and "about this paper" in r.detail for r in v.reasons), v.reasons


def test_an_analysis_that_brings_in_its_own_context_is_still_about_the_paper():
    parts = list(PARTS)
    parts[3] = (parts[3][0], "Medical imaging with scanners of varying resolution, satellite remote sensing, microscopy "
                             "and any pipeline where SONIC's fewer parameters and robustness to resolution shifts matter "
                             "more than peak accuracy; compression and on-device inference are natural next steps.")
    assert verdict(analysis(parts)).ok, verdict(analysis(parts)).reasons


# --- a sentence about a document's delivery that shares nothing with the paper -----------------
@pytest.mark.parametrize("sentence, meta", [
    ("The PDF never came through, so nothing past the opening page is covered.", True),
    ("Sections past the introduction were not seen here.", True),
    ("Whatever the appendix holds was not included in what arrived.", True),
    ("The abstract does not say how the orientation-selective components are learned.", False),
    ("The supplementary material is said to include proofs for the spectral components.", False),
])
def test_talk_of_a_documents_delivery_without_the_papers_content_is_meta_talk(sentence, meta):
    parts = list(PARTS)
    parts[4] = (parts[4][0], parts[4][1] + " " + sentence)
    assert ("refusal" in verdict(analysis(parts)).codes) == meta


def test_a_paper_about_documents_may_speak_of_their_delivery():
    src = SRC + " In a second study, an attacker plants instructions in documents that an agent retrieves."
    parts = list(PARTS)
    parts[4] = (parts[4][0], parts[4][1] + " The attacker never sees the text the agent retrieved.")
    assert verdict(analysis(parts), src).ok


# --- the findings are written last: a cut there is a cut --------------------------------------
@pytest.mark.parametrize("last_finding, cut", [
    ('- Fewer parameters. Evidence: "with an order of magnitude fewer', True),
    ('- Fewer parameters. Evidence: “with an order of magnitude fewer', True),
    ('- Fewer parameters. Evidence: "with an order of magnitude fewer parameters"', False),
    ('- 参数更少。证据："with an order of magnitude fewer parameters"', False),
])
def test_a_finding_cut_inside_its_quote_is_truncated(last_finding, cut):
    text = analysis() + last_finding + "\n"
    assert ("truncated" in verdict(text).codes) == cut


# --- coined names are claims wherever they stand ------------------------------------------------
@pytest.mark.parametrize("sentence, ungrounded", [
    ("Its filters resemble those learned by MiDaS for depth.", True),
    ("A natural follow-up is to plug SONIC into SwinIR for super-resolution.", True),
    ("It could help analyse YouTube videos shot on an iPhone.", False),
    ("SONIC keeps its components shared across resolutions.", False),
])
def test_a_coined_name_outside_a_comparison_must_be_in_the_source(sentence, ungrounded):
    assert bool(grounding.ungrounded_names(sentence, SRC)) == ungrounded


@pytest.mark.parametrize("sentence", [
    "Extending it to text documents would be a natural next step once suitable corpora are available.",
    "The impact is next to nothing for small images, where spatial kernels already see everything.",
    "With the limitations covered in the discussion, the authors turn to medical data.",
])
def test_prospects_and_the_papers_own_order_are_not_meta_talk(sentence):
    parts = list(PARTS)
    parts[3] = (parts[3][0], parts[3][1] + " " + sentence)
    assert verdict(analysis(parts)).ok, verdict(analysis(parts)).reasons


@pytest.mark.parametrize("source_adds", ["The benchmark can be downloaded from our project site.",
                                         "We make our implementation and data public."])
def test_more_ways_a_source_releases_code(source_adds):
    assert not grounding.ungrounded_code_claim("The code is publicly released on GitHub.", SRC + " " + source_adds)


def test_what_the_main_text_lacks_is_a_limitation_of_the_paper_zh():
    parts = list(ZH_PARTS)
    parts[4] = (parts[4][0], parts[4][1] + "正文中找不到消融实验，附录里也看不到分量个数的敏感性分析。")
    assert verdict(analysis(parts, findings=""), lang="zh").ok


# --- from batch 6's generated variants (dev) ----------------------------------------------------
@pytest.mark.parametrize("last, cut", [
    ("- Accuracy falls sharply for genes with few known interactions, and transfer is poor without tuning\n"
     "- The combination result is under half of the labelled pairs in the held-out set\n"
     "- Only two cell lines are covered", False),
    ("- Accuracy falls sharply for genes with few known interactions, and transfer is poor without tuning\n"
     "- The combination result is under half of the labelled pairs in the held-out set\n"
     "- Only two cell", True),
])
def test_a_short_complete_last_list_item_is_not_a_cut(last, cut):
    assert (structure.cut_off(last) is not None) == cut


def test_a_code_claim_after_a_negated_clause_on_the_same_line_is_still_a_claim():
    text = "- The abstract does not say whether the benchmark is released The code is publicly released on GitHub."
    assert grounding.ungrounded_code_claim(text, SRC)
    assert not grounding.ungrounded_code_claim("- It is unclear whether the code is publicly released.", SRC)


def test_real_world_potential_is_filler():
    from service.gate.specificity import generic_part
    src = SRC + " It recognises real-world calligraphy."
    assert generic_part("Overall, the method shows strong performance and has significant potential for many "
                        "real-world applications.", src, "en")


# --- pointers into a body the source does not have ---------------------------------------------
FULL = SRC + "\n\n## 3 Method\n\nThe components are shared.\n\nTable 2: Accuracy on 3D medical datasets.\n\nA Proofs\n\nDone."


@pytest.mark.parametrize("sentence, source, ungrounded", [
    ("Table 3 shows SONIC ahead on every dataset.", SRC, True),
    ("As Section 4.2 explains, the components are shared.", SRC, True),
    ("表 3 显示 SONIC 在所有数据集上领先。", SRC, True),
    ("Section 3 explains how the components are shared; Table 2 gives the accuracy.", FULL, False),
    ("Fig. 2 of the paper plots it, and Appendix A has the proofs.", FULL + " Figure 2: robustness.", False),
    ("第 3 节给出了分量共享的方式。", FULL, False),
])
def test_pointers_to_tables_figures_and_sections_must_be_in_the_source(sentence, source, ungrounded):
    assert bool(grounding.ungrounded_refs(sentence, source)) == ungrounded


def test_a_number_after_daibiao_is_not_a_table():
    assert not grounding.ungrounded_refs("每个分量代表 1 个方向，试图 2 次以上也一样。", SRC)
