"""Roll-up fields: an aggregate of child records stored on the parent, kept current on write.

Whenever a record of a rolled-up entity is created, changed (the old and the new parent when it
is re-parented), trashed or restored, every affected parent's column is recomputed with one
``UPDATE ... SET col = (SELECT agg(...) FROM child WHERE link = parent.id AND alive AND filter)``
in the same transaction. Recomputing (not incrementing) keeps the value right whatever happened
before. A roll-up change is derived data: it neither bumps the parent's version nor writes
history. Formulas of the parent are recomputed after its roll-ups move, and a parent that is
itself rolled up moves its own parent in turn. A roll-up that a schema change adds or changes
is computed for the rows already stored by ``engine.apps.derived_values``, with the same SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.apps.rollup_queries import aggregate, rollups_over
from engine.records.steps.base import WriteStep
from form_engine import FieldDef, RecordInvalid, RollupConfig

if TYPE_CHECKING:
    from engine.apps.runtime import EntityRuntime
    from engine.records.steps.base import Batch

MAX_DEPTH = 5


def recompute(
    write: Batch, parent: EntityRuntime, f: FieldDef, parent_ids: Iterable[Any], depth: int = 0
) -> None:
    ids = sorted({i for i in parent_ids if i is not None})
    if not ids:
        return
    conn, runtime = write.unit.conn, write.unit.runtime
    table = parent.table
    if conn.dialect.name == "postgresql":
        # Lock the parents in a statement of its own: a concurrent writer of another child
        # waits here, and the UPDATE below then takes a fresh snapshot that sees that child.
        # (Inside one UPDATE, the subquery keeps the statement's older snapshot.)
        conn.execute(sa.select(table.c.id).where(table.c.id.in_(ids)).order_by(table.c.id).with_for_update())
    conn.execute(table.update().where(table.c.id.in_(ids)).values({f.name: aggregate(runtime, parent, f)}))
    _refresh_formulas(write, parent, ids)
    if depth < MAX_DEPTH:
        _propagate(write, parent, ids, {f.name}, depth + 1)


def _refresh_formulas(write: Batch, parent: EntityRuntime, ids: list[int]) -> None:
    """Formulas may read the roll-up: compute them again from the stored row."""
    formulas = [f.name for f in parent.entity.fields if f.type == "formula"]
    if not formulas:
        return
    table = parent.table
    conn = write.unit.conn
    for row in conn.execute(sa.select(table).where(table.c.id.in_(ids))).mappings():
        try:
            values = parent.validator.validate({}, partial=True, old=dict(row), now=write.unit.now)
        except RecordInvalid:  # stored data the rules now refuse: the formulas keep their value
            continue
        new = {name: values[name] for name in formulas if name in values and values[name] != row[name]}
        if new:
            conn.execute(table.update().where(table.c.id == row["id"]).values(new))


def _propagate(write: Batch, child: EntityRuntime, ids: list[int], changed: set[str], depth: int) -> None:
    """Parents of ``child`` whose roll-ups read a field that just changed on rows ``ids``."""
    for parent, f, reads in rollups_over(write.unit.runtime, child.entity.name):
        if not (reads & changed):
            continue
        link = child.table.c[f.config_as(RollupConfig).link_field]
        parents = write.unit.conn.execute(sa.select(link).where(child.table.c.id.in_(ids))).scalars()
        recompute(write, parent, f, parents, depth)


class Rollups(WriteStep):
    def before(self, write: Batch) -> None:
        if write.op != "create":
            return
        for f in write.er.fields_of_type("rollup"):
            empty = 0 if f.config_as(RollupConfig).function in ("count", "sum") else None
            value = None if empty is None else f.field_type.coerce(empty, f)
            for row in write.rows:
                row[f.name] = value

    def after(self, write: Batch) -> None:
        if write.op == "create" and write.er.fields_of_type("rollup"):
            _refresh_formulas(write, write.er, write.ids)  # they saw the roll-ups before their start
        for parent, f, reads in rollups_over(write.unit.runtime, write.er.entity.name):
            link = f.config_as(RollupConfig).link_field
            affected: set[Any] = set()
            for row, old in zip(write.rows, write.old, strict=True):
                if write.op == "update":
                    assert old is not None
                    if not (reads & set(row)):
                        continue
                    affected.add(old.get(link))
                    affected.add(row.get(link, old.get(link)))
                elif write.op == "create":
                    affected.add(row.get(link))
                else:
                    affected.add((old or row).get(link))
            recompute(write, parent, f, affected)
