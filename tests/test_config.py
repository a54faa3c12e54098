"""An invalid feed spec stops start-up with one message naming the file, the key and the problem."""
from __future__ import annotations

import pytest

from service.cli import main
from service.config import load_feed_specs
from service.errors import ConfigError

GOOD = 'title = "T"\ncategories = ["cs.CV"]\n'


@pytest.mark.parametrize("text, key, problem", [
    (GOOD + "colour = 'red'\n", "colour", "unknown key"),
    (GOOD + "max_papers = 'ten'\n", "max_papers", "expected an integer >= 0, got a string 'ten'"),
    (GOOD + "max_papers = true\n", "max_papers", "expected an integer >= 0, got a boolean"),
    (GOOD + "max_papers = -1\n", "max_papers", "expected an integer >= 0, got -1"),
    (GOOD + "language = 'fr'\n", "language", "expected one of zh, en, got 'fr'"),
    (GOOD + "include_cross_lists = 'yes'\n", "include_cross_lists", "expected true or false"),
    ('title = "T"\ncategories = []\n', "categories", "must name at least one arXiv category"),
    ('title = "T"\ncategories = ["cs.XX"]\n', "categories", "unknown arXiv category 'cs.XX'"),
    ('title = "T"\ncategories = "cs.CV"\n', "categories", "expected a list"),
    ('categories = ["cs.CV"]\n', "title", "missing (required)"),
    (GOOD + "keywords = ['ok', 3]\n", "keywords", "item 2 must be a non-empty string"),
])
def test_bad_spec_names_file_key_and_problem(tmp_path, text, key, problem):
    (tmp_path / "vision.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_feed_specs(tmp_path)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "vision.toml"))
    assert f"key '{key}'" in message
    assert problem in message


def test_broken_toml_names_the_file_and_line(tmp_path):
    (tmp_path / "vision.toml").write_text('title = "T\ncategories = ["cs.CV"]\n')
    with pytest.raises(ConfigError, match=r"vision\.toml: not valid TOML.*line 1"):
        load_feed_specs(tmp_path)


def test_the_shipped_feed_is_the_seed_feed():
    from pathlib import Path

    specs = load_feed_specs(Path(__file__).resolve().parent.parent / "feeds")
    cv = specs["cs-cv"]
    assert (cv.categories, cv.language, cv.max_papers, cv.include_cross_lists) == (("cs.CV",), "zh", 10, True)


def test_cli_refuses_to_start_with_a_bad_spec(env, feeds_dir, capsys, llm_stub):
    (feeds_dir / "broken.toml").write_text(GOOD + "max_papers = 'ten'\n")
    assert main(["refresh"]) == 2
    err = capsys.readouterr().err
    assert "broken.toml: key 'max_papers'" in err and "Traceback" not in err
    assert llm_stub.calls == []


def test_app_refuses_to_start_with_a_bad_spec(env, feeds_dir):
    from service.web import create_app

    (feeds_dir / "broken.toml").write_text('title = "T"\ncategories = ["astro-ph.XX"]\n')
    with pytest.raises(ConfigError, match="broken.toml: key 'categories': unknown arXiv category"):
        create_app()
