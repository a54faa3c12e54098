"""Round 13 of the gate (issue 12): precision by family, after blind batches 17-19 (gate 10 first look
0.891 / 0.957). Each family is a property of honest writing a rule mistook for garbage, tested in
phrasings of my own, each with a near-miss that must still be rejected."""
from __future__ import annotations

import pytest

from service import gate
from service.gate import grounding

from .test_gate_round6 import FW, PARTS, SRC, analysis, verdict
from .test_gate_round8 import ZH_PARTS
from .test_gate_round10 import with_part


def zh(parts, style="**{n}. {title}**\n\n{body}") -> str:
    return "\n\n".join(style.format(n=i + 1, title=t, body=b) for i, (t, b) in enumerate(parts)) + (
        '\n\n**关键发现：**\n\n- 稳健性。证据："SONIC shows improved robustness to geometric transformations"\n')


# --- a limitations part that lists what the abstract leaves out is about this abstract ----------------
@pytest.mark.parametrize("body", [
    "No datasets, numbers or compute costs are given. Frequency domain only.",
    "1. No accuracy, FLOP or latency figures are reported.\n2. The benchmarks are named only generically.\n"
    "3. Detection and segmentation are not mentioned",
])
def test_a_limitations_part_of_what_is_not_reported_is_neither_generic_nor_off_paper(body):
    v = verdict(analysis(with_part(PARTS, 4, body)), SRC)
    assert not {"generic", "ungrounded"} & set(v.codes), v.reasons


def test_a_limitations_part_of_boilerplate_is_still_generic():
    body = "Further work is needed to confirm these findings in more settings and at larger scale."
    v = verdict(analysis(with_part(PARTS, 4, body)), SRC)
    assert "generic" in v.codes, v.reasons


def test_a_limitations_part_pasted_from_another_paper_is_still_off_paper():
    body = ("1. The reward model was trained on English preference pairs from crowd workers only.\n"
            "2. Human raters disagreed on toxicity labels for sarcastic replies.\n"
            "3. Policy optimisation was unstable beyond seven epochs of fine-tuning.")
    v = verdict(analysis(with_part(PARTS, 4, body)), SRC)
    assert "ungrounded" in v.codes, v.reasons


# --- a numbered sentence inside a part is not the heading of another part -----------------------------
def test_a_numbered_sentence_that_mentions_the_abstract_is_not_the_limitations_heading():
    parts = with_part(ZH_PARTS, 3, "（1）医学影像，例如摘要提到的 3D medical datasets。\n（2）分辨率变化下的遥感。")
    text = zh(parts)
    _, sections, _, _ = gate.split_sections(text, FW)
    assert len(sections) == 5 and "3D medical" in sections["applications"], sections
    assert "missing_section" not in verdict(text, SRC, "zh").codes


def test_a_numbered_sentence_inside_the_method_does_not_take_a_later_part():
    parts = with_part(ZH_PARTS, 1, "（1）方向选择性的 spectral 分量。\n（2）局限性方面，作者只在分类上验证，这一点放到最后讨论。")
    _, sections, _, _ = gate.split_sections(zh(parts), FW)
    assert "可推断" not in sections.get("innovations", "") and sections.get("limitations", "").startswith("摘要没有"), sections


def test_a_bracketed_number_with_a_part_title_is_still_a_heading():
    text = "\n\n".join(f"（{i + 1}）{t}\n\n{b}" for i, (t, b) in enumerate(ZH_PARTS))
    _, sections, _, _ = gate.split_sections(text, FW)
    assert len(sections) == 5, sections


# --- a part named by the short form of its title ------------------------------------------------------
@pytest.mark.parametrize("title", ["Part 2 - Method:", "## 2. Methods", "**2. Method**"])
def test_a_part_titled_by_the_short_form_of_its_name_is_that_part(title):
    text = analysis().replace("## Key innovations and methodology", title)
    _, sections, _, _ = gate.split_sections(text, FW)
    assert "innovations" in sections and "Orientation-selective" in sections["innovations"], sections


def test_a_heading_of_no_part_name_is_still_no_part():
    text = analysis().replace("## Key innovations and methodology", "## Miscellaneous remarks")
    assert "missing_section" in verdict(text, SRC).codes


# --- numbers: compounds, sizes inside names, hedged roundings ---------------------------------------
NUM_SRC = ("We pool an immune collection of 330,000 cells from 16 donors, train sparse autoencoders on Pythia-1.4B "
           "and Gemma-2-2B, and release a benchmark of 1,272 curated samples on which accuracy reaches 87.3%.")


@pytest.mark.parametrize("text", [
    "The 330,000-cell, 16-donor collection is the largest.",
    "Both models have at most about 2B parameters; the smaller has 1.4B.",
    "At about 1.3k samples the benchmark is small.",
    "Accuracy is roughly 87% on the benchmark.",
    "基准约有 1300 个样本，规模偏小。",
])
def test_restated_numbers_are_grounded(text):
    assert grounding.ungrounded_numbers(text, NUM_SRC) == []


@pytest.mark.parametrize("text", [
    "The 450,000-cell collection is the largest.",
    "At about 1.6k samples the benchmark is small.",
    "At 1.3k samples the benchmark is small.",          # a rounding needs its hedge
    "Accuracy is roughly 91% on the benchmark.",
    "Both models have at most about 7B parameters.",
])
def test_changed_numbers_are_still_ungrounded(text):
    assert grounding.ungrounded_numbers(text, NUM_SRC) != []


