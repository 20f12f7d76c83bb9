"""Drill-down: the records behind one cell of a report result, as the text of the record list's
``filter`` (the rule DSL), so a UI opens the list view it already has and the list's count is
the cell's.

Everything that narrows a run's rows becomes one condition of that text: the report's filter,
its runtime parameters (the period as a date range, values, people, departments) and the cell's
dimension values (a date bucket as its range, the empty group as ``is null``, "others" as none
of the groups kept). A path the DSL cannot follow — a lookup's lookup, a person's department —
becomes the ids one step away that match, read under the caller's scopes exactly as the report
joins them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from engine import department_members, department_subtree
from report_engine import buckets, grouped
from report_engine.compiler import fetch
from report_engine.definitions import Dimension, Parameter
from report_engine.errors import ReportInvalid
from report_engine.fields import ResolvedPath
from report_engine.messages import CELL_REASONS, report_problem
from report_engine.periods import DateRange, add_months, local_midnight
from report_engine.presentation import OTHERS
from report_engine.run_context import RunContext
from report_engine.source import Source

#: The record list's longest filter text.
MAX_FILTER = 10_000
#: A condition no row meets (the id of a record is never empty).
NOTHING = "id is null"


@dataclass(frozen=True)
class Condition:
    """What one value must be: one of ``values`` (``in``), present and none of them
    (``not_in``) or within ``[values[0], values[1])`` (``range``, either end open as None);
    ``nullable``: an empty value matches too."""

    kind: str
    values: tuple[Any, ...] = ()
    nullable: bool = False

    def matches(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        if self.kind == "in":
            return value in self.values
        if self.kind == "not_in":
            return value not in self.values
        start, end = self.values
        return (start is None or value >= start) and (end is None or value < end)

    def _core_sql(self, column: Any) -> Any:
        if self.kind == "in":
            return column.in_(self.values) if self.values else sa.false()
        if self.kind == "not_in":
            return (
                sa.and_(column.is_not(None), column.not_in(self.values))
                if self.values
                else column.is_not(None)
            )
        start, end = self.values
        parts = [column.is_not(None)]
        parts += [column >= start] if start is not None else []
        parts += [column < end] if end is not None else []
        return sa.and_(*parts)

    def sql(self, column: Any) -> Any:
        core = self._core_sql(column)
        return sa.or_(column.is_(None), core) if self.nullable else core

    def excluded_sql(self, column: Any) -> Any:
        """Present values that do not match."""
        return sa.and_(column.is_not(None), sa.not_(self._core_sql(column)))

    def dsl(self, var: str, literal: Callable[[Any], str]) -> str:
        core: str | None
        if self.kind == "in":
            items = [literal(v) for v in self.values]
            core = (
                None
                if not items
                else f"{var} == {items[0]}"
                if len(items) == 1
                else f"{var} in [{', '.join(items)}]"
            )
        elif self.kind == "not_in":
            items = [literal(v) for v in self.values]
            core = f"{var} not in [{', '.join(items)}]" if items else f"{var} is not null"
        else:
            start, end = self.values
            bounds = ([f"{var} >= {literal(start)}"] if start is not None else []) + (
                [f"{var} < {literal(end)}"] if end is not None else []
            )
            core = " and ".join(bounds) if bounds else f"{var} is not null"
        if self.nullable:
            return f"{var} is null" if core is None else f"({var} is null or {core})"
        return core if core is not None else NOTHING


EMPTY = Condition("in", (), nullable=True)


def literal(value: Any, dsl_type: str | None) -> str:
    """``value`` written in the DSL."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return f"datetime('{value.strftime('%Y-%m-%dT%H:%M:%S')}')"
    if isinstance(value, date):
        return f"date('{value.isoformat()}')"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return format(Decimal(repr(value)) if isinstance(value, float) else value, "f")
    if dsl_type == "date":
        return f"date('{value}')"
    text = "".join(
        "\\" + ch if ch in '"\\' else f"\\u{ord(ch):04x}" if ord(ch) < 0x20 else ch for ch in str(value)
    )
    return f'"{text}"'


