"""Rule text -> AST: the Lark LALR parser, its Transformer, limits and readable syntax errors."""

from __future__ import annotations

import threading
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast, final

from lark import Lark, Token, Transformer
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedInput,
    UnexpectedToken,
)

from rule_engine.errors import RuleError
from rule_engine.messages import Phrase, one_of, phrase
from rule_engine.nodes import Binary as BinaryNode
from rule_engine.nodes import (
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
)

MAX_TEXT_LENGTH = 10_000
"""Longest rule text accepted; longer input is refused before the lexer sees it."""

MAX_DEPTH = 48
"""Deepest nesting accepted: keeps the transformer, type checker and generated code shallow."""

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}

_TERMINAL_NAMES: dict[str, Phrase] = {
    "NAME": phrase("a_name"),
    "NUMBER": phrase("a.number"),
    "STRING": phrase("a_string"),
    "COMP_OP": phrase("comparison"),
    "ADD_OP": phrase("add_op"),
    "MUL_OP": phrase("mul_op"),
    "_OR": phrase("token", token="or"),
    "_AND": phrase("token", token="and"),
    "NOT": phrase("token", token="not"),
    "_IN": phrase("token", token="in"),
    "_IS": phrase("token", token="is"),
    "_VIA": phrase("token", token="via"),
    "NULL": phrase("token", token="null"),
    "TRUE": phrase("token", token="true"),
    "FALSE": phrase("token", token="false"),
    "$END": phrase("end_of_rule"),
}


@cache
def _grammar() -> str:
    return Path(__file__).with_name("grammar.lark").read_text(encoding="utf-8")


_local = threading.local()


def _parser() -> tuple[Lark, _ToAst]:
    """This thread's parser and the transformer it builds nodes with (which keeps per-parse state)."""
    try:
        parser: tuple[Lark, _ToAst] = _local.parser
    except AttributeError:
        builder = _ToAst()
        lark = Lark(_grammar(), parser="lalr", transformer=builder, maybe_placeholders=False)
        parser = _local.parser = (lark, builder)
    return parser


def _lark() -> Lark:
    return _parser()[0]


