"""Field paths of a report (``amount``, ``account.region``, ``account.parent.grade``) resolved
against an app's entities: what each path reads, through which lookups, and what may be done
with it (group by, add up, compare).

Resolution works on definitions only, so the package check at save and the compiler at run
time agree on what a path means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from form_engine import EntityDef, FieldDef, LookupConfig, Problem
from report_engine.messages import did_you_mean, report_problem

#: System columns every record has, and the kind of value each holds.
SYSTEM_KINDS = {
    "id": "integer",
    "owner": "user",
    "created_by": "user",
    "updated_by": "user",
    "created_at": "datetime",
    "updated_at": "datetime",
}
#: DSL types whose values can be grouped and compared.
_GROUPABLE_DSL = ("text", "integer", "number", "boolean", "date", "datetime")
#: Field types that hold one reference id (grouping by them groups by the referenced thing).
_REFERENCE_KINDS = ("lookup", "user", "department")

#: What a path may read through a user field: the person's department (``owner.department``).
USER_DEPARTMENT = "department"

EntityResolver = Callable[[str], EntityDef | None]


@dataclass(frozen=True)
class ResolvedPath:
    """One path: the lookups it follows (``(lookup field, target entity)`` pairs from the
    source) and the field it ends on."""

    path: str
    #: entity names along the way, the source first, the entity holding the field last
    entities: tuple[str, ...]
    #: the field definition, or None for a system column
    field: FieldDef | None
    name: str
    #: the field type's name (``currency``, ``select``) or a system kind (``user``, ``datetime``)
    kind: str
    dsl_type: str | None
    quantity: bool
    groupable: bool
    #: the path ends ``<user field>.department``: ``name`` is the user field, the value its
    #: person's department (read from the platform's directory at run time)
    through_user: bool = False

    @property
    def lookups(self) -> tuple[str, ...]:
        """The lookup field names followed, in order."""
        return tuple(self.path.split(".")[: -2 if self.through_user else -1])

    @property
    def user_path(self) -> ResolvedPath:
        """For a ``<user field>.department`` path, the path of the user field itself."""
        head = self.path.rsplit(".", 1)[0]
        return ResolvedPath(head, self.entities, self.field, self.name, "user", "integer", False, True)

    @property
    def is_date(self) -> bool:
        return self.dsl_type in ("date", "datetime")

    @property
    def options(self) -> list[Any]:
        """The options of a select field, in their order (empty for anything else)."""
        config = self.field.config if self.field is not None else None
        return list(getattr(config, "options", None) or []) if self.kind == "select" else []


def _field_facts(entity: EntityDef, name: str) -> tuple[FieldDef | None, str, str | None, bool, bool] | None:
    if name in SYSTEM_KINDS and name not in entity.field_names:
        kind = SYSTEM_KINDS[name]
        dsl: str | None = "datetime" if kind == "datetime" else "integer"
        return None, kind, dsl, False, True
    if name not in entity.field_names:
        return None
    f = entity.field(name)
    ft = f.field_type
    dsl = ft.field_dsl_type(f)
    if ft.system_column:  # a created_at-type field shows a system column
        kind = SYSTEM_KINDS.get(ft.system_column, dsl or "text")
        return f, kind, dsl, False, True
    stored = ft.storage == "column"
    groupable = stored and ft.indexable and dsl in _GROUPABLE_DSL and ft.default_mask is None
    return f, f.type, dsl, stored and ft.is_quantity(f), groupable


def resolve(
    entity: EntityDef, path: str, resolve_entity: EntityResolver, pointer: str
) -> ResolvedPath | Problem:
    """``path`` read from ``entity``, or the problem with it located at ``pointer``."""
    parts = path.split(".")
    current = entity
    entities = [entity.name]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        facts = _field_facts(current, part)
        if facts is None:
            choices = [*current.field_names, *SYSTEM_KINDS]
            return report_problem(
                "report_unknown_field",
                pointer,
                entity=current.name,
                name=part,
                hint=did_you_mean(part, choices),
            )
        f, kind, dsl, quantity, groupable = facts
        if last:
            return ResolvedPath(path, tuple(entities), f, part, kind, dsl, quantity, groupable)
        if kind == "user" and parts[i + 1 :] == [USER_DEPARTMENT]:
            return ResolvedPath(path, tuple(entities), f, part, "department", "integer", False, True, True)
        if f is None or f.type != "lookup":
            return report_problem("report_not_lookup", pointer, name=part, rest=".".join(parts[i + 1 :]))
        target = resolve_entity(f.config_as(LookupConfig).entity)
        if target is None:
            return report_problem("report_unknown_entity", pointer, name=f.config_as(LookupConfig).entity)
        current = target
        entities.append(target.name)
    raise AssertionError("unreachable: a path has at least one part")


def is_reference(kind: str) -> bool:
    return kind in _REFERENCE_KINDS