class Drill:
    """Builds the filter text of one cell for one caller's run."""

    def __init__(self, rc: RunContext) -> None:
        self.rc = rc
        self.parts: list[str] = []
        self._source: Source | None = None

    @property
    def source(self) -> Source:
        if self._source is None:
            self._source = self.rc.plan(dims=[]).source
        return self._source

    def add(self, text: str) -> None:
        self.parts.append(text)

    def on_path(self, path: ResolvedPath, cond: Condition) -> None:
        self.add(self.path_text(path, cond))

    def path_text(self, path: ResolvedPath, cond: Condition) -> str:
        if path.through_user:
            people = self.source.people()
            users = tuple(sorted(u for u, department in people.items() if cond.matches(department)))
            return self.path_text(path.user_path, Condition("in", users, cond.nullable))
        lookups = path.lookups
        if not lookups and path.kind == "lookup":
            return cond.dsl(f"{path.path}.id", str)  # the DSL reads a lookup through its record
        if len(lookups) <= 1:
            return cond.dsl(path.path, lambda v: literal(v, path.dsl_type))
        return self._through(path, cond)

    def _through(self, path: ResolvedPath, cond: Condition) -> str:
        """A path past one lookup: the first lookup's records whose rest matches, by id."""
        rc = self.rc
        first, rest_text = path.path.split(".", 1)
        target = rc.runtime.entity(path.entities[1])
        rest = ResolvedPath(
            rest_text,
            path.entities[1:],
            path.field,
            path.name,
            path.kind,
            path.dsl_type,
            path.quantity,
            path.groupable,
            path.through_user,
        )
        source = Source(rc.runtime, target, rc.scope_of, rc.conn)
        column = source.column(rest)
        matching = cond.excluded_sql(column) if cond.nullable else cond.sql(column)
        statement = (
            sa.select(source.table.c.id).select_from(source.from_clause).where(*source.where(), matching)
        )
        ids = tuple(sorted(rc.conn.execute(statement).scalars()))
        found = Condition("not_in", ids, nullable=True) if cond.nullable else Condition("in", ids)
        return found.dsl(f"{first}.id", str)

    def text(self) -> str:
        return " and ".join(self.parts) if self.parts else "id is not null"


def _invalid(key: str, reason: Mapping[str, str]) -> ReportInvalid:
    problem = report_problem("report_cell_invalid", f"/cell/{key}", name=key, reason_text=dict(reason))
    return ReportInvalid("report_drill_invalid", problems=[problem])


def _value(d: Dimension, raw: Any) -> Any:
    """A dimension's value as a result shows it, back as the stored value."""
    kind = d.path.dsl_type
    ok = True
    value: Any = raw
    if kind == "boolean":
        ok = isinstance(raw, bool)
    elif kind == "integer":
        ok = isinstance(raw, int) and not isinstance(raw, bool)
    elif kind == "number":
        try:
            value = Decimal(str(raw))
            ok = not isinstance(raw, bool) and value.is_finite()
        except InvalidOperation:
            ok = False
    elif kind == "date":
        try:
            value = date.fromisoformat(str(raw))
        except ValueError:
            ok = False
    else:
        ok = isinstance(raw, str)
    if not ok:
        raise _invalid(d.key, CELL_REASONS["value"])
    return value


def _day(key: str, raw: Any) -> date:
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise _invalid(key, CELL_REASONS["date"]) from None


def _date_range(path: ResolvedPath, r: DateRange, rc: RunContext) -> Condition:
    """Local days ``[start, end)`` on a date or date-time path (open ends left out)."""
    start: Any = r.start if r.start > date(1, 1, 1) else None
    end: Any = r.end if r.end < date(9999, 12, 31) else None
    if path.dsl_type == "datetime":
        start = local_midnight(start, rc.zone) if start is not None else None
        end = local_midnight(end, rc.zone) if end is not None else None
    return Condition("range", (start, end))


def _dimension(
    rc: RunContext, d: Dimension, raw: Any, tops: grouped.TopSets, shift: tuple[str, int] | None
) -> Condition:
    """A dimension's value as a condition; ``shift`` (unit, count) moves a date bucket back to
    the earlier bucket it is compared with."""
    if raw is None:
        return EMPTY
    if raw == OTHERS:
        if d.key not in tops or d.bucket:
            raise _invalid(d.key, CELL_REASONS["others"])
        return Condition("not_in", tuple(sorted(tops[d.key], key=str)))
    if d.bucket:
        day = _day(d.key, raw)
        if shift is not None:
            day = buckets.step(day, shift[0], -shift[1])
        return _date_range(d.path, DateRange(day, buckets.step(day, d.bucket)), rc)
    return Condition("in", (_value(d, raw),))


def _parameters(drill: Drill, rc: RunContext, period: DateRange | None) -> None:
    bound = rc.bound
    if period is not None and bound.period_param is not None:
        cond = _date_range(bound.period_param.path, period, rc)
        if cond.values != (None, None):
            drill.on_path(bound.period_param.path, cond)
    for param, items in bound.values.values():
        drill.on_path(param.path, Condition("in", tuple(_param_values(rc, param, items))))


def _param_values(rc: RunContext, param: Parameter, items: Sequence[Any]) -> list[Any]:
    """What a parameter's values select, as ``params.value_clause`` compiles them."""
    if param.kind != "department":
        return list(items)
    if param.path.kind == "department":
        return sorted(department_subtree(rc.conn, items))
    return sorted(rc.conn.execute(department_members(items, conn=rc.conn)).scalars())


