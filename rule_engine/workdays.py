"""Business days: which dates are working days, for ``add_workdays`` and ``workdays_between``.

A day is a working day when it is Monday to Friday, unless the calendar names it a holiday, or
when the calendar names it a make-up working day (调休, a Saturday or Sunday). The bundled
calendar holds the mainland's public holidays from the State Council's notices
(``data/cn_calendar.json``); the kernel installs the one its administrators edit with
:func:`use_calendar`, and keeps the same days in a table for the SQL side.

Both functions answer null for dates outside ``FIRST``..``LAST``, the range the SQL table holds,
so the two sides agree everywhere.
"""

from __future__ import annotations

import bisect
import functools
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Any

FIRST = date(2015, 1, 1)
LAST = date(2040, 12, 31)


@dataclass(frozen=True)
class WorkCalendar:
    """Exceptions to Monday-to-Friday: ``holidays`` off, ``workdays`` on (date -> name)."""

    holidays: dict[date, str]
    workdays: dict[date, str]
    #: Every working day FIRST..LAST in order; built once, searched by bisection.
    _days: list[date] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Shared by calendars with the same days off and on: every platform start and every
        # edit of the calendar builds one, and the 9,500-day walk costs milliseconds each time.
        key = (frozenset(self.holidays), frozenset(self.workdays))
        object.__setattr__(self, "_days", _working_days(*key))

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def through(self, day: date) -> int:
        """Working days from FIRST up to and including ``day``."""
        return bisect.bisect_right(self._days, day)

    def add(self, day: date, n: int) -> date | None:
        """The ``n``-th working day after ``day`` (before it for negative ``n``; ``day`` for 0)."""
        if n == 0:
            return day
        index = self.through(day) + n - 1 if n > 0 else self.through(day - timedelta(days=1)) + n
        if index < 0 or index >= len(self._days):
            return None
        return self._days[index]

    def between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b``; negative when ``b`` is earlier."""
        return self.through(b) - self.through(a)


@functools.lru_cache(maxsize=8)
def _working_days(holidays: frozenset[date], workdays: frozenset[date]) -> list[date]:
    """Every working day FIRST..LAST in order (read only: calendars share it)."""
    return [d for d in days(FIRST, LAST) if d in workdays or (d not in holidays and d.weekday() < 5)]


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def calendar_from(rows: Iterable[tuple[date, bool, str | None]]) -> WorkCalendar:
    """A calendar from ``(day, is_workday, name)`` exceptions, as the kernel stores them."""
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    for day, workday, name in rows:
        (workdays if workday else holidays)[day] = name or ""
    return WorkCalendar(holidays, workdays)


def bundled_data() -> dict[str, Any]:
    """The bundled file: its source, and the holidays and make-up days as ``[iso, name]`` pairs."""
    data: dict[str, Any] = json.loads(
        resources.files("rule_engine").joinpath("data/cn_calendar.json").read_text("utf-8")
    )
    return data


def bundled_calendar_source() -> dict[str, Any]:
    """Where the bundled days come from (package, date of the refresh, years covered)."""
    source: dict[str, Any] = bundled_data()["source"]
    return source


@functools.cache
def bundled_calendar() -> WorkCalendar:
    """The mainland calendar as shipped (State Council notices, see ``data/README.md``)."""
    data = bundled_data()
    return WorkCalendar(
        {date.fromisoformat(d): name for d, name in data["holidays"]},
        {date.fromisoformat(d): name for d, name in data["workdays"]},
    )


_lock = threading.Lock()
_installed: list[WorkCalendar] = []


def use_calendar(calendar: WorkCalendar | None) -> None:
    """Make ``calendar`` the one rules evaluate with in this process (None: the bundled one)."""
    with _lock:
        _installed[:] = [calendar] if calendar is not None else []


def current() -> WorkCalendar:
    return _installed[0] if _installed else bundled_calendar()


def _in_range(day: date) -> bool:
    return FIRST <= day <= LAST


def add_workdays(value: date | None, n: int | None) -> date | None:
    """``add_workdays(date, n)``: null for null input or a date outside the calendar's range."""
    if value is None or n is None:
        return None
    if not _in_range(value):
        return None
    return current().add(value, n)


def workdays_between(a: date | None, b: date | None) -> int | None:
    if a is None or b is None:
        return None
    if not (_in_range(a) and _in_range(b)):
        return None
    return current().between(a, b)
