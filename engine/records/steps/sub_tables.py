"""Sub-table (master-detail) fields: child records written, trashed and restored with the parent.

Semantics of a sub-table value sent on create or update (the list is the whole set of rows):

* a row with ``id`` updates that child (only the keys it carries change);
* a row without ``id`` creates a child, its link field set to the parent;
* a live child missing from the list is moved to the trash.

Omitting the field on update leaves the children alone. Rows may carry what the API returned
(system columns, computed values, the link field): those keys are ignored, so a client can send
back what it read. Trashing the parent trashes its live children with the same timestamp;
restoring the parent restores exactly those children (ones trashed earlier stay in the trash).
Problems are located at ``/<field>/<row index>/<child field>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.errors import InvalidInput
from engine.records import nested_writes, references
from form_engine import SYSTEM_FIELDS, FieldDef, Problem, RecordInvalid

if TYPE_CHECKING:
    from engine.apps.runtime import EntityRuntime
    from engine.records.steps.base import Write


def _child(write: Write, f: FieldDef) -> EntityRuntime:
    return write.runtime.entities[f.config.entity]


def _live_children(
    write: Write, child: EntityRuntime, link: str, parent_id: int
) -> dict[int, dict[str, Any]]:
    table = child.table
    query = sa.select(table).where(table.c[link] == parent_id, table.c.deleted_at.is_(None))
    if write.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {row["id"]: dict(row) for row in write.conn.execute(query.order_by(table.c.id)).mappings()}


def _client_values(child: EntityRuntime, link: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """What the client may set: not the id, system columns, computed fields or the link."""
    readonly = {f.name for f in child.entity.fields if not f.field_type.writable}
    return {k: v for k, v in row.items() if k not in SYSTEM_FIELDS and k not in readonly and k != link}


class SubTables:
    """Saves the rows of every sub-table field after the parent row is written."""

    def before(self, write: Write) -> None:
        return None

    def after(self, write: Write) -> None:
        fields = write.er.fields_of_type("sub_table")
        if not fields:
            return
        if write.op in ("create", "update"):
            for i, relations in enumerate(write.relations):
                for f in fields:
                    if f.name in relations:
                        self._save(write, i, f, relations[f.name] or [])
            return
        for old in write.old:
            assert old is not None
            for f in fields:
                self._trash_or_restore(write, f, old, deleted=write.op == "delete")

    def _trash_or_restore(
        self, write: Write, f: FieldDef, parent: Mapping[str, Any], *, deleted: bool
    ) -> None:
        child = _child(write, f)
        table, link = child.table, f.config.link_field
        if deleted:
            when = table.c.deleted_at.is_(None)
        elif parent["deleted_at"] is None:
            return
        else:
            when = table.c.deleted_at == parent["deleted_at"]
        write.platform.access.require(write.ctx, child, "delete")
        rows = write.conn.execute(sa.select(table).where(table.c[link] == parent["id"], when)).mappings()
        nested_writes.set_deleted(write, child, [dict(r) for r in rows], deleted=deleted)

    def _save(self, write: Write, i: int, f: FieldDef, rows: list[Mapping[str, Any]]) -> None:
        child = _child(write, f)
        link = f.config.link_field
        parent_id = write.ids[i]
        base = f"{write.pointers[i]}/{f.name}"
        existing = _live_children(write, child, link, parent_id)
        loader = nested_writes.record_loader(write.conn, write.runtime, child)
        validate = child.validator.validate
        problems: list[Problem] = []
        inserts: list[tuple[dict[str, Any], Mapping[str, Any], str]] = []
        updates: list[tuple[dict[str, Any], dict[str, Any], Mapping[str, Any], str]] = []
        kept: set[int] = set()
        for j, row in enumerate(rows):
            at = f"{base}/{j}"
            child_id = row.get("id")
            values = _client_values(child, link, row)
            old = None
            if child_id is not None:
                old = existing.get(child_id) if type(child_id) is int else None
                if old is None or child_id in kept:
                    problems.append(_unknown_row(f, child_id, at))
                    continue
                kept.add(child_id)
            try:
                if old is None:
                    validated = validate(
                        {**values, link: parent_id}, locale=write.ctx.locale, now=write.now, loader=loader
                    )
                else:
                    validated = validate(
                        values, partial=True, old=old, locale=write.ctx.locale, now=write.now, loader=loader
                    )
            except RecordInvalid as exc:
                problems += [
                    Problem(p.code, field=p.field, pointer=f"{at}/{p.field or ''}", params=p.params)
                    for p in exc.problems
                ]
                continue
            relations = getattr(validated, "relations", None) or {}
            if old is None:
                inserts.append((dict(validated), relations, at))
            else:
                updates.append((old, dict(validated), relations, at))
        checked = [v for v, _r, _a in inserts] + [v for _o, v, _r, _a in updates]
        pointers = [a for _v, _r, a in inserts] + [a for _o, _v, _r, a in updates]
        problems += references.reference_problems(write.conn, write.runtime, child, checked, pointers)
        if problems:
            raise InvalidInput(
                f"{len(problems)} value(s) in {f.name} are not valid",
                f"{f.label.zh}中有 {len(problems)} 个值无效",
                problems=problems,
            )
        access = write.platform.access
        removed = [row for child_id, row in existing.items() if child_id not in kept]
        if removed:
            access.require(write.ctx, child, "delete")
            nested_writes.set_deleted(write, child, removed, deleted=True)
        if updates:
            access.require(write.ctx, child, "update")
        for old, values, relations, at in updates:
            nested_writes.update_row(write, child, old, values, relations, at)
        if inserts:
            access.require(write.ctx, child, "create")
            nested_writes.insert_rows(
                write,
                child,
                [v for v, _r, _a in inserts],
                [r for _v, r, _a in inserts],
                [a for *_x, a in inserts],
            )


def _unknown_row(f: FieldDef, child_id: Any, at: str) -> Problem:
    return Problem(
        "unknown_row",
        field=f.name,
        pointer=f"{at}/id",
        params={
            "zh": f"{f.label.zh}中没有编号为 {child_id} 的明细行（或重复出现）",
            "en": f"{f.label.en} has no row with id {child_id} (or it appears twice)",
        },
    )
