"""DSL type names and the field map: which names a rule may read and what type each one has."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rule_engine.code_trees import CodeTree
from rule_engine.errors import RuleError
from rule_engine.messages import names, type_phrase

FIELD_TYPES: tuple[str, ...] = ("text", "number", "integer", "boolean", "date", "datetime", "list")
"""Type names a field map may use; ``list`` is a list of text."""

NUMERIC = frozenset({"integer", "number"})
ORDERED = frozenset({"integer", "number", "text", "date", "datetime"})
LOOKUP = "lookup"
NULL = "null"


@dataclass(frozen=True, slots=True, init=False)
class Choices:
    """A field map entry for a field that holds one of fixed ``options`` (a select: DSL type
    ``text``) or several of them (``multiple``: DSL type ``list``).

    The checker refuses a comparison of the field with a text literal that is no option: its
    answer would be the same for every record, never what the author meant. ``labels``
    (``label -> option``) let it suggest the option a person meant when they wrote what they see
    on screen.

    >>> Choices(["lead", "won"], labels={"Won": "won", "赢单": "won"}).kind
    'text'
    """

    options: tuple[str, ...]
    multiple: bool
    labels: tuple[tuple[str, str], ...]

    def __init__(
        self, options: Iterable[str], *, multiple: bool = False, labels: Mapping[str, str] | None = None
    ) -> None:
        object.__setattr__(self, "options", tuple(options))
        object.__setattr__(self, "multiple", multiple)
        object.__setattr__(self, "labels", tuple(sorted((labels or {}).items())))

    @property
    def kind(self) -> str:
        """The DSL type of the field."""
        return "list" if self.multiple else "text"

    def nearest(self, value: str) -> list[str]:
        """The option ``value`` most likely meant: the same letters in another case, an option's
        label, then the closest spelling of either; empty when nothing is close."""
        folded = value.strip().casefold()
        table: dict[str, str] = {}
        for option in self.options:
            table.setdefault(option.casefold(), option)
        for label, option in self.labels:
            table.setdefault(label.strip().casefold(), option)
        if folded in table:
            return [table[folded]]
        close = difflib.get_close_matches(folded, list(table), n=1, cutoff=0.6)
        return [table[close[0]]] if close else []


FieldMap = Mapping[str, Any]
"""``name -> type name``, ``name -> Choices`` (a select or multi-select field),
``name -> CodeTree`` (a text field of hierarchical codes, :mod:`rule_engine.code_trees`) or
``name -> nested FieldMap`` (a lookup to another entity)."""


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
        elif isinstance(kind, CodeTree):
            continue
        elif isinstance(kind, Choices):
            if not _valid_choices(kind):
                params = {"reason": "options", "field": prefix + name}
                raise RuleError(code="invalid_field_map", params=params)
        elif kind not in FIELD_TYPES:
            raise RuleError(
                code="invalid_field_map",
                params={"found": kind, "field": prefix + name, "types": ", ".join(FIELD_TYPES)},
            )


def _valid_choices(choices: Choices) -> bool:
    """Distinct non-empty text options, and labels that name one of them."""
    options = choices.options
    return (
        bool(options)
        and all(isinstance(o, str) and o for o in options)
        and len(set(options)) == len(options)
        and all(isinstance(label, str) and option in options for label, option in choices.labels)
    )


@dataclass(frozen=True, slots=True, init=False)
class Relation:
    """Another entity a rule may quantify over (``any(activity via account: ...)``): the field
    map of its rows and ``links``, the names of its lookups that point at the rule's own entity.

    ``fields`` is kept as given for the checker; ``key`` is its frozen form, so a relation map
    can be part of the compile cache key.
    """

    fields: FieldMap
    links: tuple[str, ...]
    key: FrozenFieldMap
    hashed: int

    def __init__(self, fields: FieldMap, links: Iterable[str]) -> None:
        validate_field_map(fields)
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "links", tuple(sorted(links)))
        object.__setattr__(self, "key", freeze_field_map(fields))
        # hashed once: a relation map is part of every compile cache lookup of its entity
        object.__setattr__(self, "hashed", hash((self.links, self.key)))

    def __hash__(self) -> int:
        return self.hashed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Relation) and (self.links, self.key) == (other.links, other.key)


Relations = Mapping[str, Relation]
"""``entity name -> Relation``: what a rule's quantifiers may range over."""


def freeze_relations(relations: Relations | None) -> tuple[tuple[str, Relation], ...]:
    """A hashable, order-independent key for a relation map (part of the compile cache key)."""
    return tuple(sorted((relations or {}).items()))


FrozenFieldMap = tuple[tuple[str, "str | Choices | CodeTree | FrozenFieldMap"], ...]
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


def resolve_path(
    fields: FieldMap, path: tuple[str, ...], line: int, column: int
) -> tuple[str, Choices | None]:
    """The DSL type at ``path`` (``lookup`` for a lookup field itself) and the field's options
    when it has fixed ones, or a RuleError."""
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
        entry: str | Choices | CodeTree | FieldMap = scope[segment]
        walked.append(segment)
        if isinstance(entry, Mapping):
            if i == len(path) - 1:
                return LOOKUP, None
            scope = entry
            continue
        choices = entry if isinstance(entry, Choices) else None
        kind = entry.kind if isinstance(entry, Choices | CodeTree) else entry
        if i != len(path) - 1:
            raise RuleError(
                code="not_a_lookup",
                line=line,
                column=column,
                params={"found": ".".join(walked), "path": ".".join(path), "kind": type_phrase(kind)},
            )
        return kind, choices
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
