"""The CLI per the contract: exit codes and messages."""
from __future__ import annotations

from service.cli import main

from .stubs import FIXTURES


def test_refresh_publishes_and_exits_zero(env, capsys, llm_stub):
    assert main(["refresh", "cs-cv"]) == 0
    captured = capsys.readouterr()
    assert "cs-cv: published 2026-01-28: 10 papers (10 analysed, 0 pending), 11 LLM calls" in captured.out
    # not a terminal: one line per finished stage on stderr, counts and money included
    stages = [line for line in captured.err.splitlines() if line.startswith("cs-cv: ")]
    assert [line.split(":")[1].strip() for line in stages] == ["listing", "metadata", "full text", "analysis"]
    assert stages[0].endswith(" chosen of 10") and stages[1] == "cs-cv: metadata: 10 of 10"
    assert stages[3].startswith("cs-cv: analysis: 11 of 11, 0 pending, $0.")


def test_refresh_progress_on_a_terminal_is_a_bar_per_stage(env, llm_stub):
    import io

    from service.pipeline import make_digest
    from service.progress import TerminalProgress

    screen = io.StringIO()
    d = make_digest()
    d.refresh("cs-cv", progress=TerminalProgress(screen, bars=True))
    text = screen.getvalue()
    for stage in ("cs-cv: listing", "cs-cv: metadata", "cs-cv: full text", "cs-cv: analysis"):
        assert stage in text
    assert "11/11" in text and "0 pending" in text
    d.close()


def test_refresh_of_unknown_feed_is_a_clear_error(env, capsys):
    assert main(["refresh", "nope"]) == 2
    assert "unknown feed(s): nope (feeds: cs-cv)" in capsys.readouterr().err


def test_refresh_fails_clearly_on_malformed_listing(env, capsys, arxiv_stub):
    arxiv_stub.listing = b"<rss><channel><title>cut off"
    assert main(["refresh"]) == 1
    err = capsys.readouterr().err
    assert "cs-cv:" in err and "listing is not well-formed XML" in err and "Traceback" not in err


def test_failed_refresh_keeps_serving_the_previous_day(env, digest, client, arxiv_stub, capsys):
    digest.refresh("cs-cv")
    before = client.get("/feeds/cs-cv.atom").data
    arxiv_stub.faults["/rss/"] = [{"status": 503, "body": b"busy"}] * 10
    assert main(["refresh"]) == 1
    assert "listing answered HTTP 503" in capsys.readouterr().err
    assert client.get("/feeds/cs-cv.atom").data == before
    health = client.get("/healthz").json["feeds"]["cs-cv"]
    assert health["last_attempt"]["outcome"] == "failed" and "HTTP 503" in health["last_attempt"]["message"]
    assert health["last_success"]["outcome"] == "published"


def test_empty_listing_exits_zero(env, capsys, arxiv_stub):
    arxiv_stub.listing = (FIXTURES / "arxiv/listing-cs.CV-empty.xml").read_bytes()
    assert main(["refresh"]) == 0
    assert "no announcement" in capsys.readouterr().out


def test_log_shows_every_call_and_the_rejects(env, capsys, llm_stub):
    import json

    llm_stub.script["2601.19898v1"] = ["refusal"]
    assert main(["refresh"]) == 0
    capsys.readouterr()
    assert main(["log", "--paper", "2601.19898v1", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["verdict"] for r in lines] == ["reject", "pass"]
    assert lines[0]["reasons"][0].startswith("no_structure")
    assert main(["log", "--rejects", "--json"]) == 0
    [reject] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "请您提供" in reject["text"]
    # for people: a table and a totals line with the cost
    assert main(["log"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["time", "(UTC)", "what", "model", "in", "out", "cost", "verdict"]
    assert len(out) == 1 + 12 + 1  # header, 12 calls (one retried), totals
    assert any("analysis 2601.19898v1" in line and "reject (no_structure)" in line for line in out)
    assert out[-1].startswith("12 calls (11 passed), ") and out[-1].endswith(tuple("0123456789"))
    assert "$" in out[-1]


def test_log_on_an_empty_store_says_so(env, capsys):
    assert main(["log"]) == 0
    assert "no LLM calls yet" in capsys.readouterr().out


def test_lint_analysis_cli(tmp_path, capsys):
    good = tmp_path / "good.md"
    good.write_text("**1. 主要贡献**\n作者提出了一个阿拉伯书法多模态基准，包含一千多个样本。\n\n"
                    "**2. 关键创新与方法**\n基准覆盖六种书写风格，并提供句子级检测标注。\n\n"
                    "**3. 潜在影响**\n有助于推动文化相关的多模态研究与公平评测。\n\n"
                    "**4. 相关领域与应用**\n文字识别、文化遗产数字化等方向都能从中受益。\n\n"
                    "**5. 可推断的局限性**\n摘要没有说明标注的一致性检验方式，需要阅读全文确认。\n", encoding="utf-8")
    assert main(["lint-analysis", str(good), "--lang", "zh"]) == 0
    bad = tmp_path / "bad.md"
    bad.write_text("好的，请您提供论文全文，一旦您提供，我将按以下框架分析。\n\n**1. 主要贡献**\n...\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["lint-analysis", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "refusal" in out and "missing_section" in out
    assert main(["lint-analysis", str(tmp_path / "missing.md")]) == 2
    assert "cannot read" in capsys.readouterr().err
