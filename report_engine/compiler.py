"""A report compiled to SQL with SQLAlchemy Core: one grouped SELECT over the source and its
lookups, under the caller's scopes, filters and parameters.

Totals, subtotals and "others" come from the grouped rows when every measure adds up; a count
of distinct values does not, so then the extra grouping levels are UNION ALL branches of the
same statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

import rule_engine
from engine import AppRuntime, EntityRuntime, column_resolver, entity_dsl_fields, filter_clause
from report_engine import buckets
from report_engine.aggregates import CompiledMeasure, combine, compile_measure, exact
from report_engine.definitions import Dimension, Measure, Report
from report_engine.params import Bound, period_clause, value_clause
from report_engine.periods import DateRange
from report_engine.source import ScopeOf, Source

#: Most groups one report answers; more is a report nobody can read.
MAX_GROUPS = 50_000
LEVEL = "_level"
Group = dict[str, Any]


@dataclass
class Plan:
    """A report ready to run for one caller: its source, WHERE clauses, dimension expressions
    and compiled measures."""

    report: Report
    source: Source
    where: list[Any]
    dims: list[tuple[Dimension, Any]]
    measures: list[CompiledMeasure]
    dialect: str
    zone: ZoneInfo
    period: DateRange | None = None
    formulas: list[Measure] = field(default_factory=list)

    @property
    def parts(self) -> list[Any]:
        return [p for m in self.measures for p in m.parts]

    @property
    def decomposable(self) -> bool:
        return all(p.combine is not None for p in self.parts)


def build_plan(
    report: Report,
    runtime: AppRuntime,
    conn: sa.Connection,
    scope_of: ScopeOf,
    bound: Bound,
    zone: ZoneInfo,
    *,
    dims: Sequence[Dimension] | None = None,
    period: DateRange | None = None,
) -> Plan:
    """Compile ``report`` for one run; ``period`` replaces the bound range (comparisons)."""
    er = runtime.entity(report.entity)
    dialect = conn.dialect.name
    source = Source(runtime, er, scope_of, conn)
    where = source.where()

    def target_scope(target: EntityRuntime) -> Any:
        return scope_of(target)

    if report.filter:
        where.append(filter_clause(runtime, er, report.filter, target_scope=target_scope))
    r = period if period is not None else bound.period
    if r is not None and bound.period_param is not None:
        p = bound.period_param
        where.append(period_clause(source.column(p.path), p.path.dsl_type, r, zone))
    for param, items in bound.values.values():
        where.append(value_clause(conn, source.column(param.path), param, items))
    chosen = list(report.rows) + list(report.columns) if dims is None else list(dims)
    dim_exprs = [(d, dimension_expr(source, d, dialect, zone)) for d in chosen]
    measures = [
        measure_expr(m, source, runtime, er, target_scope, dialect)
        for m in report.measures
        if m.formula is None
    ]
    formulas = [m for m in report.measures if m.formula is not None]
    return Plan(report, source, where, dim_exprs, measures, dialect, zone, r, formulas)


def dimension_expr(source: Source, d: Dimension, dialect: str, zone: ZoneInfo) -> Any:
    column = source.column(d.path)
    if d.bucket:
        return buckets.bucket(column, d.path.dsl_type or "date", d.bucket, dialect, zone)
    return column


def measure_expr(
    m: Measure,
    source: Source,
    runtime: AppRuntime,
    er: EntityRuntime,
    target_scope: Callable[[EntityRuntime], Any],
    dialect: str,
) -> CompiledMeasure:
    condition = filter_clause(runtime, er, m.filter, target_scope=target_scope) if m.filter else None
    if m.expression:
        expression = rule_engine.compile(m.expression, entity_dsl_fields(runtime, er))
        value = expression.to_sql(column_resolver(runtime, er, target_scope))
        return compile_measure(m, value, condition, dialect, dsl_type=expression.type, field_kind=None)
    if m.path is None:
        return compile_measure(m, None, condition, dialect, dsl_type=None, field_kind=None)
    value = source.column(m.path)
    currency = getattr(m.path.field.config, "currency", None) if m.path.field is not None else None
    return compile_measure(
        m, value, condition, dialect, dsl_type=m.path.dsl_type, field_kind=m.path.kind, currency=currency
    )


def _select(plan: Plan, grouped: Sequence[int], level: int | None) -> Any:
    columns: list[Any] = []
    group_by: list[Any] = []
    for i, (d, expr) in enumerate(plan.dims):
        if i in grouped:
            columns.append(expr.label(d.key))
            group_by.append(expr)
        else:
            columns.append(sa.null().label(d.key))
    if level is not None:
        columns.append(sa.literal_column(str(level)).label(LEVEL))
    columns += [p.expr.label(p.label) for p in plan.parts]
    statement = sa.select(*columns).select_from(plan.source.from_clause).where(*plan.where)
    return statement.group_by(*group_by) if group_by else statement


def fetch(conn: sa.Connection, plan: Plan, levels: Sequence[Sequence[int]]) -> list[list[Group]]:
    """The groups at each level (the dimension indexes grouped by); the first level is read
    from the database, the others combined from it when every part adds up, else read by
    UNION ALL branches of the same statement."""
    first = tuple(levels[0])
    if plan.decomposable or len(levels) == 1:
        rows = [dict(r) for r in conn.execute(_select(plan, first, None).limit(MAX_GROUPS)).mappings()]
        return [rows] + [rollup(plan, rows, level) for level in levels[1:]]
    union = sa.union_all(*(_select(plan, level, i) for i, level in enumerate(levels)))
    out: list[list[Group]] = [[] for _ in levels]
    for r in conn.execute(union).mappings():
        row = dict(r)
        out[row.pop(LEVEL)].append(row)
    return out


def rollup(plan: Plan, rows: Sequence[Group], level: Sequence[int]) -> list[Group]:
    """``rows`` combined to the dimensions in ``level`` (their other dimensions set to None)."""
    keys = [d.key for i, (d, _e) in enumerate(plan.dims) if i in level]
    others = [d.key for i, (d, _e) in enumerate(plan.dims) if i not in level]
    merged: dict[tuple[Any, ...], list[Group]] = {}
    for row in rows:
        merged.setdefault(tuple(row[k] for k in keys), []).append(row)
    out = []
    for key, members in merged.items():
        group: Group = dict(zip(keys, key, strict=True))
        group.update(dict.fromkeys(others))
        for p in plan.parts:
            group[p.label] = combine(p.combine, [m[p.label] for m in members])
        out.append(group)
    return out


def finish(plan: Plan, group: Group) -> dict[str, Any]:
    """A group's measure values (formulas evaluated on the finished values)."""
    values = {m.measure.name: m.finish(group) for m in plan.measures}
    for f in plan.formulas:
        assert f.formula is not None
        names = [m.measure.name for m in plan.measures]
        expression = rule_engine.compile(f.formula, dict.fromkeys(names, "number"))
        result = expression.evaluate(values)
        values[f.name] = _formula_value(result, f.scale)
    return values


def _formula_value(value: Any, scale: int | None) -> Any:
    if value is None or isinstance(value, bool):
        return value
    return exact(Decimal(value), 4 if scale is None else scale)


def table_statement(plan: Plan, paths: Sequence[Any], order: Sequence[Any], limit: int) -> Any:
    columns = [plan.source.column(p).label(p.path) for p in paths]
    table = plan.source.table
    return (
        sa.select(table.c.id.label("_id"), *columns)
        .select_from(plan.source.from_clause)
        .where(*plan.where)
        .order_by(*order, table.c.id)
        .limit(limit)
    )
