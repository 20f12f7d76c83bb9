"""A form description as one caller may see it: no field hidden from them, and no condition or
default expression that reads a field they may not see (its text would name the field and the
threshold it is compared with). The state API answers for the conditions left out."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import rule_engine


def form_view(
    described: dict[str, Any], hidden: Collection[str], secret: Collection[str], fields_map: dict[str, Any]
) -> dict[str, Any]:
    """``described`` (``form_engine.describe_form``) without what ``hidden`` and ``secret``
    (hidden or masked fields) would give away."""
    if not secret:
        return described

    def reads_secret(text: str) -> bool:
        return any(path.partition(".")[0] in secret for path in rule_engine.compile(text, fields_map).fields)

    def conditions(given: dict[str, str]) -> dict[str, str]:
        return {key: text for key, text in given.items() if not reads_secret(text)}

    def node(item: dict[str, Any]) -> dict[str, Any] | None:
        if item.get("kind") == "field":
            return None if item["field"] in hidden else item
        out = dict(item)
        if "conditions" in out:
            out["conditions"] = conditions(out["conditions"])
        if "children" in out:
            out["children"] = nodes(out["children"])
        if "columns" in out:
            out["columns"] = [{**c, "children": nodes(c["children"])} for c in out["columns"]]
        if "tabs" in out:
            out["tabs"] = nodes(out["tabs"])
        return out

    def nodes(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [kept for kept in (node(i) for i in items) if kept is not None]

    fields = {}
    for name, entry in described["fields"].items():
        if name in hidden:
            continue
        entry = {**entry, "conditions": conditions(entry.get("conditions", {}))}
        if "default_expression" in entry and reads_secret(entry["default_expression"]):
            del entry["default_expression"]
        fields[name] = entry
    return {
        **described,
        "layout": nodes(described["layout"]),
        "fields": fields,
        "depends_on": [name for name in described["depends_on"] if name not in secret],
    }
