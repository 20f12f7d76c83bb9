"""Segments' members and count, enrolling them in a journey, and the public tracking and form
routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from engine import AdminDep, ContextDep, PlatformDep, load_app, public_route
from flow_engine.marketing import forms, segments, tracking
from flow_engine.marketing.enrolment import enrol
from flow_engine.marketing.messages import MarketingInputError, MarketingNotFound
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


def _form_message(platform: Any, token: str) -> dict[str, Any]:
    message = tracking.message_of(platform, token)
    if message is None or not message["fields"].get("form"):
        raise MarketingNotFound("tracking_not_found")
    return message


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.headers.get("accept-language", "zh")
    return "en" if chosen.lower().startswith("en") else "zh"


@router.get("/forms/{token}", include_in_schema=False)
@public_route
def form_page(token: str, request: Request, platform: PlatformDep) -> Response:
    """The form an e-mail links to (``?format=json``: its fields); an unknown token is 404."""
    message, locale = _form_message(platform, token), _lang(request)
    description = forms.describe(platform, message, locale)
    if request.query_params.get("format") == "json":
        return JSONResponse(description, headers=NO_STORE)
    note = forms.THANKS[locale] if description["answered"] else None
    return HTMLResponse(forms.page(description, token, locale, note), headers=NO_STORE)


@router.post("/forms/{token}", include_in_schema=False)
@public_route
async def form_answer(token: str, request: Request, platform: PlatformDep) -> Response:
    """The reader's answer, as the page's form or as JSON ``{"values": {...}}``; once (409 after)."""
    message, locale = _form_message(platform, token), _lang(request)
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        values = body.get("values") if isinstance(body, dict) else None
        if not isinstance(values, dict):
            raise MarketingInputError("form_field_not_asked", name="values")
    else:
        values = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    await run_in_threadpool(forms.answer, platform, message, values, runner_of(platform).clock())
    if request.headers.get("content-type", "").startswith("application/json"):
        return JSONResponse({"message": forms.THANKS[locale]}, headers=NO_STORE)
    description = forms.describe(platform, message, locale)
    return HTMLResponse(forms.page(description, token, locale, forms.THANKS[locale]), headers=NO_STORE)
