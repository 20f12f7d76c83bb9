"""Merging two duplicate records into one, in one write unit.

The survivor keeps its values; its blank fields the caller may write take the other record's
values; ``values`` (JSON, validated like an update, under the caller's field write rules)
decide anything else. Both records must be within the caller's scope: the survivor for update,
the other record for delete. Every reference to the other record in the app (lookups, hence
sub-table rows, and many-to-many links on either side) is re-pointed to the survivor through
the write unit, so the re-pointed records get their write steps (formulas, duplicate keys,
roll-ups of both parents), ``updated_by``, a ``merge`` history entry and an event. The other
record goes to the trash; both histories get an entry with op ``merge``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from engine.apps.runtime import EntityRuntime
from engine.context import Context
from engine.errors import InvalidInput
from engine.messages import problem
from engine.records import history
from engine.records.loader import not_found, scoped_rows
from engine.records.service import RecordService
from engine.records.writer import WriteUnit
from form_engine import LookupConfig, ManyToManyConfig


def _fill_blanks(
    er: EntityRuntime, survivor: Mapping[str, Any], other: Mapping[str, Any], closed: frozenset[str]
) -> dict[str, Any]:
    """JSON values of the other record for the survivor's blank fields the caller may write
    (``closed``: hidden, masked or read-only for them)."""
    return {
        f.name: er.value_json(f.name, other[f.name])
        for f in er.entity.stored_fields()
        if f.field_type.writable
        and f.name not in closed
        and survivor.get(f.name) in (None, "", [])
        and other.get(f.name) not in (None, "", [])
    }


def _repoint_lookups(unit: WriteUnit, er: EntityRuntime, survivor_id: int, other_id: int) -> None:
    for source in unit.runtime.entities.values():
        for f in source.entity.fields:
            if f.type != "lookup" or f.config_as(LookupConfig).entity != er.entity.name:
                continue
            table = source.table
            rows = [
                dict(r)
                for r in unit.conn.execute(sa.select(table).where(table.c[f.name] == other_id)).mappings()
            ]
            if rows:
                unit.cascade_update(source, rows, [{f.name: survivor_id} for _ in rows], history_op="merge")


def _repoint_links(unit: WriteUnit, er: EntityRuntime, survivor_id: int, other_id: int) -> None:
    """Links to the other record (from any entity) and its own links move to the survivor."""
    for source in unit.runtime.entities.values():
        for name, table in source.link_tables.items():
            if source.entity.field(name).config_as(ManyToManyConfig).entity == er.entity.name:
                _move(unit.conn, table, "target_id", "source_id", other_id, survivor_id)
    for table in er.link_tables.values():
        _move(unit.conn, table, "source_id", "target_id", other_id, survivor_id)


def _move(conn: sa.Connection, table: sa.Table, side: str, partner: str, old: int, new: int) -> None:
    already = sa.select(table.c[partner]).where(table.c[side] == new).scalar_subquery()
    conn.execute(table.delete().where(table.c[side] == old, table.c[partner].in_(already)))
    conn.execute(table.update().where(table.c[side] == old).values({side: new}))


def merge_records(
    records: RecordService,
    ctx: Context,
    app: str,
    entity: str,
    survivor_id: int,
    other_id: int,
    values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge ``other_id`` into ``survivor_id``; returns the survivor as stored."""
    if survivor_id == other_id:
        raise InvalidInput("merge_with_itself", problems=[problem("same_record", pointer="/from")])

    def work(unit: WriteUnit) -> dict[str, Any]:
        er = unit.runtime.entity(entity)
        unit.access.require(ctx, er, "update")
        unit.access.require(ctx, er, "delete")
        survivor = scoped_rows(unit.conn, unit.access, ctx, er, [survivor_id], "update", lock=True)
        other = scoped_rows(unit.conn, unit.access, ctx, er, [other_id], "delete", lock=True)
        missing = [i for i, found in ((survivor_id, survivor), (other_id, other)) if not _live(found, i)]
        if missing:
            raise not_found(er, missing)
        unit.check_write(er, values or {}, "update", "/values")
        plan = unit.access.field_plan(ctx, er)
        closed = plan.hidden | plan.readonly | frozenset(plan.masked)
        data = {**_fill_blanks(er, survivor[survivor_id], other[other_id], closed), **(values or {})}
        _repoint_lookups(unit, er, survivor_id, other_id)
        _repoint_links(unit, er, survivor_id, other_id)
        unit.cascade_set_deleted(er, [other[other_id]], deleted=True)
        history.write(
            unit.conn,
            [
                history.history_row(
                    app,
                    entity,
                    other_id,
                    "merge",
                    unit.now,
                    ctx.user_id,
                    {"merged_into": [None, survivor_id]},
                )
            ],
        )
        # Re-pointing moved the survivor's roll-ups: update it as it is now stored.
        return unit.update(
            er,
            [(survivor_id, data)],
            pointers=["/values"],
            history_op="merge",
            history_extra={"merged_from": [None, other_id]},
        )[0]

    return records.write(ctx, app, work)


def _live(found: Mapping[int, Mapping[str, Any]], record_id: int) -> bool:
    row = found.get(record_id)
    return row is not None and row["deleted_at"] is None
