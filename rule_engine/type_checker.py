"""Static typing of an AST against a field map: every type error is found before anything runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from rule_engine.errors import RuleError
from rule_engine.functions import FUNCTIONS, ArgTypeError
from rule_engine.messages import kind_phrase, names, option_list, phrase, type_phrase
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
    literal_text,
    text_literal,
)
from rule_engine.regex import translate
from rule_engine.runtime import temporal_literal
from rule_engine.types import (
    NULL,
    NUMERIC,
    ORDERED,
    Choices,
    FieldMap,
    Relations,
    nearest,
    resolve_path,
    unify,
)

QUANTIFIERS: dict[str, str] = {"any": "boolean", "none": "boolean", "count": "integer"}
"""Quantifier name -> its DSL type; ``any``/``none`` are never null, ``count`` never either."""

_EQUATABLE = frozenset({"text", "number", "integer", "boolean", "date", "datetime"})


@dataclass
class Checked:
    """The checker's findings: a type per node (keyed by ``id``) and the field paths read."""

    types: dict[int, str] = field(default_factory=dict)
    fields: set[str] = field(default_factory=set)
    uses_old: bool = False
    relations: dict[str, set[str]] = field(default_factory=dict)
    """Related entity -> the field paths of it a quantifier reads (its link included)."""

    def type_of(self, node: Node) -> str:
        return self.types[id(node)]


def _mismatch(node: Node, found: str, expected: str) -> RuleError:
    """``found`` and ``expected`` are phrases of :mod:`rule_engine.messages`, so both languages read well."""
    return RuleError(
        code="type_mismatch",
        line=node.line,
        column=node.column,
        params={"found": found, "expected": expected},
    )


def _result_mismatch(root: Node, found: str, expect: str) -> RuleError:
    if expect == "boolean":
        params = {"reason": "condition", "found": kind_phrase(found)}
    else:
        params = {"reason": "result", "found": type_phrase(found), "expected": type_phrase(expect)}
    return RuleError(code="type_mismatch", line=root.line, column=root.column, params=params)


