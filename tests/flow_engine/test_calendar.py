"""Working calendars: business days and hours over weekends, holidays and make-up days (调休).
Expected moments are worked out by hand on the 2024 National Day calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flow_engine import Calendar, Duration

CN = Calendar(
    {
        "name": "cn",
        "timezone": "Asia/Shanghai",
        "hours": {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": [f"2024-10-0{d}" for d in range(1, 8)],
        "workdays": ["2024-09-29", "2024-10-12"],
    }
)


def bj(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Beijing wall-clock time in 2024 as UTC."""
    return datetime(2024, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # calendar time ignores the calendar
        (bj(9, 27, 17), Duration(hours=2), bj(9, 27, 19)),
        # Friday 17:00 + 2 working hours: 1 h Friday, the Saturday off, 1 h on make-up Sunday
        (bj(9, 27, 17), Duration(hours=2, business=True), bj(9, 29, 10)),
        # the lunch break does not count
        (bj(9, 30, 11), Duration(hours=2, business=True), bj(9, 30, 14)),
        # Monday 30 Sep 17:30 + 1 h: the holiday week is skipped
        (bj(9, 30, 17, 30), Duration(hours=1, business=True), bj(10, 8, 9, 30)),
        # 3 working days from Monday 30 Sep: Tue 8, Wed 9, Thu 10 October
        (bj(9, 30, 10), Duration(days=3, business=True), bj(10, 10, 10)),
        # from Friday 11 Oct: the make-up Saturday 12th counts, Sunday does not
        (bj(10, 11, 10), Duration(days=2, business=True), bj(10, 14, 10)),
        # starting before opening hours counts from the opening
        (bj(10, 8, 7), Duration(minutes=30, business=True), bj(10, 8, 9, 30)),
    ],
)
def test_deadlines_in_business_time(start: datetime, duration: Duration, expected: datetime) -> None:
    assert CN.add(start, duration) == expected


def test_working_time_counts_backwards_for_warnings() -> None:
    # 15 working minutes before Tue 8 Oct 09:10 is Mon 30 Sep 17:55
    assert CN.shift_working_time(bj(10, 8, 9, 10), -timedelta(minutes=15)) == bj(9, 30, 17, 55)


def test_days_off_and_make_up_days() -> None:
    assert [
        CN.is_workday(d.date()) for d in (bj(9, 28, 12), bj(9, 29, 12), bj(10, 3, 12), bj(10, 12, 12))
    ] == [
        False,
        True,
        False,
        True,
    ]


def test_a_calendar_without_working_hours_is_refused_rather_than_looping() -> None:
    closed = Calendar({"name": "closed", "hours": {}})
    with pytest.raises(ValueError, match="no working time"):
        closed.add(bj(10, 8, 9), Duration(hours=1, business=True))
