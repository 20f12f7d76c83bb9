"""Merging two duplicate records into one, in one transaction.

The survivor keeps its values; its blank fields take the other record's values; ``values``
(JSON, validated like an update) decide anything else. Every reference to the other record in
the app (lookups, hence sub-table rows, and many-to-many links on either side) is re-pointed to
the survivor, the other record goes to the trash, roll-ups of both are recomputed, and both
histories get an entry with op ``merge`` (re-pointed records too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.clock import utcnow
from engine.context import Context
from engine.errors import InvalidInput, NotFound
from engine.host.events import RecordDeleted, RecordUpdated
from engine.records import history, nested_writes, references
from engine.records.steps.base import Write
from engine.records.steps.rollups import recompute
from form_engine import Problem, RecordInvalid

if TYPE_CHECKING:
    from engine.platform import Platform


def _live(conn: sa.Connection, er: EntityRuntime, record_id: int) -> dict[str, Any]:
    query = sa.select(er.table).where(er.table.c.id == record_id, er.table.c.deleted_at.is_(None))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(
            f"no live {er.entity.name} record with id {record_id}",
            f"{er.entity.label.zh}中没有编号为 {record_id} 的有效记录",
        )
    return dict(row)


def _fill_blanks(er: EntityRuntime, survivor: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """JSON values of the other record for the survivor's blank, writable fields."""
    return {
        f.name: er.value_json(f.name, other[f.name])
        for f in er.entity.stored_fields()
        if f.field_type.writable
        and survivor.get(f.name) in (None, "", [])
        and other.get(f.name) not in (None, "", [])
    }


def _repoint_lookups(write: Write, er: EntityRuntime, survivor_id: int, other_id: int) -> None:
    conn, now, actor = write.conn, write.now, write.ctx.user_id
    for source in write.runtime.entities.values():
        for f in source.entity.fields:
            if f.type != "lookup" or f.config.entity != er.entity.name:
                continue
            column = source.table.c[f.name]
            ids = list(conn.execute(sa.select(source.table.c.id).where(column == other_id)).scalars())
            if not ids:
                continue
            conn.execute(
                source.table.update()
                .where(source.table.c.id.in_(ids))
                .values({f.name: survivor_id, "version": source.table.c.version + 1, "updated_at": now})
            )
            history.write(
                conn,
                [
                    history.history_row(
                        source.app,
                        source.entity.name,
                        i,
                        "merge",
                        now,
                        actor,
                        {f.name: [other_id, survivor_id]},
                    )
                    for i in ids
                ],
            )


def _repoint_links(write: Write, er: EntityRuntime, survivor_id: int, other_id: int) -> None:
    """Links to the other record (from any entity) and its own links move to the survivor."""
    conn = write.conn
    for source in write.runtime.entities.values():
        for name, table in source.link_tables.items():
            if source.entity.field(name).config.entity == er.entity.name:
                _move(conn, table, "target_id", "source_id", other_id, survivor_id)
    for table in er.link_tables.values():
        _move(conn, table, "source_id", "target_id", other_id, survivor_id)


def _move(conn: sa.Connection, table: sa.Table, side: str, partner: str, old: int, new: int) -> None:
    already = sa.select(table.c[partner]).where(table.c[side] == new).scalar_subquery()
    conn.execute(table.delete().where(table.c[side] == old, table.c[partner].in_(already)))
    conn.execute(table.update().where(table.c[side] == old).values({side: new}))


def merge_records(
    platform: Platform,
    ctx: Context,
    app: str,
    entity: str,
    survivor_id: int,
    other_id: int,
    values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge ``other_id`` into ``survivor_id``; returns the survivor as stored."""
    if survivor_id == other_id:
        raise InvalidInput(
            "a record cannot be merged with itself",
            "记录不能与自身合并",
            problems=[Problem("same_record", pointer="/from")],
        )
    with platform.db.begin() as conn:
        runtime: AppRuntime = platform.runtime(conn, app)
        er = runtime.entity(entity)
        platform.access.require(ctx, er, "update")
        platform.access.require(ctx, er, "delete")
        survivor = _live(conn, er, survivor_id)
        other = _live(conn, er, other_id)
        now = utcnow()
        loader = nested_writes.record_loader(conn, runtime, er)
        data = {**_fill_blanks(er, survivor, other), **(values or {})}
        try:
            validated = er.validator.validate(
                data, partial=True, old=survivor, locale=ctx.locale, now=now, loader=loader
            )
        except RecordInvalid as exc:
            problems = [
                Problem(p.code, field=p.field, pointer=f"/values/{p.field or ''}", params=p.params)
                for p in exc.problems
            ]
            raise InvalidInput(
                f"{len(problems)} value(s) are not valid", f"有 {len(problems)} 个值无效", problems=problems
            ) from None
        changed = dict(validated)
        references.refuse(references.reference_problems(conn, runtime, er, [changed], ["/values"]))
        write = Write(
            platform,
            conn,
            ctx,
            runtime,
            er,
            "update",
            now,
            [changed],
            [survivor],
            [{}],
            {},
            ["/values"],
            [survivor_id],
        )
        _repoint_lookups(write, er, survivor_id, other_id)
        _repoint_links(write, er, survivor_id, other_id)
        nested_writes.set_deleted(write, er, [other], deleted=True)
        changes = nested_writes.update_row(
            write, er, survivor, changed, getattr(validated, "relations", None) or {}, "", op=None
        )
        if not changes:  # the survivor's row did not move: still a new version, the merge is a change
            conn.execute(
                er.table.update()
                .where(er.table.c.id == survivor_id)
                .values(version=survivor["version"] + 1, updated_at=now, updated_by=ctx.user_id)
            )
        entries = {**nested_writes.changes_json(er, changes), "merged_from": [None, other_id]}
        history.write(
            conn,
            [
                history.history_row(app, entity, survivor_id, "merge", now, ctx.user_id, entries),
                history.history_row(
                    app, entity, other_id, "merge", now, ctx.user_id, {"merged_into": [None, survivor_id]}
                ),
            ],
        )
        for f in er.fields_of_type("rollup"):
            recompute(write, er, f, [survivor_id, other_id])
        record = _live(conn, er, survivor_id)
        trashed = {**other, "deleted_at": now}
    platform.publish(RecordDeleted(app, entity, other_id, trashed, ctx))
    platform.publish(RecordUpdated(app, entity, survivor_id, record, ctx, changes=changes))
    return record
