"""The plugin's hooks: its tables at startup, its pages and static files as routes, and the
package's ``menus`` section."""

from __future__ import annotations

from fastapi import APIRouter

from builder_ui import inbox, menus, preferences, public_forms, public_store, region_data, saved_views
from builder_ui.list_routes import router as list_router
from builder_ui.pages import router
from engine import PackageSection, Platform, hookimpl


@hookimpl
def tangram_startup(platform: Platform) -> None:
    preferences.create_tables(platform)
    saved_views.create_tables(platform)
    public_store.create_tables(platform)


@hookimpl
def tangram_routes(platform: Platform) -> APIRouter:
    combined = APIRouter()
    # Fixed paths (/ui/data/regions, /ui/inbox, /ui/public/..., the list page's routes) before
    # the pages' /ui/{app}/... patterns; the route objects themselves, not included routers, so
    # the kernel sees which endpoints are public.
    combined.routes.extend(
        [
            *region_data.router.routes,
            *inbox.router.routes,
            *public_forms.router.routes,
            *list_router.routes,
            *router.routes,
        ]
    )
    return combined


@hookimpl
def tangram_package_sections() -> list[PackageSection]:
    return [menus.SECTION]