def _decode_string(token: Token) -> str:
    """Decode a quoted literal by hand: user text never reaches ``eval``/``literal_eval``."""
    body = token.value[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt == "0" or body[i + 1 : i + 6] == "u0000":
            # No database stores NUL (PostgreSQL refuses it), so no value can ever equal it.
            raise _bad_escape(token, i, body[i : i + (2 if nxt == "0" else 6)], reason="nul")
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "u" and len(body) >= i + 6 and _is_hex(body[i + 2 : i + 6]):
            code = int(body[i + 2 : i + 6], 16)
            if 0xD800 <= code <= 0xDFFF:
                raise _bad_escape(token, i, body[i : i + 6])
            out.append(chr(code))
            i += 6
        elif nxt == "u":
            raise _bad_escape(token, i, body[i : i + 6])
        else:
            # unknown escapes keep their backslash, so regexes read naturally: "\d+"
            out.append(ch)
            i += 1
    return "".join(out)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _bad_escape(token: Token, offset: int, found: str, reason: str | None = None) -> RuleError:
    return RuleError(
        code="bad_escape",
        line=token.line or 0,
        column=(token.column or 0) + 1 + offset,
        params={"found": found} if reason is None else {"found": found, "reason": reason},
    )


@final
class _Group:
    """A parenthesised expression while parsing: the node, and where its ``(`` stands (a node
    whose first operand is a group starts at the parenthesis)."""

    __slots__ = ("column", "line", "node")

    def __init__(self, node: Node, line: int, column: int) -> None:
        self.node, self.line, self.column = node, line, column


def _node(item: Node | _Group) -> Node:
    return item.node if type(item) is _Group else item


_N = TypeVar("_N", bound=Node)

_Children = list[Any]
"""What Lark hands a callback: the rule's tokens, nodes and groups in the order the grammar fixes.
mypy cannot read the grammar, so each callback unpacks the list into names of the right type."""

#: Longest number literal, in digits: more than any stored number holds (PostgreSQL BIGINT has 19).
MAX_DIGITS = 38
#: Largest integer literal: a signed 64-bit integer, what integer columns store.
MAX_INTEGER = 2**63 - 1


class _ToAst(Transformer[Token, "Node | _Group"]):
    """Builds frozen nodes inside the LALR parse (Lark's ``transformer=``), no parse tree.

    Every node takes its position from its first child: a token, a node, or a parenthesised
    group. Each callback gets the rule's children as a list. Two things are recorded instead of
    raised, so the errors keep their order (a syntax error anywhere, then too deep, then a bad
    escape): the nesting depth of each node (``depth``, by ``id``, counting the nodes a Lark parse
    tree would have) and the first bad string escape (``error``). One instance per thread.
    """

    def __init__(self) -> None:
        super().__init__()
        self.depth: dict[int, int] = {}
        self.deepest = 0
        self.error: RuleError | None = None

    def reset(self) -> None:
        self.depth = {}
        self.deepest = 0
        self.error = None

    def _made(self, node: _N, *children: Node) -> _N:
        depth = self.depth
        level = 1 + max([depth[id(c)] for c in children], default=0)
        depth[id(node)] = level
        if level > self.deepest:
            self.deepest = level
        return node

    def number(self, children: _Children) -> Literal:
        tok = children[0]
        digits = str(tok).replace(".", "").lstrip("0")
        if len(digits) > MAX_DIGITS:
            # Beyond what a column stores (and past Python's own limit of 4,300 digits for int()).
            if self.error is None:
                self.error = RuleError(
                    code="bad_literal",
                    line=tok.line,
                    column=tok.column,
                    params={"reason": "digits", "max": MAX_DIGITS},
                )
            return self._made(Literal(tok.line, tok.column, 0, "integer"))
        if "." in tok:
            return self._made(Literal(tok.line, tok.column, Decimal(str(tok)), "number"))
        value = int(tok)
        if value > MAX_INTEGER:  # no integer column holds it, and a database driver would overflow
            if self.error is None:
                self.error = RuleError(
                    code="bad_literal",
                    line=tok.line,
                    column=tok.column,
                    params={"reason": "integer", "max": MAX_INTEGER},
                )
            value = 0
        return self._made(Literal(tok.line, tok.column, value, "integer"))

    def string(self, children: _Children) -> Literal:
        tok = children[0]
        try:
            value = _decode_string(tok)
        except RuleError as exc:
            if self.error is None:
                self.error = exc
            value = ""
        return self._made(Literal(tok.line, tok.column, value, "text"))

    def true(self, children: _Children) -> Literal:
        tok = children[0]
        return self._made(Literal(tok.line, tok.column, True, "boolean"))

    def false(self, children: _Children) -> Literal:
        tok = children[0]
        return self._made(Literal(tok.line, tok.column, False, "boolean"))

    def null(self, children: _Children) -> Literal:
        tok = children[0]
        return self._made(Literal(tok.line, tok.column, None, "null"))

    def paren(self, children: _Children) -> _Group:
        tok = children[0]
        return _Group(_node(children[1]), tok.line, tok.column)

    def list_literal(self, children: _Children) -> ListLiteral:
        tok = children[0]
        items = tuple(_node(c) for c in children[1:])
        return self._made(ListLiteral(tok.line, tok.column, items), *items)

    def call(self, children: _Children) -> Call:
        tok = children[0]
        args = tuple(_node(c) for c in children[1:])
        return self._made(Call(tok.line, tok.column, str(tok), args), *args)

    def quantifier(self, children: _Children) -> Quantifier:
        tok, relation, via = children[0], children[1], children[2]
        condition = _node(children[3]) if len(children) > 3 else None
        node = Quantifier(
            tok.line,
            tok.column,
            str(tok),
            str(relation),
            str(via),
            condition,
            (relation.line, relation.column),
            (via.line, via.column),
        )
        return self._made(node, *([] if condition is None else [condition]))

    def field(self, children: _Children) -> Field:
        tok = children[0]
        return self._made(Field(tok.line, tok.column, tuple(str(n) for n in children)))

    def neg(self, children: _Children) -> Node:
        tok, operand = children[0], _node(children[1])
        if (
            isinstance(operand, Literal)
            and operand.kind in ("integer", "number")
            and isinstance(operand.value, int | Decimal)
        ):
            node: Node = Literal(tok.line, tok.column, -operand.value, operand.kind)
        else:
            node = Unary(tok.line, tok.column, "-", operand)
        return self._made(node, operand)

    def not_op(self, children: _Children) -> Unary:
        tok, operand = children[0], _node(children[1])
        return self._made(Unary(tok.line, tok.column, "not", operand), operand)

    def _bool(self, op: str, children: _Children) -> BoolOp:
        first = children[0]
        items = tuple(_node(c) for c in children)
        return self._made(BoolOp(first.line, first.column, op, items), *items)

    def or_op(self, children: _Children) -> BoolOp:
        return self._bool("or", children)

    def and_op(self, children: _Children) -> BoolOp:
        return self._bool("and", children)

    def compare(self, children: _Children) -> Compare:
        first, op, right = children
        left, right = _node(first), _node(right)
        return self._made(Compare(first.line, first.column, str(op), left, right), left, right)

    def binary(self, children: _Children) -> BinaryNode:
        first, op, right = children
        left, right = _node(first), _node(right)
        return self._made(BinaryNode(first.line, first.column, str(op), left, right), left, right)

    def _in(self, first: Node | _Group, container: Node | _Group, negated: bool) -> In:
        item, container = _node(first), _node(container)
        return self._made(In(first.line, first.column, item, container, negated), item, container)

    def in_op(self, children: _Children) -> In:
        return self._in(children[0], children[1], False)

    def not_in_op(self, children: _Children) -> In:
        return self._in(children[0], children[2], True)

    def _is_null(self, first: Node | _Group, negated: bool) -> IsNull:
        operand = _node(first)
        return self._made(IsNull(first.line, first.column, operand, negated), operand)

    def is_null(self, children: _Children) -> IsNull:
        return self._is_null(children[0], False)

    def is_not_null(self, children: _Children) -> IsNull:
        return self._is_null(children[0], True)


def _syntax_error(text: str, exc: UnexpectedInput) -> RuleError:
    line, column = exc.line, exc.column
    found: str
    expected: str
    if isinstance(exc, UnexpectedCharacters):
        char: str = exc.char
        if char in "'\"":
            found, expected = phrase("unterminated_string"), phrase("closing_quote", quote=char)
        else:
            found, expected = phrase("character", char=char), phrase("operator_value_name")
    else:
        # LALR reports the end of input as an UnexpectedToken of type $END (UnexpectedEOF is Earley's)
        assert isinstance(exc, UnexpectedToken)
        tok = exc.token
        if tok.type == "$END":
            found = phrase("end_of_rule")
            line, column = _end_position(text)
        else:
            found = phrase("token", token=tok.value)
        expected = _describe_expected(exc.expected)
    return RuleError(
        code="syntax",
        line=max(line, 1),
        column=max(column, 1),
        params={"found": found, "expected": expected},
    )


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


_KEPT_KEYWORDS = {"NOT": "_NOT", "NULL": "_NULL", "TRUE": "_TRUE", "FALSE": "_FALSE"}


def _sort_key(name: str) -> str:
    """Keywords that start a node are kept tokens now; they list where they did as ``_NOT`` etc."""
    return _KEPT_KEYWORDS.get(name, name)


def _describe_expected(names: set[str] | frozenset[str]) -> str:
    lark = _lark()
    words: list[str] = []  # phrases, or a raw terminal name
    for name in sorted(names, key=_sort_key):
        if name in _TERMINAL_NAMES:
            words.append(_TERMINAL_NAMES[name])
            continue
        try:
            pattern = lark.get_terminal(name).pattern
        except KeyError:
            words.append(name)
            continue
        words.append(phrase("token", token=pattern.value))
    unique = list(dict.fromkeys(words))
    if len(unique) > 6:
        if "$END" in names or "COMP_OP" in names:
            return phrase("operator_or_end")
        return phrase("value_name_paren")
    return one_of(unique)


def parse(text: str) -> Node:
    """Parse rule text into an AST, refusing oversize or overdeep input with a RuleError."""
    if not isinstance(text, str):
        raise RuleError(
            code="syntax",
            line=1,
            column=1,
            params={"reason": "not_text", "found": type(text).__name__},
        )
    if len(text) > MAX_TEXT_LENGTH:
        raise RuleError(
            code="too_long",
            line=1,
            column=1,
            params={"found": len(text), "expected": MAX_TEXT_LENGTH},
        )
    if not text.strip():
        raise RuleError(code="syntax", line=1, column=1, params={"reason": "empty"})
    lark, builder = _parser()
    builder.reset()
    try:
        # the embedded transformer makes parse() return its own result, not the Tree Lark declares
        result = cast("Node | _Group", lark.parse(text))
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    finally:
        depth, error = builder.deepest, builder.error
        builder.reset()
    if depth > MAX_DEPTH:
        raise RuleError(
            code="too_deep",
            line=1,
            column=1,
            params={"expected": MAX_DEPTH},
        )
    if error is not None:
        raise error
    return _node(result)
