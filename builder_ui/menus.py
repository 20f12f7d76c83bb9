"""The app's navigation as data: the package's ``menus`` section (groups of items, in order, with
icons), owned by this plugin so it is validated, exported and imported with the app. Without
it, one group holds one item per entity (sub-table rows excepted)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine import AppPackage, AppRuntime, Context, Forbidden, PackageSection, Platform
from form_engine import Problem

#: Icons the browser app draws (an inline SVG each, in ``static/app.js``).
ICONS = ["home", "users", "building", "briefcase", "chart", "inbox", "file", "star", "phone", "cart", "list"]

_LABEL = {
    "type": "object",
    "properties": {"zh": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}},
    "required": ["zh", "en"],
    "additionalProperties": False,
}

#: One item of the ``menus`` section: a group of navigation items.
MENU_GROUP: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 60},
        "label": {"$ref": "#/$defs/UiMenuLabel"},
        "icon": {"enum": ICONS},
        "order": {"type": "integer"},
        "items": {"type": "array", "items": {"$ref": "#/$defs/UiMenuItem"}, "minItems": 1},
    },
    "required": ["name", "label", "items"],
    "additionalProperties": False,
    "$defs": {
        "UiMenuLabel": _LABEL,
        "UiMenuItem": {
            "type": "object",
            "properties": {
                "entity": {"type": "string"},
                "dashboard": {"type": "string"},
                "label": {"$ref": "#/$defs/UiMenuLabel"},
                "icon": {"enum": ICONS},
                "order": {"type": "integer"},
            },
            "oneOf": [{"required": ["entity"]}, {"required": ["dashboard"]}],
            "additionalProperties": False,
        },
    },
}


def check_menus(package: AppPackage, groups: Sequence[dict[str, Any]]) -> list[Problem]:
    """Group names unique; every item names an entity or dashboard the package has."""
    entities = {e.name for e in package.entities}
    dashboards = {d.get("name") for d in package.section("dashboards")}
    found: list[Problem] = []
    seen: set[str] = set()
    for i, group in enumerate(groups):
        if group["name"] in seen:
            found.append(_problem("menu_group_duplicate", f"/{i}/name", name=group["name"]))
        seen.add(group["name"])
        for j, item in enumerate(group["items"]):
            if "entity" in item and item["entity"] not in entities:
                found.append(_problem("menu_entity_unknown", f"/{i}/items/{j}/entity", name=item["entity"]))
            if "dashboard" in item and item["dashboard"] not in dashboards:
                found.append(
                    _problem("menu_dashboard_unknown", f"/{i}/items/{j}/dashboard", name=item["dashboard"])
                )
    return found


def _problem(code: str, pointer: str, **params: Any) -> Problem:
    return Problem(code, pointer=pointer, params=params)


SECTION = PackageSection(
    "menus", MENU_GROUP, check_menus, "Navigation: groups of menu items, in order, with icons"
)


def _children(runtime: AppRuntime) -> set[str]:
    """Entities saved inside a parent (sub-table rows): no menu item of their own."""
    return {f.config.entity for er in runtime.entities.values() for f in er.fields_of_type("sub_table")}


def default_menus(runtime: AppRuntime) -> list[dict[str, Any]]:
    """One group, the app's, with one item per entity in definition order."""
    children = _children(runtime)
    items = [{"entity": name} for name in runtime.entities if name not in children]
    return [{"name": "main", "label": runtime.package.label.model_dump(), "items": items}]


def menus_for(platform: Platform, ctx: Context, app: str) -> list[dict[str, Any]]:
    """The app's menu groups in order, each item labelled in both languages, leaving out the
    entities the caller may not read (and groups left empty)."""
    runtime = platform.cached_runtime(app)
    groups = runtime.package.section("menus") or default_menus(runtime)
    out = []
    for group in sorted(groups, key=lambda g: g.get("order", 0)):
        items = []
        for item in sorted(group["items"], key=lambda i: i.get("order", 0)):
            entry = dict(item)
            if "entity" in item:
                er = runtime.entities.get(item["entity"])
                if er is None:
                    continue
                try:
                    platform.access.require(ctx, er, "read")
                except Forbidden:
                    continue
                entry.setdefault("label", er.entity.label.model_dump())
            else:
                entry.setdefault("label", {"zh": item["dashboard"], "en": item["dashboard"]})
            items.append(entry)
        if items:
            out.append({**group, "items": items})
    return out
