"""Diff of two entity definitions -> the migration operations that turn one table into the other.

Fields are matched by their stable id, so a changed name is a rename and keeps the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.schema.compiler import dupkey_column_name
from engine.schema.search_text import search_signature, searchable_fields
from form_engine import EntityDef, FieldDef


@dataclass(frozen=True)
class CreateTable:
    entity: EntityDef


@dataclass(frozen=True)
class AddColumn:
    field: FieldDef


@dataclass(frozen=True)
class RestoreColumn:
    """A field re-added with the id of a removed one gets its old column and data back."""

    field: FieldDef
    old_field: FieldDef
    column_name: str


@dataclass(frozen=True)
class RenameColumn:
    old: FieldDef
    new: FieldDef


@dataclass(frozen=True)
class ConvertColumn:
    """Type or settings changed: every stored value must convert, or nothing changes.

    ``source`` names the column holding the values before the migration starts (the field's
    old name, or the kept column of a removed field that is being restored).
    """

    old: FieldDef
    new: FieldDef
    column_changes: bool
    source: str
    #: The new field is derived: a value that does not convert is cleared instead of refusing
    #: the change (``RecomputeDerived`` computes it again).
    lenient: bool = False


@dataclass(frozen=True)
class RemoveColumn:
    field: FieldDef


@dataclass(frozen=True)
class SyncIndexes:
    """Create and drop indexes so the table has exactly what the definition declares."""


@dataclass(frozen=True)
class CreateLinkTable:
    """A many-to-many field's link table; an existing one (a re-added field) is kept as is."""

    field: FieldDef


@dataclass(frozen=True)
class RemoveLinkTable:
    """A removed many-to-many field: its link table is kept (recoverable) until purged."""

    field: FieldDef


@dataclass(frozen=True)
class SyncDuplicateKeys:
    """Add/drop the hidden key columns of duplicate rules and recompute every row's keys.

    The keys are derived data (normalised values), so dropping a column loses nothing.
    """

    add: tuple[str, ...]
    drop: tuple[str, ...]
    recompute: bool


@dataclass(frozen=True)
class SyncSearch:
    """Recompute every row's hidden search columns: the fields searched (or their values) changed."""


@dataclass(frozen=True)
class RecomputeDerived:
    """Derived values (formulas, roll-ups) the change made stale, computed for every stored row.

    ``fields``: derived fields added, restored or changed. ``converted``: other fields whose
    stored values were converted, which formulas and other entities' roll-ups may read. Runs
    last, on the finished table.
    """

    fields: tuple[str, ...]
    converted: tuple[str, ...] = ()


Operation = (
    CreateTable
    | AddColumn
    | RestoreColumn
    | RenameColumn
    | ConvertColumn
    | RemoveColumn
    | SyncIndexes
    | CreateLinkTable
    | RemoveLinkTable
    | SyncDuplicateKeys
    | SyncSearch
    | RecomputeDerived
)


def _column_signature(field: FieldDef) -> str:
    return repr(field.field_type.column_type(field))


_NOT_STORAGE = ("name", "label", "help", "required", "index", "unique", "default")


def _settings(field: FieldDef) -> dict[str, Any]:
    """What decides which values the column may hold (labels and flags do not)."""
    return {k: v for k, v in field.export().items() if k not in _NOT_STORAGE}


def _changes_values(old: FieldDef, new: FieldDef) -> bool:
    return old.type != new.type or _settings(old) != _settings(new)


def _derived(field: FieldDef) -> bool:
    return bool(field.field_type.derived)


def _convert(old: FieldDef, new: FieldDef, source: str) -> list[Operation]:
    """Values of a derived field are computed again, so only a changed column converts them
    (a row whose recompute fails then keeps its converted value)."""
    column_changes = _column_signature(old) != _column_signature(new)
    if _derived(old) and _derived(new) and not column_changes:
        return []
    return [ConvertColumn(old, new, column_changes, source, lenient=_derived(new))]


