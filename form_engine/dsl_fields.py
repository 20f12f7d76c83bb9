"""The field map the rule DSL compiles against: what a rule on an entity may read.

System columns come first (``created_at`` is used by many rules); a field whose type has no DSL
type stays out. A lookup is an ``integer`` (the id) unless a resolver for its target entity is
given, then a nested map, so ``account.grade`` type-checks. A select or multi-select field is a
``rule_engine.Choices`` carrying its option values (and labels, for "did you mean"), so a rule
comparing it with a value that is no option is refused when it is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import rule_engine
from form_engine.definitions import EntityDef, FieldDef
from form_engine.field_types.choice import SelectConfig

#: DSL types of the system columns every record has.
SYSTEM_DSL_FIELDS: dict[str, str] = {
    "id": "integer",
    "created_at": "datetime",
    "updated_at": "datetime",
    "created_by": "integer",
    "updated_by": "integer",
    "owner": "integer",
}

EntityResolver = Callable[[str], EntityDef | None]


def dsl_fields(
    entity: EntityDef, resolve_entity: EntityResolver | None = None, *, depth: int = 1
) -> dict[str, Any]:
    """``name -> DSL type`` (or nested map) for ``rule_engine.compile``.

    ``depth`` bounds how many lookups a path may follow, which also stops cycles
    (an account whose parent is an account).
    """
    out: dict[str, Any] = dict(SYSTEM_DSL_FIELDS)
    for f in entity.fields:
        ft = f.field_type
        kind = ft.field_dsl_type(f)
        if kind is None:
            continue
        target = ft.target_entity(f)
        if target is not None and resolve_entity is not None and depth > 0:
            target_def = resolve_entity(target)
            if target_def is not None:
                out[f.name] = dsl_fields(target_def, resolve_entity, depth=depth - 1)
                continue
        out[f.name] = ft.dsl_entry(f) or _choices(f, kind) or kind
    return out


def dsl_relations(
    entity: EntityDef, entities: Iterable[EntityDef], resolve_entity: EntityResolver | None = None
) -> dict[str, rule_engine.Relation]:
    """What a rule on ``entity`` may quantify over (``any(activity via account: ...)``): each of
    ``entities`` with a lookup pointing at ``entity``, with the names of those lookups."""
    found: dict[str, rule_engine.Relation] = {}
    for other in entities:
        links = [
            f.name
            for f in other.fields
            if f.type == "lookup" and f.field_type.target_entity(f) == entity.name
        ]
        if links:
            found[other.name] = rule_engine.Relation(dsl_fields(other, resolve_entity), links)
    return found


def _choices(field: FieldDef, kind: str) -> rule_engine.Choices | None:
    """The options of a field whose settings list them (select, multi-select), else None."""
    config = field.config
    if not isinstance(config, SelectConfig) or kind not in ("text", "list"):
        return None
    labels: dict[str, str] = {}
    for option in config.options:
        for label in (option.label.en, option.label.zh):
            labels.setdefault(label, option.value)
    return rule_engine.Choices([o.value for o in config.options], multiple=kind == "list", labels=labels)
