"""SQL constructs whose spelling differs between SQLite and PostgreSQL, as ``@compiles`` overrides.

Each construct has a default (SQLite) spelling and a PostgreSQL one; the rest of the SQL backend
is plain SQLAlchemy. SQLite needs :func:`install_sqlite_functions` on every connection.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from rule_engine.regex import MAX_INPUT as MAX_REGEX_INPUT
from rule_engine.runtime import BLANK


class _Fn(FunctionElement[Any]):
    inherit_cache = True


_F = TypeVar("_F", bound=type[_Fn])


def _args(element: FunctionElement[Any], compiler: Any, **kw: Any) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses]


def _spelled(default: str, postgresql: str) -> Callable[[_F], _F]:
    """Register a construct's SQL as two templates, ``default`` (SQLite) and ``postgresql``;
    ``{0}``, ``{1}``, ... stand for its compiled arguments in order."""

    def render(template: str) -> Callable[..., str]:
        return lambda element, compiler, **kw: template.format(*_args(element, compiler, **kw))

    def register(cls: _F) -> _F:
        compiles(cls)(render(default))
        compiles(cls, "postgresql")(render(postgresql))
        return cls

    return register


@_spelled("{0}", '({0}) COLLATE "C"')
class CodepointOrder(_Fn):
    """Text ordered by code point, as Python orders ``str`` (PostgreSQL: ``COLLATE "C"``)."""

    type = sa.String()
    name = "codepoint_order"
    inherit_cache = True


@_spelled(
    "(CASE WHEN ({0}) IS NULL OR ({1}) IS NULL THEN NULL ELSE EXISTS "
    "(SELECT 1 FROM json_each({0}) WHERE json_each.value = ({1})) END)",
    "(({0}) ? ({1}))",
)
class ListContains(_Fn):
    """``item in list_column`` for a JSON array of text; null if either side is null."""

    type = sa.Boolean()
    name = "list_contains"
    inherit_cache = True


@_spelled("json_array_length({0})", "jsonb_array_length({0})")
class ListLength(_Fn):
    type = sa.BigInteger()
    name = "list_length"
    inherit_cache = True


@_spelled("CAST(({0}) AS REAL)", "CAST(({0}) AS NUMERIC)")
class ToReal(_Fn):
    """A number that divides without integer truncation."""

    type = sa.Numeric()
    name = "to_real"
    inherit_cache = True


class CaseMap(_Fn):
    """``lower``/``upper`` with Python's Unicode case mapping on SQLite."""

    type = sa.String()
    name = "case_map"
    inherit_cache = True
    which = ""


class Lower(CaseMap):
    name = "lower_text"
    inherit_cache = True
    which = "lower"


class Upper(CaseMap):
    name = "upper_text"
    inherit_cache = True
    which = "upper"


class AsciiUpper(_Fn):
    """``upper(x)`` where its result is only compared with ASCII-only text (equality, suffix).

    Only the characters whose Python upper case ends in ASCII can end an ASCII match
    (``ASCII_UPPER_EXPANSIONS``: ``ß`` -> ``SS``, ``ı`` -> ``I``, the ``ﬁ`` ligatures, ...); those
    are replaced, then the database's ASCII-correct ``upper`` runs. Every other non-ASCII
    character stays non-ASCII on both sides, so a few ``replace`` calls stand in for the full list.
    """

    type = sa.String()
    name = "ascii_upper"
    inherit_cache = True


@_spelled("lower(replace({0}, '\u212a', 'k'))", "lower(replace({0}, '\u0130', 'i\u0307'))")
class AsciiLower(_Fn):
    """``lower(x)`` where its result is only compared with ASCII-only text (a literal).

    Python's ``str.lower`` turns exactly one non-ASCII character into ASCII only: KELVIN SIGN
    into ``k`` (U+0130 gives ``i`` plus a combining dot, which can never sit at the end of an
    ASCII match). So after that one ``replace``, SQLite's ASCII ``lower`` yields an ASCII
    suffix, or the whole value, exactly when Python's does, with no Python call per row.
    """

    type = sa.String()
    name = "ascii_lower"
    inherit_cache = True