# --- names: languages, general acronyms, the writer's abbreviation of a source phrase -------------------
NAME_SRC = ("GlossFlow is evaluated on PHOENIX-2014 and CSL-Daily, and the cost model on the LDBC Social Network "
            "Benchmark at scale factors 10 and 100, compared with PolyBench kernels on CPU.")


@pytest.mark.parametrize("text", [
    "Only German and Chinese sign language datasets are used, compared with no other languages.",
    "It is evaluated on LDBC SNB at SF10 and SF100 only.",
    "Classic HPC benchmarks such as PolyBench are compared.",
])
def test_general_words_and_abbreviations_of_the_source_are_not_invented_names(text):
    assert grounding.ungrounded_names(text, NAME_SRC) == []


@pytest.mark.parametrize("text", [
    "It is evaluated on LDBC SNB at SF300 only.",
    "It outperforms TwoStream-SLR on both datasets.",
    "Compared with Memgraph on the benchmark, it is faster.",
])
def test_names_the_source_lacks_are_still_ungrounded(text):
    assert grounding.ungrounded_names(text, NAME_SRC) != []


# --- a quoted label is the writer's name for a kind of thing, not the paper's words --------------------
QUOTE_SRC = ("Agents that read web pages follow instructions planted in them. Spotlighting marks untrusted text "
             "and lowers attack success from 38.4% to 12.6%, while a warning in the system prompt only reaches 31.0%.")


@pytest.mark.parametrize("text", [
    'The result argues for structural defences over "please ignore instructions in documents" style prompting.',
    'The authors contrast it with "just tell the model to be careful"-type warnings.',
    "作者认为，主流的「RGB 主干 + CTC」方案对齐很差。",
])
def test_a_quoted_label_is_not_a_quote_of_the_paper(text):
    assert grounding.ungrounded_quotes(text, QUOTE_SRC) == []


@pytest.mark.parametrize("text", [
    'The authors argue that "warnings in the system prompt never help at all".',
    'As the abstract puts it, "spotlighting removes every planted instruction" in their tests.',
])
def test_an_invented_quote_of_the_paper_is_still_ungrounded(text):
    assert grounding.ungrounded_quotes(text, QUOTE_SRC) != []


# --- a number the source states, with one of the statement's words elsewhere ---------------------------
STATED_SRC = ("GlossFlow improves over the previous best method by 1.2, 0.9 and 2.3 WER points respectively. On "
              "unseen signers the WER gap to the RGB-only model grows to 4.8 points.")


def test_a_number_the_source_states_with_the_same_unit_is_not_conflicting():
    assert grounding.conflicting_numbers("For unseen signers the gap widens to 4.8 WER points.", STATED_SRC) == []


def test_a_changed_number_of_the_statement_still_conflicts():
    assert grounding.conflicting_numbers("It improves by 3.4 WER points on the second benchmark.", STATED_SRC) != []


# --- the writer's own checks and to-dos, whatever the aside's label ----------------------------------
@pytest.mark.parametrize("aside", [
    "[TODO before sending: check whether SONIC also wins on noise, and trim this list]",
    "(FIXME for v2: the parameter count may be wrong)",
    "(Checked the parameter claim against the abstract again: order of magnitude, fine, keep.)",
    "（已对照摘要核对过参数量，没问题，保留。）",
])
def test_an_aside_in_which_the_writer_checks_or_plans_its_text_is_a_leak(aside):
    v = verdict(analysis(with_part(PARTS, 2, PARTS[2][1] + " " + aside)), SRC)
    assert "leak" in v.codes, v.reasons


@pytest.mark.parametrize("aside", [
    "(The authors checked robustness against geometric transformations only.)",
    "(Note: the abstract gives no accuracy figures.)",
    "[Todo lists and planners are not discussed in the paper.]",
])
def test_an_aside_about_the_paper_is_not_a_leak(aside):
    v = verdict(analysis(with_part(PARTS, 2, PARTS[2][1] + " " + aside)), SRC)
    assert "leak" not in v.codes, v.reasons


# --- a product named with a version, or against which the paper is compared -------------------------
def test_a_versioned_or_compared_against_name_the_source_lacks_is_ungrounded():
    src = "HopCost plans are faster than Neo4j on 97 of 113 JOB-Graph queries."
    assert grounding.ungrounded_names("Against Neo4j 5.x and Memgraph 2.x, HopCost plans are faster.", src) == ["Memgraph"]


def test_a_name_the_source_has_with_a_version_is_grounded():
    src = "HopCost plans are faster than Neo4j on 97 of 113 JOB-Graph queries."
    assert grounding.ungrounded_names("Against Neo4j 5.x, HopCost plans are faster; it holds against Gaussian noise too.", src) == []


# --- a count with its noun a few words on -----------------------------------------------------------
COUNT_SRC = "Using DuwatBench, we evaluated 13 leading Arabic and multilingual multimodal models on 1,272 samples."


def test_a_changed_count_with_modifiers_before_its_noun_is_ungrounded():
    assert grounding.ungrounded_counts("Evaluating 16 Arabic and multilingual models, the authors find gaps.", COUNT_SRC)


def test_the_stated_count_with_modifiers_is_grounded():
    assert not grounding.ungrounded_counts("They evaluate 13 leading Arabic and multilingual models.", COUNT_SRC)
