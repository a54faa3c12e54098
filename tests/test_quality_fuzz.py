"""The gate never crashes: any text, any tool_input shape (the model's JSON is untrusted too)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from service import gate
from service.prompts import PromptLibrary

FW = PromptLibrary().frameworks
KEYS = [s.key for f in FW.values() for s in f.sections] + ["sections", "findings", "claim", "evidence"]
# Text with the characters the checks care about: CJK, quotes, markup, digits, headings.
ALPHABET = st.sampled_from(list("abcXYZ 0123456789.,%:;!?\n#*->|`\"'“”「」（）()[]<>{}$\\/—…")
                           + list("的了是主要贡献方法实验你我请提供无法访问") + ["\u0301", "\u200b", "\ufeff", "ﬁ", "é", "ß"])
TEXT = st.text(ALPHABET, max_size=300) | st.text(max_size=200)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
                    lambda children: st.lists(children, max_size=5)
                    | st.dictionaries(st.sampled_from(KEYS) | TEXT, children, max_size=6), max_leaves=25)
TOOL_INPUT = (JSON | st.fixed_dictionaries({"sections": st.dictionaries(st.sampled_from(KEYS), JSON | TEXT, max_size=8),
                                            "findings": JSON | st.lists(st.dictionaries(st.sampled_from(["claim", "evidence"]),
                                                                                        JSON | TEXT), max_size=5)}))


@settings(max_examples=300, deadline=None)
@given(tool_input=TOOL_INPUT, text=TEXT, source=TEXT, stop=st.sampled_from([None, "end_turn", "max_tokens", "tool_use"]),
       language=st.sampled_from(["zh", "en"]), framework=st.sampled_from(sorted(FW)))
def test_tool_replies_never_crash(tool_input, text, source, stop, language, framework):
    judge = gate.judge_summary_reply if framework == "summary" else gate.judge_analysis_reply
    j = judge(stop, tool_input, text, FW[framework], language, source)
    assert all(isinstance(r, gate.Reason) for r in j.verdict.reasons)
    assert all(isinstance(h, str) and isinstance(b, str) for h, b in j.sections)
    if not isinstance(tool_input, dict):
        assert "no_structure" in j.verdict.codes


@settings(max_examples=300, deadline=None)
@given(text=TEXT, source=st.none() | TEXT, language=st.sampled_from(["zh", "en"]))
def test_plain_text_never_crashes(text, source, language):
    v = gate.check_analysis_text(text, language, FW, source)
    assert all(isinstance(r, gate.Reason) for r in v.reasons)


@settings(max_examples=100, deadline=None)
@given(parts=st.lists(TEXT, min_size=5, max_size=7), source=TEXT, language=st.sampled_from(["zh", "en"]))
def test_framework_shaped_text_never_crashes(parts, source, language):
    fw = FW["fulltext" if len(parts) == 7 else "abstract"]
    text = "\n\n".join(f"## {s.headings[language]}\n\n{p}" for s, p in zip(fw.sections, parts))
    text += "\n\n**Key findings:**\n\n- claim. Evidence: \"" + source[:80] + "\""
    v = gate.check_analysis_text(text, language, FW, source)
    assert all(isinstance(r, gate.Reason) for r in v.reasons)