@_spelled("(substr({0}, -({2})) = {1})", "(right({0}, {2}) = {1})")
class EndsWith(_Fn):
    """``ends_with(text, suffix)`` for a non-empty literal suffix of ``length`` characters."""

    type = sa.Boolean()
    name = "ends_with"
    inherit_cache = True


@_spelled(
    "tangram_regexp({0}, {1})",
    f"(CASE WHEN char_length({{0}}) > {MAX_REGEX_INPUT} THEN false ELSE ({{0}}) ~ ({{2}}) END)",
)
class RegexpSearch(_Fn):
    type = sa.Boolean()
    name = "regexp_search"
    inherit_cache = True


@_spelled("trim({0}, {1})", "btrim({0}, {1})")
class TrimBlank(_Fn):
    type = sa.String()
    name = "trim_blank"
    inherit_cache = True


@_spelled("(instr({0}, {1}) > 0)", "(strpos({0}, {1}) > 0)")
class TextContains(_Fn):
    type = sa.Boolean()
    name = "text_contains"
    inherit_cache = True


@_spelled("date({0})", "CAST(({0}) AS DATE)")
class DateOf(_Fn):
    type = sa.Date()
    name = "date_of"
    inherit_cache = True


@_spelled("(({0}) || ' 00:00:00.000000')", "CAST(({0}) AS TIMESTAMP)")
class DatetimeOf(_Fn):
    type = sa.DateTime()
    name = "datetime_of"
    inherit_cache = True


class DatePart(_Fn):
    type = sa.BigInteger()
    name = "date_part"
    inherit_cache = True
    part = ""


class Year(DatePart):
    name = "year_of"
    inherit_cache = True
    part = "year"


class Month(DatePart):
    name = "month_of"
    inherit_cache = True
    part = "month"


class Day(DatePart):
    name = "day_of"
    inherit_cache = True
    part = "day"


@_spelled(
    "CAST(julianday(date({1})) - julianday(date({0})) AS INTEGER)",
    "(CAST(({1}) AS DATE) - CAST(({0}) AS DATE))",
)
class DaysBetween(_Fn):
    type = sa.BigInteger()
    name = "days_between"
    inherit_cache = True


class AddDays(_Fn):
    name = "add_days"
    inherit_cache = True
    kind = "date"


class AddDaysToDate(AddDays):
    type = sa.Date()
    name = "add_days_date"
    inherit_cache = True
    kind = "date"


class AddDaysToDatetime(AddDays):
    type = sa.DateTime()
    name = "add_days_datetime"
    inherit_cache = True
    kind = "datetime"


class Least(_Fn):
    name = "least_of"
    inherit_cache = True


class Greatest(_Fn):
    name = "greatest_of"
    inherit_cache = True


@compiles(CaseMap)
def _case_map_sqlite(element: CaseMap, compiler: Any, **kw: Any) -> str:
    (value,) = _args(element, compiler, **kw)
    return f"tangram_{element.which}({value})"


@compiles(CaseMap, "postgresql")
def _case_map_pg(element: CaseMap, compiler: Any, **kw: Any) -> str:
    (value,) = _args(element, compiler, **kw)
    if element.which == "lower":
        return _lower_pg(value)
    return _upper_pg(value)


