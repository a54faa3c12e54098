"""Round 10 of the gate (issue 12): recall on a stranger's phrasings, precision kept. Each kind that
blind batches 10-13 got past gate 8 (a changed count, "the weights are out" against a promise, a title
guess, narration between parts, an echoed task, a German sentence glued into Chinese) and each kind of
their false positives is a test here, in phrasings of my own, with a near-miss in the other direction."""
from __future__ import annotations

import pytest

from service import gate
from service.gate import grounding, language

from .test_gate_round6 import FINDINGS, PARTS, SRC, analysis, verdict
from .test_gate_round8 import ZH_FINDINGS, ZH_PARTS


def zh_analysis(parts=ZH_PARTS, between: str = "", opening: str = "") -> str:
    body = "\n\n".join(f"## {t}\n\n{b}" for t, b in parts)
    if between:
        head, _, rest = body.partition("## 潜在影响")
        body = head + between + "\n\n## 潜在影响" + rest
    return opening + body + ZH_FINDINGS


def with_part(parts, i: int, body: str):
    out = list(parts)
    out[i] = (parts[i][0], body)
    return out


# --- a count of the paper's things changed ---------------------------------------------------
COUNT_SRC = SRC + (" The fuzzer ran on eleven kernels and found 14 new crashes, 4 of which were assigned CVEs; it renders "
                   "at 24 FPS and beats the baseline on 7 of the 11 targets. The monitor restores safety with 3% extra "
                   "latency across 5 chat models.")


@pytest.mark.parametrize("phrase", ["It found 17 previously unseen crashes.", "Of these, 9 were assigned CVEs.",
                                    "The viewer renders at 30 FPS.", "It wins on 8/11 targets."])
def test_a_small_count_the_source_never_states_is_ungrounded(phrase):
    v = verdict(analysis(with_part(PARTS, 2, PARTS[2][1] + " " + phrase)), COUNT_SRC)
    assert "ungrounded" in v.codes and "counts" in str(v.reasons), v.reasons


@pytest.mark.parametrize("phrase", ["It found 14 previously unseen crashes.", "Of these, 4 were assigned CVEs.",
                                    "The viewer renders at 24 FPS.", "It wins on 7/11 targets.",
                                    "It was tested on 11 kernels.",  # spelled "eleven" in the source
                                    "Part 3 of the method has 2 stages.", "Its gain is 40 times larger."])
def test_a_count_the_source_states_or_an_ordinal_is_grounded(phrase):
    v = verdict(analysis(with_part(PARTS, 2, PARTS[2][1] + " " + phrase)), COUNT_SRC)
    assert "counts" not in str(v.reasons), v.reasons


def test_a_chinese_count_with_a_measure_word_is_checked():
    bad = verdict(zh_analysis(with_part(ZH_PARTS, 2, ZH_PARTS[2][1] + "作者一共发现了 23 个新崩溃。")), COUNT_SRC, "zh")
    good = verdict(zh_analysis(with_part(ZH_PARTS, 2, ZH_PARTS[2][1] + "作者一共发现了 14 个新崩溃。")), COUNT_SRC, "zh")
    assert "ungrounded" in bad.codes, bad.reasons
    assert "counts" not in str(good.reasons), good.reasons


def test_a_number_the_source_has_elsewhere_but_gives_otherwise_for_this_statement_is_ungrounded():
    # 5 is in the source (5 chat models), but "extra latency" follows only 3% there
    assert grounding.conflicting_numbers("It costs only 5% extra latency.", COUNT_SRC) == ["5% extra latency"]
    assert grounding.conflicting_numbers("It costs only 3% extra latency.", COUNT_SRC) == []
    assert grounding.conflicting_numbers("It runs 5 chat models.", COUNT_SRC) == []


# --- numbers restated: ratios in "times", points from fractions, a gap --------------------------
RATIO_SRC = SRC + " The elasticity is -0.08, against -0.21 for the two-way fixed effects estimator; Dice is 0.856 for " \
                  "nnU-Net and 0.842 for ours."


@pytest.mark.parametrize("phrase, ok", [("It is roughly 2.6 times smaller.", True), ("It is roughly 3.1 times smaller.", False),
                                        ("Ours trails by 1.4 points.", True), ("Ours trails by 2.4 points.", False)])
def test_a_ratio_in_times_and_a_gap_in_points_between_fractions_are_derived(phrase, ok):
    found = grounding.ungrounded_numbers(phrase, RATIO_SRC)
    assert (found == []) is ok, found


def test_a_chinese_gap_after_cha_is_a_difference():
    assert grounding.ungrounded_numbers("与 nnU-Net 只差 0.014。", RATIO_SRC) == []
    assert grounding.ungrounded_numbers("与 nnU-Net 只差 0.024。", RATIO_SRC) == ["0.024"]


