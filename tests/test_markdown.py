"""The Markdown view of the seed day has the seed digest's structure, part by part."""
from __future__ import annotations

import json
import re

from service.cli import main

from .stubs import FIXTURES

SEED = (FIXTURES / "seed" / "digest-2026-01-28.md").read_text("utf-8")
PAPER_LABELS = ["**Authors:**", "**Published:**", "**Categories:**", "**Abstract:**", "**Analysis:**",
                "**Key Findings:**", "**Links:**"]


def structure(md: str) -> dict:
    """The parts seed/README.md names, with their order and link shapes; content left out."""
    head, papers = md.split("\n## Papers\n", 1)
    lines = (head + "\n## Papers").split("\n")
    blocks = re.split(r"^<a id='([^']+)'></a>\n", papers, flags=re.M)[1:]
    per_paper = []
    for anchor, block in zip(blocks[::2], blocks[1::2]):
        title = re.match(r"## \[(.+)\]\((\S+)\)\n", block)
        labels = [label for label in PAPER_LABELS if label in block]
        positions = [block.index(label) for label in labels]
        links = re.findall(r"^- \[(PDF|arXiv)\]\((\S+)\)$", block, flags=re.M)
        per_paper.append({
            "anchor": anchor, "title_url": title.group(2), "labels": labels,
            "ordered": positions == sorted(positions),
            "published": re.search(r"^\*\*Published:\*\* (\d{4}-\d{2}-\d{2})$", block, re.M).group(1),
            "categories": re.search(r"^\*\*Categories:\*\* (.+)$", block, re.M).group(1),
            "links": links, "has_findings": bool(re.search(r"\*\*Key Findings:\*\*\n\n- ", block)),
            "ends_with_rule": block.rstrip().endswith("---"),
        })
    return {
        "time": lines[0], "title": next(l for l in lines if l.startswith("# ")),
        "h2": [l for l in lines if l.startswith("## ")],
        "rules_before": [lines[i + 2] for i, l in enumerate(lines) if l == "---"],
        "toc": re.findall(r"^\d+\. \[.+\]\(#(\S+)\)$", head, flags=re.M),
        "papers": per_paper,
    }


def test_markdown_of_the_seed_day_matches_the_seed_structure(digest, client):
    digest.refresh("cs-cv")
    resp = client.get("/feeds/cs-cv/2026-01-28.md")
    assert resp.status_code == 200 and resp.content_type.startswith("text/markdown")
    ours, seed = structure(resp.data.decode()), structure(SEED)
    assert ours["time"] == seed["time"] == "time: 20260128"
    assert ours["title"] == seed["title"] == "# Arxiv Computer Vision Papers - 2026-01-28"
    assert ours["h2"] == seed["h2"] == ["## Executive Summary", "## Table of Contents",
                                             "## Papers"]
    assert ours["rules_before"] == seed["rules_before"] == ["## Table of Contents", "## Papers"]
    # the same ten papers, each anchored as <id>v<n> and linked from the table of contents
    assert sorted(ours["toc"]) == sorted(seed["toc"]) and len(ours["toc"]) == 10
    assert ours["toc"] == [p["anchor"] for p in ours["papers"]]
    seed_papers = {p["anchor"]: p for p in seed["papers"]}
    for paper in ours["papers"]:
        expected = seed_papers[paper["anchor"]]
        # section by section: labels in the seed's order, same metadata and links, closing rule
        assert paper == expected | {"has_findings": True}, paper["anchor"]
    assert "主要主题与趋势" in resp.data.decode()  # the executive summary's four parts


def test_export_cli_writes_markdown_html_and_json(digest, capsys):
    digest.refresh("cs-cv")
    assert main(["export", "cs-cv", "--date", "2026-01-28", "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert sorted(structure(md)["toc"]) == sorted(structure(SEED)["toc"])
    assert main(["export", "cs-cv", "--date", "2026-01-28", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["entries"]) == 10
    assert main(["export", "cs-cv", "--date", "2026-01-28", "--format", "html"]) == 0
    assert capsys.readouterr().out.startswith("<!doctype html>")


def test_export_cli_rejects_unknown_feed_and_date(digest, capsys):
    digest.refresh("cs-cv")
    assert main(["export", "nope", "--date", "2026-01-28"]) == 2
    assert "unknown feed: nope" in capsys.readouterr().err
    assert main(["export", "cs-cv", "--date", "2026-01-27"]) == 2
    assert "no published day 2026-01-27" in capsys.readouterr().err
    assert main(["export", "cs-cv", "--date", "yesterday"]) == 2
    assert "invalid date 'yesterday'" in capsys.readouterr().err