MULTI_UPPER = (
    "\u00df\u0149\u01f0\u0390\u03b0\u0587\u1e96\u1e97\u1e98\u1e99\u1e9a\u1f50\u1f52\u1f54\u1f56\u1f80"
    "\u1f81\u1f82\u1f83\u1f84\u1f85\u1f86\u1f87\u1f88\u1f89\u1f8a\u1f8b\u1f8c\u1f8d\u1f8e\u1f8f\u1f90"
    "\u1f91\u1f92\u1f93\u1f94\u1f95\u1f96\u1f97\u1f98\u1f99\u1f9a\u1f9b\u1f9c\u1f9d\u1f9e\u1f9f\u1fa0"
    "\u1fa1\u1fa2\u1fa3\u1fa4\u1fa5\u1fa6\u1fa7\u1fa8\u1fa9\u1faa\u1fab\u1fac\u1fad\u1fae\u1faf\u1fb2"
    "\u1fb3\u1fb4\u1fb6\u1fb7\u1fbc\u1fc2\u1fc3\u1fc4\u1fc6\u1fc7\u1fcc\u1fd2\u1fd3\u1fd6\u1fd7\u1fe2"
    "\u1fe3\u1fe4\u1fe6\u1fe7\u1ff2\u1ff3\u1ff4\u1ff6\u1ff7\u1ffc\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05"
    "\ufb06\ufb13\ufb14\ufb15\ufb16\ufb17"
)
"""Every character whose Python upper case is longer than one character (Python's full case
mapping: ``ß`` -> ``SS``, ``ﬁ`` -> ``FI``, ``ŉ`` -> ``ʼN``, ...). PostgreSQL's ``upper`` maps one
character to one and leaves these unchanged. All lie in the BMP; a test regenerates the list over
every code point, so a Python with a newer Unicode database that adds one fails loudly."""

UPPER_EXPANSIONS: tuple[tuple[str, str], ...] = tuple((c, c.upper()) for c in MULTI_UPPER)

ASCII_UPPER_EXPANSIONS: tuple[tuple[str, str], ...] = tuple(
    (c, c.upper()) for c in "\u00df\u0131\u0149\u017f\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"
)
"""The non-ASCII characters whose Python upper case ends in ASCII (a test checks the list)."""


def _replaced(value: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for old, new in pairs:
        value = f"replace({value}, '{old}', '{new}')"
    return value


def _upper_pg(value: str) -> str:
    """Python's full upper-case mapping on PostgreSQL: the multi-character ones first."""
    return f"upper({_replaced(value, UPPER_EXPANSIONS)})"


@compiles(AsciiUpper)
def _ascii_upper(element: AsciiUpper, compiler: Any, **kw: Any) -> str:
    return f"upper({_replaced(_args(element, compiler, **kw)[0], ASCII_UPPER_EXPANSIONS)})"


def _lower_pg(value: str) -> str:
    """PostgreSQL lowers U+0130 to a bare ``i``; Python (full Unicode mapping) keeps the dot."""
    return f"lower(replace({value}, '\u0130', 'i\u0307'))"


_STRFTIME = {"year": "%Y", "month": "%m", "day": "%d"}


@compiles(DatePart)
def _date_part_sqlite(element: DatePart, compiler: Any, **kw: Any) -> str:
    value = _args(element, compiler, **kw)[0]
    return f"CAST(strftime('{_STRFTIME[element.part]}', {value}) AS INTEGER)"


@compiles(DatePart, "postgresql")
def _date_part_pg(element: DatePart, compiler: Any, **kw: Any) -> str:
    value = _args(element, compiler, **kw)[0]
    return f"CAST(EXTRACT({element.part.upper()} FROM {value}) AS BIGINT)"


@compiles(AddDays)
def _add_days_sqlite(element: AddDays, compiler: Any, **kw: Any) -> str:
    value, days = _args(element, compiler, **kw)
    modifier = f"printf('%+d days', {days})"
    if element.kind == "date":
        moved = f"date({value}, {modifier})"
    else:
        moved = f"(strftime('%Y-%m-%d %H:%M:%S', {value}, {modifier}) || substr({value}, 20))"
    return f"(CASE WHEN ({days}) IS NULL THEN NULL ELSE {moved} END)"


@compiles(AddDays, "postgresql")
def _add_days_pg(element: AddDays, compiler: Any, **kw: Any) -> str:
    value, days = _args(element, compiler, **kw)
    if element.kind == "date":
        return f"(({value}) + CAST(({days}) AS INTEGER))"
    return f"(({value}) + make_interval(days => CAST(({days}) AS INTEGER)))"


def _min_max_sqlite(element: FunctionElement[Any], compiler: Any, fn: str, **kw: Any) -> str:
    args = _args(element, compiler, **kw)
    rotations = [
        "coalesce(" + ", ".join([args[i], *args[:i], *args[i + 1 :]]) + ")" for i in range(len(args))
    ]
    return f"{fn}({', '.join(rotations)})"


@compiles(Least)
def _least_sqlite(element: Least, compiler: Any, **kw: Any) -> str:
    return _min_max_sqlite(element, compiler, "min", **kw)


@compiles(Greatest)
def _greatest_sqlite(element: Greatest, compiler: Any, **kw: Any) -> str:
    return _min_max_sqlite(element, compiler, "max", **kw)


@compiles(Least, "postgresql")
def _least_pg(element: Least, compiler: Any, **kw: Any) -> str:
    return f"LEAST({', '.join(_args(element, compiler, **kw))})"


@compiles(Greatest, "postgresql")
def _greatest_pg(element: Greatest, compiler: Any, **kw: Any) -> str:
    return f"GREATEST({', '.join(_args(element, compiler, **kw))})"


def blank_chars() -> ColumnElement[Any]:
    return sa.literal(BLANK, sa.String())


def _regexp(pattern: str | None, text: str | None) -> int | None:
    if pattern is None or text is None:
        return None
    if len(text) > MAX_REGEX_INPUT:
        return 0
    return 1 if _compiled(pattern).search(text) else 0


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)


