"""arXiv's announcement calendar: Sunday–Thursday at 20:00 US/Eastern (DST-aware)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
ANNOUNCE_AT = dt.time(20, 0)
#: Monday=0 … Sunday=6: announcements happen Sunday through Thursday evenings.
ANNOUNCE_WEEKDAYS = {6, 0, 1, 2, 3}


def next_announcement(after: dt.datetime, margin: dt.timedelta = dt.timedelta(minutes=30)) -> dt.datetime:
    """The first announcement time (plus margin) strictly after `after`, in UTC."""
    local = after.astimezone(EASTERN)
    day = local.date()
    for _ in range(8):
        at = dt.datetime.combine(day, ANNOUNCE_AT, tzinfo=EASTERN) + margin
        if day.weekday() in ANNOUNCE_WEEKDAYS and at > local:
            return at.astimezone(dt.timezone.utc)
        day += dt.timedelta(days=1)
    raise AssertionError("unreachable: an announcement happens every week")


def last_announcement(now: dt.datetime, margin: dt.timedelta = dt.timedelta(0)) -> dt.datetime:
    """The most recent announcement time (plus margin) at or before `now`, in UTC."""
    local = now.astimezone(EASTERN)
    day = local.date()
    for _ in range(8):
        at = dt.datetime.combine(day, ANNOUNCE_AT, tzinfo=EASTERN) + margin
        if day.weekday() in ANNOUNCE_WEEKDAYS and at <= local:
            return at.astimezone(dt.timezone.utc)
        day -= dt.timedelta(days=1)
    raise AssertionError("unreachable: an announcement happens every week")


def listing_date(announcement: dt.datetime) -> dt.date:
    """The date the listing feed gives an announcement: the day after the evening it happens."""
    return announcement.astimezone(EASTERN).date() + dt.timedelta(days=1)


def is_listing_date(day: dt.date) -> bool:
    """Monday–Friday listings follow Sunday–Thursday announcements."""
    return (day - dt.timedelta(days=1)).weekday() in ANNOUNCE_WEEKDAYS


CUTOFF_AT = dt.time(14, 0)


def submission_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The submissions (UTC) announced in the listing of `day`: between two 14:00 ET cut-offs.

    The announcement on the evening before `day` covers submissions from the previous
    weekday's cut-off to that evening's weekday cut-off (Sunday's covers Thursday→Friday).
    """
    evening = day - dt.timedelta(days=1)
    end_day = evening if evening.weekday() < 5 else evening - dt.timedelta(days=evening.weekday() - 4)
    start_day = end_day - dt.timedelta(days=1)
    while start_day.weekday() >= 5:
        start_day -= dt.timedelta(days=1)
    end = dt.datetime.combine(end_day, CUTOFF_AT, tzinfo=EASTERN)
    start = dt.datetime.combine(start_day, CUTOFF_AT, tzinfo=EASTERN)
    return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)
