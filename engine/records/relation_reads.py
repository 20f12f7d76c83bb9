"""Values of a record that live outside its row: many-to-many ids and sub-table rows.

Lists show many-to-many ids (one query per field and page); one record (GET, and the record a
create or update returns) also shows its sub-table rows, each as the child entity's JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.apps.runtime import AppRuntime, EntityRuntime
from form_engine import ManyToManyConfig

_CHUNK = 500


@dataclass(frozen=True)
class ChildView:
    """How the caller may see one child entity's rows: a WHERE clause (None: every row) and
    the caller's field rules (hidden, masked) for each row."""

    scope: Any
    present: Callable[[dict[str, Any]], dict[str, Any]]


#: The caller's view of a child entity, or None when they may not read it at all.
ViewOf = Callable[[EntityRuntime], ChildView | None]


def linked_ids(
    conn: sa.Connection, table: sa.Table, target: sa.Table, source_ids: list[int]
) -> dict[int, list[int]]:
    """source id -> ids of its live targets, in the order they were linked (by target id)."""
    out: dict[int, list[int]] = {i: [] for i in source_ids}
    if not source_ids:
        return out
    query = (
        sa.select(table.c.source_id, table.c.target_id)
        .join(target, target.c.id == table.c.target_id)
        .where(table.c.source_id.in_(source_ids), target.c.deleted_at.is_(None))
        .order_by(table.c.source_id, table.c.target_id)
    )
    for source_id, target_id in conn.execute(query):
        out[source_id].append(target_id)
    return out


def has_relations(er: EntityRuntime) -> bool:
    return any(f.field_type.storage == "none" and not f.field_type.system_column for f in er.entity.fields)


def attach(
    conn: sa.Connection,
    runtime: AppRuntime,
    er: EntityRuntime,
    records: Sequence[dict[str, Any]],
    *,
    children: bool,
    view: ViewOf | None = None,
) -> None:
    """Add relation values to ``records`` (stored rows, in place). With ``view``, sub-table
    rows are those the caller may read, shown with their field rules applied."""
    if not records or not has_relations(er):
        return
    ids = [r["id"] for r in records]
    for name, table in er.link_tables.items():
        target = runtime.entities[er.entity.field(name).config_as(ManyToManyConfig).entity].table
        found = linked_ids(conn, table, target, ids)
        for record in records:
            record[name] = found[record["id"]]
    if not children:
        return
    for f in er.fields_of_type("sub_table"):
        child = runtime.entities[f.config.entity]
        seen = view(child) if view is not None else ChildView(None, lambda r: r)
        if seen is None:
            continue
        table, link = child.table, child.table.c[f.config.link_field]
        rows: dict[Any, list[dict[str, Any]]] = {i: [] for i in ids}
        query = sa.select(table).where(link.in_(ids), table.c.deleted_at.is_(None)).order_by(table.c.id)
        if seen.scope is not None:
            query = query.where(seen.scope)
        for row in conn.execute(query).mappings():
            rows[row[f.config.link_field]].append(seen.present(child.to_json(dict(row))))
        for record in records:
            record[f.name] = rows[record["id"]]


def refresh(
    conn: sa.Connection,
    runtime: AppRuntime,
    er: EntityRuntime,
    records: Sequence[dict[str, Any]],
    view: ViewOf | None = None,
    *,
    children: bool = True,
) -> None:
    """After a write: re-read stored columns (roll-ups moved by child rows) and attach relations
    (sub-table rows too, with ``children``)."""
    if not records or not (has_relations(er) or er.fields_of_type("rollup")):
        return
    table = er.table
    by_id = {r["id"]: r for r in records}
    ids = list(by_id)
    for start in range(0, len(ids), _CHUNK):
        query = sa.select(table).where(table.c.id.in_(ids[start : start + _CHUNK]))
        for row in conn.execute(query).mappings():
            by_id[row["id"]].update(row)
    attach(conn, runtime, er, records, children=children, view=view)
