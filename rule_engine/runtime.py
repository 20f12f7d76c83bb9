"""Null-aware value operations shared by the generated code and the reference interpreter.

Every helper takes already-normalised values (floats turned into Decimal, naive datetimes
into aware UTC) and returns None when SQL would return NULL.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, overload

from rule_engine.chinese_amounts import amount_in_words
from rule_engine.errors import RuleError
from rule_engine.messages import type_phrase
from rule_engine.workdays import add_workdays, workdays_between

Loader = Callable[[str, Any], Mapping[str, Any] | None]
Related = Callable[[str, str, Mapping[str, Any]], Iterable[Mapping[str, Any]]]
"""``related(entity, lookup, record)``: the rows of ``entity`` whose ``lookup`` points at
``record`` (what a quantifier ranges over in Python; SQL finds them with a subquery)."""
Condition = Callable[..., bool]
BLANK = " \t\n\r"


def to_dec(value: Any) -> Any:
    """A dividend as an exact Decimal: ints and floats (as printed) convert, Decimals stay."""
    if value.__class__ is float:
        return Decimal(repr(value))
    if value.__class__ is int:
        return Decimal(value)
    return value


class MissingAsNull(dict[str, Any]):
    """A record copy whose missing keys read as null; generated code retries with it."""

    __slots__ = ()

    def __missing__(self, key: str) -> None:
        return None


def aware_copy(record: Mapping[str, Any]) -> MissingAsNull:
    """A record copy whose missing keys read as null and whose naive datetimes are UTC."""
    return MissingAsNull({k: (dt(v) if isinstance(v, datetime) else v) for k, v in record.items()})


@overload
def dt(value: None) -> None: ...
@overload
def dt(value: datetime) -> datetime: ...
def dt(value: datetime | None) -> datetime | None:
    """Naive datetimes are UTC; everything is compared as an aware datetime."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def now_utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def today(now: datetime | None) -> date:
    """Today in the evaluation time's own zone (UTC when naive or not given)."""
    return now_utc(now).date()


@overload
def as_date(value: None) -> None: ...
@overload
def as_date(value: date) -> date: ...
def as_date(value: date | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return dt(value).astimezone(UTC).date()
    return value


def as_datetime(value: date | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return dt(value)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def path(record: Mapping[str, Any], names: tuple[str, ...], loader: Loader | None) -> Any:
    """Walk ``account.grade``: each lookup is a loaded dict or an id resolved by ``loader``."""
    value: Any = record.get(names[0])
    for name, nxt in itertools.pairwise(names):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            if loader is None:
                raise RuleError(code="loader_required", params={"field": name, "found": value})
            value = loader(name, value)
            if value is None:
                return None
        value = value.get(nxt)
    return value


def quantify(
    related: Related | None,
    op: str,
    relation: str,
    via: str,
    record: Mapping[str, Any],
    condition: Condition | None,
    now: datetime | None,
) -> bool | int:
    """``any``/``none``/``count`` of the related rows where ``condition`` is true (unknown counts
    as not true, as in a SQL ``WHERE``); never null, like ``EXISTS`` and ``COUNT(*)``."""
    if related is None:
        raise RuleError(code="related_required", params={"relation": relation})
    rows = related(relation, via, record)
    hits = rows if condition is None else (row for row in rows if condition(row, now))
    if op == "count":
        return sum(1 for _ in hits)
    found = any(True for _ in hits)
    return found if op == "any" else not found


def div(a: Any, b: Any) -> Any:
    if a is None or b is None or b == 0:
        return None
    if a.__class__ is int:
        a = Decimal(a)
    return a / b


def mod(a: Any, b: Any) -> Any:
    """Remainder with the sign of the dividend, as SQL's ``%`` on integers."""
    if a is None or b is None or b == 0:
        return None
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


def add_days(value: Any, days: Any) -> Any:
    if value is None or days is None:
        return None
    try:
        return value + timedelta(days=days)
    except OverflowError:
        return None


def days_between(a: date | None, b: date | None) -> int | None:
    if a is None or b is None:
        return None
    return (as_date(b) - as_date(a)).days


def year(v: date | None) -> int | None:
    return None if v is None else as_date(v).year


def month(v: date | None) -> int | None:
    return None if v is None else as_date(v).month


def day(v: date | None) -> int | None:
    return None if v is None else as_date(v).day


def round_(v: Any, digits: int = 0) -> Any:
    if v is None or v.__class__ is int:
        return v
    return v.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def floor(v: Any) -> int | None:
    return None if v is None else math.floor(v)


def ceil(v: Any) -> int | None:
    return None if v is None else math.ceil(v)


def abs_(v: Any) -> Any:
    return None if v is None else abs(v)


def least(*values: Any) -> Any:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def greatest(*values: Any) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def length(v: Any) -> int | None:
    return None if v is None else len(v)


def lower(v: str | None) -> str | None:
    return None if v is None else v.lower()


def upper(v: str | None) -> str | None:
    return None if v is None else v.upper()


def trim(v: str | None) -> str | None:
    return None if v is None else v.strip(BLANK)


def contains(container: Any, item: Any) -> bool | None:
    if container is None or item is None:
        return None
    return item in container


def starts_with(v: str | None, prefix: str | None) -> bool | None:
    if v is None or prefix is None:
        return None
    return v.startswith(prefix)


def ends_with(v: str | None, suffix: str | None) -> bool | None:
    if v is None or suffix is None:
        return None
    return v.endswith(suffix)


def is_blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return not v.strip(BLANK)
    if isinstance(v, list | tuple):
        return not v
    return False


def changed(record: Mapping[str, Any], old: Mapping[str, Any] | None, name: str) -> bool:
    """Whether an update changed ``name``; a create (no old record) changes nothing."""
    if old is None:
        return False
    new_value, old_value = normalise(record.get(name)), normalise(old.get(name))
    if new_value is None or old_value is None:
        return (new_value is None) != (old_value is None)
    return bool(new_value != old_value)


def normalise(value: Any) -> Any:
    """Any record value in the form the helpers compare."""
    if value.__class__ is float:
        return Decimal(repr(value))
    if isinstance(value, datetime):
        return dt(value)
    return value


COMPARE: Mapping[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
"""The DSL's comparison operators (the interpreter applies them to values, SQL to columns)."""

CALLS: Mapping[str, Callable[..., Any]] = {
    "len": length,
    "lower": lower,
    "upper": upper,
    "trim": trim,
    "contains": contains,
    "starts_with": starts_with,
    "ends_with": ends_with,
    "days_between": days_between,
    "add_days": add_days,
    "year": year,
    "month": month,
    "day": day,
    "abs": abs_,
    "floor": floor,
    "ceil": ceil,
    "min": least,
    "max": greatest,
    "is_blank": is_blank,
    "date": as_date,
    "datetime": as_datetime,
    "amount_in_words": amount_in_words,
    "add_workdays": add_workdays,
    "workdays_between": workdays_between,
}
"""DSL functions whose value is one helper applied to the argument values (both backends)."""


def temporal_literal(text: str, kind: str, line: int = 0, column: int = 0) -> date | datetime:
    """Parse the literal of ``date('...')``/``datetime('...')`` once, at compile time."""
    try:
        if kind == "date":
            return date.fromisoformat(text)
        return dt(datetime.fromisoformat(text))
    except ValueError:
        example = "2024-12-31" if kind == "date" else "2024-12-31T09:30:00"
        raise RuleError(
            code="bad_literal",
            line=line,
            column=column,
            params={"found": text, "expected": example, "kind": type_phrase(kind)},
        ) from None
