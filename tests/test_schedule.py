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
