"""Deleting trashed records for good: what goes with them, and what must stop it.

A purge takes the record's sub-table children, its many-to-many links (either side) and its
shares with it. It is refused while another record, live or trashed, still points at one of the
purged rows through a lookup: the lookup would dangle, and the trash is where a reference can
still be restored. History is kept, closed by a ``purge`` entry, so an administrator can still
read what happened to the record; ids are never reused (SQLite tables use AUTOINCREMENT), so an
old reference can never come to mean a new record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.errors import Conflict
from engine.records import history
from engine.records.events import RecordPurged
from engine.records.sharing import purge_shares
from form_engine import LookupConfig, ManyToManyConfig

if TYPE_CHECKING:
    from engine.records.writer import WriteUnit

Record = dict[str, Any]
#: How many referring records a refusal lists (the total is always given).
MAX_LISTED = 50
_CHUNK = 500


def with_children(
    unit: WriteUnit, er: EntityRuntime, rows: list[Record]
) -> list[tuple[EntityRuntime, list[Record]]]:
    """The rows and, depth first, the sub-table children that go with them."""
    out = [(er, rows)]
    ids = [r["id"] for r in rows]
    for f in er.fields_of_type("sub_table"):
        child = unit.runtime.entities[f.config.entity]
        link = child.table.c[f.config.link_field]
        children = [
            dict(r) for r in unit.conn.execute(sa.select(child.table).where(link.in_(ids))).mappings()
        ]
        if children:
            unit.access.require(unit.ctx, child, "delete")
            out += with_children(unit, child, children)
    return out


def referrers(
    conn: sa.Connection, runtime: AppRuntime, purged: Iterable[tuple[EntityRuntime, list[Record]]]
) -> list[dict[str, Any]]:
    """Records outside ``purged`` whose lookups point at a purged row: ``{entity, id, field,
    target}``, lowest ids first."""
    by_entity: dict[str, set[int]] = {}
    for er, rows in purged:
        by_entity.setdefault(er.entity.name, set()).update(r["id"] for r in rows)
    found: list[dict[str, Any]] = []
    for source in runtime.entities.values():
        going = by_entity.get(source.entity.name, set())
        for f in source.entity.fields:
            targets = by_entity.get(f.config_as(LookupConfig).entity) if f.type == "lookup" else None
            if not targets:
                continue
            column, ids = source.table.c[f.name], sorted(targets)
            for start in range(0, len(ids), _CHUNK):
                query = (
                    sa.select(source.table.c.id, column)
                    .where(column.in_(ids[start : start + _CHUNK]))
                    .order_by(source.table.c.id)
                )
                found += [
                    {"entity": source.entity.name, "id": i, "field": f.name, "target": t}
                    for i, t in conn.execute(query)
                    if i not in going
                ]
    return found


def refuse_if_referenced(found: list[dict[str, Any]], er: EntityRuntime) -> None:
    if found:
        raise Conflict(
            "record_referenced",
            entity=er.entity.label,
            count=len(found),
            details={"referrers": found[:MAX_LISTED], "total": len(found)},
        )


def purge_rows(unit: WriteUnit, purged: list[tuple[EntityRuntime, list[Record]]]) -> None:
    """Delete the rows (children included) with their links and shares; close their history."""
    conn, runtime = unit.conn, unit.runtime
    for er, rows in purged:
        ids = [r["id"] for r in rows]
        unit.pending.extend(RecordPurged(er.app, er.entity.name, r["id"], r, unit.ctx) for r in rows)
        for table in er.link_tables.values():
            conn.execute(table.delete().where(table.c.source_id.in_(ids)))
        for other in runtime.entities.values():
            for name, table in other.link_tables.items():
                if other.entity.field(name).config_as(ManyToManyConfig).entity == er.entity.name:
                    conn.execute(table.delete().where(table.c.target_id.in_(ids)))
        purge_shares(conn, er.app, er.entity.name, ids)
        history.write(
            conn,
            [
                history.history_row(er.app, er.entity.name, i, "purge", unit.now, unit.ctx.user_id, None)
                for i in ids
            ],
        )
    for er, rows in reversed(purged):  # children before their parents
        ids = [r["id"] for r in rows]
        for start in range(0, len(ids), _CHUNK):
            conn.execute(er.table.delete().where(er.table.c.id.in_(ids[start : start + _CHUNK])))
