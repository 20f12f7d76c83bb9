"""Segments' members and count, enrolling them in a journey, and the public tracking routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from engine import AdminDep, ContextDep, PlatformDep, load_app, public_route
from flow_engine.marketing import segments, tracking
from flow_engine.marketing.enrolment import enrol
from flow_engine.marketing.messages import MarketingNotFound
from flow_engine.registry import runner_of

router = APIRouter(tags=["marketing"])
SEGMENT = "/api/apps/{app}/segments/{segment}"


@router.get("/api/apps/{app}/segments")
def list_segments(app: str, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """The app's segments (definitions; members and counts are per segment)."""
    with platform.db.connect() as conn:
        package = load_app(conn, app).package
    return {"items": package.section(segments.SECTION)}


@router.get(SEGMENT + "/members")
def segment_members(
    app: str,
    segment: str,
    ctx: ContextDep,
    platform: PlatformDep,
    limit: Annotated[int, Query()] = 50,
    offset: Annotated[int, Query()] = 0,
    sort: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """A page of the members the caller may read, as the record list shows them."""
    found, page = segments.members(platform, ctx, app, segment, limit=limit, offset=offset, sort=sort)
    items = platform.records.to_json(ctx, app, found["entity"], page.items)
    return {"items": items, "total": page.total, "limit": page.limit, "offset": page.offset}


@router.get(SEGMENT + "/count")
def segment_count(app: str, segment: str, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """How many members the caller may read."""
    _found, page = segments.members(platform, ctx, app, segment, limit=1, offset=0)
    return {"segment": segment, "count": page.total}


class Enrolment(BaseModel):
    flow: str = Field(min_length=1, max_length=60)


@router.post(SEGMENT + "/enrol")
def enrol_segment(
    app: str, segment: str, body: Enrolment, ctx: AdminDep, platform: PlatformDep
) -> dict[str, Any]:
    """Start the journey ``flow`` once for each member not already enrolled in it (admins)."""
    started, already = enrol(platform, ctx, app, segment, body.flow)
    return {"started": started, "already_enrolled": already}


NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}


@router.get("/api/track/open/{token}", include_in_schema=False)
@public_route
def track_open(token: str, platform: PlatformDep) -> Response:
    """The tracking pixel: records the open, answers a 1x1 GIF; an unknown token is 404."""
    message = tracking.message_of(platform, token)
    if message is None:
        raise MarketingNotFound("tracking_not_found")
    tracking.record(platform, message, "opened", runner_of(platform).clock())
    return Response(tracking.PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/api/track/click/{token}", include_in_schema=False)
@public_route
def track_click(token: str, platform: PlatformDep) -> Response:
    """The tracked link: records the click and redirects to the address recorded for that
    message, never to one the request names; an unknown token is 404."""
    message = tracking.message_of(platform, token)
    if message is None or not message["url"]:
        raise MarketingNotFound("tracking_not_found")
    tracking.record(platform, message, "clicked", runner_of(platform).clock())
    return RedirectResponse(message["url"], status_code=302, headers=NO_STORE)
