"""Which column of a spreadsheet fills which field: guessed from the header, as people write it.

A header names a field by its API name or its label in either language, give or take case,
full-width characters, spaces and a trailing ``*`` or ``（必填）`` that templates carry. A
mapping an admin saved for the entity wins over the guess, column by column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from engine.errors import InvalidInput
from engine.messages import PHRASES, problem
from form_engine import EntityDef

#: Fields whose value the kernel computes: never filled from a file.
COMPUTED_TYPES = frozenset(
    {"formula", "rollup", "auto_number", "created_by", "updated_by", "created_at", "updated_at", "sub_table"}
)
#: What import templates put after a required column's name.
_MARKS = ("*", *PHRASES["import.required_mark"].values())


def header_key(text: str) -> str:
    """The header as compared: NFKC, case-folded, without spaces, underscores or a required mark."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    for mark in _MARKS:
        mark = unicodedata.normalize("NFKC", mark).casefold()
        if folded.endswith(mark):
            folded = folded[: -len(mark)].strip()
    return re.sub(r"[\s_\-]+", "", folded).casefold()


def importable_fields(entity: EntityDef) -> list[str]:
    return [f.name for f in entity.fields if f.type not in COMPUTED_TYPES]


def guess_mapping(
    entity: EntityDef, header: Sequence[str], saved: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``{column header: field name}`` for every column that names an importable field."""
    names: dict[str, str] = {}
    for field in entity.fields:
        if field.type in COMPUTED_TYPES:
            continue
        for spelling in (field.name, field.label.zh, field.label.en):
            names.setdefault(header_key(spelling), field.name)
    for spelling in ("owner", *PHRASES["import.owner_column"].values()):
        names.setdefault(header_key(spelling), "owner")
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in header:
        chosen = (saved or {}).get(column) or names.get(header_key(column))
        if chosen and chosen not in taken:
            mapping[column] = chosen
            taken.add(chosen)
    return mapping


def check_mapping(entity: EntityDef, header: Sequence[str], mapping: Mapping[str, str]) -> None:
    """Refuse a mapping naming a column the file lacks, a field the entity lacks or can't take,
    a field twice, or leaving out a required field (the file could not fill it)."""
    fields = {*importable_fields(entity), "owner"}
    problems = []
    seen: dict[str, str] = {}
    for column, field in mapping.items():
        at = f"/mapping/{column}"
        if column not in header:
            problems.append(problem("import_unknown_column", pointer=at, column=column))
        elif field not in fields:
            problems.append(problem("import_unknown_field", pointer=at, column=column, name=field))
        elif field in seen:
            problems.append(problem("import_field_twice", pointer=at, name=field, first=seen[field]))
        seen.setdefault(field, column)
    for f in entity.fields:
        if f.required and f.type not in COMPUTED_TYPES and f.default is None and f.name not in seen:
            problems.append(problem("import_required_column", pointer="/mapping", name=f.name, title=f.label))
    if problems:
        raise InvalidInput("import_mapping_invalid", count=len(problems), problems=problems)
