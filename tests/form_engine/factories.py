"""Builders for field and entity definitions used across the form-engine tests."""

from __future__ import annotations

from typing import Any

from form_engine import EntityDef, FieldDef, parse_entity


def label(en: str, zh: str | None = None) -> dict[str, str]:
    return {"zh": zh or en, "en": en}


def make_field(type_: str, name: str = "value", zh: str = "值", **settings: Any) -> FieldDef:
    return FieldDef.model_validate(
        {"name": name, "type": type_, "label": {"zh": zh, "en": name.replace("_", " ").title()}, **settings}
    )


def make_entity(fields: list[dict[str, Any]], **extra: Any) -> EntityDef:
    return parse_entity({"name": "thing", "label": label("Thing", "事物"), "fields": fields, **extra})


def options(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": label(v.title(), f"选项{v}")} for v in values]
