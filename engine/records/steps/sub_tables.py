"""Sub-table (master-detail) fields: child records written, trashed and restored with the parent.

Semantics of a sub-table value sent on create or update (the list is the whole set of rows the
caller can see):

* a row with ``id`` updates that child (only the keys it carries change);
* a row without ``id`` creates a child, its link field set to the parent;
* a live child the caller can read that is missing from the list is moved to the trash.

Child rows are records of the child entity written through the same write unit, so the
child's permissions, row scope and field rules apply exactly as to a direct write, and every
child row gets its own history and event. Children the caller cannot read are neither shown
nor touched. Omitting the field on update leaves the children alone. Rows may carry what the
API returned (system columns, computed values, the link field): those keys are ignored, so a
client can send back what it read. Trashing the parent trashes its live children with the same
timestamp; restoring the parent restores exactly those children (ones trashed earlier stay in
the trash). Problems are located at ``/<field>/<row index>/<child field>``. All children of a
batch of parents are read with one query and created with one batched insert.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.errors import InvalidInput
from engine.messages import problem
from engine.records.steps.base import WriteStep
from form_engine import SYSTEM_FIELDS, FieldDef, Problem, SubTableConfig

if TYPE_CHECKING:
    from engine.apps.runtime import EntityRuntime
    from engine.records.steps.base import Batch


def _client_values(child: EntityRuntime, link: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """What the client may set: not the id, system columns, computed fields or the link."""
    readonly = {f.name for f in child.entity.fields if not f.field_type.writable}
    return {k: v for k, v in row.items() if k not in SYSTEM_FIELDS and k not in readonly and k != link}


def _unknown_row(f: FieldDef, child_id: Any, at: str) -> Problem:
    return problem("unknown_row", field=f.name, pointer=f"{at}/id", id=child_id, sub_table=f.label)


class SubTables(WriteStep):
    """Saves the rows of every sub-table field after the parent rows are written."""

    def after(self, batch: Batch) -> None:
        fields = batch.er.fields_of_type("sub_table")
        if not fields:
            return
        for f in fields:
            if batch.op in ("create", "update"):
                self._save(batch, f)
            else:
                self._trash_or_restore(batch, f, deleted=batch.op == "delete")

    def _trash_or_restore(self, batch: Batch, f: FieldDef, *, deleted: bool) -> None:
        unit = batch.unit
        child = unit.runtime.entities[f.config_as(SubTableConfig).entity]
        table, link = child.table, child.table.c[f.config_as(SubTableConfig).link_field]
        conditions = []
        for parent in batch.old:
            assert parent is not None
            if deleted:
                conditions.append(sa.and_(link == parent["id"], table.c.deleted_at.is_(None)))
            elif parent["deleted_at"] is not None:
                conditions.append(sa.and_(link == parent["id"], table.c.deleted_at == parent["deleted_at"]))
        if not conditions:
            return
        rows = [dict(r) for r in unit.conn.execute(sa.select(table).where(sa.or_(*conditions))).mappings()]
        if rows:
            unit.cascade_set_deleted(child, rows, deleted=deleted)

    def _save(self, batch: Batch, f: FieldDef) -> None:
        unit = batch.unit
        child = unit.runtime.entities[f.config_as(SubTableConfig).entity]
        link = f.config_as(SubTableConfig).link_field
        sent = [(i, rel[f.name] or []) for i, rel in enumerate(batch.relations) if f.name in rel]
        if not sent:
            return
        existing = self._readable_children(batch, child, link, [batch.ids[i] for i, _rows in sent])
        problems: list[Problem] = []
        creates: list[tuple[dict[str, Any], dict[str, Any], str]] = []
        updates: list[tuple[int, dict[str, Any], str]] = []
        removed: list[int] = []
        for i, rows in sent:
            parent_id = batch.ids[i]
            base = f"{batch.pointers[i]}/{f.name}"
            mine = existing.get(parent_id, {})
            kept: set[int] = set()
            for j, row in enumerate(rows):
                at = f"{base}/{j}"
                values = _client_values(child, link, row)
                child_id = row.get("id")
                if child_id is None:
                    creates.append((values, {link: parent_id}, at))
                elif type(child_id) is not int or child_id not in mine or child_id in kept:
                    problems.append(_unknown_row(f, child_id, at))
                else:
                    kept.add(child_id)
                    updates.append((child_id, values, at))
            removed += [child_id for child_id in mine if child_id not in kept]
        if problems:
            raise InvalidInput(
                "values_invalid.sub_table", field=f.label, count=len(problems), problems=problems
            )
        if removed:
            unit.delete(child, removed)
        # A failure rolls the whole write back either way: report the problems of both halves.
        failures: list[InvalidInput] = []
        for save in (
            lambda: self._update(batch, child, updates),
            lambda: self._create(batch, child, creates),
        ):
            try:
                save()
            except InvalidInput as exc:
                if not exc.problems:
                    raise
                failures.append(exc)
        if len(failures) == 1:
            raise failures[0]
        if failures:
            every = [p for exc in failures for p in exc.problems]
            raise InvalidInput("values_invalid.sub_table", field=f.label, count=len(every), problems=every)

    @staticmethod
    def _update(batch: Batch, child: EntityRuntime, updates: list[tuple[int, dict[str, Any], str]]) -> None:
        if updates:
            batch.unit.update(
                child, [(i, values) for i, values, _at in updates], pointers=[at for *_x, at in updates]
            )

    @staticmethod
    def _create(
        batch: Batch, child: EntityRuntime, creates: list[tuple[dict[str, Any], dict[str, Any], str]]
    ) -> None:
        if creates:
            batch.unit.create(
                child,
                [values for values, _link, _at in creates],
                assigned=[link for _values, link, _at in creates],
                pointers=[at for *_x, at in creates],
            )

    @staticmethod
    def _readable_children(
        batch: Batch, child: EntityRuntime, link: str, parent_ids: list[int]
    ) -> dict[int, dict[int, dict[str, Any]]]:
        """Parent id -> {child id: row} of live children the caller can read, locked on
        PostgreSQL (one query for the batch)."""
        unit = batch.unit
        table = child.table
        query = sa.select(table).where(table.c[link].in_(parent_ids), table.c.deleted_at.is_(None))
        scope = unit.readable(child)
        if scope is not None:
            query = query.where(scope)
        if unit.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        for row in unit.conn.execute(query.order_by(table.c.id)).mappings():
            found[row[link]][row["id"]] = dict(row)
        return found
