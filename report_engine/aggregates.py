"""Measures as SQL aggregates, and the exact values they finish into.

Money is exact on both databases. PostgreSQL stores NUMERIC and sums it exactly; SQLite stores
REAL, so a sum there adds whole units of the field's scale (``CAST(ROUND(x * 100) AS INTEGER)``
for a scale of 2): each stored value is the nearest double to a number with that many digits,
so rounding recovers it exactly and the integer sum is exact. Averages are the exact sum over
the count, rounded half-up to the field's scale plus two digits.

A measure compiles to one or more *parts* (an average is a sum and a count); parts that add up
(sums, counts, minima, maxima) can be combined again, which is how subtotals, totals and
"others" come from the grouped rows without another scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from form_engine import ExactDecimal
from report_engine.definitions import Measure

func = sa.func


@dataclass(frozen=True)
class Part:
    label: str
    expr: Any
    #: how two groups' values of this part combine ("sum", "min", "max"), None if they cannot
    combine: str | None


@dataclass(frozen=True)
class CompiledMeasure:
    measure: Measure
    parts: tuple[Part, ...]
    finish: Callable[[dict[str, Any]], Any]
    #: the value's display format: integer, number, currency, percent, date, text
    format: str
    scale: int | None = None
    currency: str | None = None


def quantum(scale: int) -> Decimal:
    return Decimal(1).scaleb(-scale)


def exact(value: Any, scale: int) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(quantum(scale), ROUND_HALF_UP)


def _decimal_scale(column: Any) -> int | None:
    kind = getattr(column, "type", None)
    return kind.scale if isinstance(kind, ExactDecimal) else None


def scaled_sum(value: Any, scale: int, dialect: str) -> Any:
    """SUM of ``value`` exact to ``scale`` digits: the raw result ``finish`` turns into Decimal."""
    if dialect == "sqlite":
        units: Any = sa.literal_column(str(10**scale))
        return func.sum(sa.cast(func.round(value * units), sa.Integer))
    return func.sum(sa.type_coerce(value, sa.Numeric(38, scale, asdecimal=True)))


def from_sum(raw: Any, scale: int, dialect: str) -> Decimal | None:
    if raw is None:
        return None
    if dialect == "sqlite":
        return Decimal(int(raw)).scaleb(-scale).quantize(quantum(scale))
    return exact(raw, scale)


def compile_measure(
    m: Measure,
    value: Any,
    condition: Any,
    dialect: str,
    *,
    dsl_type: str | None,
    field_kind: str | None,
    currency: str | None = None,
) -> CompiledMeasure:
    """``m`` over ``value`` (a column or a row expression; None for a plain count), counted only
    where ``condition`` holds (None: every row)."""
    name, agg = m.name, m.agg

    def only(expr: Any) -> Any:
        return expr if condition is None else sa.case((condition, expr))

    if agg == "count":
        target = only(sa.literal_column("1")) if value is None else only(value)
        part = Part(
            name, func.count(target) if (value is not None or condition is not None) else func.count(), "sum"
        )
        return CompiledMeasure(m, (part,), lambda r: int(r[name] or 0), "integer")
    if agg == "count_distinct":
        part = Part(name, func.count(sa.distinct(only(value))), None)
        return CompiledMeasure(m, (part,), lambda r: int(r[name] or 0), "integer")
    scale = m.scale if m.scale is not None else _decimal_scale(value)
    is_decimal = dsl_type == "number"
    if is_decimal and scale is None:
        scale = 4  # a row expression without a scale
    fmt = m.format or _format_of(field_kind, dsl_type)
    if agg in ("min", "max"):
        part = Part(name, getattr(func, agg)(only(value)), agg)
        if is_decimal:
            assert scale is not None
            s = scale
            return CompiledMeasure(m, (part,), lambda r: exact(r[name], s), fmt, s, currency)
        return CompiledMeasure(m, (part,), lambda r: r[name], fmt, None, currency)
    if is_decimal:
        assert scale is not None
        s = scale
        total = Part(name + "__sum", scaled_sum(only(value), s, dialect), "sum")
    else:
        s = 0
        total = Part(name + "__sum", func.sum(only(value)), "sum")
    if agg == "sum":

        def finish_sum(r: dict[str, Any]) -> Any:
            raw = r[total.label]
            if not is_decimal:
                return None if raw is None else int(raw)
            return from_sum(raw, s, dialect)

        return CompiledMeasure(m, (total,), finish_sum, fmt, s if is_decimal else None, currency)
    count = Part(name + "__n", func.count(only(value)), "sum")
    avg_scale = m.scale if m.scale is not None else s + 2

    def finish_avg(r: dict[str, Any]) -> Any:
        n = r[count.label]
        raw = r[total.label]
        if not n or raw is None:
            return None
        exact_sum = from_sum(raw, s, dialect) if is_decimal else Decimal(int(raw))
        assert exact_sum is not None
        return exact(exact_sum / Decimal(int(n)), avg_scale)

    fmt_avg = m.format or ("currency" if field_kind == "currency" else "number")
    return CompiledMeasure(m, (total, count), finish_avg, fmt_avg, avg_scale, currency)


def _format_of(field_kind: str | None, dsl_type: str | None) -> str:
    if field_kind in ("currency", "percent"):
        return field_kind
    if dsl_type in ("date", "datetime"):
        return dsl_type
    if dsl_type == "integer":
        return "integer"
    if dsl_type == "number":
        return "number"
    return "text"


def combine(kind: str | None, values: list[Any]) -> Any:
    """Several groups' values of one part as one group's (None when they cannot combine)."""
    present = [v for v in values if v is not None]
    if kind is None:
        return None
    if not present:
        return None
    if kind == "sum":
        return sum(present[1:], present[0])
    return min(present) if kind == "min" else max(present)
