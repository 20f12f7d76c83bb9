"""AST nodes: frozen dataclasses with positions, shared by the checker and both backends."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

LiteralValue = int | Decimal | str | bool | None


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every node; ``line``/``column`` are 1-based positions in the rule text."""

    line: int
    column: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form the builder UI can show and edit."""
        data: dict[str, Any] = {"node": _KIND[type(self)]}
        for f in fields(self):
            data[f.name] = _jsonable(getattr(self, f.name))
        return data


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant; ``kind`` is its DSL type (``integer``, ``number``, ``text``, ...)."""

    value: LiteralValue
    kind: str


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Field(Node):
    """A field reference; more than one segment walks through lookups (``account.grade``)."""

    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """``-x`` or ``not x``."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Arithmetic: ``+ - * / %`` (``+`` also joins text)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class BoolOp(Node):
    """``and``/``or`` over two or more operands (n-ary so long chains stay shallow)."""

    op: str
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class In(Node):
    item: Node
    container: Node
    negated: bool


@dataclass(frozen=True, slots=True)
class IsNull(Node):
    operand: Node
    negated: bool


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Quantifier(Node):
    """``any``/``none``/``count`` over the rows of ``relation`` whose lookup ``via`` points at
    this record, optionally only those where ``condition`` (over the related row) is true."""

    op: str
    relation: str
    via: str
    condition: Node | None
    relation_at: tuple[int, int] = (0, 0)
    via_at: tuple[int, int] = (0, 0)
    """(line, column) of the entity and of the lookup name, for errors that point at them."""


_KIND: dict[type, str] = {
    Literal: "literal",
    ListLiteral: "list",
    Field: "field",
    Unary: "unary",
    Binary: "binary",
    Compare: "compare",
    BoolOp: "bool",
    In: "in",
    IsNull: "is_null",
    Call: "call",
    Quantifier: "quantifier",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Node):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of ``node``, in source order."""
    match node:
        case ListLiteral(items=items) | BoolOp(items=items):
            return items
        case Unary(operand=o) | IsNull(operand=o):
            return (o,)
        case Binary(left=a, right=b) | Compare(left=a, right=b):
            return (a, b)
        case In(item=a, container=b):
            return (a, b)
        case Call(args=args):
            return args
    # a quantifier's condition reads the related rows, not this record: no child of this record
    return ()


_QUOTED = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"})


def text_literal(value: str) -> str:
    """``value`` written as a DSL text literal (``'won'``), as a person would type it in a rule."""
    return "'" + value.translate(_QUOTED) + "'"


def literal_value(node: Node) -> LiteralValue:
    """The value of a node the type checker only lets through as a literal (an item of
    ``x in [...]``); anything else here is a bug in the checker."""
    if not isinstance(node, Literal):
        raise AssertionError(f"expected a literal, got {node!r}")
    return node.value


def literal_text(node: Node) -> str:
    """The text of an argument the function table takes only as a text literal (the pattern of
    ``matches``, the text of ``date('...')``)."""
    value = literal_value(node)
    if not isinstance(value, str):
        raise AssertionError(f"expected a text literal, got {node!r}")
    return value


def literal_integer(node: Node) -> int:
    """The value of an argument the function table takes only as an integer literal (the digits
    of ``round``)."""
    value = literal_value(node)
    if not isinstance(value, int):
        raise AssertionError(f"expected an integer literal, got {node!r}")
    return value


def field_name(node: Node) -> str:
    """The name of an argument the function table takes only as a plain field (``changed(x)``)."""
    if not isinstance(node, Field):
        raise AssertionError(f"expected a field, got {node!r}")
    return node.path[0]
