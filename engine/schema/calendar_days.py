"""The working-day calendar as a system table: created and filled with the bundled holidays in
one statement, edited day by day by administrators, and handed to the rule engine.

The rule DSL's ``add_workdays``/``workdays_between`` read ``tg_calendar_days``
(``rule_engine.CALENDAR_TABLE``: one row per day 2015-2040 with running counts of working days)
on the SQL side, and the calendar this module loads from it on the Python side. The table is
filled by an ``INSERT ... SELECT`` that generates the days in the database, attached to its
creation, so a new database (and the test template) gets it as part of its schema.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

import rule_engine

TABLE = rule_engine.CALENDAR_TABLE
_COLUMNS = 'day, workday, name, through, "before", workday_no'


def _exceptions() -> list[tuple[str, bool, str]]:
    """The bundled holidays and make-up days inside the table's range."""
    data = rule_engine.bundled_calendar()
    days = [(d, False, name) for d, name in data.holidays.items()]
    days += [(d, True, name) for d, name in data.workdays.items()]
    first, last = rule_engine.CALENDAR_FIRST, rule_engine.CALENDAR_LAST
    return sorted((d.isoformat(), w, n) for d, w, n in days if first <= d <= last)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def seed_sql(dialect: str) -> str:
    """The statement that fills the empty table from the bundled calendar, for ``dialect``."""
    first, last = rule_engine.CALENDAR_FIRST.isoformat(), rule_engine.CALENDAR_LAST.isoformat()
    if dialect == "postgresql":
        values = ", ".join(f"(DATE '{d}', {str(w).lower()}, {_quoted(n)})" for d, w, n in _exceptions())
        return (
            f"INSERT INTO tg_calendar_days ({_COLUMNS}) "
            "SELECT day, workday, name, through, through - w, CASE WHEN workday THEN through END FROM ("
            "SELECT day, workday, name, w, SUM(w) OVER (ORDER BY day) AS through FROM ("
            "SELECT g::date AS day, COALESCE(x.workday, EXTRACT(ISODOW FROM g) < 6) AS workday, "
            "x.name, CASE WHEN COALESCE(x.workday, EXTRACT(ISODOW FROM g) < 6) THEN 1 ELSE 0 END AS w "
            f"FROM generate_series(DATE '{first}', DATE '{last}', INTERVAL '1 day') AS g "
            f"LEFT JOIN (VALUES {values}) AS x(day, workday, name) ON x.day = g::date) AS s) AS t"
        )
    values = ", ".join(f"('{d}', {int(w)}, {_quoted(n)})" for d, w, n in _exceptions())
    return (
        f"WITH RECURSIVE g(day) AS (SELECT '{first}' UNION ALL "
        f"SELECT date(day, '+1 day') FROM g WHERE day < '{last}'), "
        f"x(day, workday, name) AS (VALUES {values}), "
        "s AS (SELECT g.day AS day, COALESCE(x.workday, "
        "CAST(strftime('%%w', g.day) AS INTEGER) BETWEEN 1 AND 5) AS workday, x.name AS name "
        "FROM g LEFT JOIN x ON x.day = g.day) "
        f"INSERT INTO tg_calendar_days ({_COLUMNS}) "
        "SELECT day, workday, name, through, through - workday, CASE WHEN workday THEN through END "
        "FROM (SELECT day, workday, name, SUM(workday) OVER (ORDER BY day) AS through FROM s)"
    )


def _fill(target: sa.Table, connection: Any, **_kw: Any) -> None:
    connection.execute(sa.DDL(seed_sql(connection.dialect.name)))


sa.event.listen(TABLE, "after_create", _fill)


def create(engine: sa.Engine) -> None:
    """Create (and fill) the table where it is missing; a filled table is left as it is."""
    TABLE.metadata.create_all(engine)


def load(conn: sa.Connection) -> rule_engine.WorkCalendar:
    """The calendar as stored: every day that is not an ordinary weekday or weekend day."""
    rows = conn.execute(
        sa.select(TABLE.c.day, TABLE.c.workday, TABLE.c.name).where(TABLE.c.name.is_not(None))
    )
    return rule_engine.calendar_from((r.day, r.workday, r.name) for r in rows)


def install(engine: sa.Engine) -> None:
    """Make the stored calendar the one rules evaluate with in this process."""
    with engine.connect() as conn:
        rule_engine.use_calendar(load(conn))


def exceptions(conn: sa.Connection, year: int) -> list[dict[str, Any]]:
    """The holidays and make-up working days of ``year``, in date order."""
    rows = conn.execute(
        sa.select(TABLE.c.day, TABLE.c.workday, TABLE.c.name)
        .where(TABLE.c.name.is_not(None), TABLE.c.day.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(TABLE.c.day)
    )
    return [{"date": r.day.isoformat(), "workday": r.workday, "name": r.name} for r in rows]


def set_day(conn: sa.Connection, day: date, workday: bool, name: str | None) -> bool:
    """Mark ``day`` as a working day or not (``name`` None: an ordinary day again), keeping the
    running counts of every later day right. False when the day is outside the table."""
    row = conn.execute(sa.select(TABLE.c.workday, TABLE.c.through).where(TABLE.c.day == day)).first()
    if row is None:
        return False
    delta = int(workday) - int(row.workday)
    conn.execute(
        TABLE.update()
        .where(TABLE.c.day == day)
        .values(
            workday=workday,
            name=name,
            through=row.through + delta,
            workday_no=row.through + delta if workday else None,
        )
    )
    if delta:
        later = TABLE.c.day > day
        conn.execute(
            TABLE.update()
            .where(later)
            .values(
                through=TABLE.c.through + delta,
                before=TABLE.c.before + delta,
                workday_no=TABLE.c.workday_no + delta,
            )
        )
    return True


def ordinary_workday(day: date) -> bool:
    return day.weekday() < 5