def test_an_acronym_of_words_the_source_writes_out_is_not_an_invented_name():
    assert grounding.ungrounded_names("The estimate is smaller than TWFE suggests, compared with the baseline.",
                                      RATIO_SRC) == []
    assert grounding.ungrounded_names("The estimate is smaller than TWFX suggests, compared with the baseline.",
                                      RATIO_SRC) == ["TWFX"]


def test_a_model_size_naming_the_model_in_a_finding_is_not_its_result():
    assert grounding.claim_numbers_in_evidence("7B 模型超过基线", "reaches 78.4, compared with 71.9") == []
    assert grounding.claim_numbers_in_evidence("7B 模型达到 81.2", "reaches 78.4, compared with 71.9") == ["81.2"]


# --- release claims -----------------------------------------------------------------------------
PROMISE_SRC = SRC + " Code and weights will be released upon publication."


def test_weights_already_on_github_against_a_promise_is_ungrounded():
    assert grounding.ungrounded_code_claim("The weights are already on GitHub, so anyone can rerun it.", PROMISE_SRC)
    assert grounding.ungrounded_code_claim("The benchmark and the model outputs are now on GitHub.", PROMISE_SRC)


def test_a_promise_restated_with_nothing_out_yet_is_not_a_claim():
    assert grounding.ungrounded_code_claim("Code will be released upon publication, so nothing is available yet.",
                                           PROMISE_SRC) is None
    assert grounding.ungrounded_code_claim("Weights will be on GitHub after publication.", PROMISE_SRC) is None


def test_a_negation_in_the_next_clause_does_not_cancel_a_chinese_claim():
    assert grounding.ungrounded_code_claim("代码和模型已在 GitHub 开源，复现门槛不高。", SRC)
    assert grounding.ungrounded_code_claim("代码和模型未在 GitHub 开源，复现门槛不低。", SRC) is None


# --- the writer on its input: a title guess, a delivery that failed ---------------------------
@pytest.mark.parametrize("opening", ["_The paper's text never arrived on my side, so the parts below lean on the title._",
                                     "Only the title was available, so what follows draws on the title and on papers like it."])
def test_an_opening_note_on_a_failed_delivery_or_a_title_guess_is_meta_talk(opening):
    v = verdict(opening + "\n\n" + analysis())
    assert "refusal" in v.codes, v.reasons


def test_an_honest_abstract_only_opening_and_a_title_remark_pass():
    v = verdict("_This analysis rests on the abstract only._\n\n"
                + analysis(with_part(PARTS, 0, PARTS[0][1] + " The title names the idea: spectral components.")))
    assert v.ok, v.reasons


def test_a_chinese_title_guess_is_meta_talk_and_a_remark_on_the_title_is_not():
    bad = verdict(zh_analysis(with_part(ZH_PARTS, 0, "这里只能看到题目，下文是根据题目作的推测。" + ZH_PARTS[0][1])), SRC, "zh")
    good = verdict(zh_analysis(with_part(ZH_PARTS, 0, "论文题目点明了核心：频域分量。" + ZH_PARTS[0][1])), SRC, "zh")
    assert "refusal" in bad.codes, bad.reasons
    assert good.ok, good.reasons


# --- narration, a progress log, a thinking aside ------------------------------------------------
@pytest.mark.parametrize("between", ["好，第二部分写完了，接着写影响。", "（第 2 部分完成了，下面继续写应用。）",
                                     "[步骤 3/5 完成：已读完方法，开始写入]", "（思路：这里先列数字，再下结论。）"])
def test_process_narration_between_chinese_parts_is_a_leak(between):
    v = verdict(zh_analysis(between=between), SRC, "zh")
    assert "leak" in v.codes, v.reasons


@pytest.mark.parametrize("body", ["作者先用频域参数化卷积，再用共享分量减少参数。", "（注：摘要未给出方差。）SONIC 的参数更少。",
                                  "该方法分两个阶段完成训练，第二部分的分量是共享的。"])
def test_a_chinese_part_about_the_paper_s_own_steps_is_not_narration(body):
    v = verdict(zh_analysis(with_part(ZH_PARTS, 1, body)), SRC, "zh")
    assert "leak" not in v.codes, v.reasons


# --- the task echoed: before the first heading, as JSON, or opening a part ----------------------
@pytest.mark.parametrize("head", ["Task: analyse the paper below in five parts and end with key findings.\n\n",
                                  '{"tool": "write_analysis", "args": {"language": "en"}}\n\n',
                                  "任务：用五段式分析这篇论文，并列出关键发现。\n\n"])
def test_an_echoed_task_or_a_tool_call_before_the_first_part_is_a_leak(head):
    v = verdict(head + analysis())
    assert "leak" in v.codes, v.reasons


