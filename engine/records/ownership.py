"""Ownership transfer: give one or many records to another user, in one write unit, with history.

Changing the owner is an update of the ``owner`` column through the write unit: it needs the
update permission on each record (records outside the caller's update scope are reported as
not found), is refused where a role makes ``owner`` read-only, and runs the write steps, so
formulas, duplicate keys and roll-ups that read ``owner`` follow the new owner.
"""

from __future__ import annotations

from engine.context import Context
from engine.errors import InvalidInput
from engine.identity import audit, users
from engine.records.loader import not_found, scoped_rows
from engine.records.service import RecordService
from engine.records.writer import WriteUnit

MAX_RECORDS = 10_000


def transfer(
    records: RecordService, ctx: Context, app: str, entity: str, ids: list[int], owner: int
) -> list[int]:
    """Make ``owner`` the owner of every record in ``ids``; returns the ids that changed hands."""
    if not ids or len(ids) > MAX_RECORDS:
        raise InvalidInput("transfer_count", max=MAX_RECORDS, details={"count": len(ids)})
    wanted = sorted(set(ids))

    def work(unit: WriteUnit) -> list[int]:
        er = unit.runtime.entity(entity)
        unit.access.require(ctx, er, "update")
        unit.access.check_write(ctx, er, {"owner": owner}, "update")
        target = users.get_user(unit.conn, owner)
        if not target.is_active:
            raise InvalidInput("owner_disabled", username=target.username)
        rows = scoped_rows(unit.conn, unit.access, ctx, er, wanted, "update")
        missing = [i for i in wanted if i not in rows or rows[i]["deleted_at"] is not None]
        if missing:
            raise not_found(er, missing)
        moved = [i for i in wanted if rows[i]["owner"] != owner]
        if not moved:
            return []
        unit.update(er, [(i, {"owner": owner}) for i in moved], history_op="transfer")
        audit.record(
            unit.conn,
            "ownership_transferred",
            ctx=ctx,
            app=app,
            target=entity,
            details={"ids": moved, "owner": owner},
        )
        return moved

    return records.write(ctx, app, work)
