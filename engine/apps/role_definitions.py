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
from form_engine import IDENTIFIER, EntityDef, Label, Problem, dsl_fields

OPERATIONS = ("create", "read", "update", "delete", "export", "import")
SCOPES = ("own", "department", "department_tree", "all")
MASKS = ("phone", "id_number", "email", "name", "bank_card", "generic", "all")
#: Field rules may also name this system column (read-only: the caller cannot transfer records).
OWNER_FIELD = "owner"

Scope = Literal["own", "department", "department_tree", "all"]
FieldAccess = Literal["hidden", "readonly", "masked"]
MaskKind = Literal["phone", "id_number", "email", "name", "bank_card", "generic", "all"]


class Grant(BaseModel):
    """Records an operation may touch: those in ``scope`` plus those matching ``condition``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: Scope | None = None
    condition: str | None = None


class FieldRule(BaseModel):
    """``hidden``: never shown, never written. ``readonly``: shown, never written. ``masked``:
    shown masked, may be given when creating but not changed afterwards (the caller cannot see
    what they would overwrite)."""

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
        "properties": {"access": {"enum": ["hidden", "readonly", "masked"]}, "mask": {"enum": list(MASKS)}},
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
            "permissions": {
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/EntityPermissions"},
            },
        },
        "required": ["name", "label"],
        "additionalProperties": False,
    }
    return {"Grant": grant, "FieldRule": field_rule, "EntityPermissions": entity_permissions, "Role": role}


def unknown_name(code: str, pointer: str, what_en: str, what_zh: str, name: str, known: list[str]) -> Problem:
    """``{what} {name} does not exist``, with the nearest known name or the list of them."""
    close = difflib.get_close_matches(name, known, n=1)
    hint_en = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(known)) or 'none'})"
    hint_zh = f"（是否想写 {close[0]}？）" if close else ""
    return Problem(
        code,
        pointer=pointer,
        params={
            "en": f"{what_en} {name!r} does not exist{hint_en}",
            "zh": f"{what_zh} {name} 不存在{hint_zh}",
        },
    )


def role_problems(roles: list[RoleDef], entities: list[EntityDef]) -> list[Problem]:
    """Roles naming entities or fields the package does not have, and duplicate role names."""
    by_name = {e.name: e for e in entities}
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, role in enumerate(roles):
        if role.name in seen:
            problems.append(
                Problem(
                    "duplicate_name",
                    pointer=f"/roles/{i}/name",
                    params={"en": f"role name {role.name!r} is used twice", "zh": f"角色名 {role.name} 重复"},
                )
            )
        seen.add(role.name)
        for entity_name, perms in role.permissions.items():
            at = f"/roles/{i}/permissions/{entity_name}"
            entity = by_name.get(entity_name)
            if entity is None:
                problems.append(
                    unknown_name("unknown_entity", at, "entity", "实体", entity_name, list(by_name))
                )
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
                    if rule.access != "readonly":
                        problems.append(
                            Problem(
                                "owner_rule",
                                pointer=pointer,
                                params={
                                    "en": "the owner may only be made readonly",
                                    "zh": "负责人字段只能设为只读",
                                },
                            )
                        )
                elif field_name not in field_names:
                    problems.append(
                        unknown_name(
                            "unknown_field",
                            pointer,
                            f"field of {entity_name}",
                            f"{entity.label.zh}的字段",
                            field_name,
                            field_names,
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
        Problem(
            "unfillable_required",
            pointer=pointer,
            params={
                "en": f"role {role!r} may create {entity.name} records but the required field "
                f"{field_name!r} is {access} for it, so every create would be refused; give the "
                "field a default, or let the role write it",
                "zh": f"角色 {role} 可以新建{entity.label.zh}，但必填字段 {field_name} 对其"
                f"{'隐藏' if access == 'hidden' else '只读'}，新建总会失败；"
                "请为该字段设置默认值，或允许该角色填写",
            },
        )
    ]


def _condition_problems(
    text: str, entity: EntityDef, entities: dict[str, EntityDef], pointer: str
) -> list[Problem]:
    try:
        rule_engine.compile(text, dsl_fields(entity, entities.get), expect="boolean")
    except rule_engine.RuleError as exc:
        return [
            Problem(
                "invalid_condition",
                pointer=pointer,
                params={
                    "en": f"condition: {exc.message('en')}",
                    "zh": f"条件有误：{exc.message('zh')}",
                    "line": exc.line,
                    "column": exc.column,
                },
            )
        ]
    return []
