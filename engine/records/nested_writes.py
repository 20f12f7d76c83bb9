"""Writes of other records made on behalf of one write (sub-table rows, merge re-pointing).

They run in the outer write's transaction and through the same write steps, so a child row gets
its auto-number, its parent's roll-ups move, and its history is kept, exactly as if the child
had been written through the record service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.records import history
from engine.records.steps.base import Write, WriteOp, run_after, run_before

Record = dict[str, Any]


def record_loader(conn: sa.Connection, runtime: AppRuntime, er: EntityRuntime) -> Any:
    """``loader(lookup_field, id)`` -> the referenced live record (DSL paths, linkage)."""
    targets = er.lookups()

    def load(field_name: str, record_id: Any) -> Record | None:
        target = targets.get(field_name)
        if target is None or record_id is None:
            return None
        table = runtime.entities[target].table
        query = sa.select(table).where(table.c.id == record_id, table.c.deleted_at.is_(None))
        row = conn.execute(query).mappings().first()
        return dict(row) if row is not None else None

    return load


def _nested(
    outer: Write,
    er: EntityRuntime,
    op: WriteOp,
    rows: list[Record],
    old: list[Mapping[str, Any] | None],
    relations: list[Mapping[str, Any]],
    pointers: list[str],
    ids: list[int] | None = None,
) -> Write:
    return Write(
        outer.platform,
        outer.conn,
        outer.ctx,
        outer.runtime,
        er,
        op,
        outer.now,
        rows,
        old,
        relations,
        {"confirm_duplicates": True},
        pointers,
        ids or [],
    )


def insert_rows(
    outer: Write,
    er: EntityRuntime,
    rows: list[Record],
    relations: list[Mapping[str, Any]],
    pointers: list[str],
) -> list[int]:
    """Insert validated rows of ``er`` (system columns filled here); returns their ids."""
    actor = outer.ctx.user_id
    for row in rows:
        row.update(created_at=outer.now, updated_at=outer.now, created_by=actor, updated_by=actor)
        row.setdefault("owner", actor)
        row["version"] = 1
    write = _nested(outer, er, "create", rows, [None] * len(rows), relations, pointers)
    steps = outer.platform.write_steps
    run_before(steps, write)
    conn = outer.conn
    write.ids = [conn.execute(er.table.insert(), row).inserted_primary_key[0] for row in rows]
    for row, record_id in zip(rows, write.ids, strict=True):
        row["id"] = record_id
        row["deleted_at"] = None
    run_after(steps, write)
    return write.ids


def update_row(
    outer: Write,
    er: EntityRuntime,
    old: Record,
    changed: Record,
    relations: Mapping[str, Any],
    pointer: str,
    *,
    op: str | None = "update",
) -> dict[str, tuple[Any, Any]]:
    """Apply validated ``changed`` values to the stored row ``old``; history op ``op`` (None:
    the caller writes the history)."""
    record_id = old["id"]
    write = _nested(outer, er, "update", [changed], [old], [relations], [pointer], [record_id])
    steps = outer.platform.write_steps
    run_before(steps, write)
    changes = {k: (old.get(k), v) for k, v in changed.items() if old.get(k) != v}
    if not changes and not relations:
        return {}
    values = {k: v for k, (_o, v) in changes.items()}
    values |= {"updated_at": outer.now, "updated_by": outer.ctx.user_id, "version": old["version"] + 1}
    outer.conn.execute(er.table.update().where(er.table.c.id == record_id).values(values))
    run_after(steps, write)
    if op is None:
        return changes
    history.write(
        outer.conn,
        [
            history.history_row(
                er.app, er.entity.name, record_id, op, outer.now, outer.ctx.user_id, changes_json(er, changes)
            )
        ],
    )
    return changes


def set_deleted(outer: Write, er: EntityRuntime, olds: Sequence[Record], *, deleted: bool) -> None:
    """Trash (or restore) stored rows of ``er``, with history; same timestamp as the outer write."""
    op: WriteOp = "delete" if deleted else "restore"
    steps = outer.platform.write_steps
    for old in olds:
        values = {
            "deleted_at": outer.now if deleted else None,
            "updated_at": outer.now,
            "updated_by": outer.ctx.user_id,
            "version": old["version"] + 1,
        }
        write = _nested(outer, er, op, [{**old, **values}], [old], [{}], [""], [old["id"]])
        run_before(steps, write)
        outer.conn.execute(er.table.update().where(er.table.c.id == old["id"]).values(values))
        run_after(steps, write)
        history.write(
            outer.conn,
            [history.history_row(er.app, er.entity.name, old["id"], op, outer.now, outer.ctx.user_id, None)],
        )


def changes_json(er: EntityRuntime, changes: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    """``{field: [old, new]}`` in JSON form, as the history table keeps it."""
    return {k: [er.value_json(k, o), er.value_json(k, n)] for k, (o, n) in changes.items()}