def test_a_task_label_that_names_the_paper_s_task_is_not_an_echo():
    v = verdict(analysis(with_part(PARTS, 1, "Task: classifying rotated images. " + PARTS[1][1])))
    assert v.ok, v.reasons


def test_a_part_opening_with_its_own_instruction_is_template_echo():
    zh_bad = with_part(ZH_PARTS, 4, "从摘要中推断局限性；直接说明摘要没有交代的内容。\n\n" + ZH_PARTS[4][1])
    en_bad = with_part(PARTS, 3, "List the related fields and applications.\n\n" + PARTS[3][1])
    assert "template_echo" in verdict(zh_analysis(zh_bad), SRC, "zh").codes
    assert "template_echo" in verdict(analysis(en_bad)).codes


def test_a_part_introducing_its_list_is_not_an_echo():
    zh_good = with_part(ZH_PARTS, 4, "从摘要可以推断出以下局限性：\n\n" + ZH_PARTS[4][1])
    en_good = with_part(PARTS, 3, "Related fields and applications include two settings.\n\n" + PARTS[3][1])
    assert verdict(zh_analysis(zh_good), SRC, "zh").ok, verdict(zh_analysis(zh_good), SRC, "zh").reasons
    assert verdict(analysis(en_good)).ok, verdict(analysis(en_good)).reasons


# --- language: a German sentence glued into Chinese; a terse English line lingua calls French ---
def test_a_german_sentence_glued_between_chinese_sentences_is_drift():
    text = "摘要没有给出计算成本，Außerdem bleibt unklar, wie stark die Ergebnisse von der Auswahl der Daten abhängen.参数更少。"
    assert "German" in (language.language_problem(text, "zh") or "")


def test_english_terms_inside_a_chinese_sentence_are_not_drift():
    text = "该方法在 3D medical datasets 与 remote sensing 上都有提升，并且参数量更少，适合资源受限的部署环境。"
    assert language.language_problem(text, "zh") is None


def test_a_terse_english_line_without_french_function_words_is_english():
    assert language.foreign_sentence("Mutation unit: a whole nftables transaction, not a single system call.") is None
    assert language.foreign_sentence("La méthode est plus rapide que les approches existantes dans tous les cas.")


# --- filler that shares a stock word with the source ------------------------------------------
FILLER_SRC = SRC + " It is trained on time-domain survey science images."


def test_boilerplate_applications_sharing_only_stock_words_are_generic():
    filler = ("This research has applications in many fields. It can be useful in a wide range of domains and opens "
              "new possibilities for science and industry.")
    v = verdict(analysis(with_part(PARTS, 3, filler)), FILLER_SRC)
    assert "generic" in v.codes, v.reasons


def test_applications_naming_the_paper_s_setting_are_not_generic():
    v = verdict(analysis(with_part(PARTS, 3, "Time-domain survey pipelines that must sort science images with few "
                                             "labels, and 3D medical datasets under resolution shift.")), FILLER_SRC)
    assert v.ok, v.reasons


# --- a Roman numeral after "levels above" -----------------------------------------------------
def test_levels_above_i_is_a_numeral_and_the_model_on_its_input_is_not():
    good = analysis(with_part(PARTS, 4, PARTS[4][1] + " It is not clear whether parameters for levels above I have "
                                                      "been worked out."))
    bad = analysis(with_part(PARTS, 4, PARTS[4][1] + " Beyond the abstract, I have not been given the full text."))
    assert verdict(good).ok, verdict(good).reasons
    assert "refusal" in verdict(bad).codes


# --- a metric's row of results the source does not report -------------------------------------
MASE_SRC = SRC + " It lowers MASE by 11.3% against the strongest baseline."


def test_a_table_row_for_a_metric_the_source_never_reports_is_ungrounded():
    assert grounding.ungrounded_names("| CRPS vs. the baseline | 7.9% lower |", MASE_SRC) == ["CRPS"]
    assert grounding.ungrounded_names("| MASE vs. the baseline | 11.3% lower |", MASE_SRC) == []


def test_a_metric_named_in_prose_or_spelled_out_in_the_source_is_not_a_claim():
    assert grounding.ungrounded_names("A probabilistic metric such as CRPS would be a useful addition.", MASE_SRC) == []
    spelled = MASE_SRC + " The continuous ranked probability score improves too."
    assert grounding.ungrounded_names("| CRPS vs. the baseline | 7.9% lower |", spelled) == []


def test_a_claim_that_is_the_topic_of_a_clause_on_what_the_abstract_leaves_unsaid_is_not_a_claim():
    assert grounding.ungrounded_code_claim("权重开源与否，论文没有交代。", SRC) is None
    assert grounding.ungrounded_code_claim("权重已经开源，论文写得很清楚。", SRC)
