"""`/healthz`: per feed, the last attempt and last success, and whether the feed is stale.

A feed is stale when arXiv's latest announcement (plus a grace period) has passed and
neither a day for it nor a "no announcement" answer came in. Weekends and holidays are
not stale: the last expected announcement is the last one on arXiv's calendar, and an
empty listing (holiday) counts as an answer.
"""
from __future__ import annotations

import datetime as dt

from . import schedule
from .models import FeedStatus, Outcome, RefreshResult, utcnow

#: How long after an announcement a missing day is still "waiting", not "stale".
GRACE = dt.timedelta(hours=3)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _attempt(result: RefreshResult, now: dt.datetime) -> dict:
    budget = result.budget_reason
    return {
        "outcome": result.outcome.value, "message": result.message, "at": _iso(result.finished),
        "age_seconds": round((now - result.finished).total_seconds()) if result.finished else None,
        "day": result.date.isoformat() if result.date else None,
        "papers": len(result.papers), "pending": result.pending, "missing": list(result.missing),
        "llm_calls": result.llm_calls, "cost_usd": result.cost_usd,
        "budget": str(budget) if budget else None,
    }


def _success(result: RefreshResult) -> dict:
    return {"at": _iso(result.finished), "outcome": result.outcome.value,
            "day": result.date.isoformat() if result.date else None, "papers": len(result.papers),
            "pending": result.pending, "missing": list(result.missing), "cost_usd": result.cost_usd}


def feed_state(status: FeedStatus | None, latest_day: dt.date | None, now: dt.datetime) -> str:
    """fresh, waiting or stale: has the last expected announcement been answered?"""
    last_announced = schedule.last_announcement(now)
    expected_day = schedule.listing_date(last_announced)
    answered = latest_day is not None and latest_day >= expected_day
    last = status.last_attempt if status else None
    # A holiday's empty listing answers for its day; a stale listing does not.
    if last is not None and last.outcome is Outcome.NO_ANNOUNCEMENT and last.date is not None:
        answered = answered or last.date >= expected_day
    if answered:
        return "fresh"
    return "waiting" if now - last_announced < GRACE else "stale"


def feed_health(status: FeedStatus | None, latest_day: dt.date | None, now: dt.datetime) -> dict:
    state = feed_state(status, latest_day, now)
    info: dict = {
        "state": state,
        "latest_day": latest_day.isoformat() if latest_day else None,
        "expected_day": schedule.listing_date(schedule.last_announcement(now)).isoformat(),
        "next_announcement": _iso(schedule.next_announcement(now, dt.timedelta(0))),
        "last_attempt": _attempt(status.last_attempt, now) if status else None,
        "last_success": _success(status.last_success) if status and status.last_success else None,
    }
    if now.astimezone(schedule.EASTERN).weekday() in (4, 5) and state == "fresh":
        info["note"] = "no announcement expected until Sunday 20:00 US/Eastern"
    if status and status.last_attempt.outcome is Outcome.STALE:
        info["note"] = "arXiv's listing still shows the previous announcement; will try again"
    return info


def health_report(feeds: dict[str, tuple[FeedStatus | None, dt.date | None]], llm_enabled: bool,
                  now: dt.datetime | None = None, config_error: str | None = None,
                  killed: dict[str, dt.datetime] | None = None) -> tuple[dict, int]:
    """The report and its HTTP status: 503 when any feed is stale, so uptime checks alert.

    `config_error`: a feed spec on disk is broken and the last good ones are serving.
    `killed`: feeds whose last refresh started and never recorded an end (a kill -9, a
    crash); its finished pieces are cached and the next refresh resumes from them."""
    now = now or utcnow()
    report = {name: feed_health(status, latest, now) for name, (status, latest) in feeds.items()}
    for name, since in (killed or {}).items():
        if name in report:
            report[name]["killed_run"] = {"started": since.isoformat(),
                                          "note": "a refresh was killed before it ended; the next one resumes"}
    stale = [name for name, info in report.items() if info["state"] == "stale"]
    body = {"status": "stale" if stale else "ok", "stale_feeds": stale, "llm_enabled": llm_enabled,
            "config_error": config_error, "feeds": report}
    return body, 503 if stale else 200