def cell_filter(
    rc: RunContext, cell: Mapping[str, Any], *, measure: str | None = None, compare: str | None = None
) -> str:
    """The record-list filter of the rows behind ``cell`` (a dimension key -> the value a
    result shows; a key left out is not narrowed, null is the empty group)."""
    report = rc.report
    drill = Drill(rc)
    if report.filter:
        drill.add(f"({report.filter})")
    if measure is not None:
        m = next((m for m in report.measures if m.name == measure and m.formula is None), None)
        if m is None:
            raise _invalid("measure", CELL_REASONS["measure"])
        if m.filter:
            drill.add(f"({m.filter})")
    period = rc.bound.period
    shift_key: str | None = None
    shift: tuple[str, int] | None = None
    dims = [*report.rows, *report.columns]
    if compare is not None:
        if compare not in report.compare:
            raise _invalid("compare", CELL_REASONS["compare"])
        found = next(c for c in grouped.comparison_periods(rc, dims) if c[0] == compare)
        period = found[1]
        if found[2] is not None:
            shift_key, unit, count = found[2]
            shift = (unit, count)
    _parameters(drill, rc, period)
    if report.shape in ("summary", "matrix"):
        known = {d.key: d for d in dims}
        unknown = [k for k in cell if k not in known]
        if unknown:
            raise _invalid(unknown[0], CELL_REASONS["unknown"])
        tops: grouped.TopSets = {}
        if any(cell.get(d.key) == OTHERS for d in dims):
            plan = rc.plan(dims=dims)
            [leaves] = fetch(rc.conn, plan, [tuple(range(len(dims)))])
            tops = grouped.top_sets(plan, leaves)
        for key, raw in cell.items():
            d = known[key]
            drill.on_path(d.path, _dimension(rc, d, raw, tops, shift if key == shift_key else None))
    elif report.shape == "funnel":
        _funnel(drill, rc, cell)
    elif report.shape == "cohort":
        _cohort(drill, rc, cell)
    elif cell:
        raise _invalid(next(iter(cell)), CELL_REASONS["unknown"])
    text = drill.text()
    if len(text) > MAX_FILTER:
        raise ReportInvalid(
            "report_drill_invalid",
            problems=[report_problem("report_drill_too_long", "/cell", max=MAX_FILTER)],
        )
    return text


def _funnel(drill: Drill, rc: RunContext, cell: Mapping[str, Any]) -> None:
    """A stage's rows (``reached``: at it or a later stage, as the funnel counts them)."""
    stages = rc.report.stages
    values: list[str] = stages["values"]
    for key in cell:
        if key not in ("stage", "reached"):
            raise _invalid(key, CELL_REASONS["unknown"])
    chosen = values
    if "stage" in cell:
        if cell["stage"] not in values:
            raise _invalid("stage", CELL_REASONS["stage"])
        i = values.index(cell["stage"])
        cumulative = stages.get("cumulative", True)
        chosen = values[i:] if cell.get("reached") and cumulative else [values[i]]
    drill.on_path(stages["field"], Condition("in", tuple(chosen)))


def _cohort(drill: Drill, rc: RunContext, cell: Mapping[str, Any]) -> None:
    """A cohort's rows (its subjects: those whose first row fell in its month), in one month
    since (``age``) or in all the months the report shows."""
    spec = rc.report.cohort
    for key in cell:
        if key not in ("cohort", "age"):
            raise _invalid(key, CELL_REASONS["unknown"])
    periods: int = spec["periods"]
    date_path = spec["date"]
    if "cohort" not in cell:
        return
    start = _day("cohort", cell["cohort"]).replace(day=1)
    age = cell.get("age")
    if age is not None and not (isinstance(age, int) and not isinstance(age, bool) and 0 <= age < periods):
        raise _invalid("age", CELL_REASONS["age"])
    plan = rc.plan(dims=[])
    subject = plan.source.column(spec["subject"])
    month = buckets.month_index(
        plan.source.column(date_path), date_path.dsl_type or "date", plan.dialect, plan.zone
    )
    index = start.year * 12 + start.month - 1
    statement = (
        sa.select(subject)
        .select_from(plan.source.from_clause)
        .where(*plan.where, subject.is_not(None))
        .group_by(subject)
        .having(sa.func.min(month) == index)
    )
    subjects = tuple(sorted(rc.conn.execute(statement).scalars(), key=str))
    drill.on_path(spec["subject"], Condition("in", subjects))
    first = add_months(start, age or 0)
    last = add_months(first, 1) if age is not None else add_months(start, periods)
    drill.on_path(date_path, _date_range(date_path, DateRange(first, last), rc))
