"""A package's schema check is remembered per schema, never past a change of the schema."""

from __future__ import annotations

import copy
from typing import Any

from engine import PackageSection
from engine.apps.package import schema_problems
from engine.apps.sections import SectionRegistry, sections


def _note_schema(required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"text": {"type": "string"}, "level": {"type": "integer"}},
        "required": required,
        "additionalProperties": False,
    }


def _package(notes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": "memo", "label": {"zh": "备忘", "en": "Memo"}, "entities": [], "rules": notes}


def test_an_equal_section_registered_again_keeps_the_version() -> None:
    registry = SectionRegistry()
    registry.register(PackageSection("notes", _note_schema(["text"])))
    before = registry.version
    registry.register(PackageSection("notes", _note_schema(["text"])))
    assert registry.version == before
    registry.register(PackageSection("notes", _note_schema(["text", "level"])))
    assert registry.version == before + 1


def test_the_remembered_answer_follows_a_changed_section() -> None:
    package = _package([{"text": "回访"}])
    try:
        sections.register(PackageSection("rules", _note_schema(["text"])))
        assert schema_problems(package) == []
        assert schema_problems(copy.deepcopy(package)) == []  # same document, same answer

        sections.register(PackageSection("rules", _note_schema(["text", "level"])))
        pointers = [p.pointer for p in schema_problems(package)]
        assert pointers == ["/rules/0"]  # the new rule applies at once

        first = schema_problems(package)
        first.clear()  # a caller changing its list does not change the remembered one
        assert [p.pointer for p in schema_problems(package)] == ["/rules/0"]
    finally:
        # back to what a package without the plugin holds: opaque objects
        sections.register(PackageSection("rules", {"type": "object"}))
