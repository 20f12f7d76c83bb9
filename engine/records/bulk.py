"""Bulk operations: change, trash or restore many records picked by ids or by a filter.

Each is one write unit over the rows picked, so the rows get exactly what a single change gets
(entity permission, row scope for the operation, field write rules, validation, write steps,
roll-ups, history and events) and the whole batch commits or nothing does. A filter picks only
rows the caller may act on (their scope for the operation, on top of what they may read); ids
outside it are not found, as for a single record. A dry run does the whole write and rolls it
back, so its count (or its refusal) is the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from engine.access import Operation
from engine.apps.record_query import filter_clause
from engine.apps.runtime import EntityRuntime
from engine.apps.search import search_clause
from engine.context import Context
from engine.errors import InvalidInput
from engine.records.loader import not_found, scoped_rows
from engine.records.service import RecordService
from engine.records.writer import WriteUnit

#: Most records one bulk operation may touch (as many as a bulk create may make).
MAX_RECORDS = 10_000

Record = dict[str, Any]


@dataclass(frozen=True)
class Selection:
    """Which records: a list of ids, or a rule-DSL filter (exactly one of them); a filter may be
    narrowed by keywords (``q``), as a list is."""

    ids: Sequence[int] | None = None
    filter: str | None = None
    q: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a bulk operation did, or would do in a dry run."""

    #: the records picked, in id order
    ids: list[int]
    #: the records actually changed (an update that sets the values they have changes nothing)
    changed: list[int]
    dry_run: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "matched": len(self.ids),
            "count": len(self.changed),
            "ids": self.changed,
            "dry_run": self.dry_run,
        }


class _DryRun(Exception):
    """Raised inside the write unit to roll a dry run back, carrying its outcome."""

    def __init__(self, outcome: Any) -> None:
        super().__init__("dry run")
        self.outcome = outcome


def pick(
    unit: WriteUnit, er: EntityRuntime, selection: Selection, op: Operation, *, trashed: bool
) -> dict[int, Record]:
    """The stored rows the selection names that the caller may ``op``, by id. A filter picks
    live rows (trashed ones, with ``trashed``); named ids outside the caller's scope are not
    found."""
    ctx, conn, access = unit.ctx, unit.conn, unit.access
    if (selection.ids is None) == (selection.filter is None) or (selection.ids is not None and selection.q):
        raise InvalidInput("bulk_selection")
    if selection.ids is not None:
        if not selection.ids or len(selection.ids) > MAX_RECORDS:
            raise InvalidInput("bulk_count", max=MAX_RECORDS, details={"count": len(selection.ids)})
        rows = scoped_rows(conn, access, ctx, er, selection.ids, op, lock=True)
        # Rows in the wrong state (a trashed one to update, a live one to restore) are refused
        # by the write unit itself, as for a single record.
        missing = {i for i in selection.ids if i not in rows}
        if missing:
            raise not_found(er, missing)
        return dict(sorted(rows.items()))
    access.check_query(ctx, er, selection.filter, None)
    table = er.table
    where = [table.c.deleted_at.is_not(None) if trashed else table.c.deleted_at.is_(None)]
    if selection.filter and selection.filter.strip():
        scope_of: Callable[[EntityRuntime], Any] = unit.readable
        where.append(filter_clause(unit.runtime, er, selection.filter, target_scope=scope_of))
    if selection.q:
        plan = access.field_plan(ctx, er)
        found_text = search_clause(er, selection.q, plan.hidden | set(plan.masked), conn.dialect.name)
        if found_text is not None:
            where.append(found_text)
    for scope in (unit.readable(er), access.row_filter(ctx, conn, er, op)):
        if scope is not None:
            where.append(scope)
    found = [
        r[0]
        for r in conn.execute(sa.select(table.c.id).where(*where).order_by(table.c.id).limit(MAX_RECORDS + 1))
    ]
    if len(found) > MAX_RECORDS:
        total = conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
        raise InvalidInput("bulk_too_many", count=total, max=MAX_RECORDS, details={"count": total})
    return scoped_rows(conn, access, ctx, er, found, op, lock=True) if found else {}


T = TypeVar("T")


def run_bulk(
    records: RecordService,
    ctx: Context,
    app: str,
    work: Callable[[WriteUnit], T],
    dry_run: bool,
) -> T:
    """``work`` in one write unit; a dry run rolls it back and answers what it returned."""

    def unit_work(unit: WriteUnit) -> T:
        outcome = work(unit)
        if dry_run:
            raise _DryRun(outcome)
        return outcome

    try:
        return records.write(ctx, app, unit_work)
    except _DryRun as done:
        return done.outcome  # type: ignore[no-any-return]


def _changed(before: Mapping[int, Record], after: Sequence[Record]) -> list[int]:
    return [r["id"] for r in after if r["version"] != before[r["id"]]["version"]]


def bulk_update(
    records: RecordService,
    ctx: Context,
    app: str,
    entity: str,
    selection: Selection,
    values: Mapping[str, Any],
    *,
    dry_run: bool = False,
) -> Outcome:
    """Set ``values`` on every record picked, as single updates would (problems located at
    ``/records/{id}/<field>``)."""

    def work(unit: WriteUnit) -> Outcome:
        er = unit.runtime.entity(entity)
        unit.access.require(ctx, er, "update")
        rows = pick(unit, er, selection, "update", trashed=False)
        ids = list(rows)
        done = (
            unit.update(er, [(i, values) for i in ids], pointers=[f"/records/{i}" for i in ids])
            if ids
            else []
        )
        return Outcome(ids, _changed(rows, done), dry_run)

    return run_bulk(records, ctx, app, work, dry_run)


def bulk_set_deleted(
    records: RecordService,
    ctx: Context,
    app: str,
    entity: str,
    selection: Selection,
    *,
    deleted: bool,
    dry_run: bool = False,
) -> Outcome:
    """Trash (``deleted``) or restore every record picked; their sub-table rows go with them."""

    def work(unit: WriteUnit) -> Outcome:
        er = unit.runtime.entity(entity)
        unit.access.require(ctx, er, "delete")
        rows = pick(unit, er, selection, "delete", trashed=not deleted)
        ids = list(rows)
        if ids:
            (unit.delete if deleted else unit.restore)(er, ids)
        return Outcome(ids, ids, dry_run)

    return run_bulk(records, ctx, app, work, dry_run)
