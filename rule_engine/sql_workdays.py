"""The SQL side of ``add_workdays`` and ``workdays_between``: lookups in a table of days.

``CALENDAR_TABLE`` holds every day ``FIRST``..``LAST`` with whether it is a working day and two
running counts, so both functions are a few primary-key lookups whatever the distance:
``through`` (working days from FIRST up to and including the day), ``before`` (the same up to
the day before) and ``workday_no`` (``through`` on working days, else null). The host creates
the table on its database and fills it with :func:`calendar_rows` (the kernel does, from the
calendar its administrators edit); a day outside the range has no row, so the answer is null,
as in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.expression import ColumnElement

from rule_engine.workdays import FIRST, LAST, WorkCalendar, days

metadata = sa.MetaData()

CALENDAR_TABLE = sa.Table(
    "tg_calendar_days",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("workday", sa.Boolean, nullable=False),
    #: The holiday or make-up day's name; null on an ordinary day.
    sa.Column("name", sa.String(100)),
    sa.Column("through", sa.Integer, nullable=False),
    sa.Column("before", sa.Integer, nullable=False),
    sa.Column("workday_no", sa.Integer, index=True),
)


def calendar_rows(calendar: WorkCalendar) -> Iterator[dict[str, Any]]:
    """One row per day FIRST..LAST."""
    count = 0
    for day in days(FIRST, LAST):
        before = count
        workday = calendar.is_workday(day)
        count += workday
        name = calendar.holidays.get(day, calendar.workdays.get(day))
        yield {
            "day": day,
            "workday": workday,
            "name": name,
            "through": count,
            "before": before,
            "workday_no": count if workday else None,
        }


def _at(day: ColumnElement[Any], column: str) -> ColumnElement[Any]:
    """The day's ``column``; every other table the expression reads is the outer query's, at
    whatever depth it is nested (a subquery inside a subquery correlates too)."""
    days_ = CALENDAR_TABLE.alias()
    return sa.select(days_.c[column]).where(days_.c.day == day).correlate_except(days_).scalar_subquery()


def _workday_numbered(number: ColumnElement[Any]) -> ColumnElement[Any]:
    days_ = CALENDAR_TABLE.alias()
    found = sa.select(days_.c.day).where(days_.c.workday_no == number)
    return found.correlate_except(days_).scalar_subquery()


def workdays_between(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    return _at(b, "through") - _at(a, "through")


def add_workdays(day: ColumnElement[Any], n: ColumnElement[Any]) -> ColumnElement[Any]:
    return sa.case(
        (n == 0, _at(day, "day")),
        (n > 0, _workday_numbered(_at(day, "through") + n)),
        else_=_workday_numbered(_at(day, "before") + n + 1),
    )
