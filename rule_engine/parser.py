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

_TERMINAL_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "COMP_OP": "a comparison (== != < <= > >=)",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*`, `/` or `%`",
    "_OR": "`or`",
    "_AND": "`and`",
    "_NOT": "`not`",
    "_IN": "`in`",
    "_IS": "`is`",
    "_NULL": "`null`",
    "_TRUE": "`true`",
    "_FALSE": "`false`",
    "$END": "the end of the rule",
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
        f"found the escape `{found}` in a string, expected \\u and four hex digits",
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
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream]
        if char in "'\"":
            found, expected = "an unterminated string", f"a closing {char}"
        else:
            found, expected = f"the character `{char}`", "an operator, a value or a name"
    elif isinstance(exc, UnexpectedEOF):
        found = "the end of the rule"
        expected = _describe_expected(exc.expected)
        line, column = _end_position(text)
    else:
        assert isinstance(exc, UnexpectedToken)
        tok = exc.token
        if tok.type == "$END":
            found = "the end of the rule"
            line, column = _end_position(text)
        else:
            found = f"`{tok.value}`"
        expected = _describe_expected(exc.expected)
    return RuleError(
        f"found {found}, expected {expected}",
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
    words: list[str] = []
    for name in sorted(names):
        if name in _TERMINAL_NAMES:
            words.append(_TERMINAL_NAMES[name])
            continue
        try:
            pattern = lark.get_terminal(name).pattern
        except KeyError:
            words.append(name)
            continue
        words.append(f"`{pattern.value}`")
    unique = list(dict.fromkeys(words))
    if len(unique) > 6:
        if "$END" in names or "COMP_OP" in names:
            return "an operator or the end of the rule"
        return "a value, a name or `(`"
    return " or ".join(unique) if unique else "something else"


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
            f"found a {type(text).__name__}, expected the rule as text",
            code="syntax",
            line=1,
            column=1,
        )
    if len(text) > MAX_TEXT_LENGTH:
        raise RuleError(
            f"found a rule of {len(text)} characters, expected at most {MAX_TEXT_LENGTH}",
            code="too_long",
            line=1,
            column=1,
            params={"found": len(text), "expected": MAX_TEXT_LENGTH},
        )
    if not text.strip():
        raise RuleError("found an empty rule, expected an expression", code="syntax", line=1, column=1)
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    if isinstance(tree, Tree) and _depth(tree) > MAX_DEPTH:
        raise RuleError(
            f"found an expression nested deeper than {MAX_DEPTH} levels, expected a simpler rule",
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
