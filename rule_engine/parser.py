"""Rule text -> AST: the Lark LALR parser, its Transformer, limits and readable syntax errors."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
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
    Unary,
)

MAX_TEXT_LENGTH = 10_000
"""Longest rule text accepted; longer input is refused before the lexer sees it."""

MAX_DEPTH = 48
"""Deepest nesting accepted: keeps the transformer, type checker and generated code shallow."""

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}

_TERMINAL_NAMES: dict[str, Phrase] = {
    "NAME": phrase("a_name"),
    "NUMBER": phrase("a.number"),
    "STRING": phrase("a_string"),
    "COMP_OP": phrase("comparison"),
    "ADD_OP": phrase("add_op"),
    "MUL_OP": phrase("mul_op"),
    "_OR": phrase("token", token="or"),
    "_AND": phrase("token", token="and"),
    "_NOT": phrase("token", token="not"),
    "_IN": phrase("token", token="in"),
    "_IS": phrase("token", token="is"),
    "_NULL": phrase("token", token="null"),
    "_TRUE": phrase("token", token="true"),
    "_FALSE": phrase("token", token="false"),
    "$END": phrase("end_of_rule"),
}


@cache
def _lark() -> Lark:
    grammar = (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


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


def _bad_escape(token: Token, offset: int, found: str) -> RuleError:
    return RuleError(
        code="bad_escape",
        line=token.line or 0,
        column=(token.column or 0) + 1 + offset,
        params={"found": found},
    )


@v_args(meta=True, inline=True)
class _ToAst(Transformer):
    """Builds frozen nodes; every node takes its position from Lark's ``meta``."""

    def number(self, meta, tok: Token) -> Literal:
        if "." in tok:
            return Literal(meta.line, meta.column, Decimal(str(tok)), "number")
        return Literal(meta.line, meta.column, int(tok), "integer")

    def string(self, meta, tok: Token) -> Literal:
        return Literal(meta.line, meta.column, _decode_string(tok), "text")

    def true(self, meta) -> Literal:
        return Literal(meta.line, meta.column, True, "boolean")

    def false(self, meta) -> Literal:
        return Literal(meta.line, meta.column, False, "boolean")

    def null(self, meta) -> Literal:
        return Literal(meta.line, meta.column, None, "null")

    def list(self, meta, *items: Node) -> ListLiteral:
        return ListLiteral(meta.line, meta.column, tuple(items))

    def call(self, meta, name: Token, *args: Node) -> Call:
        return Call(meta.line, meta.column, str(name), tuple(args))

    def field(self, meta, *names: Token) -> Field:
        return Field(meta.line, meta.column, tuple(str(n) for n in names))

    def neg(self, meta, operand: Node) -> Node:
        if isinstance(operand, Literal) and operand.kind in ("integer", "number"):
            return Literal(meta.line, meta.column, -operand.value, operand.kind)  # type: ignore[operator]
        return Unary(meta.line, meta.column, "-", operand)

    def not_op(self, meta, operand: Node) -> Unary:
        return Unary(meta.line, meta.column, "not", operand)

    def or_op(self, meta, *items: Node) -> BoolOp:
        return BoolOp(meta.line, meta.column, "or", tuple(items))

    def and_op(self, meta, *items: Node) -> BoolOp:
        return BoolOp(meta.line, meta.column, "and", tuple(items))

    def compare(self, meta, left: Node, op: Token, right: Node) -> Compare:
        return Compare(meta.line, meta.column, str(op), left, right)

    def binary(self, meta, left: Node, op: Token, right: Node) -> BinaryNode:
        return BinaryNode(meta.line, meta.column, str(op), left, right)

    def in_op(self, meta, item: Node, container: Node) -> In:
        return In(meta.line, meta.column, item, container, False)

    def not_in_op(self, meta, item: Node, container: Node) -> In:
        return In(meta.line, meta.column, item, container, True)

    def is_null(self, meta, operand: Node) -> IsNull:
        return IsNull(meta.line, meta.column, operand, False)

    def is_not_null(self, meta, operand: Node) -> IsNull:
        return IsNull(meta.line, meta.column, operand, True)


def _syntax_error(text: str, exc: UnexpectedInput) -> RuleError:
    line, column = exc.line, exc.column
    found: str
    expected: str
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream]
        if char in "'\"":
            found, expected = phrase("unterminated_string"), phrase("closing_quote", quote=char)
        else:
            found, expected = phrase("character", char=char), phrase("operator_value_name")
    elif isinstance(exc, UnexpectedEOF):
        found = phrase("end_of_rule")
        expected = _describe_expected(exc.expected)
        line, column = _end_position(text)
    else:
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


def _describe_expected(names: set[str] | frozenset[str]) -> str:
    lark = _lark()
    words: list[str] = []  # phrases, or a raw terminal name
    for name in sorted(names):
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


def _depth(tree: Tree) -> int:
    """Nesting depth of a Lark tree, computed without recursion."""
    deepest = 0
    stack: list[tuple[Tree | Token, int]] = [(tree, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Tree):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item.children)
    return deepest


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
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    if isinstance(tree, Tree) and _depth(tree) > MAX_DEPTH:
        raise RuleError(
            code="too_deep",
            line=1,
            column=1,
            params={"expected": MAX_DEPTH},
        )
    if isinstance(tree, Token):
        tree = Tree("_root", [tree])
        return _ToAst().transform(tree).children[0]  # pragma: no cover - start is always a rule
    try:
        return _ToAst().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, RuleError):
            raise exc.orig_exc from None
        raise
