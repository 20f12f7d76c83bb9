"""JSON Schema of an entity's records, derived from the field-type registry."""

from __future__ import annotations

from typing import Any, Literal

from form_engine.definitions import EntityDef

_SYSTEM_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer", "readOnly": True},
    "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
    "created_by": {"type": ["integer", "null"], "readOnly": True},
    "updated_by": {"type": ["integer", "null"], "readOnly": True},
    "owner": {"type": ["integer", "null"]},
    "version": {"type": "integer", "readOnly": True},
    "deleted_at": {"type": ["string", "null"], "format": "date-time", "readOnly": True},
}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return {**schema, "type": [*kind, "null"]} if "null" not in kind else schema
    return {"anyOf": [schema, {"type": "null"}]}


def record_schema(entity: EntityDef, mode: Literal["read", "create", "update"] = "read") -> dict[str, Any]:
    """Schema for a record as read, or the body of a create or an update."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in entity.fields:
        ft = f.field_type
        if mode != "read" and not ft.writable:
            continue
        schema = ft.json_schema(f)
        schema = {**schema, "title": f.label.en, "x-label": {"zh": f.label.zh, "en": f.label.en}}
        if f.help is not None:
            schema["description"] = f.help.en
        properties[f.name] = schema if (mode == "create" and f.required) else _nullable(schema)
        if mode == "create" and f.required and f.default is None:
            required.append(f.name)
    if mode == "read":
        properties = {**_SYSTEM_PROPERTIES, **properties}
    elif mode == "create":
        properties["owner"] = {"type": "integer"}
    out: dict[str, Any] = {
        "type": "object",
        "title": entity.label.en,
        "x-label": {"zh": entity.label.zh, "en": entity.label.en},
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = required
    return out
