"""Provenance of every published analysis in every format, and the per-day quality report."""
from __future__ import annotations

import datetime as dt
import json
import pickle

import feedparser

from service import gate
from service.models import Analysis, Entry, EntryStatus, TextSource
from service.render.api import analysis_json
from service.render.entry import entry_html, labels, provenance_text

from .test_api import check, spec  # noqa: F401  (the served OpenAPI document as a fixture)

DAY = "2026-01-28"
PAPER = "2601.19887"
GATE_ZH = f"质量检查版本 {gate.GATE_VERSION}"


def test_a_published_analysis_records_what_made_it(digest, client, spec):  # noqa: F811
    digest.refresh("cs-cv")
    day = client.get(f"/api/v1/feeds/cs-cv/days/{DAY}").json
    check(spec, "Day", day)
    entry = next(e for e in day["entries"] if e["paper"]["arxiv_id"] == PAPER)
    prov = entry["analysis"]["provenance"]
    stored = digest.store.get_day("cs-cv", dt.date(2026, 1, 28))
    analysis = next(e.analysis for e in stored.entries if e.paper.arxiv_id == PAPER)
    assert prov == {"model": analysis.model, "prompt_hash": analysis.prompt_hash, "source_kind": "fulltext",
                    "gate_version": gate.GATE_VERSION, "judge_model": None}
    assert len(prov["prompt_hash"]) >= 12 and prov["model"]
    line = f"{prov['model']} · 提示词 {prov['prompt_hash'][:12]} · 全文 · {GATE_ZH}"

    # every format a reader can get the analysis in says the same
    atom = feedparser.parse(client.get("/feeds/cs-cv.atom").data)
    assert line in next(e for e in atom.entries if PAPER in e.id).content[0].value
    rss = feedparser.parse(client.get("/feeds/cs-cv.rss").data)
    assert line in next(e for e in rss.entries if PAPER in e.link).content[0].value
    jf = json.loads(client.get("/feeds/cs-cv.json").data)
    item = next(i for i in jf["items"] if i["id"].endswith(PAPER))
    assert item["_arxiv"]["analysis"]["provenance"] == prov and line in item["content_html"]
    assert line in client.get(f"/feeds/cs-cv/{DAY}").get_data(as_text=True)
    assert line in client.get(f"/papers/{PAPER}").get_data(as_text=True)
    assert line in client.get(f"/feeds/cs-cv/{DAY}.md").get_data(as_text=True)
    assert client.get(f"/api/v1/papers/{PAPER}").json["appearances"][0]["entry"]["analysis"]["provenance"] == prov


def _old_analysis() -> Analysis:
    """An analysis as cached before provenance existed: its pickle has no such attribute."""
    a = Analysis(framework="abstract", source=TextSource.ABSTRACT, language="en", model="claude-haiku-4-5",
                 prompt_hash="0123456789abcdef", sections=(("Main contribution", "x"),), findings=(),
                 created=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    state = dict(a.__dict__)
    del state["provenance"]
    old = object.__new__(Analysis)
    object.__setattr__(old, "__dict__", state)
    return pickle.loads(pickle.dumps(old))


def test_analyses_cached_before_provenance_still_load_and_say_unknown():
    old = _old_analysis()
    assert "provenance" not in old.__dict__
    prov = analysis_json(old, lambda _: False)["provenance"]
    assert prov == {"model": "claude-haiku-4-5", "prompt_hash": "0123456789abcdef", "source_kind": "abstract",
                    "gate_version": "unknown", "judge_model": None}
    assert provenance_text(old, labels("en")).endswith("abstract · gate unknown")
    assert "质量检查版本 未知" in provenance_text(old, labels("zh"))


def test_the_provenance_line_is_escaped_text(digest):
    old = _old_analysis()
    hostile = Analysis(**{**{k: getattr(old, k) for k in ("framework", "source", "language", "prompt_hash",
                                                          "sections", "findings", "created")},
                          "model": "<script>alert(1)</script>"})
    digest.refresh("cs-cv")
    stored = digest.store.get_day("cs-cv", dt.date(2026, 1, 28))
    e = next(e for e in stored.entries if e.status is EntryStatus.ANALYSED)
    html = entry_html(Entry(e.paper, e.announce_type, EntryStatus.ANALYSED, e.source, hostile, e.findings), "en")
    assert "<script>" not in html and "gate unknown" in html


def test_the_days_quality_report(digest, client, llm_stub, spec):  # noqa: F811
    llm_stub.script["2601.19898v1"] = ["refusal", "refusal"]
    llm_stub.script["2601.19884v1"] = ["loop", "loop"]
    digest.refresh("cs-cv")
    day = client.get(f"/api/v1/feeds/cs-cv/days/{DAY}").json
    resp = client.get(day["links"]["quality"])
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    q = resp.json
    check(spec, "Quality", q)
    assert q["papers"] == 10 and q["accepted"] == 8 and q["pending"] == 2 and q["unavailable"] == 0
    assert q["rejected"]["papers"] == 2 and q["rejected"]["judge"] == 0
    assert q["rejected"]["reasons"]["refusal"] >= 1 and q["rejected"]["reasons"]["repetition"] >= 1
    assert q["gate_versions"] == {gate.GATE_VERSION: 8}
    pending = {x["versioned_id"]: x for x in q["entries"] if x["status"] == "pending"}
    assert set(pending) == {"2601.19898v1", "2601.19884v1"} and "refusal" in pending["2601.19898v1"]["reason_codes"]
    assert client.get("/api/v1/feeds/cs-cv/days/2026-01-27/quality").status_code == 404
    assert client.get("/api/v1/feeds/nope/days/2026-01-28/quality").status_code == 404
    assert client.get("/api/v1/feeds/cs-cv/days/2026-13-01/quality").status_code == 400
