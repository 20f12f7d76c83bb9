"""Python backend: generate the source of one function per rule from the AST, compile it once.

User text never reaches ``compile``: names in the generated source come from this module, field
names and strings only as ``repr`` of validated ``str`` constants, other constants (Decimals,
dates, regexes, sets) as closure variables. Booleans are generated twice, as "is true" and "is
false" predicates, so ``matches`` short-circuits like a hand-written lambda while keeping SQL's
three-valued logic. Null-strict subexpressions (arithmetic, comparisons, text methods) are
spelled as one null check per field followed by the bare Python expression, and a field read
twice is loaded into a local once, so the common case runs the same bytecode as a lambda.

Datetimes are compared as aware instants. The kernel hands rules aware datetimes, so an ordering
comparison of a datetime field uses the value as it is; a naive one makes Python raise TypeError,
and the function runs again on a copy of the record whose naive datetimes are made UTC. Equality
cannot rely on that (naive == aware is False, not an error), so there a naive value is converted
inline.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from decimal import Context, Decimal, Inexact
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
    children,
    literal_integer,
    literal_text,
    literal_value,
)
from rule_engine.regex import MAX_INPUT, translate
from rule_engine.type_checker import Checked

_PY_OPS = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_EXACT_INT = 2**53


_STRICT_METHODS = {"lower": ".lower()", "upper": ".upper()", "trim": f".strip({runtime.BLANK!r})"}
_STRICT_CALLS = frozenset({*_STRICT_METHODS, "len", "abs", "starts_with", "ends_with", "contains"})
_ORDERING = frozenset({"<", "<=", ">", ">="})


def _children(node: Node) -> tuple[Node, ...]:
    """Sub-nodes read from the record (the field of ``changed``/``old`` is named, not read)."""
    if isinstance(node, Call) and node.name in ("changed", "old"):
        return ()
    return children(node)


def _repeated_fields(root: Node) -> list[str]:
    """Plain field names read more than once: loaded into a local once per call."""
    counts: dict[str, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Field) and len(node.path) == 1:
            counts[node.path[0]] = counts.get(node.path[0], 0) + 1
        stack.extend(_children(node))
    return [name for name, count in counts.items() if count > 1]


def _merge(*guard_lists: list[str]) -> list[str]:
    return list(dict.fromkeys(g for guards in guard_lists for g in guards))


def _exact_reciprocal(divisor: int | Decimal) -> Decimal | None:
    """``1 / divisor`` when it is an exact decimal (divisor 2**a * 5**b, e.g. 1000 or 0.25).

    Then ``x / divisor`` and ``x * reciprocal`` are the same exact value rounded the same way,
    and a multiplication is about twice as fast; only the exponent of the result may differ, so
    it is used where the value is only compared, never returned.
    """
    context = Context(prec=60, traps=[Inexact])
    try:
        return context.divide(Decimal(1), Decimal(divisor))
    except Inexact:
        return None


Strict = tuple[list[str], str]
"""A null-strict expression: guards that bind and null-check its leaves, and the source of its
value once every guard passed (null exactly when some leaf is null)."""


class _Generator:
    def __init__(self, checked: Checked, hoisted: dict[str, str]) -> None:
        self.checked = checked
        self.hoisted = hoisted
        self.known: set[str] = set()
        self.comparing = 0
        self.constants: dict[str, Any] = {}
        self.temp = 0
        self.uses_now = False
        self.uses_today = False
        self.raw_datetimes = False

    def const(self, value: Any) -> str:
        name = f"_k{len(self.constants)}"
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
        return self.hoisted.get(node.path[0]) or f"r[{node.path[0]!r}]"

    def value(self, node: Node, raw_numbers: bool = False) -> str:
        kind = self.type_of(node)
        if not isinstance(node, Field | Literal):
            found = self.strict(node)
            if found is not None:
                guards, raw = found
                return f"({raw} if {' and '.join(guards)} else None)" if guards else raw
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
                    t = self.tmp()
                    return f"({t} if ({t} := {load}) is None or {t}.tzinfo is not None else _H.dt({t}))"
                return load
            case Unary(op="-", operand=operand):
                t = self.tmp()
                return f"(None if ({t} := {self.value(operand)}) is None else -{t})"
            case Binary(op=op, left=left, right=right):
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
            case Quantifier():
                return self.quantifier(node)
        if kind == "boolean":
            if isinstance(node, IsNull):
                return self.true(node)
            return f"(True if {self.true(node)} else (False if {self.false(node)} else None))"
        raise AssertionError(node)  # pragma: no cover

    def _num(self, load: str) -> str:
        if load.isidentifier():
            return f"(_D(repr({load})) if {load}.__class__ is _float else {load})"
        t = self.tmp()
        return f"(_D(repr({t})) if ({t} := {load}).__class__ is _float else {t})"

    def strict(self, node: Node, raw_numbers: bool = False, ordered: bool = False) -> Strict | None:
        """The node as guards and a bare expression, when every operation in it is null-strict.

        This is the hot path: no helper call and one null check per field, like a hand-written
        lambda. Nodes with other null rules (coalesce, if, division by a non-literal) get None.
        ``ordered``: the node is an operand of ``<``/``<=``/``>``/``>=`` (see the module docstring).
        """
        match node:
            case Literal(value=value):
                return None if value is None else ([], self.value(node))
            case Field():
                return self.strict_field(node, raw_numbers, ordered)
            case Unary(op="-", operand=operand):
                inner = self.strict(operand)
                return None if inner is None else (inner[0], f"(-{inner[1]})")
            case Binary(op="+" | "-" | "*" as op, left=left, right=right):
                a, b = self.strict(left), self.strict(right)
                if a is None or b is None:
                    return None
                return _merge(a[0], b[0]), f"({a[1]} {op} {b[1]})"
            case Binary(op="/", left=left, right=Literal(value=int() | Decimal() as divisor)) if divisor:
                reciprocal = _exact_reciprocal(divisor) if self.comparing else None
                a = self.strict(left, raw_numbers=reciprocal is None)
                if a is None:
                    return None
                if reciprocal is not None:
                    return a[0], f"({a[1]} * {self.const(reciprocal)})"
                t = self.tmp()
                exact = f"({t} if ({t} := {a[1]}).__class__ is _Dec else _H.to_dec({t}))"
                return a[0], f"({exact} / {self.value(node.right)})"
            case Compare(op=op):
                return self.strict_compare(node, op)
            case In(item=item, container=container) if not isinstance(container, ListLiteral):
                a, b = self.strict(item), self.strict(container)
                if a is None or b is None:
                    return None
                return _merge(a[0], b[0]), f"({a[1]} {'not in' if node.negated else 'in'} {b[1]})"
            case Call():
                return self.strict_call(node)
        return None

    def strict_field(self, node: Field, raw_numbers: bool, ordered: bool = False) -> Strict:
        local = self.hoisted.get(node.path[0]) if len(node.path) == 1 else None
        if local is not None:
            name = local
            guards = [] if local in self.known else [f"{local} is not None"]
        else:
            name = self.tmp()
            guards = [f"({name} := {self.raw_field(node)}) is not None"]
        kind = self.type_of(node)
        if kind in ("number", "integer") and not raw_numbers:
            return guards, f"(_D(repr({name})) if {name}.__class__ is _float else {name})"
        if kind == "datetime":
            if ordered and len(node.path) == 1:
                self.raw_datetimes = True
                return guards, name
            return guards, f"({name} if {name}.tzinfo is not None else _H.dt({name}))"
        return guards, name

    def strict_compare(self, node: Compare, op: str) -> Strict | None:
        self.comparing += 1
        ordered = op in _ORDERING
        try:
            a = self.strict(node.left, raw_numbers=self._raw_ok(node.right), ordered=ordered)
            b = None if a is None else self.strict(node.right, self._raw_ok(node.left), ordered)
        finally:
            self.comparing -= 1
        if a is None or b is None:
            return None
        return _merge(a[0], b[0]), f"({a[1]} {_PY_OPS[op]} {b[1]})"

    def strict_call(self, node: Call) -> Strict | None:
        name, args = node.name, node.args
        if name in ("today", "now") or (name in ("date", "datetime") and self.type_of(args[0]) == "text"):
            return [], self.call(node)
        if name not in _STRICT_CALLS:
            return None
        parts: list[Strict] = []
        for arg in args:
            part = self.strict(arg)
            if part is None:
                return None
            parts.append(part)
        guards = _merge(*(p[0] for p in parts))
        raw = [p[1] for p in parts]
        if name in _STRICT_METHODS:
            return guards, f"{raw[0]}{_STRICT_METHODS[name]}"
        if name in ("len", "abs"):
            return guards, f"{name}({raw[0]})"
        if name == "contains":
            return guards, f"({raw[1]} in {raw[0]})"
        method = "startswith" if name == "starts_with" else "endswith"
        return guards, f"{raw[0]}.{method}({raw[1]})"

    def call(self, node: Call) -> str:
        name, args = node.name, node.args
        if name == "today":
            self.uses_today = True
            return "_today"
        if name == "now":
            self.uses_now = True
            return "_now"
        if name in ("date", "datetime") and self.type_of(args[0]) == "text":
            value = runtime.temporal_literal(literal_text(args[0]), name)
            return self.const(value)
        if name == "matches":
            pattern = self.const(translate(literal_text(args[1])).compiled())
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
            digits = literal_integer(args[1]) if len(args) > 1 else 0
            return f"_H.round_({self.value(args[0])}, {int(digits)})"
        if name == "changed":
            assert isinstance(args[0], Field)
            return f"_H.changed(r, old, {args[0].path[0]!r})"
        if name == "old":
            assert isinstance(args[0], Field)
            return f"(None if old is None else _H.normalise(old.get({args[0].path[0]!r})))"
        if name == "is_blank":
            return self.blank(args[0], True)
        helper = runtime.CALLS[name].__name__
        return f"_H.{helper}({', '.join(self.value(a) for a in args)})"

    def quantifier(self, node: Quantifier) -> str:
        """``any``/``none``/``count`` through the caller's ``related`` resolver; the condition
        is its own generated ``matches`` function over each related row."""
        condition = "None"
        if node.condition is not None:
            condition = self.const(build(node.condition, self.checked, "matches")[0])
        return f"_H.quantify(related, {node.op!r}, {node.relation!r}, {node.via!r}, r, {condition}, now)"

    def blank(self, arg: Node, want: bool) -> str:
        """``is_blank(arg)`` (never null) inline: a null test, then emptiness by the arg's type."""
        kind = self.type_of(arg)
        local = self.hoisted.get(arg.path[0]) if isinstance(arg, Field) and len(arg.path) == 1 else None
        if local is not None:
            subject, null = local, ("False" if local in self.known else f"{local} is None")
        else:
            subject = self.tmp()
            load = self.raw_field(arg) if isinstance(arg, Field) else self.value(arg, raw_numbers=True)
            null = f"({subject} := {load}) is None"
        if kind == "text":
            empty = f"not {subject}.strip({runtime.BLANK!r})"
        elif kind == "list":
            empty = f"not {subject}"
        else:
            return f"({null})" if want else f"(not {null})"
        test = empty if null == "False" else f"{null} or {empty}"
        return f"({test})" if want else f"(not ({test}))"

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
                conjunction = (op == "and") == want
                saved = set(self.known)
                parts = []
                for item in items:
                    parts.append(self.truth(item, want))
                    if conjunction:
                        self.known |= self.facts(item, want)
                    elif _never_null(item):
                        # the next item runs only when this one was not ``want``: it was the other
                        self.known |= self.facts(item, not want)
                self.known = saved
                return "(" + (" and " if conjunction else " or ").join(parts) + ")"
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
            case Call(name="is_blank", args=(arg,)):
                return self.blank(arg, want)
            case Call() if self.type_of(node) == "boolean":
                found = self.strict(node)
                if found is not None:
                    guards, raw = found
                    return "(" + " and ".join([*guards, raw if want else f"not {raw}"]) + ")"
        return f"({self.value(node)} is {want})"

    def facts(self, node: Node, want: bool) -> set[str]:
        """Hoisted locals known not to be null once ``truth(node, want)`` held."""
        match node:
            case BoolOp(op=op, items=items) if (op == "and") == want:
                return set().union(*(self.facts(i, want) for i in items))
            case Unary(op="not", operand=operand):
                return self.facts(operand, not want)
            case IsNull(operand=Field() as field, negated=negated) if negated == want:
                return self._locals(field)
            case Call(name="is_blank", args=(arg,)) if not want:
                return self._locals(arg)
            case Compare(left=left, right=right):
                return self._locals(left) | self._locals(right)
            case In(item=item, container=container):
                return self._locals(item) | self._locals(container)
        return set()

    def _locals(self, node: Node) -> set[str]:
        """Hoisted fields that cannot be null when the null-strict ``node`` is not null."""
        match node:
            case Field(path=(name,)) if name in self.hoisted:
                return {self.hoisted[name]}
            case Unary(op="-") | Binary(op="+" | "-" | "*") | Compare():
                return set().union(*(self._locals(c) for c in _children(node)))
            case Binary(op="/", left=left, right=Literal(value=divisor)) if divisor:
                return self._locals(left)
            case Call(name=name, args=args) if name in _STRICT_CALLS:
                return set().union(*(self._locals(a) for a in args))
        return set()

    def _const_operand(self, node: Node) -> str | None:
        if isinstance(node, Literal) and node.value is not None:
            return self.value(node)
        return None

    def _raw_ok(self, other: Node) -> bool:
        """A float may be compared to an exact integer literal without Decimal conversion."""
        return (
            isinstance(other, Literal)
            and other.kind == "integer"
            and isinstance(other.value, int)
            and abs(other.value) < _EXACT_INT
        )

    def compare(self, node: Compare, want: bool) -> str:
        op = node.op if want else _NEGATED[node.op]
        left_c, right_c = self._const_operand(node.left), self._const_operand(node.right)
        if op == "==" and right_c is not None:
            return f"({self.value(node.left, raw_numbers=self._raw_ok(node.right))} == {right_c})"
        if op == "==" and left_c is not None:
            return f"({left_c} == {self.value(node.right, raw_numbers=self._raw_ok(node.left))})"
        found = self.strict_compare(node, op)
        if found is not None:
            return "(" + " and ".join([*found[0], found[1]]) + ")"
        a, b = self.tmp(), self.tmp()
        return (
            f"(({a} := {self.value(node.left)}) is not None and "
            f"({b} := {self.value(node.right)}) is not None and {a} {_PY_OPS[op]} {b})"
        )

    def membership(self, node: In, want: bool) -> str:
        positive = want != node.negated
        if isinstance(node.container, ListLiteral):
            items = [literal_value(i) for i in node.container.items]
            raw = all(isinstance(v, int) and abs(v) < _EXACT_INT for v in items)
            values = self.const(frozenset(items))
            if positive:
                return f"({self.value(node.item, raw_numbers=raw)} in {values})"
            found = self.strict(node.item, raw_numbers=raw)
            if found is not None:
                return "(" + " and ".join([*found[0], f"{found[1]} not in {values}"]) + ")"
            t = self.tmp()
            return f"(({t} := {self.value(node.item, raw_numbers=raw)}) is not None and {t} not in {values})"
        c, i = self.tmp(), self.tmp()
        op = "in" if positive else "not in"
        return (
            f"(({c} := {self.value(node.container)}) is not None and "
            f"({i} := {self.value(node.item)}) is not None and {i} {op} {c})"
        )


