"""Recomputing an entity's derived values (roll-ups, formulas) for every stored row.

A schema change that adds or changes a formula or roll-up runs this in its own transaction, and
an administrator can ask for it. Like a roll-up moved by a child's write, the result is derived
data, not a user's change: only the derived columns of rows whose value differs are written (no
version bump, no history, no events). Rows go in batches of ``BATCH_SIZE`` ids, so a million
rows never sit in memory: the batch's roll-ups in one UPDATE with the correlated aggregate, then
its formulas, which may read those roll-ups, from the stored row through the compiled
validator. A row the entity's rules now refuse keeps its formula values and counts as failed.
Roll-ups of other entities that read a value that moved are recomputed in turn.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.apps.rollup_queries import aggregate, rollups_over
from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.clock import utcnow
from form_engine import FieldDef, RecordInvalid

BATCH_SIZE = 1000
#: How far a moved value is followed up through roll-ups of roll-ups (they may form a cycle).
MAX_DEPTH = 5


@dataclass
class Recomputed:
    """What a recompute did to the entity it was asked for."""

    #: rows with at least one derived value changed
    updated: int = 0
    #: rows whose formulas could not be computed (the rules refuse the stored row): values kept
    failed: int = 0


def recompute_entity(
    conn: sa.Connection,
    runtime: AppRuntime,
    er: EntityRuntime,
    fields: Collection[str] | None = None,
    *,
    converted: Collection[str] = (),
    now: datetime | None = None,
    depth: int = 0,
) -> Recomputed:
    """Recompute the roll-ups named in ``fields`` (None: all of them) and every formula of
    ``er`` for each stored row, trashed ones included; ``converted`` names other fields whose
    stored values just changed, so roll-ups of other entities reading them move too."""
    now = now or utcnow()
    rollups = [f for f in er.fields_of_type("rollup") if fields is None or f.name in fields]
    formulas = [f.name for f in er.fields_of_type("formula")]
    result = Recomputed()
    moved = set(converted)
    if rollups or formulas:
        _lock(conn, er)
        for ids in _batches(conn, er):
            changed = _rollup_batch(conn, runtime, er, rollups, ids[0], ids[-1])
            if changed:
                moved.update(f.name for f in rollups)
            formula_ids, failed, formulas_moved = _formula_batch(conn, runtime, er, formulas, ids, now)
            moved |= formulas_moved
            result.updated += len(changed | formula_ids)
            result.failed += failed
    if depth < MAX_DEPTH:
        for parent, f, reads in rollups_over(runtime, er.entity.name):
            if reads & moved:
                recompute_entity(conn, runtime, parent, [f.name], now=now, depth=depth + 1)
    return result


def _lock(conn: sa.Connection, er: EntityRuntime) -> None:
    """On PostgreSQL, writers of the table wait until the recompute commits (readers go on):
    a concurrent write that moves a roll-up then recomputes it over a snapshot that includes
    this transaction, and no row changes between being read and written here. SQLite's write
    transaction already excludes other writers."""
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer.quote
        conn.exec_driver_sql(f"LOCK TABLE {quote(er.table.name)} IN EXCLUSIVE MODE")


def _batches(conn: sa.Connection, er: EntityRuntime) -> Iterable[list[int]]:
    """Ascending ids, ``BATCH_SIZE`` at a time (keyset paging: each batch is an index range)."""
    table = er.table
    last: int | None = None
    while True:
        query = sa.select(table.c.id).order_by(table.c.id).limit(BATCH_SIZE)
        if last is not None:
            query = query.where(table.c.id > last)
        ids = list(conn.execute(query).scalars())
        if not ids:
            return
        yield ids
        last = ids[-1]


def _rollup_batch(
    conn: sa.Connection,
    runtime: AppRuntime,
    er: EntityRuntime,
    rollups: list[FieldDef],
    first: int,
    last: int,
) -> set[int]:
    """Ids of the rows in ``[first, last]`` whose roll-ups changed, set in one UPDATE."""
    if not rollups:
        return set()
    table = er.table
    differs = [
        table.c[f.name].is_distinct_from(_as_stored(conn, aggregate(runtime, er, f), table.c[f.name]))
        for f in rollups
    ]
    statement = (
        table.update()
        .where(table.c.id.between(first, last), sa.or_(*differs))
        .values({f.name: aggregate(runtime, er, f) for f in rollups})
        .returning(table.c.id)
    )
    return set(conn.execute(statement).scalars())


def _as_stored(conn: sa.Connection, value: Any, column: sa.Column[Any]) -> Any:
    """``value`` as the column would store it, so an unchanged aggregate compares equal.

    PostgreSQL rounds on assignment (an average kept with two decimals), hence the cast; SQLite
    stores what it is given, so the raw aggregate compares with the stored one as it is."""
    return sa.cast(value, column.type) if conn.dialect.name == "postgresql" else value


def _formula_batch(
    conn: sa.Connection,
    runtime: AppRuntime,
    er: EntityRuntime,
    formulas: list[str],
    ids: list[int],
    now: datetime,
) -> tuple[set[int], int, set[str]]:
    """(ids of rows whose formulas changed, rows that failed, names of formulas that moved)."""
    if not formulas:
        return set(), 0, set()
    table = er.table
    rows = [
        dict(row)
        for row in conn.execute(
            sa.select(table).where(table.c.id.between(ids[0], ids[-1])).order_by(table.c.id)
        ).mappings()
    ]
    loader = BatchLoader(conn, runtime, er, rows)
    failed = 0
    moved: set[str] = set()
    updates = []
    for row in rows:
        try:
            values = er.validator.validate({}, partial=True, old=row, now=now, loader=loader)
        except RecordInvalid:  # stored data the rules now refuse: the formulas keep their value
            failed += 1
            continue
        new = {name: values.get(name, row[name]) for name in formulas}
        changed = {name for name in formulas if new[name] != row[name]}
        if changed:
            moved |= changed
            updates.append({"_id": row["id"], **{f"_v{i}": new[name] for i, name in enumerate(formulas)}})
    if updates:
        conn.execute(
            table.update()
            .where(table.c.id == sa.bindparam("_id"))
            .values({name: sa.bindparam(f"_v{i}") for i, name in enumerate(formulas)}),
            updates,
        )
    return {u["_id"] for u in updates}, failed, moved


class BatchLoader:
    """``loader(lookup field, id)`` over the records one batch references, read once per lookup
    field on first use. A recompute is the system's (or an administrator's), so it reads every
    live record with every field, as they may; a user's save reads through their own scope."""

    def __init__(
        self, conn: sa.Connection, runtime: AppRuntime, er: EntityRuntime, rows: list[dict[str, Any]]
    ) -> None:
        self._conn = conn
        self._runtime = runtime
        self._rows = rows
        self._targets = er.lookups()
        self._loaded: dict[str, dict[Any, Mapping[str, Any]]] = {}

    def __call__(self, field_name: str, record_id: Any) -> Mapping[str, Any] | None:
        target = self._targets.get(field_name)
        if target is None or record_id is None:
            return None
        found = self._loaded.get(field_name)
        if found is None:
            table = self._runtime.entities[target].table
            wanted = sorted({row[field_name] for row in self._rows if row.get(field_name) is not None})
            query = sa.select(table).where(table.c.id.in_(wanted), table.c.deleted_at.is_(None))
            found = {row["id"]: dict(row) for row in self._conn.execute(query).mappings()}
            self._loaded[field_name] = found
        return found.get(record_id)
