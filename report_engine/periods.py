"""Date ranges: relative periods ("this month", "last 12 months") in the platform's time zone,
explicit ranges, and the earlier ranges a comparison reads (环比 previous, 同比 year ago).

A range is half-open, ``[start, end)`` in local dates, so months and years line up without
"23:59:59" edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from report_engine.schema import RELATIVE_PERIODS


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # exclusive

    def to_json(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": (self.end - timedelta(days=1)).isoformat()}

    def bounds_utc(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The range as UTC instants (local midnights), for datetime columns."""
        return local_midnight(self.start, zone), local_midnight(self.end, zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (clamped to the month's end: Jan 31 + 1 -> Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def month_start(day: date) -> date:
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def week_start(day: date) -> date:
    """The ISO week's Monday."""
    return day - timedelta(days=day.weekday())


def relative(name: str, today: date) -> DateRange:
    """The range a relative period names, seen from ``today`` (a local date)."""
    day = timedelta(days=1)
    if name == "today":
        return DateRange(today, today + day)
    if name == "yesterday":
        return DateRange(today - day, today)
    if name in ("this_week", "last_week"):
        start = week_start(today) - (timedelta(days=7) if name == "last_week" else timedelta())
        return DateRange(start, start + timedelta(days=7))
    if name in ("this_month", "last_month"):
        start = add_months(month_start(today), -1 if name == "last_month" else 0)
        return DateRange(start, add_months(start, 1))
    if name in ("this_quarter", "last_quarter"):
        start = add_months(quarter_start(today), -3 if name == "last_quarter" else 0)
        return DateRange(start, add_months(start, 3))
    if name in ("this_year", "last_year"):
        year = today.year - (1 if name == "last_year" else 0)
        return DateRange(date(year, 1, 1), date(year + 1, 1, 1))
    if name == "last_7_days":
        return DateRange(today - timedelta(days=6), today + day)
    if name == "last_30_days":
        return DateRange(today - timedelta(days=29), today + day)
    if name == "last_12_months":
        end = add_months(month_start(today), 1)
        return DateRange(add_months(end, -12), end)
    if name == "month_to_date":
        return DateRange(month_start(today), today + day)
    if name == "quarter_to_date":
        return DateRange(quarter_start(today), today + day)
    if name == "year_to_date":
        return DateRange(date(today.year, 1, 1), today + day)
    raise KeyError(name)


def _whole_months(r: DateRange) -> int | None:
    """How many calendar months the range spans exactly, or None if it is not whole months."""
    if r.start.day != 1 or r.end.day != 1:
        return None
    return (r.end.year - r.start.year) * 12 + r.end.month - r.start.month


def previous(r: DateRange) -> DateRange:
    """The range just before: the previous month(s) for whole months, else as many days."""
    months = _whole_months(r)
    if months:
        return DateRange(add_months(r.start, -months), r.start)
    length = r.end - r.start
    return DateRange(r.start - length, r.start)


def year_ago(r: DateRange) -> DateRange:
    return DateRange(add_months(r.start, -12), add_months(r.end, -12))


def shift(r: DateRange, comparison: str) -> DateRange:
    return previous(r) if comparison == "previous" else year_ago(r)


def parse_range(value: Any, today: date) -> DateRange:
    """A period parameter: a relative name, or ``{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}``
    (both inclusive, either may be left out). Raises ValueError naming what is wrong."""
    if isinstance(value, str):
        if value not in RELATIVE_PERIODS:
            raise KeyError(value)
        return relative(value, today)
    if isinstance(value, dict) and set(value) <= {"from", "to"} and value:
        start = date.fromisoformat(value["from"]) if value.get("from") else date(1, 1, 1)
        end = date.fromisoformat(value["to"]) + timedelta(days=1) if value.get("to") else date(9999, 12, 31)
        if end <= start:
            raise ValueError("from after to")
        return DateRange(start, end)
    raise ValueError("not a period")


def next_boundary(now_local: datetime) -> datetime:
    """The next local midnight: when every relative period may have moved on."""
    return datetime.combine(now_local.date() + timedelta(days=1), time(), now_local.tzinfo)
