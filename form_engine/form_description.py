"""A form as JSON the UI renders without knowing field internals.

Each field comes with its widget type, localised label/help/placeholder, settings (options,
limits), JSON Schema and its conditions as DSL text plus the fields they read, so the UI knows
when to ask the server (``EntityRuntime.field_state``) for the live state again.
"""

from __future__ import annotations

from typing import Any

import rule_engine
from form_engine.definitions import EntityDef, FieldDef
from form_engine.dsl_fields import EntityResolver, dsl_fields
from form_engine.field_types.base import localise
from form_engine.forms import Column, Columns, Conditions, FieldItem, FormDef, Section, Tab, Tabs


def _text(label: Any, locale: str) -> str | None:
    return None if label is None else label.text(locale)


def _conditions(node: Conditions | FieldDef, fields: dict[str, Any], reads: set[str]) -> dict[str, str]:
    out = {}
    for key in ("visible_if", "required_if", "readonly_if"):
        text = getattr(node, key)
        if text:
            out[key] = text
            reads.update(rule_engine.compile(text, fields).fields)
    return out


def describe_form(
    entity: EntityDef, form_name: str | None, locale: str = "en", resolve_entity: EntityResolver | None = None
) -> dict[str, Any]:
    """The render description of ``form_name`` (None: every field in definition order)."""
    fields_map = dsl_fields(entity, resolve_entity)
    reads: set[str] = set()
    if form_name is None:
        form = FormDef(
            name="default",
            label=entity.label,
            layout=[FieldItem(field=f.id) for f in entity.fields],
        )
    else:
        form = entity.form(form_name)

    described: dict[str, Any] = {}

    def field_entry(item: FieldItem) -> dict[str, Any] | None:
        f = entity.field_by_id(item.field)
        if f is None:
            return None
        ft = f.field_type
        settings = ft.describe(f, locale)
        placeholder = item.placeholder or getattr(f.config, "placeholder", None)
        settings.pop("placeholder", None)
        entry: dict[str, Any] = {
            "id": f.id,
            "name": f.name,
            "type": f.type,
            "label": f.label.text(locale),
            "help": _text(item.help or f.help, locale),
            "placeholder": _text(placeholder, locale),
            "required": f.required,
            "readonly": not ft.writable,
            "storage": ft.storage,
            "settings": settings,
            "schema": ft.json_schema(f),
            "conditions": {**_conditions(f, fields_map, reads), **_conditions(item, fields_map, reads)},
        }
        if f.default is not None:
            entry["default"] = localise(ft.to_json(ft.coerce(f.default, f), f), locale)
        if f.default_expression:
            entry["default_expression"] = f.default_expression
        if ft.system_column:
            entry["system_column"] = ft.system_column
        described[f.name] = entry
        return {"kind": "field", "field": f.name, "span": item.span}

    def node_entry(node: Any) -> dict[str, Any] | None:
        if isinstance(node, FieldItem):
            return field_entry(node)
        conditions = _conditions(node, fields_map, reads)
        if isinstance(node, Section):
            return {
                "kind": "section",
                "id": node.id,
                "label": _text(node.label, locale),
                "help": _text(node.help, locale),
                "collapsed": node.collapsed,
                "conditions": conditions,
                "children": nodes(node.children),
            }
        if isinstance(node, Columns):
            return {
                "kind": "columns",
                "conditions": conditions,
                "columns": [column_entry(c) for c in node.columns],
            }
        assert isinstance(node, Tabs)
        return {"kind": "tabs", "conditions": conditions, "tabs": [tab_entry(t) for t in node.tabs]}

    def column_entry(column: Column) -> dict[str, Any]:
        return {"width": column.width, "children": nodes(column.children)}

    def tab_entry(tab: Tab) -> dict[str, Any]:
        return {
            "id": tab.id,
            "label": tab.label.text(locale),
            "conditions": _conditions(tab, fields_map, reads),
            "children": nodes(tab.children),
        }

    def nodes(children: list[Any]) -> list[dict[str, Any]]:
        return [entry for entry in (node_entry(child) for child in children) if entry is not None]

    layout = nodes(form.layout)
    return {
        "entity": entity.name,
        "form": form.name,
        "label": form.label.text(locale),
        "locale": "zh" if locale.startswith("zh") else "en",
        "layout": layout,
        "fields": described,
        #: Fields whose change can alter a condition: the UI re-asks for the state after them.
        "depends_on": sorted(reads),
    }
