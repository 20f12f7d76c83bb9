"""Routes of the list page's own features: the saved-views JSON API and the import wizard's page.

Mounted before the pages' router, whose ``/ui/{app}/{entity}/...`` routes would otherwise
claim these paths. A view is checked through the kernel before it is stored: its filter and
sort by the same list query a browser runs (so a DSL error answers 422 at its line and column),
its columns against the fields the caller may read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from builder_ui import saved_views
from builder_ui.pages import PREFIX, _page
from engine import Context, ContextDep, OptionalContextDep, Platform, PlatformDep, public_route

router = APIRouter(tags=["ui"], include_in_schema=False)
VIEWS = PREFIX + "/views/{app}/{entity}"
#: A row id as the database can hold it (a bigger number is a 422, not a database error).
ViewId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class ViewBody(BaseModel):
    """A view as the browser sends it; empty texts mean no filter, sort or search."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    shared: bool = False
    filter: str = Field(default="", max_length=10_000)
    sort: str = Field(default="", max_length=1000)
    q: str = Field(default="", max_length=200)
    columns: list[str] = Field(default_factory=list, max_length=100)


class DefaultBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    view_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


def readable_fields(platform: Platform, ctx: Context, app: str, entity: str) -> list[str]:
    """The entity's fields the caller may read (hidden ones left out)."""
    records = platform.records
    with platform.db.connect() as conn:
        er = records.runtime(conn, app).entity(entity)
    hidden = records.access.field_plan(ctx, er).hidden
    return [f.name for f in er.entity.fields if f.name not in hidden]


def checked(platform: Platform, ctx: Context, app: str, entity: str, body: ViewBody) -> saved_views.ViewSpec:
    """The view, once the kernel accepts its filter and sort for this caller (it must be able
    to read the list) and its columns are fields the caller may read."""
    platform.records.list_records(
        ctx, app, entity, filter=body.filter or None, sort=body.sort or None, limit=1
    )
    saved_views.check_columns(body.columns, readable_fields(platform, ctx, app, entity))
    return saved_views.ViewSpec(**body.model_dump())


@router.get(VIEWS)
def list_views(app: str, entity: str, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """``{"views": [...], "default": id | null}``: the caller's own views and the shared ones."""
    platform.records.list_records(ctx, app, entity, limit=1)  # the caller may read the list
    return saved_views.list_views(platform, ctx, app, entity)


@router.post(VIEWS, status_code=201)
def create_view(
    app: str, entity: str, body: ViewBody, ctx: ContextDep, platform: PlatformDep
) -> dict[str, Any]:
    return saved_views.create_view(platform, ctx, app, entity, checked(platform, ctx, app, entity, body))


@router.put(VIEWS + "/default")
def set_default(
    app: str, entity: str, body: Annotated[DefaultBody, Body()], ctx: ContextDep, platform: PlatformDep
) -> dict[str, Any]:
    """The view this list opens with for the caller (``null``: the plain list)."""
    saved_views.set_default(platform, ctx, app, entity, body.view_id)
    return {"default": body.view_id}


@router.put(VIEWS + "/{view_id}")
def update_view(
    app: str, entity: str, view_id: ViewId, body: ViewBody, ctx: ContextDep, platform: PlatformDep
) -> dict[str, Any]:
    spec = checked(platform, ctx, app, entity, body)
    return saved_views.update_view(platform, ctx, app, entity, view_id, spec)


@router.delete(VIEWS + "/{view_id}", status_code=204)
def delete_view(app: str, entity: str, view_id: ViewId, ctx: ContextDep, platform: PlatformDep) -> Response:
    saved_views.delete_view(platform, ctx, app, entity, view_id)
    return Response(status_code=204)


@router.get(PREFIX + "/{app}/{entity}/import")
@public_route
def import_wizard(
    app: str, entity: str, request: Request, platform: PlatformDep, ctx: OptionalContextDep
) -> Response:
    """Upload, map columns, dry run, run with progress, error file (the kernel's import API)."""
    return _page(request, platform, ctx, "import.html", app=app, entity=entity)
