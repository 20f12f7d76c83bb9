"""The three-way merge of package documents, as a pure function."""

from __future__ import annotations

from typing import Any

from engine.apps.package_merge import merge_packages


def _package(*fields: dict[str, Any], roles: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": "app", "label": {"zh": "应用", "en": "App"}}
    doc["entities"] = [{"name": "item", "label": {"zh": "物品", "en": "Item"}, "fields": list(fields)}]
    if roles is not None:
        doc["roles"] = roles
    return doc


def _text(name: str, en: str, **more: Any) -> dict[str, Any]:
    return {"id": name, "name": name, "type": "text", "label": {"zh": name, "en": en}, **more}


BASE = _package(_text("a", "A"), _text("b", "B"))


def test_one_sided_changes_are_taken_from_both_sides() -> None:
    theirs = _package(_text("a", "A2"), _text("b", "B"), _text("t", "T"))
    ours = _package(_text("a", "A"), _text("b", "B", max_length=9), _text("o", "O"), roles=[{"name": "r"}])
    merged = merge_packages(BASE, theirs, ours)
    assert merged.conflicts == []
    assert merged.document == _package(
        _text("a", "A2"),
        _text("b", "B", max_length=9),
        _text("t", "T"),
        _text("o", "O"),
        roles=[{"name": "r"}],
    )
    assert [c["pointer"] for c in merged.taken] == [
        "/entities/item/fields/a/label/en",
        "/entities/item/fields/t",
    ]
    assert [c["pointer"] for c in merged.kept] == [
        "/entities/item/fields/b/max_length",
        "/entities/item/fields/o",
        "/roles",
    ]


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    both = _package(_text("a", "Same"), _text("b", "B"))
    merged = merge_packages(BASE, both, both)
    assert merged.conflicts == [] and merged.document == both and merged.taken == merged.kept == []


def test_a_renamed_field_is_matched_by_its_stable_id() -> None:
    theirs = _package(_text("a", "A2"), _text("b", "B"))
    ours = _package({**_text("a", "A"), "name": "alpha"}, _text("b", "B"))
    merged = merge_packages(BASE, theirs, ours)
    assert merged.conflicts == []
    assert merged.document["entities"][0]["fields"][0] == {**_text("a", "A2"), "name": "alpha"}


def test_different_changes_conflict_and_keep_ours_until_resolved() -> None:
    theirs = _package(_text("a", "Theirs"))  # b removed by the template
    ours = _package(_text("a", "Ours"), _text("b", "B", required=True))  # b changed by the admin
    merged = merge_packages(BASE, theirs, ours)
    assert [(c.pointer, c.as_json()["kind"]) for c in merged.conflicts] == [
        ("/entities/item/fields/a/label/en", "both_changed"),
        ("/entities/item/fields/b", "removed_and_changed"),
    ]
    assert merged.document == ours

    resolved = merge_packages(
        BASE, theirs, ours, {"/entities/item/fields/a/label": "theirs", "/entities/item/fields/b": "theirs"}
    )
    assert resolved.conflicts == [] and resolved.unused == []
    assert resolved.document == theirs
    unused = merge_packages(BASE, theirs, ours, {"/entities/item/fields/a/label/en/x": "ours"})
    assert unused.unused == ["/entities/item/fields/a/label/en/x"]