class TypeChecker:
    """Walks the AST once; raises the first RuleError it meets, in source order."""

    def __init__(self, fields: FieldMap, relations: Relations | None = None) -> None:
        self.field_map = fields
        self.relations: Relations = relations or {}
        self.result = Checked()
        self.choices: dict[int, Choices] = {}
        self.inside: Quantifier | None = None

    def check(self, node: Node, expect: str | None = None) -> Checked:
        kind = self._visit(node)
        if expect is not None and kind != expect and not (expect == "number" and kind == "integer"):
            raise _result_mismatch(node, kind, expect)
        return self.result

    def _visit(self, node: Node) -> str:
        kind = self._infer(node)
        self.result.types[id(node)] = kind
        return kind

    def _infer(self, node: Node) -> str:
        match node:
            case Literal(kind=kind):
                return kind
            case ListLiteral():
                raise _mismatch(node, phrase("list_literal"), phrase("value_not_list"))
            case Field(path=path):
                kind, choices = resolve_path(self.field_map, path, node.line, node.column)
                if choices is not None:
                    self.choices[id(node)] = choices
                self.result.fields.add(node.name)
                return kind
            case Unary(op="-", operand=operand):
                self._expect(operand, NUMERIC, kind_phrase("number"))
                return self.result.type_of(operand)
            case Unary(op="not", operand=operand):
                self._expect(operand, {"boolean"}, phrase("condition"))
                return "boolean"
            case Binary():
                return self._binary(node)
            case Compare():
                return self._compare(node)
            case BoolOp(items=items):
                for item in items:
                    self._expect(item, {"boolean"}, phrase("condition"))
                return "boolean"
            case In():
                return self._in(node)
            case IsNull(operand=operand):
                self._visit(operand)
                return "boolean"
            case Call():
                return self._call(node)
            case Quantifier():
                return self._quantifier(node)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def _expect(self, node: Node, allowed: set[str] | frozenset[str], expected: str) -> str:
        kind = self._visit(node)
        if kind not in allowed:
            raise _mismatch(node, kind_phrase(kind), expected)
        return kind

    def _binary(self, node: Binary) -> str:
        left = self._visit(node.left)
        right = self._visit(node.right)
        if node.op == "+" and left == "text":
            if right != "text":
                raise _mismatch(node.right, kind_phrase(right), phrase("join_text"))
            return "text"
        if node.op == "%":
            for side, kind in ((node.left, left), (node.right, right)):
                if kind != "integer":
                    raise _mismatch(side, kind_phrase(kind), phrase("modulo_integer"))
            return "integer"
        expected = phrase("number_or_text") if node.op == "+" else kind_phrase("number")
        for side, kind in ((node.left, left), (node.right, right)):
            if kind not in NUMERIC:
                raise _mismatch(side, kind_phrase(kind), expected)
        if node.op == "/":
            return "number"
        return "integer" if left == right == "integer" else "number"

    def _compare(self, node: Compare) -> str:
        left = self._visit(node.left)
        right = self._visit(node.right)
        for side, kind in ((node.left, left), (node.right, right)):
            if kind == NULL:
                raise RuleError(
                    code="null_comparison",
                    line=side.line,
                    column=side.column,
                    params={"op": node.op},
                )
        allowed = _EQUATABLE if node.op in ("==", "!=") else ORDERED
        if left not in allowed:
            what = phrase("comparable") if node.op in ("==", "!=") else phrase("ordered")
            raise _mismatch(node.left, kind_phrase(left), what)
        if unify(left, right) is None:
            expected = kind_phrase(left)
            if {left, right} == {"date", "datetime"}:
                expected = phrase("wrap_date", kind=expected)
            raise _mismatch(node.right, kind_phrase(right), expected)
        if node.op in ("==", "!="):
            self._option(node.left, node.right, multiple=False)
            self._option(node.right, node.left, multiple=False)
        return "boolean"

    def _option(self, subject: Node, value: Node, *, multiple: bool) -> None:
        """Refuse a text literal that is no option of the select (or, ``multiple``, the
        multi-select) field ``subject``: the comparison could not mean what its author meant."""
        choices = self.choices.get(id(subject))
        if (
            choices is None
            or choices.multiple != multiple
            or not isinstance(subject, Field)
            or not isinstance(value, Literal)
            or not isinstance(value.value, str)
            or value.value in choices.options
        ):
            return
        raise RuleError(
            code="unknown_option",
            line=value.line,
            column=value.column,
            suggestions=[text_literal(o) for o in choices.nearest(value.value)],
            params={
                "found": text_literal(value.value),
                "field": subject.name,
                "candidates": option_list([text_literal(o) for o in choices.options]),
            },
        )

    def _in(self, node: In) -> str:
        item = self._visit(node.item)
        container = node.container
        if isinstance(container, ListLiteral):
            if not container.items:
                raise _mismatch(container, phrase("empty_list"), phrase("nonempty_list"))
            if item not in _EQUATABLE:
                raise _mismatch(node.item, kind_phrase(item), phrase("comparable"))
            for element in container.items:
                kind = self._visit(element)
                if not isinstance(element, Literal) or kind == NULL:
                    raise _mismatch(
                        element,
                        kind_phrase(kind) if kind == NULL else phrase("expression"),
                        phrase("list_item_literal"),
                    )
                if unify(item, kind) is None:
                    raise _mismatch(element, kind_phrase(kind), kind_phrase(item))
                self._option(node.item, element, multiple=False)
            self.result.types[id(container)] = "list"
            return "boolean"
        kind = self._visit(container)
        if kind != "list":
            raise _mismatch(container, kind_phrase(kind), phrase("list_after_in"))
        if item != "text":
            raise _mismatch(node.item, kind_phrase(item), phrase("text_in_list"))
        self._option(container, node.item, multiple=True)
        return "boolean"

    def _call(self, node: Call) -> str:
        spec = FUNCTIONS.get(node.name)
        if spec is None:
            raise RuleError(
                code="unknown_function",
                line=node.line,
                column=node.column,
                suggestions=nearest(node.name, list(FUNCTIONS)),
                params={"found": node.name, "candidates": ", ".join(sorted(FUNCTIONS))},
            )
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            if spec.max_args is None:
                want = phrase("count.at_least", n=spec.min_args)
            elif spec.min_args == spec.max_args:
                want = phrase("count.exact", n=spec.min_args)
            else:
                want = phrase("count.between", low=spec.min_args, high=spec.max_args)
            raise RuleError(
                code="arity",
                line=node.line,
                column=node.column,
                params={"found": count, "expected": want, "function": node.name, "signature": spec.signature},
            )
        types = [self._visit(arg) for arg in node.args]
        try:
            kind = spec.rule(types, node.args)
        except ArgTypeError as exc:
            arg = node.args[exc.index]
            expected = phrase("argument", expected=exc.expected, index=exc.index + 1, function=node.name)
            raise _mismatch(arg, kind_phrase(types[exc.index]), expected) from None
        if node.name in ("changed", "old"):
            if self.inside is not None:
                params = {"found": node.name, "outer": self.inside.op}
                raise RuleError(code="quantifier_body", line=node.line, column=node.column, params=params)
            self.result.uses_old = True
        if node.name in ("date", "datetime") and types[0] == "text":
            arg = node.args[0]
            temporal_literal(literal_text(arg), node.name, arg.line, arg.column)
        if node.name == "matches":
            arg = node.args[1]
            translate(literal_text(arg), arg.line, arg.column)
        if node.name == "contains":
            self._option(node.args[0], node.args[1], multiple=True)
        return kind

    def _quantifier(self, node: Quantifier) -> str:
        """Check ``op(relation via link: condition)``: a known quantifier, a relation, a lookup of
        it pointing here, and the condition typed against the related entity's own fields."""
        kind = QUANTIFIERS.get(node.op)
        if kind is None:
            raise RuleError(
                code="unknown_function",
                line=node.line,
                column=node.column,
                suggestions=nearest(node.op, list(QUANTIFIERS)),
                params={
                    "reason": "quantifier",
                    "found": node.op,
                    "candidates": ", ".join(sorted(QUANTIFIERS)),
                },
            )
        if self.inside is not None:
            params = {"reason": "nested", "found": node.relation, "outer": self.inside.op}
            raise RuleError(code="unknown_relation", line=node.line, column=node.column, params=params)
        relation = self.relations.get(node.relation)
        if relation is None:
            candidates = sorted(self.relations)
            raise RuleError(
                code="unknown_relation",
                line=node.relation_at[0],
                column=node.relation_at[1],
                suggestions=nearest(node.relation, candidates),
                params={"found": node.relation, "candidates": names(candidates)},
            )
        if node.via not in relation.links:
            raise RuleError(
                code="not_a_link",
                line=node.via_at[0],
                column=node.via_at[1],
                suggestions=nearest(node.via, list(relation.links)),
                params={"found": node.via, "relation": node.relation, "candidates": names(relation.links)},
            )
        read = self.result.relations.setdefault(node.relation, set())
        read.add(node.via)
        if node.condition is not None:
            inner = TypeChecker(relation.fields)
            inner.result.types = self.result.types
            inner.inside = node
            inner._expect(node.condition, {"boolean"}, phrase("condition"))
            read |= inner.result.fields
        return kind


def check(
    node: Node, fields: FieldMap, expect: str | None = None, relations: Relations | None = None
) -> Checked:
    """Type-check ``node`` against ``fields``; raises RuleError on the first problem.

    ``expect`` is the type the whole expression must have (``boolean`` for a condition: a rule,
    a filter, a visibility test); ``number`` also takes an integer.
    """
    return TypeChecker(fields, relations).check(node, expect)
