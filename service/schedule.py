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
