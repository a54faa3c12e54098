"""One feed's failure, whatever its cause, never stops another feed or the worker."""
from __future__ import annotations

from service.cli import main
from service.models import Outcome
from service.pipeline import make_digest
from service.worker import Worker

ATOM = "http://www.w3.org/2005/Atom"


def _poison_one_title(arxiv_stub) -> str:
    """The API answers once with an XML-illegal character (&#x1;) in one paper's title."""
    vid, entry = next(iter(arxiv_stub.api_entries.items()))
    title = entry.findtext(f"{{{ATOM}}}title")
    body = arxiv_stub.api_response(list(arxiv_stub.api_entries))
    assert b"<title>" + title.encode()[:20] in body
    body = body.replace(b"<title>" + title.encode()[:20], b"<title>&#x1;" + title.encode()[:20], 1)
    arxiv_stub.faults["/api/query"] = [{"status": 200, "body": body,
                                        "headers": {"Content-Type": "application/atom+xml"}}]
    return title


def test_a_feed_that_fails_does_not_stop_the_next(env, feeds_dir, arxiv_stub, llm_stub, monkeypatch):
    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://digest.example.org")  # render at publish time
    title = _poison_one_title(arxiv_stub)
    # a second feed that leaves the poisoned paper out (and so needs only its own API answer)
    other = feeds_dir / "cs-cv-other.toml"
    words = " ".join(title.split()[:3])
    spec = (feeds_dir / "cs-cv.toml").read_text("utf-8")
    assert "exclude_keywords = []" in spec
    other.write_text(spec.replace("exclude_keywords = []", f'exclude_keywords = ["{words}"]'), "utf-8")
    main(["refresh", "cs-cv", "cs-cv-other"])
    d = make_digest()
    statuses = {name: d.status(name).last_attempt for name in ("cs-cv", "cs-cv-other")}
    # whatever became of the poisoned feed, it was recorded and did not take the other one down
    assert statuses["cs-cv"].finished is not None
    assert statuses["cs-cv-other"].outcome is Outcome.PUBLISHED, statuses
    assert d.day_dates("cs-cv-other")
    d.close()


def test_the_worker_starts_even_if_a_feed_fails(env, arxiv_stub, llm_stub):
    arxiv_stub.faults["/rss/"] = [{"status": 200, "body": b"<rss><channel><pubDate>never</pubDate></channel></rss>",
                                   "headers": {"Content-Type": "application/rss+xml"}}] * 20
    d = make_digest()
    worker = Worker(d, catch_up_days=1)
    worker.announcement()  # the job after an announcement: a broken listing fails the feed, not the worker
    assert d.status("cs-cv").last_attempt.outcome is Outcome.FAILED
    d.close()
