"""Records over HTTP: create, read, change, trash, restore, list, history.

The record service already answers in JSON values (``to_json``), so these routes hand them to
a ``JSONResponse`` as they are; ``response_model`` keeps the OpenAPI documentation. Letting
FastAPI serialise the return value instead walks every value of every row again, which cost
more than reading the page from the database.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from engine.clock import iso
from engine.context import Context
from engine.errors import InvalidInput
from engine.host.platform import Platform
from engine.records import WriteOptions

from .deps import MAX_ID, ContextDep, IdPath, PlatformDep

router = APIRouter(tags=["records"])
BASE = "/api/apps/{app}/records/{entity}"


class BulkBody(BaseModel):
    items: list[Any] = Field(min_length=1, max_length=10_000)


def _version(body_version: Any, if_match: str | None) -> int | None:
    raw = body_version if body_version is not None else (if_match.strip('"W/ ') if if_match else None)
    if raw is None:
        return None
    text = str(raw)
    # ASCII digits only: "²" is a digit to str.isdigit but not to int().
    if isinstance(raw, bool) or not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        raise InvalidInput("version_invalid", value=raw)
    return int(text)


ExpandQuery = Annotated[
    Literal["titles"] | None,
    Query(description="titles: add _titles, the display names of the lookups, users and departments"),
]


def _expanded(
    platform: Platform, ctx: Context, app: str, entity: str, items: list[dict[str, Any]], expand: str | None
) -> list[dict[str, Any]]:
    return platform.records.with_titles(ctx, app, entity, items) if expand == "titles" else items


def etag(record: dict[str, Any]) -> str:
    """A record's entity tag: its version (weak, as field rules shape what each reader sees)."""
    return f'W/"{record["version"]}"'


@router.get(BASE, response_model=dict[str, Any])
def list_records(
    app: str,
    entity: str,
    ctx: ContextDep,
    platform: PlatformDep,
    filter: Annotated[str | None, Query(max_length=10_000, description="Rule DSL, e.g. amount > 100")] = None,
    sort: Annotated[str | None, Query(description="Fields, - for descending: -amount,name")] = None,
    limit: Annotated[int, Query()] = 50,
    offset: Annotated[int, Query()] = 0,
    trash: bool = False,
    expand: ExpandQuery = None,
    q: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="Keyword search over the title and text fields you may see: any "
            "substring (Chinese too), and the title's pinyin initials or syllables",
        ),
    ] = None,
) -> JSONResponse:
    """A page of records: ``filter`` and ``q`` together narrow it, ``sort`` orders it
    (text in pinyin order, then by id)."""
    page = platform.records.list_records(
        ctx, app, entity, filter=filter, sort=sort, limit=limit, offset=offset, trash=trash, q=q
    )
    items = platform.records.to_json(ctx, app, entity, page.items)
    return JSONResponse(
        {
            "items": _expanded(platform, ctx, app, entity, items, expand),
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
        }
    )


FormQuery = Annotated[
    str | None, Query(description="The form the values come from; its layout and conditions apply")
]
ConfirmQuery = Annotated[bool, Query(description="Save although a duplicate rule with policy 'warn' matches")]
IdempotencyHeader = Annotated[
    str | None,
    Header(
        description="Any unique string per distinct request (e.g. a UUID): a retry with the same key "
        "within 24 hours answers what the first request created instead of creating again"
    ),
]


@router.post(BASE, status_code=201, response_model=dict[str, Any])
def create_record(
    app: str,
    entity: str,
    ctx: ContextDep,
    platform: PlatformDep,
    data: Annotated[dict[str, Any], Body()],
    form: FormQuery = None,
    confirm_duplicates: ConfirmQuery = False,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    record = platform.records.create(
        ctx,
        app,
        entity,
        data,
        form=form,
        options=WriteOptions(confirm_duplicates=confirm_duplicates),
        idempotency_key=idempotency_key,
    )
    return JSONResponse(platform.records.to_json(ctx, app, entity, [record])[0], status_code=201)


@router.post(BASE + "/bulk", status_code=201, response_model=dict[str, Any])
def bulk_create(
    app: str,
    entity: str,
    ctx: ContextDep,
    platform: PlatformDep,
    body: BulkBody,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    """Create up to 10,000 records in one transaction: all or none. Items need not carry the
    same fields; an omitted field gets its default, as in a single create."""
    records = platform.records.bulk_create(ctx, app, entity, body.items, idempotency_key=idempotency_key)
    return JSONResponse({"ids": [r["id"] for r in records], "count": len(records)}, status_code=201)


@router.get(BASE + "/{record_id}", response_model=dict[str, Any])
def get_record(
    app: str,
    entity: str,
    record_id: IdPath,
    ctx: ContextDep,
    platform: PlatformDep,
    trash: bool = False,
    expand: ExpandQuery = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """One record, with an ``ETag`` (its version): send it back as ``If-Match`` on PATCH to
    refuse a stale write, or as ``If-None-Match`` here for a 304 while it has not changed."""
    record = platform.records.get(ctx, app, entity, record_id, include_deleted=trash)
    tag = etag(record)
    if if_none_match is not None and tag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    shown = _expanded(
        platform, ctx, app, entity, platform.records.to_json(ctx, app, entity, [record]), expand
    )
    return JSONResponse(shown[0], headers={"ETag": tag})


@router.patch(BASE + "/{record_id}", response_model=dict[str, Any])
def update_record(
    app: str,
    entity: str,
    record_id: IdPath,
    ctx: ContextDep,
    platform: PlatformDep,
    data: Annotated[dict[str, Any], Body()],
    if_match: Annotated[str | None, Header()] = None,
    form: FormQuery = None,
    confirm_duplicates: ConfirmQuery = False,
) -> JSONResponse:
    """Change the fields given; send ``version`` (or If-Match) to refuse stale writes."""
    values = dict(data)
    version = _version(values.pop("version", None), if_match)
    record = platform.records.update(
        ctx,
        app,
        entity,
        record_id,
        values,
        version=version,
        form=form,
        options=WriteOptions(confirm_duplicates=confirm_duplicates),
    )
    return JSONResponse(
        platform.records.to_json(ctx, app, entity, [record])[0], headers={"ETag": etag(record)}
    )


@router.delete(BASE + "/{record_id}", response_model=dict[str, Any])
def delete_record(
    app: str,
    entity: str,
    record_id: IdPath,
    ctx: ContextDep,
    platform: PlatformDep,
    version: int | None = None,
    purge: bool = False,
) -> JSONResponse:
    """Move to the trash; ``?purge=true`` on a trashed record deletes it for good."""
    if purge:
        platform.records.purge(ctx, app, entity, record_id)
        return JSONResponse({"id": record_id, "purged": True})
    record = platform.records.delete(ctx, app, entity, record_id, version=version)
    return JSONResponse(platform.records.to_json(ctx, app, entity, [record])[0])


@router.post(BASE + "/{record_id}/restore", response_model=dict[str, Any])
def restore_record(
    app: str, entity: str, record_id: IdPath, ctx: ContextDep, platform: PlatformDep
) -> JSONResponse:
    record = platform.records.restore(ctx, app, entity, record_id)
    return JSONResponse(platform.records.to_json(ctx, app, entity, [record])[0])


@router.get(BASE + "/{record_id}/history", response_model=list[dict[str, Any]])
def record_history(
    app: str, entity: str, record_id: IdPath, ctx: ContextDep, platform: PlatformDep
) -> JSONResponse:
    entries = platform.records.history(ctx, app, entity, record_id)
    return JSONResponse([{**e, "at": iso(e["at"])} for e in entries])
