"""`/healthz`: per feed, the last attempt and last success, and whether the feed is stale.

A feed is stale when arXiv's latest announcement (plus a grace period) has passed and
neither a day for it nor a "no announcement" answer came in. Weekends and holidays are
not stale: the last expected announcement is the last one on arXiv's calendar, and an
empty listing (holiday) counts as an answer.
"""
from __future__ import annotations

import datetime as dt

from . import schedule
from .models import utcnow

#: How long after an announcement a missing day is still "waiting", not "stale".
GRACE = dt.timedelta(hours=3)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def feed_health(status: dict | None, latest_day: dt.date | None, now: dt.datetime) -> dict:
    last_announced = schedule.last_announcement(now)
    expected_day = schedule.listing_date(last_announced)
    answered = latest_day is not None and latest_day >= expected_day
    if status and status.get("date") and status["outcome"] in ("no_announcement", "stale", "published"):
        # A holiday's empty listing answers for its day; a stale listing does not.
        answered = answered or (status["outcome"] == "no_announcement" and status["date"] >= expected_day)
    if answered:
        state = "fresh"
    elif now - last_announced < GRACE:
        state = "waiting"
    else:
        state = "stale"
    info: dict = {
        "state": state,
        "latest_day": latest_day.isoformat() if latest_day else None,
        "expected_day": expected_day.isoformat(),
        "next_announcement": _iso(schedule.next_announcement(now, dt.timedelta(0))),
        "last_attempt": None,
        "last_success": None,
    }
    if now.astimezone(schedule.EASTERN).weekday() in (4, 5) and answered:
        info["note"] = "no announcement expected until Sunday 20:00 US/Eastern"
    if status:
        finished = status.get("finished")
        info["last_attempt"] = {
            "outcome": status["outcome"], "message": status["message"], "at": _iso(finished),
            "age_seconds": round((now - finished).total_seconds()) if finished else None,
            "day": status["date"].isoformat() if status.get("date") else None,
            "papers": len(status.get("papers", [])),
            "pending": sum(1 for p in status.get("papers", []) if p["status"].value in ("pending", "unavailable")),
            "missing": list(status.get("missing", [])),
            "llm_calls": status.get("llm_calls", 0),
            "cost_usd": status.get("cost_usd", 0.0),
            "budget": next((r for p in status.get("papers", []) for r in p["reasons"] if r.startswith("budget")), None),
        }
        if status["outcome"] == "stale":
            info["note"] = "arXiv's listing still shows the previous announcement; will try again"
        success = status.get("last_success")
        info["last_success"] = success
    return info


def health_report(feeds: dict[str, tuple[dict | None, dt.date | None]], llm_enabled: bool,
                  now: dt.datetime | None = None) -> tuple[dict, int]:
    """The report and its HTTP status: 503 when any feed is stale, so uptime checks alert."""
    now = now or utcnow()
    report = {name: feed_health(status, latest, now) for name, (status, latest) in feeds.items()}
    stale = [name for name, info in report.items() if info["state"] == "stale"]
    body = {"status": "stale" if stale else "ok", "stale_feeds": stale, "llm_enabled": llm_enabled,
            "feeds": report}
    return body, 503 if stale else 200
