"""Python backend: generate the source of one function per rule from the AST, compile it once.

User text never reaches ``compile``: names in the generated source come from this module, field
names and strings only as ``repr`` of validated ``str`` constants, other constants (Decimals,
dates, regexes, sets) as closure variables. Booleans are generated twice, as "is true" and "is
false" predicates, so ``matches`` short-circuits like a hand-written lambda while keeping SQL's
three-valued logic.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

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
    Unary,
)
from rule_engine.regex import MAX_INPUT, translate
from rule_engine.type_checker import Checked

_PY_OPS = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_SIMPLE_CALLS = {
    "len": "length",
    "lower": "lower",
    "upper": "upper",
    "trim": "trim",
    "contains": "contains",
    "starts_with": "starts_with",
    "ends_with": "ends_with",
    "days_between": "days_between",
    "add_days": "add_days",
    "year": "year",
    "month": "month",
    "day": "day",
    "abs": "abs_",
    "floor": "floor",
    "ceil": "ceil",
    "min": "least",
    "max": "greatest",
    "is_blank": "is_blank",
    "date": "as_date",
    "datetime": "as_datetime",
}
_EXACT_INT = 2**53


class _Generator:
    def __init__(self, checked: Checked, strict: bool, prefix: str) -> None:
        self.prefix = prefix
        self.checked = checked
        self.strict = strict
        self.constants: dict[str, Any] = {}
        self.temp = 0
        self.uses_now = False
        self.uses_today = False

    def const(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.constants)}"
        self.constants[name] = value
        return name

    def tmp(self) -> str:
        self.temp += 1
        return f"_t{self.temp}"

    def type_of(self, node: Node) -> str:
        return self.checked.type_of(node)

    # -- values ---------------------------------------------------------------------------------

    def raw_field(self, node: Field) -> str:
        if len(node.path) > 1:
            return f"_H.path(r, {node.path!r}, loader)"
        return f"r[{node.path[0]!r}]" if self.strict else f"r.get({node.path[0]!r})"

    def value(self, node: Node, raw_numbers: bool = False) -> str:
        kind = self.type_of(node)
        match node:
            case Literal(value=value):
                if isinstance(value, Decimal):
                    return self.const(value)
                return repr(value)
            case Field():
                load = self.raw_field(node)
                if kind in ("number", "integer") and not raw_numbers:
                    return self._num(load)
                if kind == "datetime":
                    return f"_H.dt({load})"
                return load
            case Unary(op="-", operand=operand):
                t = self.tmp()
                return f"(None if ({t} := {self.value(operand)}) is None else -{t})"
            case Binary(op=op, left=left, right=right):
                if op == "/" and isinstance(right, Literal) and right.value:
                    t = self.tmp()
                    divisor = self.value(right)
                    return (
                        f"(None if ({t} := {self.value(left)}) is None else "
                        f"({t} if {t}.__class__ is not int else _D({t})) / {divisor})"
                    )
                if op == "/":
                    return f"_H.div({self.value(left)}, {self.value(right)})"
                if op == "%":
                    return f"_H.mod({self.value(left)}, {self.value(right)})"
                a, b = self.tmp(), self.tmp()
                return (
                    f"(None if ({a} := {self.value(left)}) is None or "
                    f"({b} := {self.value(right)}) is None else {a} {op} {b})"
                )
            case Call():
                return self.call(node)
        if kind == "boolean":
            if isinstance(node, IsNull):
                return self.true(node)
            return f"(True if {self.true(node)} else (False if {self.false(node)} else None))"
        raise AssertionError(node)  # pragma: no cover

    _METHODS: ClassVar[dict[str, str]] = {
        "lower": "lower()",
        "upper": "upper()",
        "trim": "strip(' \\t\\n\\r')",
    }

    def inline_call(self, name: str, args: tuple[Node, ...]) -> str | None:
        """Hot text and list functions spelled inline: no helper call per record."""
        if name in self._METHODS:
            t = self.tmp()
            return f"(None if ({t} := {self.value(args[0])}) is None else {t}.{self._METHODS[name]})"
        if name == "len":
            t = self.tmp()
            return f"(None if ({t} := {self.value(args[0])}) is None else len({t}))"
        if name in ("starts_with", "ends_with") and isinstance(args[1], Literal):
            t = self.tmp()
            method = "startswith" if name == "starts_with" else "endswith"
            return (
                f"(None if ({t} := {self.value(args[0])}) is None else {t}.{method}({self.value(args[1])}))"
            )
        return None

    def _num(self, load: str) -> str:
        t = self.tmp()
        return f"(_D(repr({t})) if ({t} := {load}).__class__ is _float else {t})"

    def call(self, node: Call) -> str:
        name, args = node.name, node.args
        if name == "today":
            self.uses_today = True
            return "_today"
        if name == "now":
            self.uses_now = True
            return "_now"
        if name in ("date", "datetime") and self.type_of(args[0]) == "text":
            assert isinstance(args[0], Literal)
            value = runtime.temporal_literal(args[0].value, name)  # type: ignore[arg-type]
            return self.const(value)
        if name == "matches":
            assert isinstance(args[1], Literal)
            pattern = self.const(translate(args[1].value).compiled())  # type: ignore[arg-type]
            t = self.tmp()
            return (
                f"(None if ({t} := {self.value(args[0])}) is None else "
                f"(len({t}) <= {MAX_INPUT} and {pattern}.search({t}) is not None))"
            )
        if name == "coalesce":
            out = self.value(args[-1])
            for arg in reversed(args[:-1]):
                t = self.tmp()
                out = f"({t} if ({t} := {self.value(arg)}) is not None else {out})"
            return out
        if name == "if":
            return f"({self.value(args[1])} if {self.true(args[0])} else {self.value(args[2])})"
        if name == "round":
            digits = args[1].value if len(args) > 1 else 0  # type: ignore[attr-defined]
            return f"_H.round_({self.value(args[0])}, {int(digits)})"
        if name == "changed":
            assert isinstance(args[0], Field)
            return f"_H.changed(r, old, {args[0].path[0]!r})"
        if name == "old":
            assert isinstance(args[0], Field)
            return f"(None if old is None else _H.normalise(old.get({args[0].path[0]!r})))"
        inline = self.inline_call(name, args)
        if inline is not None:
            return inline
        helper = _SIMPLE_CALLS[name]
        return f"_H.{helper}({', '.join(self.value(a) for a in args)})"

    # -- truth ----------------------------------------------------------------------------------

    def true(self, node: Node) -> str:
        return self.truth(node, True)

    def false(self, node: Node) -> str:
        return self.truth(node, False)

    def truth(self, node: Node, want: bool) -> str:
        """Source of a Python bool: whether ``node`` is ``want`` (never true for unknown)."""
        match node:
            case Literal(value=value):
                return repr(value is want)
            case BoolOp(op=op, items=items):
                joiner = " and " if (op == "and") == want else " or "
                return "(" + joiner.join(self.truth(i, want) for i in items) + ")"
            case Unary(op="not", operand=operand):
                return self.truth(operand, not want)
            case IsNull(operand=Literal(value=value), negated=negated):
                return repr(((value is None) != negated) == want)
            case IsNull(operand=operand, negated=negated):
                is_null = (not negated) == want
                return f"({self.value(operand)} is {'' if is_null else 'not '}None)"
            case Compare():
                return self.compare(node, want)
            case In():
                return self.membership(node, want)
        return f"({self.value(node)} is {want})"

    def _const_operand(self, node: Node) -> str | None:
        if isinstance(node, Literal) and node.value is not None:
            return self.value(node)
        return None

    def _raw_ok(self, other: Node) -> bool:
        """A float may be compared to an exact integer literal without Decimal conversion."""
        return isinstance(other, Literal) and other.kind == "integer" and abs(other.value) < _EXACT_INT  # type: ignore[arg-type]

    def compare(self, node: Compare, want: bool) -> str:
        op = node.op if want else _NEGATED[node.op]
        left_c, right_c = self._const_operand(node.left), self._const_operand(node.right)
        if right_c is not None:
            left = self.value(node.left, raw_numbers=self._raw_ok(node.right))
            if op == "==":
                return f"({left} == {right_c})"
            t = self.tmp()
            return f"(({t} := {left}) is not None and {t} {_PY_OPS[op]} {right_c})"
        if left_c is not None:
            right = self.value(node.right, raw_numbers=self._raw_ok(node.left))
            if op == "==":
                return f"({left_c} == {right})"
            t = self.tmp()
            return f"(({t} := {right}) is not None and {left_c} {_PY_OPS[op]} {t})"
        a, b = self.tmp(), self.tmp()
        return (
            f"(({a} := {self.value(node.left)}) is not None and "
            f"({b} := {self.value(node.right)}) is not None and {a} {_PY_OPS[op]} {b})"
        )

    def membership(self, node: In, want: bool) -> str:
        positive = want != node.negated
        if isinstance(node.container, ListLiteral):
            items = [i.value for i in node.container.items]  # type: ignore[attr-defined]
            raw = all(isinstance(v, int) and abs(v) < _EXACT_INT for v in items)
            values = self.const(frozenset(items))
            item = self.value(node.item, raw_numbers=raw)
            if positive:
                return f"({item} in {values})"
            t = self.tmp()
            return f"(({t} := {item}) is not None and {t} not in {values})"
        c, i = self.tmp(), self.tmp()
        op = "in" if positive else "not in"
        return (
            f"(({c} := {self.value(node.container)}) is not None and "
            f"({i} := {self.value(node.item)}) is not None and {i} {op} {c})"
        )


def _prologue(gen: _Generator, indent: str) -> str:
    lines = []
    if gen.uses_now:
        lines.append(f"{indent}_now = _H.now_utc(now)\n")
    if gen.uses_today:
        lines.append(f"{indent}_today = _H.today(now)\n")
    return "".join(lines)


def generate(root: Node, checked: Checked) -> tuple[str, dict[str, Any]]:
    """Source of a factory returning ``(evaluate, matches)``, and the constants it closes over.

    Each public function reads fields with ``r[name]`` (the fastest load) and falls back to a
    twin using ``r.get(name)`` when a key is missing, so partial records read as nulls.
    """
    is_boolean = checked.type_of(root) == "boolean"
    constants: dict[str, Any] = {}
    bodies: dict[tuple[str, bool], str] = {}
    gens: dict[bool, _Generator] = {}
    for strict in (False, True):
        gen = _Generator(checked, strict, "_k" if strict else "_s")
        bodies["evaluate", strict] = gen.value(root)
        bodies["matches", strict] = gen.true(root) if is_boolean else f"({gen.value(root)} is True)"
        constants.update(gen.constants)
        gens[strict] = gen
    # positional defaults, not keyword-only ones: CPython fills keyword-only defaults from a
    # dict on every call, which costs about a third of a simple rule's time
    sig = "(r, now=None, old=None, loader=None)"
    out = [f"def _factory(_H, _D, _float, {', '.join(constants) or '_unused=None'}):\n"]
    for kind in ("evaluate", "matches"):
        out.append(
            f"    def _{kind}_safe{sig}:\n{_prologue(gens[False], '        ')}"
            f"        return {bodies[kind, False]}\n"
        )
        out.append(
            f"    def {kind}{sig}:\n{_prologue(gens[True], '        ')}"
            f"        try:\n            return {bodies[kind, True]}\n"
            f"        except KeyError:\n"
            f"            return _{kind}_safe(r, now=now, old=old, loader=loader)\n"
        )
    out.append("    return evaluate, matches\n")
    return "".join(out), constants


def build(root: Node, checked: Checked) -> tuple[Callable[..., Any], Callable[..., bool], str]:
    """Compile the generated source once; returns ``(evaluate, matches, source)``."""
    source, constants = generate(root, checked)
    namespace: dict[str, Any] = {"__builtins__": {"repr": repr, "len": len, "int": int, "KeyError": KeyError}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        code = compile(source, "<rule>", "exec")
    exec(code, namespace)  # source generated from the AST only, see the module docstring
    evaluate, matches = namespace["_factory"](runtime, Decimal, float, *constants.values())
    return evaluate, matches, source
