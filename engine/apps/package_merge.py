"""A three-way merge of app package documents: a template's old version (base), its new
version (theirs) and the installed app (ours).

A change made on one side only is taken; the same change made on both sides is taken once;
different changes to the same item are a conflict, never settled silently: the merge keeps the
app's side there for the plan and reports the item with both values until the admin picks one.
Items of lists are matched by their key (``id``, else ``name``, ``value`` or ``field``: entities,
fields by their stable id, options, forms and their layout, validations, duplicate rules,
roles, flows, reports...), so an item added or changed on one side never collides with a
different item on the other. Pointers name list items by that key, not by position, so one
pointer means the same item in all three documents (``/entities/lead/fields/mobile/label/en``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Side = Literal["ours", "theirs"]
SIDES: tuple[Side, ...] = ("ours", "theirs")

#: Keys that identify an item of a list, in order of preference.
_ITEM_KEYS = ("id", "name", "value", "field")


class _Missing:
    """Where a side has no value: the item was removed, or never added."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def escape(key: str) -> str:
    """A key as one JSON-pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


@dataclass
class MergeConflict:
    """The two sides changed one item differently."""

    pointer: str
    base: Any
    ours: Any
    theirs: Any
    #: the side taken, once the admin resolved it
    resolution: Side | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pointer": self.pointer}
        for name in ("base", "ours", "theirs"):
            value = getattr(self, name)
            if value is not MISSING:
                out[name] = value
        out["kind"] = _kind(self.base, self.ours, self.theirs)
        if self.resolution is not None:
            out["resolution"] = self.resolution
        return out


def _kind(base: Any, ours: Any, theirs: Any) -> str:
    if base is MISSING:
        return "both_added"
    if ours is MISSING or theirs is MISSING:
        return "removed_and_changed"
    return "both_changed"


@dataclass
class Merged:
    """The merged document and what went into it."""

    document: dict[str, Any]
    #: conflicts without a resolution (the document holds the app's side there)
    conflicts: list[MergeConflict] = field(default_factory=list)
    resolved: list[MergeConflict] = field(default_factory=list)
    #: the template's changes taken into the app
    taken: list[dict[str, Any]] = field(default_factory=list)
    #: the admin's changes kept
    kept: list[dict[str, Any]] = field(default_factory=list)
    #: resolutions that named no conflict
    unused: list[str] = field(default_factory=list)


def _item_key(item: Any) -> str | None:
    if isinstance(item, dict):
        for key in _ITEM_KEYS:
            if isinstance(item.get(key), str):
                return str(item[key])
    return None


def _keyed(value: Any) -> dict[str, Any] | None:
    """A list's items by key (in order), or None unless every item has a distinct key."""
    if value is MISSING:
        return {}
    if not isinstance(value, list):
        return None
    out: dict[str, Any] = {}
    for item in value:
        key = _item_key(item)
        if key is None or key in out:
            return None
        out[key] = item
    return out


def changes(old: Any, new: Any, pointer: str = "") -> list[dict[str, Any]]:
    """What turns ``old`` into ``new``, item by item: ``{"pointer", "change": "added" |
    "removed" | "changed", "value" | "from", "to"}``."""
    if old == new:
        return []
    if old is MISSING:
        return [{"pointer": pointer, "change": "added", "value": new}]
    if new is MISSING:
        return [{"pointer": pointer, "change": "removed"}]
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[dict[str, Any]] = []
        for key in [*old, *(k for k in new if k not in old)]:
            found += changes(old.get(key, MISSING), new.get(key, MISSING), f"{pointer}/{escape(key)}")
        return found
    keyed_old, keyed_new = _keyed(old), _keyed(new)
    if isinstance(old, list) and isinstance(new, list) and keyed_old is not None and keyed_new is not None:
        found = []
        for key in [*keyed_old, *(k for k in keyed_new if k not in keyed_old)]:
            found += changes(
                keyed_old.get(key, MISSING), keyed_new.get(key, MISSING), f"{pointer}/{escape(key)}"
            )
        return found
    return [{"pointer": pointer, "change": "changed", "from": old, "to": new}]


class _Merger:
    def __init__(self, resolutions: Mapping[str, Side]) -> None:
        self.resolutions = dict(resolutions)
        self.used: set[str] = set()
        self.result = Merged({})

    def merge(self, base: Any, theirs: Any, ours: Any, pointer: str) -> Any:
        if theirs == ours:
            return ours
        if theirs == base:
            self.result.kept += changes(base, ours, pointer)
            return ours
        if ours == base:
            self.result.taken += changes(base, theirs, pointer)
            return theirs
        side = self.resolutions.get(pointer)
        if side is not None:
            self.used.add(pointer)
            self.result.resolved.append(MergeConflict(pointer, base, ours, theirs, side))
            return theirs if side == "theirs" else ours
        if (
            isinstance(theirs, dict)
            and isinstance(ours, dict)
            and (base is MISSING or isinstance(base, dict))
        ):
            return self._merge_dict({} if base is MISSING else base, theirs, ours, pointer)
        if (
            isinstance(theirs, list)
            and isinstance(ours, list)
            and (base is MISSING or isinstance(base, list))
        ):
            keyed = (_keyed(base), _keyed(theirs), _keyed(ours))
            if all(k is not None for k in keyed):
                return self._merge_list(*keyed, pointer)  # type: ignore[arg-type]
        self.result.conflicts.append(MergeConflict(pointer, base, ours, theirs))
        return ours

    def _merge_dict(
        self, base: dict[str, Any], theirs: dict[str, Any], ours: dict[str, Any], pointer: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in _union(ours, theirs, base):
            value = self.merge(
                base.get(key, MISSING),
                theirs.get(key, MISSING),
                ours.get(key, MISSING),
                f"{pointer}/{escape(key)}",
            )
            if value is not MISSING:
                out[key] = value
        return out

    def _merge_list(
        self, base: dict[str, Any], theirs: dict[str, Any], ours: dict[str, Any], pointer: str
    ) -> list[Any]:
        merged = {
            key: self.merge(
                base.get(key, MISSING),
                theirs.get(key, MISSING),
                ours.get(key, MISSING),
                f"{pointer}/{escape(key)}",
            )
            for key in _union(ours, theirs, base)
        }
        return [
            merged[key] for key in _order(list(ours), list(theirs)) if merged.get(key, MISSING) is not MISSING
        ]


def _union(*parts: Mapping[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for part in parts:
        seen.update(dict.fromkeys(part))
    return list(seen)


def _order(ours: list[str], theirs: list[str]) -> list[str]:
    """The app's order, with the items only the template has placed after their predecessor
    in the template (first when they come first there)."""
    order = list(ours)
    for i, key in enumerate(theirs):
        if key in order:
            continue
        before = next((k for k in reversed(theirs[:i]) if k in order), None)
        order.insert(0 if before is None else order.index(before) + 1, key)
    return order


def merge_packages(
    base: dict[str, Any],
    theirs: dict[str, Any],
    ours: dict[str, Any],
    resolutions: Mapping[str, Side] | None = None,
) -> Merged:
    """Merge package documents. ``resolutions`` maps a conflict's pointer (or an ancestor's: the
    side is then taken for the whole item) to the side to take there."""
    merger = _Merger(resolutions or {})
    document = merger.merge(base, theirs, ours, "")
    merger.result.document = document if isinstance(document, dict) else {}
    merger.result.unused = [p for p in merger.resolutions if p not in merger.used]
    return merger.result
