"""Working calendars as data: working hours per weekday, holidays and make-up working days
(调休), in a time zone. Deadlines "in business hours" are computed on them.

A calendar is an item of the ``calendars`` package section::

    {"name": "cn", "timezone": "Asia/Shanghai",
     "hours": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], ..., "sat": [], "sun": []},
     "holidays": ["2024-10-01", "2024-10-02"], "workdays": ["2024-10-12"]}

A make-up day (``workdays``) is worked with ``workday_hours`` (Monday's hours unless given).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NINE_TO_SIX = [["09:00", "18:00"]]
#: Used when a flow asks for business time and names no calendar.
DEFAULT_SPEC: dict[str, Any] = {
    "name": "default",
    "timezone": "Asia/Shanghai",
    "hours": {day: NINE_TO_SIX if day not in ("sat", "sun") else [] for day in WEEKDAYS},
}
#: A calendar never runs further than this looking for working time (a calendar with no
#: working hours at all would otherwise loop for ever).
MAX_DAYS = 3660

Interval = tuple[time, time]


def _time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(23, 59, 59, 999999) if text == "24:00" else time(int(hours), int(minutes))


@dataclass(frozen=True)
class Duration:
    """A span of ``days``, ``hours`` and ``minutes``; ``business`` counts working time only
    (days as working days, hours and minutes inside working hours)."""

    days: int = 0
    hours: float = 0
    minutes: float = 0
    business: bool = False

    @classmethod
    def of(cls, spec: Mapping[str, Any]) -> Duration:
        return cls(
            int(spec.get("days", 0)),
            float(spec.get("hours", 0)),
            float(spec.get("minutes", 0)),
            bool(spec.get("business", False)),
        )

    @property
    def clock(self) -> timedelta:
        return timedelta(hours=self.hours, minutes=self.minutes)


class Calendar:
    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.name = str(spec.get("name", "default"))
        self.zone = ZoneInfo(str(spec.get("timezone", "Asia/Shanghai")))
        hours = spec.get("hours", DEFAULT_SPEC["hours"])
        self.hours: dict[int, list[Interval]] = {
            i: [(_time(a), _time(b)) for a, b in hours.get(day, [])] for i, day in enumerate(WEEKDAYS)
        }
        extra = spec.get("workday_hours")
        self.workday_hours = [(_time(a), _time(b)) for a, b in extra] if extra else self.hours[0]
        self.holidays = {date.fromisoformat(d) for d in spec.get("holidays", [])}
        self.workdays = {date.fromisoformat(d) for d in spec.get("workdays", [])}

    def intervals(self, day: date) -> list[Interval]:
        """The working hours of ``day`` (empty on a day off)."""
        if day in self.workdays:
            return self.hours[day.weekday()] or self.workday_hours
        if day in self.holidays:
            return []
        return self.hours[day.weekday()]

    def is_workday(self, day: date) -> bool:
        return bool(self.intervals(day))

    def _spans(self, start: datetime, backwards: bool = False) -> Iterator[tuple[datetime, datetime]]:
        """Working spans (UTC) from ``start`` on, forwards or backwards, clipped at ``start``."""
        local = start.astimezone(self.zone)
        day = local.date()
        for offset in range(MAX_DAYS):
            current = day - timedelta(days=offset) if backwards else day + timedelta(days=offset)
            spans = [
                (
                    datetime.combine(current, a, self.zone).astimezone(UTC),
                    datetime.combine(current, b, self.zone).astimezone(UTC),
                )
                for a, b in self.intervals(current)
            ]
            for begin, end in reversed(spans) if backwards else spans:
                if backwards:
                    end = min(end, start)
                    if begin < end:
                        yield begin, end
                else:
                    begin = max(begin, start)
                    if begin < end:
                        yield begin, end

    def add(self, start: datetime, duration: Duration) -> datetime:
        """``start`` moved on by ``duration`` (calendar time unless ``duration.business``)."""
        if not duration.business:
            return start + timedelta(days=duration.days) + duration.clock
        moment = self.add_workdays(start, duration.days) if duration.days else start
        return self.shift_working_time(moment, duration.clock)

    def add_workdays(self, start: datetime, days: int) -> datetime:
        """The same local time on the ``days``-th working day after ``start``'s day."""
        local = start.astimezone(self.zone)
        current = local.date()
        counted = 0
        for _ in range(MAX_DAYS):
            current += timedelta(days=1)
            if self.is_workday(current):
                counted += 1
                if counted >= days:
                    break
        return datetime.combine(current, local.timetz().replace(tzinfo=None), self.zone).astimezone(UTC)

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """The working time between ``start`` and ``end`` (none when ``end`` is not later)."""
        total = timedelta(0)
        for begin, finish in self._spans(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total

    def shift_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """``start`` moved by ``amount`` of working time (backwards when negative)."""
        backwards = amount < timedelta(0)
        left = -amount if backwards else amount
        if not left:
            return start
        for begin, end in self._spans(start, backwards):
            span = end - begin
            if span >= left:
                return end - left if backwards else begin + left
            left -= span
        raise ValueError(f"calendar {self.name} has no working time within {MAX_DAYS} days")


DEFAULT = Calendar(DEFAULT_SPEC)


def calendar_of(specs: list[dict[str, Any]], name: str | None) -> Calendar:
    """The calendar ``name`` among an app's ``calendars``, or the default one."""
    for spec in specs:
        if spec.get("name") == name:
            return Calendar(spec)
    return DEFAULT
