"""SQL backend: the AST as a SQLAlchemy expression with the same three-valued meaning as Python."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.base import ColumnCollection
from sqlalchemy.sql.expression import ColumnElement

from rule_engine import runtime, sql_workdays
from rule_engine import sql_dialects as d
from rule_engine.errors import RuleError
from rule_engine.functions import FUNCTIONS
from rule_engine.nodes import (
    Binary,
    BoolOp,
    Call,
    Compare,
    Field,
    In,
    IsNull,
    ListLiteral,
    Literal,
    Node,
    Quantifier,
    Unary,
    literal_integer,
    literal_text,
)
from rule_engine.regex import translate
from rule_engine.type_checker import Checked

Columns = Mapping[str, ColumnElement[Any]] | ColumnCollection[str, Any] | Callable[[str], ColumnElement[Any]]
"""Field name or dotted path -> column (a mapping, a table's ``.c``, or a function); the caller
builds joins for dotted paths."""


@dataclass(frozen=True)
class RelatedTable:
    """Where a quantifier's rows come from in SQL: ``table`` (an alias when it may be the outer
    table itself), ``columns`` for the condition's fields, and ``where``, which correlates the
    rows with the outer record (``link = outer.id``) and holds whatever else the caller requires
    of them (not deleted, the reader's row scope)."""

    table: Any
    columns: Columns
    where: ColumnElement[bool]


RelatedSql = Callable[[str, str], RelatedTable]
"""``related(entity, lookup)``: the :class:`RelatedTable` of ``entity`` rows linked through
``lookup``; raises KeyError for an entity the caller does not map."""


def _naive_utc(value: datetime) -> datetime:
    """Datetime columns hold naive UTC, so bound datetimes are converted to match."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def literal(value: Any, kind: str) -> ColumnElement[Any]:
    """A bound parameter of the storage type the kernel uses for ``kind``."""
    if value is None:
        return sa.null()
    if kind == "boolean":
        return sa.true() if value else sa.false()
    if kind == "integer":
        return sa.literal(value, sa.BigInteger())
    if kind == "number":
        return sa.literal(Decimal(value), sa.Numeric())
    if kind == "text":
        return sa.literal(value, sa.String())
    if kind == "date":
        return sa.literal(value, sa.Date())
    if kind == "datetime":
        return sa.literal(_naive_utc(value), sa.DateTime())
    raise AssertionError(kind)  # pragma: no cover


class SqlBuilder:
    """Builds one expression; ``now`` fixes ``today()``/``now()`` as bound literals."""

    def __init__(
        self, checked: Checked, columns: Columns, now: datetime | None, related: RelatedSql | None = None
    ) -> None:
        self.checked = checked
        self.columns = columns
        self.now = runtime.now_utc(now)
        self.related = related

    def type_of(self, node: Node) -> str:
        return self.checked.type_of(node)

    def column(self, node: Field) -> ColumnElement[Any]:
        name = node.name
        try:
            if callable(self.columns) and not isinstance(self.columns, Mapping):
                return self.columns(name)
            return self.columns[name]
        except KeyError:
            raise RuleError(
                code="missing_column",
                line=node.line,
                column=node.column,
                params={"found": name},
            ) from None

    def build(self, node: Node) -> ColumnElement[Any]:
        match node:
            case Literal(value=value, kind=kind):
                return literal(value, kind)
            case Field():
                column = self.column(node)
                return d.JsonListColumn(column) if self.type_of(node) == "list" else column
            case Unary(op="-", operand=operand):
                return -self.build(operand)
            case Unary(op="not", operand=operand):
                return sa.not_(self.build(operand))
            case Binary():
                return self.binary(node)
            case Compare(op=op, left=left, right=right):
                if op in ("==", "!="):
                    a, b = self.build_text_operand(left, right), self.build_text_operand(right, left)
                else:
                    a, b = self.build(left), self.build(right)
                if op not in ("==", "!=") and self.type_of(left) == "text":
                    a = d.CodepointOrder(a)
                if _computed_number(self, left) or _computed_number(self, right):
                    a, b = d.ApproxNumber(a), d.ApproxNumber(b)
                compared: ColumnElement[Any] = runtime.COMPARE[op](a, b)
                return compared
            case BoolOp(op=op, items=items):
                parts = [self.build(i) for i in items]
                return sa.and_(*parts) if op == "and" else sa.or_(*parts)
            case IsNull(operand=operand, negated=negated):
                grouped = _grouped(self.build(operand))
                return grouped.is_not(None) if negated else grouped.is_(None)
            case In():
                return self.membership(node)
            case Call():
                return self.call(node)
            case Quantifier():
                return self.quantifier(node)
        raise AssertionError(node)  # pragma: no cover

    def quantifier(self, node: Quantifier) -> ColumnElement[Any]:
        """``EXISTS``/``NOT EXISTS``/``COUNT(*)`` over the related rows where the condition is
        true: a correlated subquery, so the outer query keeps one row per record."""
        try:
            if self.related is None:
                raise KeyError(node.relation)
            source = self.related(node.relation, node.via)
        except KeyError:
            raise RuleError(
                code="missing_relation",
                line=node.line,
                column=node.column,
                params={"relation": node.relation},
            ) from None
        conditions: list[ColumnElement[Any]] = [source.where]
        if node.condition is not None:
            conditions.append(SqlBuilder(self.checked, source.columns, self.now).build(node.condition))
        if node.op == "count":
            counted = sa.select(sa.func.count()).select_from(source.table).where(*conditions)
            return sa.cast(counted.scalar_subquery(), sa.BigInteger())
        found = sa.select(sa.literal(1)).select_from(source.table).where(*conditions).exists()
        return found if node.op == "any" else sa.not_(found)

    def build_text_operand(self, node: Node, other: Node) -> ColumnElement[Any]:
        """``lower(x)``/``upper(x)`` compared with an ASCII-only literal need no full Unicode
        case mapping, only the few characters that map into ASCII."""
        if isinstance(node, Call) and node.name in ("lower", "upper") and _ascii_literal(other):
            if node.name == "lower":
                return d.AsciiLower(self.build(node.args[0]))
            return d.AsciiUpper(self.build(node.args[0]))
        return self.build(node)

    def binary(self, node: Binary) -> ColumnElement[Any]:
        a, b = self.build(node.left), self.build(node.right)
        if node.op == "+" and self.type_of(node) == "text":
            return a.concat(b)
        if node.op == "/":
            if isinstance(node.right, Literal) and node.right.value != 0:
                return d.ToReal(a) / b
            return d.ToReal(a) / sa.func.nullif(b, 0)
        if node.op == "%":
            return a % sa.func.nullif(b, 0)
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        return a * b

    def membership(self, node: In) -> ColumnElement[Any]:
        item = self.build(node.item)
        if isinstance(node.container, ListLiteral):
            values = [self.build(v) for v in node.container.items]
            return item.not_in(values) if node.negated else item.in_(values)
        found = d.ListContains(self.build(node.container), item)
        return sa.not_(found) if node.negated else found

    def call(self, node: Call) -> ColumnElement[Any]:
        name, args = node.name, node.args
        if FUNCTIONS[name].python_only:
            params = {"found": name} if name in ("changed", "old") else {"found": name, "reason": "computed"}
            raise RuleError(code="sql_unsupported", line=node.line, column=node.column, params=params)
        if name == "today":
            return literal(self.now.date(), "date")
        if name == "now":
            return literal(self.now, "datetime")
        if name in ("date", "datetime") and isinstance(args[0], Literal):
            value = runtime.temporal_literal(literal_text(args[0]), name)
            return literal(value, name)
        if name == "matches":
            regex = translate(literal_text(args[1]))
            return d.RegexpSearch(
                self.build(args[0]),
                sa.literal(regex.python, sa.String()),
                sa.literal(regex.postgresql, sa.String()),
            )
        if name == "if":
            return sa.case((self.build(args[0]), self.build(args[1])), else_=self.build(args[2]))
        values = [self.build(a) for a in args]
        kinds = [self.type_of(a) for a in args]
        if name == "len":
            return d.ListLength(values[0]) if kinds[0] == "list" else sa.func.length(values[0])
        if name == "lower":
            return d.Lower(values[0])
        if name == "upper":
            return d.Upper(values[0])
        if name == "trim":
            return d.TrimBlank(values[0], d.blank_chars())
        if name == "contains":
            if kinds[0] == "list":
                return d.ListContains(values[0], values[1])
            return d.TextContains(values[0], values[1])
        if name == "starts_with":
            text, prefix = values
            return sa.func.substr(text, 1, sa.func.length(prefix)) == prefix
        if name == "ends_with" and _ascii_literal(args[1]) and literal_text(args[1]):
            text = self.build_text_operand(args[0], args[1])
            ending = literal_text(args[1])
            return d.EndsWith(text, literal(ending, "text"), sa.literal_column(str(len(ending))))
        if name == "ends_with":
            text, suffix = values
            start = sa.func.length(text) - sa.func.length(suffix) + 1
            return sa.and_(
                sa.func.length(suffix) <= sa.func.length(text), sa.func.substr(text, start) == suffix
            )
        if name == "date":
            return values[0] if kinds[0] == "date" else d.DateOf(values[0])
        if name == "datetime":
            return values[0] if kinds[0] == "datetime" else d.DatetimeOf(values[0])
        if name in ("year", "month", "day"):
            return {"year": d.Year, "month": d.Month, "day": d.Day}[name](values[0])
        if name == "days_between":
            return d.DaysBetween(values[0], values[1])
        if name == "add_days":
            cls = d.AddDaysToDate if kinds[0] == "date" else d.AddDaysToDatetime
            return cls(values[0], values[1])
        if name == "add_workdays":
            return sql_workdays.add_workdays(values[0], values[1])
        if name == "workdays_between":
            return sql_workdays.workdays_between(values[0], values[1])
        if name == "abs":
            return sa.func.abs(values[0])
        if name == "round":
            if kinds[0] == "integer":
                return values[0]
            digits = literal_integer(args[1]) if len(args) > 1 else 0
            return sa.func.round(values[0], sa.literal_column(str(int(digits))))
        if name in ("floor", "ceil"):
            if kinds[0] == "integer":
                return values[0]
            return (d.Floor if name == "floor" else d.Ceil)(values[0])
        if name in ("min", "max"):
            if self.type_of(node) == "text":
                values = [d.CodepointOrder(v) for v in values]
            return (d.Least if name == "min" else d.Greatest)(*values)
        if name == "coalesce":
            return sa.func.coalesce(*values)
        if name == "is_blank":
            grouped = _grouped(values[0])
            if kinds[0] == "text":
                return sa.or_(grouped.is_(None), d.TrimBlank(grouped, d.blank_chars()) == "")
            if kinds[0] == "list":
                return sa.or_(grouped.is_(None), d.ListLength(grouped) == 0)
            return grouped.is_(None)
        raise AssertionError(name)  # pragma: no cover


def _ascii_literal(node: Node) -> bool:
    return isinstance(node, Literal) and isinstance(node.value, str) and node.value.isascii()


def _computed_number(builder: SqlBuilder, node: Node) -> bool:
    """A number that SQLite computes in floating point (so not a plain column or literal)."""
    return builder.type_of(node) == "number" and not isinstance(node, Field | Literal)


def to_sql(
    root: Node, checked: Checked, columns: Columns, now: datetime | None, related: RelatedSql | None = None
) -> Any:
    """The rule as a SQLAlchemy expression over ``columns``."""
    return SqlBuilder(checked, columns, now, related).build(root)


__all__ = ["Columns", "RelatedSql", "RelatedTable", "date", "to_sql"]


def _grouped(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """Parenthesise a compound operand of IS NULL: PostgreSQL binds IS tighter than NOT, so
    ``NOT a IS NULL`` would mean ``NOT (a IS NULL)``. Plain columns stay bare."""
    if isinstance(value, sa.ColumnClause):
        return value
    return sa.sql.elements.Grouping(value)
