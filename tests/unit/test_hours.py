"""Opening hours: 24/7, unknown, and weekly schedules in a time zone."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from worker.notices.hours import HoursError, parse_hours


def at(zone: str, *args) -> int:
    return int(dt.datetime(*args, tzinfo=ZoneInfo(zone)).timestamp() * 1000)


def test_weekly_schedule_in_its_zone():
    hours = parse_hours({"timezone": "Asia/Jakarta", "weekly": {"mon-fri": "09:00-16:00"}})
    assert hours.is_open(at("Asia/Jakarta", 2026, 11, 27, 10, 0)) is True      # Friday 10:00 WIB
    assert hours.is_open(at("Asia/Jakarta", 2026, 11, 27, 16, 0)) is False     # end is exclusive
    assert hours.is_open(at("Asia/Jakarta", 2026, 11, 28, 10, 0)) is False     # Saturday
    assert hours.is_open(at("Asia/Jakarta", 2026, 11, 27, 3, 0)) is False      # 03:00
    # 10:00 in Jakarta is 03:00 UTC: the zone, not the server clock, decides.
    assert hours.is_open(at("UTC", 2026, 11, 27, 3, 0)) is True


def test_always_and_unknown():
    assert parse_hours("24/7").is_open(0) is True
    assert parse_hours("unknown").is_open(0) is None


@pytest.mark.parametrize("value, message", [
    ({"timezone": "Mars/Olympus", "weekly": {"mon": "09:00-10:00"}}, "unknown time zone"),
    ({"timezone": "Asia/Seoul", "weekly": {"funday": "09:00-10:00"}}, "unknown day"),
    ({"timezone": "Asia/Seoul", "weekly": {"mon": "9-5"}}, "not HH:MM-HH:MM"),
    ({"timezone": "Asia/Seoul", "weekly": {"mon": "18:00-09:00"}}, "ends before it starts"),
    ({"timezone": "Asia/Seoul", "weekly": {"mon": "25:00-26:00"}}, "impossible time"),
    ({"weekly": {"mon": "09:00-10:00"}}, "timezone is required"),
    ("sometimes", "expected '24/7'"),
])
def test_bad_hours_say_why(value, message):
    with pytest.raises(HoursError, match=message):
        parse_hours(value)
