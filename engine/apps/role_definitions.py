"""Roles as app-package data: per entity, which operations on which records, and field rules.

Kept apart from the policy that enforces them so the package parser can validate roles without
importing the enforcement machinery (which needs compiled apps).

```json
{"name": "member", "label": {"zh": "成员", "en": "Member"},
 "permissions": {"project": {"create": true,
                             "read": {"scope": "own", "condition": "region == '华东'"},
                             "update": {"scope": "own"},
                             "fields": {"phone": {"access": "masked", "mask": "phone"},
                                        "budget": {"access": "hidden"}}}}}
```

A grant is ``true`` (every record), or ``{"scope": ..., "condition": ...}``: the records the
scope selects *or* the records the DSL condition matches (a condition widens, it never narrows).
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

import rule_engine
from engine.messages import did_you_mean, name_list, phrase, problem
from form_engine import IDENTIFIER, EntityDef, Label, Problem, dsl_fields

OPERATIONS = ("create", "read", "update", "delete", "export", "import")
SCOPES = ("own", "department", "department_tree", "all")
MASKS = ("phone", "id_number", "email", "name", "bank_card", "generic", "all")
#: Field rules may also name this system column (read-only: the caller cannot transfer records).
OWNER_FIELD = "owner"

Scope = Literal["own", "department", "department_tree", "all"]
FieldAccess = Literal["hidden", "readonly", "masked", "full"]
MaskKind = Literal["phone", "id_number", "email", "name", "bank_card", "generic", "all"]


class Grant(BaseModel):
    """Records an operation may touch: those in ``scope`` plus those matching ``condition``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: Scope | None = None
    condition: str | None = None


class FieldRule(BaseModel):
    """``hidden``: never shown, never written. ``readonly``: shown, never written. ``masked``:
    shown masked, may be given when creating but not changed afterwards (the caller cannot see
    what they would overwrite). ``full``: shown and written in full, including a field whose
    type is masked by default (resident ID numbers)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    access: FieldAccess
    mask: MaskKind = "generic"


class EntityPermissions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, serialize_by_alias=True)

    create: Grant | bool = False
    read: Grant | bool = False
    update: Grant | bool = False
    delete: Grant | bool = False
    export: Grant | bool = False
    import_: Grant | bool = Field(default=False, alias="import")
    fields: dict[str, FieldRule] = Field(default_factory=dict)

    def grant(self, op: str) -> Grant | None:
        """The grant for ``op``, or None when the operation is not permitted."""
        value = getattr(self, "import_" if op == "import" else op)
        if value is True:
            return Grant(scope="all")
        return value or None


class RoleDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=IDENTIFIER, max_length=50)
    label: Label
    description: Label | None = None
    #: Held by every signed-in user, without an assignment: how an app is opened to everyone
    #: (an app's records are closed to non-administrators until a role grants them).
    everyone: bool = False
    permissions: dict[str, EntityPermissions] = Field(default_factory=dict)


def roles_json_schema() -> dict[str, Any]:
    """The ``roles`` part of the app package schema (its ``$defs`` entries)."""
    grant = {
        "oneOf": [
            {"type": "boolean"},
            {
                "type": "object",
                "properties": {
                    "scope": {"enum": list(SCOPES)},
                    "condition": {"type": "string", "minLength": 1, "maxLength": 2000},
                },
                "minProperties": 1,
                "additionalProperties": False,
            },
        ]
    }
    field_rule = {
        "type": "object",
        "properties": {
            "access": {"enum": ["hidden", "readonly", "masked", "full"]},
            "mask": {"enum": list(MASKS)},
        },
        "required": ["access"],
        "additionalProperties": False,
    }
    entity_permissions = {
        "type": "object",
        "properties": {
            **{op: {"$ref": "#/$defs/Grant"} for op in OPERATIONS},
            "fields": {"type": "object", "additionalProperties": {"$ref": "#/$defs/FieldRule"}},
        },
        "additionalProperties": False,
    }
    role = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": IDENTIFIER, "maxLength": 50},
            "label": {"$ref": "#/$defs/Label"},
            "description": {"$ref": "#/$defs/Label"},
            "everyone": {"type": "boolean"},
            "permissions": {
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/EntityPermissions"},
            },
        },
        "required": ["name", "label"],
        "additionalProperties": False,
    }
    return {"Grant": grant, "FieldRule": field_rule, "EntityPermissions": entity_permissions, "Role": role}


def unknown_name(key: str, pointer: str, name: str, known: list[str], **params: Any) -> Problem:
    """The problem ``key`` (``... {name} does not exist{hint}``), hinting at the nearest known
    name or else listing them all."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = did_you_mean(close[0]) if close else phrase("known", names=name_list(known))
    return problem(key, pointer=pointer, name=name, hint=hint, **params)


def role_problems(roles: list[RoleDef], entities: list[EntityDef]) -> list[Problem]:
    """Roles naming entities or fields the package does not have, and duplicate role names."""
    by_name = {e.name: e for e in entities}
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, role in enumerate(roles):
        if role.name in seen:
            problems.append(problem("duplicate_name.role", pointer=f"/roles/{i}/name", name=role.name))
        seen.add(role.name)
        for entity_name, perms in role.permissions.items():
            at = f"/roles/{i}/permissions/{entity_name}"
            entity = by_name.get(entity_name)
            if entity is None:
                problems.append(unknown_name("unknown_entity.role", at, entity_name, list(by_name)))
                continue
            field_names = [f.name for f in entity.fields]
            for op in OPERATIONS:
                grant = perms.grant(op)
                if grant is not None and grant.condition is not None:
                    problems.extend(
                        _condition_problems(grant.condition, entity, by_name, f"{at}/{op}/condition")
                    )
            for field_name, rule in perms.fields.items():
                pointer = f"{at}/fields/{field_name}"
                if field_name == OWNER_FIELD:
                    if rule.access not in ("readonly", "full"):
                        problems.append(problem("owner_rule", pointer=pointer))
                elif field_name not in field_names:
                    entity_words = {"zh": entity.label.zh, "en": entity_name}
                    problems.append(
                        unknown_name(
                            "unknown_field.role", pointer, field_name, field_names, entity=entity_words
                        )
                    )
                elif rule.access in ("hidden", "readonly") and perms.grant("create") is not None:
                    problems.extend(_unfillable(role.name, entity, field_name, rule.access, pointer))
    return problems


def _unfillable(role: str, entity: EntityDef, field_name: str, access: str, pointer: str) -> list[Problem]:
    """A role that may create records but can never fill one of their required fields would
    only ever see its creates refused."""
    field = entity.field(field_name)
    if not field.required or field.default is not None or field.default_expression is not None:
        return []
    return [
        problem(
            "unfillable_required",
            pointer=pointer,
            role=role,
            entity={"zh": entity.label.zh, "en": entity.name},
            name=field_name,
            access=phrase(f"access.{access}"),
        )
    ]


def _condition_problems(
    text: str, entity: EntityDef, entities: dict[str, EntityDef], pointer: str
) -> list[Problem]:
    try:
        rule_engine.compile(text, dsl_fields(entity, entities.get), expect="boolean")
    except rule_engine.RuleError as exc:
        return [problem("invalid_condition", pointer=pointer, detail=exc, line=exc.line, column=exc.column)]
    return []