def install_sqlite_functions(dbapi_connection: sqlite3.Connection) -> None:
    """Register the functions rule SQL needs on one SQLite connection (call on "connect").

    ``tangram_regexp`` runs the safe-subset regex with Python ``re``; ``tangram_lower`` and
    ``tangram_upper`` use Python's Unicode case mapping (SQLite's own are ASCII-only), so the
    database agrees with ``evaluate``. Example::

        sa.event.listen(engine, "connect", lambda conn, _: install_sqlite_functions(conn))
    """
    dbapi_connection.create_function("tangram_regexp", 2, lambda t, p: _regexp(p, t), deterministic=True)
    dbapi_connection.create_function(
        "tangram_lower", 1, lambda v: None if v is None else str(v).lower(), deterministic=True
    )
    dbapi_connection.create_function(
        "tangram_upper", 1, lambda v: None if v is None else str(v).upper(), deterministic=True
    )


@_spelled("nullif({0}, 'null')", "nullif({0}, 'null'::jsonb)")
class JsonListColumn(_Fn):
    """A list column with JSON ``null`` read as SQL NULL (``sa.JSON`` stores None as 'null')."""

    name = "json_list_column"
    inherit_cache = True


@_spelled("round({0}, 9)", "{0}")
class ApproxNumber(_Fn):
    """A computed number compared on SQLite, whose REAL arithmetic drifts (0.1 + 0.2).

    Rounding both sides to 9 places makes SQLite agree with Python's exact decimals for money;
    PostgreSQL's NUMERIC is exact and compares unchanged.
    """

    type = sa.Numeric()
    name = "approx_number"
    inherit_cache = True


@_spelled(
    "(CAST(({0}) AS INTEGER) - (({0}) < CAST(({0}) AS INTEGER)))",
    "floor({0})",
)
class Floor(_Fn):
    """``floor``: SQLAlchemy's pysqlite dialect installs a ``floor`` that fails on NULL."""

    type = sa.BigInteger()
    name = "floor_of"
    inherit_cache = True


@_spelled(
    "(CAST(({0}) AS INTEGER) + (({0}) > CAST(({0}) AS INTEGER)))",
    "ceil({0})",
)
class Ceil(_Fn):
    type = sa.BigInteger()
    name = "ceil_of"
    inherit_cache = True
