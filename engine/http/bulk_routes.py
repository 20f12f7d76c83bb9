"""Bulk record operations over HTTP: change, trash and restore many records picked by ids or a
filter, and hand every record of a user to another. Each is all or nothing, with a dry run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from engine.records import bulk, ownership

from .deps import AdminDep, ContextDep, Id, PlatformDep

router = APIRouter(tags=["records"])
BASE = "/api/apps/{app}/records/{entity}"

DryRunQuery = Annotated[bool, Query(description="Do the whole operation, answer what it did, then undo it")]
FilterQuery = Annotated[
    str | None, Query(max_length=10_000, description="Rule DSL picking the records (instead of ids)")
]


class Picked(BaseModel):
    """Which records: ``ids``, or ``filter`` (in the body or the query string), narrowed by a
    keyword search ``q`` as the list narrows them."""

    ids: list[Id] | None = Field(default=None, min_length=1, max_length=bulk.MAX_RECORDS)
    filter: str | None = Field(default=None, max_length=10_000)
    q: str | None = Field(default=None, max_length=1_000, description="Keywords, as the list's q=")

    def selection(self, query_filter: str | None) -> bulk.Selection:
        chosen = self.filter if query_filter is None else query_filter
        q = self.q if self.q and self.q.strip() else None  # a blank search box searches nothing
        if q is not None and chosen is None and self.ids is None:
            chosen = ""  # the search alone picks
        return bulk.Selection(ids=self.ids, filter=chosen, q=q)


class BulkChange(Picked):
    values: dict[str, Any] = Field(description="Field values every record picked takes")


class Reassign(BaseModel):
    from_user: Id = Field(description="The user whose records are handed over")
    to_user: Id = Field(description="The user who owns them afterwards")


@router.patch(BASE)
def bulk_update(
    app: str,
    entity: str,
    body: BulkChange,
    ctx: ContextDep,
    platform: PlatformDep,
    filter: FilterQuery = None,
    dry_run: DryRunQuery = False,
) -> dict[str, Any]:
    """Set the same values on every record picked, as single updates would: only rows and
    fields the caller may update, validation, history and roll-ups; all or none."""
    selection = body.selection(filter)
    return bulk.bulk_update(
        platform.records, ctx, app, entity, selection, body.values, dry_run=dry_run
    ).as_json()


@router.post(BASE + "/bulk-delete")
def bulk_delete(
    app: str,
    entity: str,
    body: Picked,
    ctx: ContextDep,
    platform: PlatformDep,
    filter: FilterQuery = None,
    dry_run: DryRunQuery = False,
) -> dict[str, Any]:
    """Move every record picked to the trash (a filter picks live records); all or none."""
    outcome = bulk.bulk_set_deleted(
        platform.records, ctx, app, entity, body.selection(filter), deleted=True, dry_run=dry_run
    )
    return outcome.as_json()


@router.post(BASE + "/bulk-restore")
def bulk_restore(
    app: str,
    entity: str,
    body: Picked,
    ctx: ContextDep,
    platform: PlatformDep,
    filter: FilterQuery = None,
    dry_run: DryRunQuery = False,
) -> dict[str, Any]:
    """Bring every record picked back from the trash (a filter picks trashed records)."""
    outcome = bulk.bulk_set_deleted(
        platform.records, ctx, app, entity, body.selection(filter), deleted=False, dry_run=dry_run
    )
    return outcome.as_json()


@router.post("/api/apps/{app}/reassign")
def reassign(
    app: str, body: Reassign, ctx: AdminDep, platform: PlatformDep, dry_run: DryRunQuery = False
) -> dict[str, Any]:
    """Give every live record one user owns in the app to another (a leaver's hand-over), in
    every entity at once, each change in the record's history."""
    moved = ownership.reassign(platform.records, ctx, app, body.from_user, body.to_user, dry_run=dry_run)
    return {
        "from_user": body.from_user,
        "to_user": body.to_user,
        "transferred": moved,
        "count": sum(len(ids) for ids in moved.values()),
        "dry_run": dry_run,
    }