def diff_entity(
    old: EntityDef | None,
    new: EntityDef,
    removed: dict[str, tuple[FieldDef, str]] | None = None,
) -> list[Operation]:
    """Operations turning ``old``'s table into ``new``'s; ``removed`` maps field id ->
    (definition, column) of fields removed earlier and not yet purged."""
    if old is None:
        return [CreateTable(new), *(CreateLinkTable(f) for f in _links(new).values()), SyncIndexes()]
    removed = removed or {}
    old_stored = {f.id: f for f in old.stored_fields()}
    new_stored = {f.id: f for f in new.stored_fields()}
    # Removals free their names first, then renames, so a new field may take a name given up
    # by another in the same change; conversions and new columns come last.
    ops: list[Operation] = [RemoveColumn(f) for fid, f in old_stored.items() if fid not in new_stored]
    renames: list[tuple[FieldDef, FieldDef]] = []
    later: list[Operation] = []
    stale: list[str] = []
    converted: list[str] = []
    for field_id, field in new_stored.items():
        before = old_stored.get(field_id)
        if before is None:
            if field_id in removed:
                old_field, column = removed[field_id]
                later.append(RestoreColumn(field, old_field, column))
                if _changes_values(old_field, field):
                    later += _convert(old_field, field, column)
            else:
                later.append(AddColumn(field))
            if _derived(field):
                stale.append(field.name)
            continue
        if before.name != field.name:
            renames.append((before, field))
        if _changes_values(before, field):
            later += _convert(before, field, before.name)
            (stale if _derived(field) else converted).append(field.name)
    ops += _rename_steps(renames, {f.name for fid, f in old_stored.items() if fid in new_stored})
    ops += later
    old_links, new_links = _links(old), _links(new)
    ops += [RemoveLinkTable(f) for fid, f in old_links.items() if fid not in new_links]
    ops += [CreateLinkTable(f) for fid, f in new_links.items() if fid not in old_links]
    ops.extend(_duplicate_key_ops(old, new))
    searched = {f.name for f in searchable_fields(new)}
    if search_signature(old) != search_signature(new) or searched & set(converted):
        ops.append(SyncSearch())
    ops.append(SyncIndexes())
    if stale or converted:
        ops.append(RecomputeDerived(tuple(stale), tuple(converted)))
    return ops


def _rename_steps(renames: list[tuple[FieldDef, FieldDef]], kept: set[str]) -> list[Operation]:
    """Renames in an order the database accepts: straight when no new name is still held by
    another column, otherwise through a temporary name each (two fields may swap names)."""
    if not any(new.name in kept - {old.name} for old, new in renames):
        return [RenameColumn(old, new) for old, new in renames]
    parked = [(old, old.model_copy(update={"name": f"_renaming_{old.id}"}), new) for old, new in renames]
    steps: list[Operation] = [RenameColumn(old, temp) for old, temp, _new in parked]
    return steps + [RenameColumn(temp, new) for _old, temp, new in parked]


def _links(entity: EntityDef) -> dict[str, FieldDef]:
    return {f.id: f for f in entity.fields if f.type == "many_to_many"}


def _duplicate_key_ops(old: EntityDef, new: EntityDef) -> list[Operation]:
    """Keys are recomputed when a rule or a field it reads changed (its normalisation may)."""
    old_rules = {r.name: r for r in old.duplicate_rules}
    new_rules = {r.name: r for r in new.duplicate_rules}
    add = tuple(dupkey_column_name(n) for n in new_rules if n not in old_rules)
    drop = tuple(dupkey_column_name(n) for n in old_rules if n not in new_rules)

    def reads(entity: EntityDef, rules: dict[str, Any]) -> list[Any]:
        names = {name for rule in rules.values() for name in rule.fields}
        return [f.export() for f in entity.fields if f.name in names]

    changed = [r.model_dump() for r in old_rules.values()] != [r.model_dump() for r in new_rules.values()]
    recompute = bool(new_rules) and (changed or reads(old, old_rules) != reads(new, new_rules))
    return [SyncDuplicateKeys(add, drop, recompute)] if add or drop or recompute else []
