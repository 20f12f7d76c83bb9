"""A tree-walking evaluator: slow and obvious, kept as the reference the generated code must match."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from rule_engine import runtime
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
    field_name,
    literal_integer,
    literal_text,
)
from rule_engine.regex import MAX_INPUT, translate
from rule_engine.type_checker import Checked

_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}


class Interpreter:
    """Evaluates one checked AST against one record with SQL's three-valued logic."""

    def __init__(
        self,
        checked: Checked,
        record: Mapping[str, Any],
        *,
        now: datetime | None = None,
        old: Mapping[str, Any] | None = None,
        loader: runtime.Loader | None = None,
        related: runtime.Related | None = None,
    ) -> None:
        self.checked = checked
        self.record = record
        self.now = now
        self.old = old
        self.loader = loader
        self.related = related

    def eval(self, node: Node) -> Any:
        match node:
            case Literal(value=value):
                return value
            case Field(path=path):
                value = runtime.path(self.record, path, self.loader)
                if self.checked.type_of(node) in ("number", "integer", "datetime"):
                    return runtime.normalise(value)
                return value
            case Unary(op="-", operand=operand):
                v = self.eval(operand)
                return None if v is None else -v
            case Unary(op="not", operand=operand):
                v = self.eval(operand)
                return None if v is None else not v
            case Binary(op=op, left=left, right=right):
                a, b = self.eval(left), self.eval(right)
                if op == "/":
                    return runtime.div(a, b)
                if op == "%":
                    return runtime.mod(a, b)
                return None if a is None or b is None else _ARITH[op](a, b)
            case Compare(op=op, left=left, right=right):
                a, b = self.eval(left), self.eval(right)
                return None if a is None or b is None else runtime.COMPARE[op](a, b)
            case BoolOp(op=op, items=items):
                results = [self.eval(i) for i in items]
                decisive = op == "or"
                if decisive in results:
                    return decisive
                return None if None in results else not decisive
            case IsNull(operand=operand, negated=negated):
                return (self.eval(operand) is None) != negated
            case In(item=item, container=container, negated=negated):
                v = self.eval(item)
                if isinstance(container, ListLiteral):
                    values: Any = [self.eval(i) for i in container.items]
                else:
                    values = self.eval(container)
                if v is None or values is None:
                    return None
                return (v in values) != negated
            case Call():
                return self.call(node)
            case Quantifier(condition=condition):
                return runtime.quantify(
                    self.related,
                    node.op,
                    node.relation,
                    node.via,
                    self.record,
                    None if condition is None else self._holds(condition),
                    self.now,
                )
        raise AssertionError(node)  # pragma: no cover

    def _holds(self, condition: Node) -> runtime.Condition:
        """Whether ``condition`` is true for one related row (unknown is not true)."""

        def holds(row: Mapping[str, Any], now: datetime | None) -> bool:
            return Interpreter(self.checked, row, now=now).eval(condition) is True

        return holds

    def call(self, node: Call) -> Any:
        name, args = node.name, node.args
        if name == "today":
            return runtime.today(self.now)
        if name == "now":
            return runtime.now_utc(self.now)
        if name in ("date", "datetime") and isinstance(args[0], Literal):
            return runtime.temporal_literal(literal_text(args[0]), name)
        if name == "matches":
            text = self.eval(args[0])
            regex = translate(literal_text(args[1])).compiled()
            if text is None:
                return None
            return len(text) <= MAX_INPUT and regex.search(text) is not None
        if name == "coalesce":
            for arg in args:
                v = self.eval(arg)
                if v is not None:
                    return v
            return None
        if name == "if":
            return self.eval(args[1]) if self.eval(args[0]) is True else self.eval(args[2])
        if name == "round":
            digits = literal_integer(args[1]) if len(args) > 1 else 0
            return runtime.round_(self.eval(args[0]), digits)
        if name == "changed":
            return runtime.changed(self.record, self.old, field_name(args[0]))
        if name == "old":
            if self.old is None:
                return None
            return runtime.normalise(self.old.get(field_name(args[0])))
        return runtime.CALLS[name](*(self.eval(a) for a in args))


def interpret(checked: Checked, root: Node, record: Mapping[str, Any], **kwargs: Any) -> Any:
    """The value of ``root`` for ``record`` (None for unknown), computed by walking the tree."""
    value = Interpreter(checked, record, **kwargs).eval(root)
    return value if not isinstance(value, float) else Decimal(repr(value))
