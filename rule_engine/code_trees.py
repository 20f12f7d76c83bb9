"""Text fields that hold hierarchical codes, compared by the names of what they lie in.

A field map entry :class:`CodeTree` marks a text field whose values are codes in which a
prefix is an ancestor (``310115`` lies in ``3101`` lies in ``31``), and lets rules name the
ancestor instead of spelling prefixes: ``region in ['华东', '苏州']`` or ``region == '上海'``.
Before type checking, :func:`expand` rewrites each such comparison into ``starts_with`` tests
of the prefixes the names stand for, so both backends run plain DSL and agree by construction;
a name the tree does not know is refused when the rule is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from rule_engine.errors import RuleError
from rule_engine.messages import option_list
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
    text_literal,
)


class Resolution(NamedTuple):
    """What a name in a rule stands for: the code prefixes of everything inside it, or none and
    the places it may mean (``candidates``: it is ambiguous) or the nearest names (unknown)."""

    prefixes: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    nearest: tuple[str, ...] = ()


Lookup = Callable[[str], Resolution]


@dataclass(frozen=True)
class CodeTree:
    """A field map entry for a text field of hierarchical codes (DSL type ``text``).

    ``key`` identifies the tree and its groupings (it is part of the compile cache key); equal
    keys must mean equal ``lookup`` answers. ``lookup`` is not compared.
    """

    key: str
    lookup: Lookup = field(compare=False)

    @property
    def kind(self) -> str:
        return "text"


def expand(root: Node, fields: Mapping[str, object]) -> Node:
    """``root`` with every comparison of a code-tree field with names rewritten as prefix tests;
    the same object when the rule has none."""
    trees = {name: entry for name, entry in fields.items() if isinstance(entry, CodeTree)}
    if not trees:
        return root
    return _Expander(trees).visit(root)


def expand_related(root: Node, relations: Mapping[str, object]) -> Node:
    """``root`` with the condition of each quantifier expanded against its related entity's
    code trees (``relations`` maps entity names to :class:`~rule_engine.Relation`, whose
    ``fields`` the condition reads); the same object when nothing changes."""
    if isinstance(root, Quantifier):
        relation = relations.get(root.relation)
        fields = getattr(relation, "fields", None)
        if root.condition is None or not isinstance(fields, Mapping):
            return root
        condition = expand(root.condition, fields)
        return root if condition is root.condition else replace(root, condition=condition)
    kids = children(root)
    rebuilt = tuple(expand_related(k, relations) for k in kids)
    if all(a is b for a, b in zip(rebuilt, kids, strict=True)):
        return root
    return _rebuild(root, rebuilt)


class _Expander:
    def __init__(self, trees: dict[str, CodeTree]) -> None:
        self.trees = trees

    def tree(self, node: Node) -> CodeTree | None:
        if isinstance(node, Field) and len(node.path) == 1:
            return self.trees.get(node.path[0])
        return None

    def visit(self, node: Node) -> Node:
        if isinstance(node, Compare) and node.op in ("==", "!="):
            for subject, value in ((node.left, node.right), (node.right, node.left)):
                tree = self.tree(subject)
                if tree is not None and _text(value):
                    assert isinstance(subject, Field)
                    return self.within(node, subject, tree, [value], negated=node.op == "!=")
        if isinstance(node, In) and isinstance(node.container, ListLiteral):
            tree = self.tree(node.item)
            items = node.container.items
            if tree is not None and items and all(_text(i) for i in items):
                assert isinstance(node.item, Field)
                return self.within(node, node.item, tree, list(items), negated=node.negated)
        kids = children(node)
        if not kids:
            return node
        rebuilt = tuple(self.visit(k) for k in kids)
        if all(a is b for a, b in zip(rebuilt, kids, strict=True)):
            return node
        return _rebuild(node, rebuilt)

    def within(
        self, node: Node, subject: Field, tree: CodeTree, values: list[Node], *, negated: bool
    ) -> Node:
        prefixes: list[str] = []
        for value in values:
            assert isinstance(value, Literal) and isinstance(value.value, str)
            found = tree.lookup(value.value)
            if not found.prefixes:
                raise _unknown(subject, value, found)
            prefixes += [p for p in found.prefixes if p not in prefixes]
        tests: list[Node] = [
            Call(node.line, node.column, "starts_with", (subject, Literal(node.line, node.column, p, "text")))
            for p in prefixes
        ]
        test = tests[0] if len(tests) == 1 else BoolOp(node.line, node.column, "or", tuple(tests))
        return Unary(node.line, node.column, "not", test) if negated else test


def _text(node: Node) -> bool:
    return isinstance(node, Literal) and isinstance(node.value, str)


def _unknown(subject: Field, value: Literal, found: Resolution) -> RuleError:
    assert isinstance(value.value, str)
    params: dict[str, object] = {"found": value.value, "field": subject.name}
    if found.candidates:
        params.update(reason="ambiguous", candidates=option_list([text_literal(c) for c in found.candidates]))
    return RuleError(
        code="unknown_name",
        line=value.line,
        column=value.column,
        suggestions=[text_literal(n) for n in found.nearest[:3]],
        params=params,
    )


def _rebuild(node: Node, kids: tuple[Node, ...]) -> Node:
    """``node`` with its direct sub-nodes replaced, in the order :func:`children` gives them."""
    match node:
        case ListLiteral():
            return replace(node, items=kids)
        case BoolOp():
            return replace(node, items=kids)
        case Unary() | IsNull():
            return replace(node, operand=kids[0])
        case Compare() | Binary():
            return replace(node, left=kids[0], right=kids[1])
        case In():
            return replace(node, item=kids[0], container=kids[1])
        case Call():
            return replace(node, args=kids)
    raise AssertionError(node)  # pragma: no cover
