"""Ownership transfer: give one or many records to another user, in one write unit, with history.

Changing the owner is an update of the ``owner`` column through the write unit: it needs the
update permission on each record (records outside the caller's update scope are reported as
not found, or not picked by a filter), is refused where a role makes ``owner`` read-only, and
runs the write steps, so formulas, duplicate keys and roll-ups that read ``owner`` follow the
new owner. ``reassign`` hands every live record of a user in an app to another (a leaver).
"""

from __future__ import annotations

from engine.context import Context
from engine.errors import InvalidInput
from engine.identity import audit, users
from engine.records.bulk import MAX_RECORDS, Outcome, Selection, pick, run_bulk
from engine.records.service import RecordService
from engine.records.writer import WriteUnit

__all__ = ["MAX_RECORDS", "reassign", "transfer"]


def _check_owner(unit: WriteUnit, owner: int) -> None:
    target = users.get_user(unit.conn, owner)
    if not target.is_active:
        raise InvalidInput("owner_disabled", username=target.username)


def _give(unit: WriteUnit, entity: str, selection: Selection, owner: int) -> list[int]:
    """Make ``owner`` the owner of the records picked; returns the ids that changed hands."""
    er = unit.runtime.entity(entity)
    unit.access.require(unit.ctx, er, "update")
    unit.access.check_write(unit.ctx, er, {"owner": owner}, "update")
    rows = pick(unit, er, selection, "update", trashed=False)
    moved = [i for i, row in rows.items() if row["owner"] != owner]
    if moved:
        unit.update(er, [(i, {"owner": owner}) for i in moved], history_op="transfer")
        audit.record(
            unit.conn,
            "ownership_transferred",
            ctx=unit.ctx,
            app=er.app,
            target=entity,
            details={"ids": moved, "owner": owner},
        )
    return moved


def transfer(
    records: RecordService,
    ctx: Context,
    app: str,
    entity: str,
    selection: Selection | list[int],
    owner: int,
    *,
    dry_run: bool = False,
) -> list[int]:
    """Make ``owner`` the owner of every record picked (ids or a filter such as
    ``owner == 5``); returns the ids that changed hands."""
    if not isinstance(selection, Selection):
        selection = Selection(ids=selection)

    def work(unit: WriteUnit) -> Outcome:
        _check_owner(unit, owner)
        moved = _give(unit, entity, selection, owner)
        return Outcome(moved, moved, dry_run)

    return run_bulk(records, ctx, app, work, dry_run).changed


def reassign(
    records: RecordService, ctx: Context, app: str, from_user: int, to_user: int, *, dry_run: bool = False
) -> dict[str, list[int]]:
    """Give every live record ``from_user`` owns in the app to ``to_user``, entity by entity,
    all or none; answers the ids moved per entity. Trashed records keep their owner."""

    def work(unit: WriteUnit) -> dict[str, list[int]]:
        _check_owner(unit, to_user)
        users.get_user(unit.conn, from_user)
        moved: dict[str, list[int]] = {}
        for name, er in unit.runtime.entities.items():
            table = er.table
            owned = unit.conn.execute(
                table.select()
                .with_only_columns(table.c.id)
                .where(table.c.owner == from_user, table.c.deleted_at.is_(None))
                .limit(MAX_RECORDS + 1)
            ).scalars()
            ids = list(owned)
            if ids:
                moved[name] = _give(unit, name, Selection(ids=ids), to_user)
        return moved

    return run_bulk(records, ctx, app, work, dry_run)
