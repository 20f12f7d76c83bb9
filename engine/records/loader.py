"""Reading stored records as one caller may see them, for the write unit and form previews.

Three reads sit under every write: the rows being changed (within the caller's row scope for
the operation, locked on PostgreSQL), records reached through lookups (linkage ``copy_fields``,
DSL paths such as ``account.grade`` in rules and formulas), and the records pointing at one
(what ``any``/``none``/``count`` in a rule range over). All go through the caller's access
policy, so a write can neither change nor read a record the caller could not: the Python side
of the DSL sees exactly what the SQL side (``record_query.column_resolver``) lets a filter see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa

import rule_engine
from engine.access import AccessPolicy, Operation
from engine.apps.record_query import related_clause
from engine.apps.runtime import ROW_ID, AppRuntime, EntityRuntime
from engine.context import Context
from engine.errors import Forbidden, NotFound

Record = dict[str, Any]
#: ``loader(lookup field name, id)`` -> the referenced record as the caller may read it.
Loader = Callable[[str, Any], Record | None]

_CHUNK = 500


def not_found(er: EntityRuntime, ids: Iterable[int]) -> NotFound:
    listed = ", ".join(map(str, sorted(ids)))
    entity = {"zh": er.entity.label.zh, "en": er.entity.name}
    return NotFound("record_not_found", entity=entity, ids=listed, details={"ids": sorted(ids)})


def scoped_rows(
    conn: sa.Connection,
    access: AccessPolicy,
    ctx: Context,
    er: EntityRuntime,
    ids: Iterable[int],
    op: Operation,
    *,
    lock: bool = False,
) -> dict[int, Record]:
    """The stored rows among ``ids`` that ``ctx`` may ``op`` (trashed ones included), by id."""
    wanted = sorted(set(ids))
    table = er.table
    scope = access.row_filter(ctx, conn, er, op)
    found: dict[int, Record] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        one = len(chunk) == 1
        query = er.select_by_id if one else sa.select(table).where(table.c.id.in_(chunk))
        if scope is not None:
            query = query.where(scope)
        if lock and conn.dialect.name == "postgresql":
            query = query.order_by(table.c.id).with_for_update()
        rows = conn.execute(query, {ROW_ID: chunk[0]} if one else {})
        found.update((row["id"], dict(row)) for row in rows.mappings())
    return found


def visible_row(
    conn: sa.Connection,
    access: AccessPolicy,
    ctx: Context,
    er: EntityRuntime,
    record_id: int,
    op: Operation,
    *,
    lock: bool = False,
) -> Record:
    """The stored row, if ``ctx`` may ``op`` it; otherwise 404 (its existence is not revealed)."""
    row = scoped_rows(conn, access, ctx, er, [record_id], op, lock=lock).get(record_id)
    if row is None:
        raise not_found(er, [record_id])
    return row


def readable_scope(access: AccessPolicy, ctx: Context, conn: sa.Connection, er: EntityRuntime) -> Any:
    """The caller's read scope on ``er`` as a WHERE clause (None: every row; ``false()`` when
    they may not read the entity at all)."""
    try:
        access.require(ctx, er, "read")
    except Forbidden:
        return sa.false()
    return access.row_filter(ctx, conn, er, "read")


def record_loader(
    conn: sa.Connection,
    runtime: AppRuntime,
    er: EntityRuntime,
    ctx: Context,
    access: AccessPolicy,
    scope_of: Callable[[EntityRuntime], Any] | None = None,
) -> Loader:
    """``loader(lookup_field, id)`` -> the referenced live record if the caller may read it,
    without the fields hidden or masked for them (a formula or a copied value must not carry
    what the caller cannot see). ``scope_of`` gives the caller's read scope on an entity (a
    write unit passes the one it keeps per entity)."""
    targets = er.lookups()
    scope_of = scope_of or (lambda target: readable_scope(access, ctx, conn, target))

    def load(field_name: str, record_id: Any) -> Record | None:
        target_name = targets.get(field_name)
        if target_name is None or record_id is None:
            return None
        target = runtime.entities[target_name]
        table = target.table
        query = sa.select(table).where(table.c.id == record_id, table.c.deleted_at.is_(None))
        scope = scope_of(target)
        if scope is not None:
            query = query.where(scope)
        row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return caller_view(access, ctx, target, [row])[0]

    return load


def caller_view(
    access: AccessPolicy, ctx: Context, er: EntityRuntime, rows: Iterable[sa.RowMapping]
) -> list[Record]:
    """Stored rows as a rule may read them for the caller: without the fields hidden or masked
    for them (a formula, a copied value or a count must not carry what the caller cannot see)."""
    secret = access.field_plan(ctx, er).secret
    return [{k: v for k, v in row.items() if k not in secret} for row in rows]


def related_reader(
    conn: sa.Connection,
    runtime: AppRuntime,
    ctx: Context,
    access: AccessPolicy,
    scope_of: Callable[[EntityRuntime], Any] | None = None,
) -> rule_engine.Related:
    """``related(entity, lookup, record)`` -> the live rows of ``entity`` whose ``lookup`` holds
    ``record``'s id and that the caller may read, shaped as ``record_loader`` shapes a record:
    what ``any``/``none``/``count`` range over in Python, the same rows the SQL backend's
    ``record_query.related_resolver`` counts for the same caller."""
    scope_of = scope_of or (lambda target: readable_scope(access, ctx, conn, target))

    def related(entity: str, via: str, record: Mapping[str, Any]) -> list[Record]:
        record_id = record.get("id")
        if record_id is None:
            return []  # not stored yet: nothing can point at it
        target = runtime.entities[entity]
        table = target.table
        query = sa.select(table).where(related_clause(table, via, record_id, scope_of(target)))
        return caller_view(access, ctx, target, conn.execute(query).mappings())

    return related
