"""The W3C Feed Validator's own code on every feed document we publish: 0 errors, 0 warnings.

The validator (validator.w3.org/feed) is not on PyPI; its source is vendored, unchanged, in
tests/vendor/w3c-feedvalidator (MIT-style licence, commit in its README). Each document is
checked at the online service's level ("AA") with its own URL as base, so `rel=self` is
judged as a subscriber's reader would see it.

The one accepted notice is `UnknownNamespace` for prism: the validator knows no PRISM
namespace, and prism stays because Zotero 7 reads `prism:modificationDate`/`publicationDate`
as the item's dates (see service/render/atom.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "vendor" / "w3c-feedvalidator"))

import feedvalidator  # noqa: E402  (vendored; path set above)
from feedvalidator import compatibility  # noqa: E402
from feedvalidator.formatter.text_plain import Formatter  # noqa: E402

from service.web import create_app  # noqa: E402

DAY = "2026-01-28"
#: Notices we keep on purpose, with the reason in the module docstring.
ACCEPTED = {("UnknownNamespace", "http://prismstandard.org/namespaces/basic/2.0/")}
FORMATS = ("atom", "rss", "zotero.atom")


def w3c_problems(client, path: str) -> list[str]:
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    url = f"http://localhost{path}"
    events = feedvalidator.validateString(resp.data, firstOccurrenceOnly=1, base=url)["loggedEvents"]
    events = [e for e in compatibility.AA(events)
              if (type(e).__name__, e.params.get("namespace")) not in ACCEPTED]
    return [f"{path}: {line}" for line in Formatter(events)]


def test_a_feed_with_days_and_its_archives_pass_the_w3c_validator(digest, client):
    digest.refresh("cs-cv")
    paths = [f"/feeds/cs-cv.{ext}" for ext in FORMATS] + [f"/feeds/cs-cv/{DAY}.atom"]
    problems = [p for path in paths for p in w3c_problems(client, path)]
    assert problems == []


def test_an_empty_feed_passes_the_w3c_validator(client):
    """Before its first day a feed is valid too: no 1970 `updated` ("Implausible date")."""
    problems = [p for ext in FORMATS for p in w3c_problems(client, f"/feeds/cs-cv.{ext}")]
    assert problems == []


def test_the_sample_feed_passes_the_w3c_validator(env):
    """The recorded sample day a newcomer subscribes to first is as valid as a real day
    (it used to give ten entries one `updated`)."""
    client = create_app().test_client()
    paths = [f"/feeds/sample.{ext}" for ext in FORMATS] + [f"/feeds/sample/{DAY}.atom"]
    problems = [p for path in paths for p in w3c_problems(client, path)]
    assert problems == []


def test_the_validator_is_the_real_one_and_sees_errors():
    """Guard against a validator that passes everything: a feed without `updated` and with
    two entries sharing an id fails it."""
    bad = (b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
           b'<id>urn:x</id><title>t</title><author><name>a</name></author>'
           b'<entry><id>urn:e</id><title>e</title><updated>2026-01-28T00:00:00Z</updated><summary>s</summary></entry>'
           b'<entry><id>urn:e</id><title>e</title><updated>2026-01-28T00:00:00Z</updated><summary>s</summary></entry>'
           b'</feed>')
    events = compatibility.AA(feedvalidator.validateString(bad, firstOccurrenceOnly=1, base="http://localhost/x")
                              ["loggedEvents"])
    names = {type(e).__name__ for e in events}
    assert {"MissingElement", "DuplicateEntries"} <= names, names


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
