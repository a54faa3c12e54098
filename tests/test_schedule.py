"""The announcement calendar, across weekends and daylight-saving changes."""
from __future__ import annotations

import datetime as dt

import pytest

from service.schedule import next_announcement

UTC = dt.timezone.utc


@pytest.mark.parametrize("now, expected", [
    # Wednesday 2026-01-28 noon UTC → that evening 20:30 EST = 01:30 UTC Thursday
    (dt.datetime(2026, 1, 28, 12, tzinfo=UTC), dt.datetime(2026, 1, 29, 1, 30, tzinfo=UTC)),
    # Friday → Sunday evening (no announcements Friday/Saturday)
    (dt.datetime(2026, 1, 30, 12, tzinfo=UTC), dt.datetime(2026, 2, 2, 1, 30, tzinfo=UTC)),
    # summer time: 20:30 EDT = 00:30 UTC
    (dt.datetime(2026, 7, 1, 12, tzinfo=UTC), dt.datetime(2026, 7, 2, 0, 30, tzinfo=UTC)),
    # just after Thursday's announcement → Sunday
    (dt.datetime(2026, 1, 30, 1, 31, tzinfo=UTC), dt.datetime(2026, 2, 2, 1, 30, tzinfo=UTC)),
])
def test_next_announcement(now, expected):
    assert next_announcement(now) == expected


from service.schedule import submission_window  # noqa: E402


def _utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("listing, start, end", [
    # Monday's listing (Sunday's announcement) covers Thursday 14:00 → Friday 14:00 ET
    (dt.date(2026, 2, 2), _utc(2026, 1, 29, 19), _utc(2026, 1, 30, 19)),
    # Tuesday's (Monday's announcement) covers the weekend: Friday 14:00 → Monday 14:00 ET
    (dt.date(2026, 2, 3), _utc(2026, 1, 30, 19), _utc(2026, 2, 2, 19)),
    # an ordinary Thursday: Tuesday 14:00 → Wednesday 14:00 EST
    (dt.date(2026, 1, 29), _utc(2026, 1, 27, 19), _utc(2026, 1, 28, 19)),
    # DST starts Sunday 2026-03-08: the window opens at 14:00 EST and closes at 14:00 EDT (23 h + weekend)
    (dt.date(2026, 3, 10), _utc(2026, 3, 6, 19), _utc(2026, 3, 9, 18)),
    # DST ends Sunday 2026-11-01: opens at 14:00 EDT, closes at 14:00 EST
    (dt.date(2026, 11, 3), _utc(2026, 10, 30, 18), _utc(2026, 11, 2, 19)),
    # summer Monday listing: Thursday → Friday at 14:00 EDT = 18:00 UTC
    (dt.date(2026, 7, 6), _utc(2026, 7, 2, 18), _utc(2026, 7, 3, 18)),
])
def test_submission_window_on_mondays_and_across_daylight_saving(listing, start, end):
    assert submission_window(listing) == (start, end)
