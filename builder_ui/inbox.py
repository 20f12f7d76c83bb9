"""The inbox page and the small reads the browser needs beside the kernel's and the flow
engine's APIs: the app's menus, and the labels of its flows (which a non-administrator's view
of the package leaves out), both read from package metadata."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from builder_ui.menus import menus_for
from builder_ui.pages import PREFIX, _page
from engine import ContextDep, OptionalContextDep, PlatformDep, public_route

router = APIRouter(tags=["ui"], include_in_schema=False)


@router.get(PREFIX + "/inbox")
@public_route
def inbox(request: Request, platform: PlatformDep, ctx: OptionalContextDep) -> Response:
    """My approval tasks, carbon copies and notifications."""
    return _page(request, platform, ctx, "inbox.html")


@router.get(PREFIX + "/public-forms")
@public_route
def public_forms_admin(request: Request, platform: PlatformDep, ctx: OptionalContextDep) -> Response:
    """Administrators publish forms at public links (``/ui/api/public-forms``)."""
    return _page(request, platform, ctx, "public_forms.html")


@router.get(PREFIX + "/api/apps/{app}/menus")
def app_menus(app: str, ctx: ContextDep, platform: PlatformDep) -> list[dict[str, Any]]:
    return menus_for(platform, ctx, app)


@router.get(PREFIX + "/api/apps/{app}/flows")
def app_flows(app: str, ctx: ContextDep, platform: PlatformDep) -> list[dict[str, Any]]:
    """Each flow's name, label, entity and whether people start it by hand (``manual``), so
    the record page can offer "submit for approval" and the inbox can name the flow."""
    package = platform.cached_runtime(app).package
    return [
        {
            "name": flow.get("name"),
            "label": flow.get("label") or {"zh": flow.get("name"), "en": flow.get("name")},
            "entity": flow.get("entity"),
            "manual": (flow.get("trigger") or {}).get("type") == "manual",
        }
        for flow in package.section("flows")
    ]
