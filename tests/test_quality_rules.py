"""tests/corpus/rules.py names each reason by its sub-rule; the precision table in docs/quality.md
rests on those names, so a reworded detail must not silently merge two rules into one."""
from __future__ import annotations

import pytest

from service.gate import Reason
from tests.corpus.rules import rule_name

from .test_gate_round6 import PARTS, analysis, verdict


@pytest.mark.parametrize("index, body, name", [
    (1, "SONIC reaches 91.7% accuracy on ImageNet.", "ungrounded:numbers"),
    (1, "SONIC beats DROID-SLAM on every benchmark.", "ungrounded:names"),
    (4, "I cannot access the full text of this paper, so I cannot judge it.", "refusal:access"),
    (4, "Let me analyse the limitations step by step before writing them down.", "leak:chain-of-thought"),
])
def test_a_reason_from_the_gate_gets_its_sub_rule(index, body, name):
    parts = list(PARTS)
    parts[index] = (PARTS[index][0], PARTS[index][1] + " " + body)
    names = {rule_name(r) for r in verdict(analysis(parts)).reasons}
    assert name in names, names


def test_every_code_has_a_name_and_unknown_details_fall_back_to_the_code():
    assert rule_name(Reason("generic", "part 4 shares no specific term with the paper")) == "generic"
    assert rule_name(Reason("ungrounded", "something new")) == "ungrounded"
    assert rule_name(Reason("leak", "the answer leaks tool/JSON: '{'")) == "leak:tool/JSON"


def test_heading_words_reasons_are_named_like_any_part():
    parts = list(PARTS)
    parts[4] = (PARTS[4][0] + " (it beats DROID-SLAM on every metric)", PARTS[4][1])
    assert "ungrounded:names" in {rule_name(r) for r in verdict(analysis(parts)).reasons}
