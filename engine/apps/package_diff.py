"""What changed between two app package documents, section by section.

The package is treated as one document: entities and roles, and any section a plugin adds
(flows, reports, dashboards...), are compared the same way, so a section the kernel does not
know is still versioned, diffed and rolled back with the rest. Lists of named items are matched
by ``name`` (``id`` when there is one), entity fields by their stable ``id``, so a renamed field
shows as a rename, not a removal and an addition.
"""

from __future__ import annotations

from typing import Any

#: Item keys that identify an item of a list section, in order of preference.
_ITEM_KEYS = ("id", "name")


def _item_key(item: Any) -> str | None:
    if isinstance(item, dict):
        for key in _ITEM_KEYS:
            if isinstance(item.get(key), str):
                return item[key]
    return None


def _keyed(items: Any) -> dict[str, Any] | None:
    """``items`` by their key, or None when the section is not a list of distinct named items."""
    if not isinstance(items, list):
        return None
    keyed: dict[str, Any] = {}
    for item in items:
        key = _item_key(item)
        if key is None or key in keyed:
            return None
        keyed[key] = item
    return keyed


def _field_id(field: dict[str, Any]) -> str:
    return str(field.get("id", field.get("name")))


def entity_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Fields added, removed, renamed (same id, new name) and changed, and the other parts of
    the entity (forms, validations, duplicate rules...) that differ."""
    old_fields = {_field_id(f): f for f in old.get("fields", [])}
    new_fields = {_field_id(f): f for f in new.get("fields", [])}
    out: dict[str, Any] = {
        "fields_added": [f["name"] for i, f in new_fields.items() if i not in old_fields],
        "fields_removed": [f["name"] for i, f in old_fields.items() if i not in new_fields],
        "fields_renamed": [
            {"from": old_fields[i]["name"], "to": f["name"]}
            for i, f in new_fields.items()
            if i in old_fields and old_fields[i]["name"] != f["name"]
        ],
        "fields_changed": [
            f["name"]
            for i, f in new_fields.items()
            if i in old_fields
            and {k: v for k, v in old_fields[i].items() if k != "name"}
            != {k: v for k, v in f.items() if k != "name"}
        ],
    }
    parts = (set(old) | set(new)) - {"name", "fields"}
    out["parts_changed"] = sorted(p for p in parts if old.get(p) != new.get(p))
    return {k: v for k, v in out.items() if v}


def diff_packages(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Changes turning package document ``old`` into ``new``, one entry per changed item:
    ``{"section", "name"?, "change": "added" | "removed" | "changed", ...}``. Equal documents
    give an empty list."""
    changes: list[dict[str, Any]] = []
    for section in [*old, *(k for k in new if k not in old)]:
        before, after = old.get(section), new.get(section)
        if before == after:
            continue
        keyed_before = _keyed(before if before is not None else [])
        keyed_after = _keyed(after if after is not None else [])
        if keyed_before is None or keyed_after is None:
            change = "added" if before is None else "removed" if after is None else "changed"
            changes.append({"section": section, "change": change, "old": before, "new": after})
            continue
        for name, item in keyed_before.items():
            if name not in keyed_after:
                changes.append({"section": section, "name": name, "change": "removed"})
            elif item != keyed_after[name]:
                entry = {"section": section, "name": name, "change": "changed"}
                if section == "entities":
                    entry.update(entity_changes(item, keyed_after[name]))
                changes.append(entry)
        changes += [
            {"section": section, "name": name, "change": "added"}
            for name in keyed_after
            if name not in keyed_before
        ]
    return changes
