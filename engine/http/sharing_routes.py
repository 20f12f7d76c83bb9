"""Record ownership and sharing over HTTP: transfer owners, share one record, list and revoke."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.records import ownership, sharing
from engine.records.bulk import Selection

from .deps import ContextDep, Id, IdPath, PlatformDep

router = APIRouter(tags=["records"])
BASE = "/api/apps/{app}/records/{entity}"


class Transfer(BaseModel):
    """The records (``ids``, or a ``filter`` such as ``owner == 5``) and their new owner."""

    ids: list[Id] | None = Field(default=None, min_length=1, max_length=ownership.MAX_RECORDS)
    filter: str | None = Field(default=None, max_length=10_000)
    owner: Id


class NewShare(BaseModel):
    user_id: Id | None = None
    department_id: Id | None = None
    access: Literal["read", "edit"] = "read"


@router.post(BASE + "/transfer")
def transfer_owner(
    app: str, entity: str, body: Transfer, ctx: ContextDep, platform: PlatformDep, dry_run: bool = False
) -> dict[str, Any]:
    """Give records to another owner, all or none; each change is in the record's history."""
    selection = Selection(ids=body.ids, filter=body.filter)
    moved = ownership.transfer(platform.records, ctx, app, entity, selection, body.owner, dry_run=dry_run)
    return {"owner": body.owner, "transferred": moved, "count": len(moved)}


@router.get(BASE + "/{record_id}/shares")
def list_shares(
    app: str, entity: str, record_id: IdPath, ctx: ContextDep, platform: PlatformDep
) -> list[dict[str, Any]]:
    return sharing.shares_of(platform.records, ctx, app, entity, record_id)


@router.post(BASE + "/{record_id}/shares", status_code=201)
def share_record(
    app: str, entity: str, record_id: IdPath, body: NewShare, ctx: ContextDep, platform: PlatformDep
) -> dict[str, Any]:
    """Share the record with one user or one department (``read`` or ``edit``)."""
    return sharing.share(
        platform.records,
        ctx,
        app,
        entity,
        record_id,
        user_id=body.user_id,
        department_id=body.department_id,
        access=body.access,
    )


@router.delete(BASE + "/{record_id}/shares/{share_id}")
def unshare_record(
    app: str, entity: str, record_id: IdPath, share_id: IdPath, ctx: ContextDep, platform: PlatformDep
) -> dict[str, Any]:
    sharing.unshare(platform.records, ctx, app, entity, record_id, share_id)
    return {"id": share_id, "deleted": True}
