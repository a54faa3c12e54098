"""Speed of the quality gate on one seven-part Chinese analysis with a ~20k-token source.

    .venv/bin/python -m bench.gate            # results in bench/results/gate.json

Both entry points: the tool-call path enrich.py runs (`judge_analysis_reply`, sections and
findings as the model's JSON) and the plain-Markdown path of lint-analysis
(`check_analysis_text`). The source is the VGGT-SLAM 2.0 full text of the corpus, extended with
its sections renumbered as further appendices until it is ~20k tokens (~4 characters a token);
the analysis is the corpus's zh seven-part analysis of that paper. The first call (which builds
the lingua detector) is reported on its own. Then each run judges a *new* source (nothing derived
from it is cached, as for a new paper) and the same source again (the retry of the same paper).
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_result  # noqa: E402
from service import gate  # noqa: E402
from service.prompts import PromptLibrary  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
TARGET_TOKENS = 20_000
RUNS = 50


def source_text() -> str:
    full = (CORPUS / "sources" / "2601.19887v1-fulltext.txt").read_text("utf-8")
    parts, k = [full], 0
    while sum(map(len, parts)) < TARGET_TOKENS * 4:
        k += 1
        parts.append(f"\n## Appendix B.{k}\n" + full.split("## 1 Introduction", 1)[1])
    return "".join(parts)


def main() -> None:
    frameworks = PromptLibrary().frameworks
    text = (CORPUS / "analyses" / "zh-ft-vggt.md").read_text("utf-8")
    source = source_text()
    framework, sections, findings_text, _ = gate.split_sections(text, frameworks)
    findings = [{"claim": b.split("原文依据")[0].strip("- "), "evidence": b.split("原文依据：", 1)[1].strip("“”\n ")}
                for b in findings_text.split("\n- ")[1:] if "原文依据：" in b]
    results = {}
    calls = {
        "judge_analysis_reply": lambda src: gate.judge_analysis_reply(
            "tool_use", {"sections": sections, "findings": findings}, "", framework, "zh", src),
        "check_analysis_text": lambda src: gate.check_analysis_text(text, "zh", frameworks, src),
    }
    for name, call in calls.items():
        start = time.perf_counter()
        verdict = call(source)
        verdict = getattr(verdict, "verdict", verdict)
        first = (time.perf_counter() - start) * 1000
        # new source each call (a new paper: nothing derived from the source is cached) and the same
        # source again (the corrected retry of the same paper)
        new, same = [], []
        for k in range(RUNS):
            fresh = f"{source}\n{name} run {k}"
            start = time.perf_counter()
            call(fresh)
            new.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            call(fresh)
            same.append((time.perf_counter() - start) * 1000)
        results[name] = {"first_call_ms": round(first, 1),
                         "median_ms_new_source": round(statistics.median(new), 2),
                         "p90_ms_new_source": round(sorted(new)[int(RUNS * 0.9)], 2),
                         "median_ms_same_source": round(statistics.median(same), 2),
                         "runs": RUNS, "verdict": [str(r) for r in verdict.reasons] or "pass"}
    data = {"command": ".venv/bin/python -m bench.gate", "analysis": "tests/corpus/analyses/zh-ft-vggt.md",
            "analysis_chars": len(text), "parts": len(sections), "findings": len(findings),
            "source_chars": len(source), "source_tokens_approx": len(source) // 4, **results}
    path = write_result("gate", data)
    print(path.read_text("utf-8"))


if __name__ == "__main__":
    main()
