"""The quality gate's former home: everything now lives in `service.gate` (one module per family
of checks); this name stays so that existing imports keep working."""
from __future__ import annotations

from .gate import *  # noqa: F401,F403
from .gate import (MARKUP, MIN_EVIDENCE_CHARS, MIN_SECTION_CHARS, NGRAM, PLACEHOLDER, PREAMBLE, URL,  # noqa: F401
                   Judged, Reason, Verdict, check_analysis_text, check_foreign, check_language, check_loop,
                   check_sections, check_stop, check_text, cjk_share, ground_findings, judge_analysis_reply,
                   judge_summary_reply, links, ngram_repetition, normalize, repetition, split_sections,
                   strip_preamble)