def _never_null(node: Node) -> bool:
    """Whether the boolean ``node`` is always true or false, never unknown."""
    match node:
        case IsNull() | Call(name="is_blank" | "changed") | Quantifier():
            return True
        case Unary(op="not", operand=operand):
            return _never_null(operand)
    return False


def _prologue(gen: _Generator, indent: str) -> str:
    lines = []
    if gen.uses_now:
        lines.append(f"{indent}_now = _H.now_utc(now)\n")
    if gen.uses_today:
        lines.append(f"{indent}_today = _H.today(now)\n")
    return "".join(lines)


def generate(root: Node, checked: Checked, kind: str) -> tuple[str, dict[str, Any]]:
    """Source of a factory returning the ``kind`` function (``evaluate`` or ``matches``), and the
    constants it closes over.

    The function reads fields with ``r[name]`` (the fastest load), a field read more than once
    into a local first; on a missing key it runs again on a copy that reads missing keys as null.
    """
    hoisted = {name: f"_f{i}" for i, name in enumerate(_repeated_fields(root))}
    gen = _Generator(checked, hoisted)
    if kind == "evaluate":
        body = gen.value(root)
    elif checked.type_of(root) == "boolean":
        body = gen.true(root)
    else:
        body = f"({gen.value(root)} is True)"
    loads = "".join(f"            {local} = r[{name!r}]\n" for name, local in hoisted.items())
    # a naive datetime met by an ordering comparison raises TypeError: run again on a copy
    # that also makes datetimes aware (see the module docstring)
    retried, copy = ("KeyError", "_Nulls")
    if gen.raw_datetimes:
        retried, copy = "(KeyError, TypeError)", "_H.aware_copy"
    # positional defaults, not keyword-only ones: CPython fills keyword-only defaults from a
    # dict on every call, which costs about a third of a simple rule's time
    source = (
        f"def _factory(_H, _D, _Dec, _float, _Nulls, {', '.join(gen.constants) or '_unused=None'}):\n"
        f"    def {kind}(r, now=None, old=None, loader=None, related=None):\n{_prologue(gen, '        ')}"
        f"        try:\n{loads}            return {body}\n"
        f"        except {retried}:\n"
        f"            if r.__class__ is _Nulls:\n                raise\n"
        f"            return {kind}({copy}(r), now, old, loader, related)\n"
        f"    return {kind}\n"
    )
    return source, gen.constants


_NAMESPACE = {"repr": repr, "len": len, "abs": abs, "int": int, "KeyError": KeyError, "TypeError": TypeError}


def build(root: Node, checked: Checked, kind: str) -> tuple[Callable[..., Any], str]:
    """Compile the generated ``kind`` function once; returns it and its source."""
    source, constants = generate(root, checked, kind)
    namespace: dict[str, Any] = {"__builtins__": _NAMESPACE}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        code = compile(source, "<rule>", "exec")
    exec(code, namespace)  # source generated from the AST only, see the module docstring
    function = namespace["_factory"](
        runtime, Decimal, Decimal, float, runtime.MissingAsNull, *constants.values()
    )
    return function, source
