"""The configuration reference stays complete and current."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from service import config, settings
from service.models import FeedSpec
from service.reference import configuration_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_read_is_documented():
    source = (ROOT / "service" / "settings.py").read_text("utf-8")
    body = source[source.index("def load_settings"):]
    read = set(re.findall(r'"((?:DIGEST|ANTHROPIC|OPENAI)_[A-Z_]+)"', body))
    documented = {name for name, _, _ in settings.ENVIRONMENT}
    assert read and read == documented, (read - documented, documented - read)
    # and nothing else in the service reads the environment behind Settings' back
    for path in (ROOT / "service").rglob("*.py"):
        if path.name != "settings.py":
            text = path.read_text("utf-8")
            assert not re.search(r"os\.environ\.get\(\s*\"(?:DIGEST|ANTHROPIC)_", text), path


def test_every_feed_spec_field_is_a_documented_key():
    # `zotero` is the table form of the `library` key (`library = { zotero_user = … }`)
    fields = {f.name for f in dataclasses.fields(FeedSpec)} - {"name", "path", "zotero"}
    assert fields == set(config._KEYS)
    assert all(meaning for _, _, meaning in config._KEYS.values())


def test_the_committed_reference_is_the_generated_one():
    assert (ROOT / "docs" / "configuration.md").read_text("utf-8") == configuration_markdown(), \
        "run: arxiv-digest config-reference > docs/configuration.md"
