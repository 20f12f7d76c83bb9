"""Merging duplicate records over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.records.merge import merge_records

from .deps import MAX_ID, ContextDep, IdPath, PlatformDep

router = APIRouter(tags=["records"])


class MergeBody(BaseModel):
    from_: int = Field(
        alias="from", ge=1, le=MAX_ID, description="Id of the record merged into this one (trashed)"
    )
    values: dict[str, Any] = Field(default_factory=dict, description="Field values the survivor takes")


@router.post("/api/apps/{app}/records/{entity}/{record_id}/merge")
def merge_record(
    app: str, entity: str, record_id: IdPath, ctx: ContextDep, platform: PlatformDep, body: MergeBody
) -> dict[str, Any]:
    """Merge record ``from`` into ``record_id``: references re-pointed, ``from`` trashed."""
    merge_records(platform.records, ctx, app, entity, record_id, body.from_, body.values)
    record = platform.records.get(ctx, app, entity, record_id)
    return {**platform.records.to_json(ctx, app, entity, [record])[0], "merged_from": body.from_}
