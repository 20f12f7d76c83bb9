"""Runtime parameters of a report run: the values a caller (or a dashboard, for all its
reports) passes, checked against what the report binds them to, and turned into WHERE clauses.

``period`` takes a relative period or ``{"from", "to"}``; a ``value`` parameter one value or a
list; ``user`` user ids; ``department`` department ids (their people, and the departments below).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engine import department_members, department_subtree
from form_engine import Problem
from report_engine import periods
from report_engine.definitions import Parameter, Report
from report_engine.errors import ReportInvalid
from report_engine.messages import report_problem
from report_engine.periods import DateRange
from report_engine.schema import RELATIVE_PERIODS

MAX_VALUES = 200


@dataclass(frozen=True)
class Bound:
    """The parameters of one run, checked: the period's range and the other values."""

    period: DateRange | None = None
    period_param: Parameter | None = None
    values: dict[str, tuple[Parameter, list[Any]]] = field(default_factory=dict)
    #: whether the run depends on today's date (a relative period)
    relative: bool = False

    def key(self) -> tuple[Any, ...]:
        """What identifies these parameters in a cache key."""
        period = (self.period.start, self.period.end) if self.period else None
        return (period, tuple(sorted((k, repr(v)) for k, (_p, v) in self.values.items())))


def bind(report: Report, raw: dict[str, Any], today: date, *, strict: bool) -> Bound:
    """Check ``raw`` against ``report``'s parameters; ``strict`` refuses names it does not
    bind (a direct run), a dashboard passes its shared filters to reports that may ignore them."""
    problems: list[Problem] = []
    period: DateRange | None = None
    period_param: Parameter | None = None
    relative = False
    values: dict[str, tuple[Parameter, list[Any]]] = {}
    for name, value in raw.items():
        param = report.parameters.get(name)
        pointer = f"/params/{name}"
        if param is None:
            if strict:
                problems.append(_invalid(pointer, name, "unknown"))
            continue
        if value is None:
            continue
        if param.kind == "period":
            try:
                period = periods.parse_range(value, today)
            except KeyError:
                problems.append(
                    report_problem(
                        "report_unknown_period", pointer, name=str(value), choices=", ".join(RELATIVE_PERIODS)
                    )
                )
                continue
            except (ValueError, TypeError):
                problems.append(_invalid(pointer, name, "period"))
                continue
            period_param, relative = param, isinstance(value, str)
            continue
        items = value if isinstance(value, list) else [value]
        if not items or len(items) > MAX_VALUES or not all(_scalar(v, param.kind) for v in items):
            problems.append(_invalid(pointer, name, param.kind))
            continue
        values[name] = (param, items)
    if period is None and report.period:
        period_param = next((p for p in report.parameters.values() if p.kind == "period"), None)
        if period_param is not None:
            period, relative = periods.relative(report.period, today), True
    if problems:
        raise ReportInvalid("report_params_invalid", problems=problems)
    return Bound(period, period_param, values, relative)


_REASONS = {
    "unknown": {"zh": "报表没有此参数", "en": "the report has no such parameter"},
    "period": {
        "zh": '须为相对期间名称或 {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}',
        "en": 'expected a relative period or {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}',
    },
    "value": {"zh": "须为文本、数字或其列表", "en": "expected a text, a number or a list of them"},
    "user": {"zh": "须为用户编号或其列表", "en": "expected a user id or a list of them"},
    "department": {"zh": "须为部门编号或其列表", "en": "expected a department id or a list of them"},
}


def _invalid(pointer: str, name: str, reason: str) -> Problem:
    return report_problem("report_param_invalid", pointer, name=name, reason_text=_REASONS[reason])


def _scalar(value: Any, kind: str) -> bool:
    if kind in ("user", "department"):
        return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63
    return isinstance(value, str | int | float | bool) and (not isinstance(value, str) or len(value) <= 1000)


def period_clause(column: Any, dsl_type: str | None, r: DateRange, zone: ZoneInfo) -> Any:
    """``column`` within the range: local dates for a date, UTC instants for a date-time."""
    if dsl_type == "datetime":
        start, end = r.bounds_utc(zone)
        return sa.and_(column >= start, column < end)
    return sa.and_(column >= r.start, column < r.end)


def value_clause(conn: sa.Connection, column: Any, param: Parameter, items: list[Any]) -> Any:
    """``column`` equal to one of ``items``; for a department parameter, the departments and
    those below them (a department field), or their people (a user field such as ``owner``)."""
    if param.kind == "department":
        if param.path.kind == "department":
            return column.in_(sorted(department_subtree(conn, items)))
        return column.in_(department_members(items, conn=conn))
    return column.in_(items) if len(items) > 1 else column == items[0]
