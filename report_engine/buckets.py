"""Date bucketing in SQL for SQLite and PostgreSQL, in the platform's time zone.

A bucket is named by its first day (``2024-04-01`` for April or Q2 2024, the Monday of an ISO
week), which sorts, compares and shifts the same way on both databases; labels are made from it
in Python (``2024-04``, ``2024-Q2``, ``2024-W14``).

Date-times are stored in UTC: PostgreSQL converts them with the zone's rules; SQLite, which has
no zone data, adds the zone's current offset (exact for zones without daylight saving, such as
Asia/Shanghai).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from report_engine.periods import add_months

func = sa.func


def _const(text: str) -> Any:
    """An inlined SQL string constant: the same text in SELECT and GROUP BY, which PostgreSQL
    needs to see that a selected expression is a grouped one."""
    return sa.literal_column("'" + text.replace("'", "''") + "'")


def local(column: Any, dsl_type: str, dialect: str, zone: ZoneInfo) -> Any:
    """``column`` as a local date-time (date columns as they are)."""
    if dsl_type != "datetime":
        # date_trunc of a DATE would go through the session's time zone; a plain timestamp does not
        return sa.cast(column, sa.DateTime) if dialect == "postgresql" else column
    if dialect == "postgresql":
        return func.timezone(_const(zone.key), func.timezone(_const("UTC"), column))
    offset = datetime.now(UTC).astimezone(zone).utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    return func.datetime(column, _const(f"{minutes:+d} minutes"))


def bucket(column: Any, dsl_type: str, unit: str, dialect: str, zone: ZoneInfo) -> Any:
    """The first day of ``column``'s bucket: a DATE on PostgreSQL, ISO text on SQLite."""
    value = local(column, dsl_type, dialect, zone)
    if dialect == "postgresql":
        return sa.cast(func.date_trunc(_const(unit), value), sa.Date)
    if unit == "day":
        return func.date(value)
    if unit == "month":
        return func.strftime(_const("%Y-%m-01"), value)
    if unit == "year":
        return func.strftime(_const("%Y-01-01"), value)
    if unit == "week":
        weekday = (sa.cast(func.strftime(_const("%w"), value), sa.Integer) + sa.literal_column("6")) % 7
        return func.date(value, _const("-") + sa.cast(weekday, sa.String) + _const(" days"))
    month = sa.cast(func.strftime(_const("%m"), value), sa.Integer)
    first = (month - sa.literal_column("1")) // sa.literal_column("3") * sa.literal_column(
        "3"
    ) + sa.literal_column("1")
    return func.printf(_const("%s-%02d-01"), func.strftime(_const("%Y"), value), first)


def month_index(column: Any, dsl_type: str, dialect: str, zone: ZoneInfo) -> Any:
    """year * 12 + month - 1 of ``column``'s local date: months between two dates by subtraction."""
    value = local(column, dsl_type, dialect, zone)
    if dialect == "postgresql":
        year = sa.cast(sa.extract("year", value), sa.Integer)
        month = sa.cast(sa.extract("month", value), sa.Integer)
    else:
        year = sa.cast(func.strftime(_const("%Y"), value), sa.Integer)
        month = sa.cast(func.strftime(_const("%m"), value), sa.Integer)
    return year * sa.literal_column("12") + month - sa.literal_column("1")


def as_date(value: Any) -> date | None:
    """A bucket key as the database returned it (DATE or ISO text) as a date."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def month_of_index(index: int) -> date:
    year, month = divmod(int(index), 12)
    return date(year, month + 1, 1)


def step(day: date, unit: str, count: int = 1) -> date:
    """``day`` moved by ``count`` buckets of ``unit``."""
    if unit == "day":
        return day + timedelta(days=count)
    if unit == "week":
        return day + timedelta(days=7 * count)
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    return add_months(day, months * count)


def label(day: date, unit: str) -> str:
    """How a bucket is shown: ``2024-04-15``, ``2024-W16``, ``2024-04``, ``2024-Q2``, ``2024``."""
    if unit == "day":
        return day.isoformat()
    if unit == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if unit == "month":
        return f"{day.year}-{day.month:02d}"
    if unit == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)
