"""DSL type names and the field map: which names a rule may read and what type each one has."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from rule_engine.errors import RuleError
from rule_engine.messages import names, type_phrase

FIELD_TYPES: tuple[str, ...] = ("text", "number", "integer", "boolean", "date", "datetime", "list")
"""Type names a field map may use; ``list`` is a list of text."""

NUMERIC = frozenset({"integer", "number"})
ORDERED = frozenset({"integer", "number", "text", "date", "datetime"})
LOOKUP = "lookup"
NULL = "null"

FieldMap = Mapping[str, Any]
"""``name -> type name`` or ``name -> nested FieldMap`` (a lookup to another entity)."""


def validate_field_map(fields: FieldMap, prefix: str = "") -> None:
    """Refuse a malformed field map once, so the checker can trust it."""
    if not isinstance(fields, Mapping):
        raise RuleError(
            code="invalid_field_map", params={"reason": "not_mapping", "found": type(fields).__name__}
        )
    for name, kind in fields.items():
        if not isinstance(name, str) or not name or "." in name:
            raise RuleError(code="invalid_field_map", params={"reason": "bad_name", "found": name})
        if isinstance(kind, Mapping):
            validate_field_map(kind, f"{prefix}{name}.")
        elif kind not in FIELD_TYPES:
            raise RuleError(
                code="invalid_field_map",
                params={"found": kind, "field": prefix + name, "types": ", ".join(FIELD_TYPES)},
            )


FrozenFieldMap = tuple[tuple[str, "str | FrozenFieldMap"], ...]
"""A field map as nested sorted tuples: hashable, and equal for equal maps in any order."""


def freeze_field_map(fields: FieldMap) -> FrozenFieldMap:
    """A hashable, order-independent key for a field map (the compile cache key)."""
    return tuple(
        sorted(
            (name, freeze_field_map(kind) if isinstance(kind, Mapping) else kind)
            for name, kind in fields.items()
        )
    )


def nearest(name: str, candidates: list[str]) -> list[str]:
    """Up to three candidate names closest to ``name`` for "did you mean" hints."""
    return difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)


def resolve_path(fields: FieldMap, path: tuple[str, ...], line: int, column: int) -> str:
    """The DSL type at ``path`` (``lookup`` for a lookup field itself), or a RuleError."""
    scope: FieldMap = fields
    walked: list[str] = []
    for i, segment in enumerate(path):
        if segment not in scope:
            candidates = [k for k in scope if isinstance(k, str)]
            suggestions = nearest(segment, candidates)
            if walked:
                suggestions = [".".join([*walked, s]) for s in suggestions]
            params = {"found": ".".join([*walked, segment]), "candidates": names(candidates)}
            if walked:
                params.update(reason="in_lookup", lookup=".".join(walked))
            raise RuleError(
                code="unknown_field", line=line, column=column, suggestions=suggestions, params=params
            )
        kind: str | FieldMap = scope[segment]
        walked.append(segment)
        if isinstance(kind, Mapping):
            if i == len(path) - 1:
                return LOOKUP
            scope = kind
            continue
        if i != len(path) - 1:
            raise RuleError(
                code="not_a_lookup",
                line=line,
                column=column,
                params={"found": ".".join(walked), "path": ".".join(path), "kind": type_phrase(kind)},
            )
        return kind
    raise AssertionError("empty path")  # pragma: no cover


def unify(a: str, b: str) -> str | None:
    """The common type of two branches (null joins anything; integer widens to number)."""
    if a == NULL:
        return b
    if b == NULL:
        return a
    if a == b:
        return a
    if a in NUMERIC and b in NUMERIC:
        return "number"
    return None
