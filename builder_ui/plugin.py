"""The plugin's hooks: its tables at startup, its pages and static files as routes, and the
package's ``menus`` section."""

from __future__ import annotations

from fastapi import APIRouter

from builder_ui import inbox, menus, preferences, public_forms, public_store
from builder_ui.pages import router
from engine import PackageSection, Platform, hookimpl


@hookimpl
def tangram_startup(platform: Platform) -> None:
    preferences.create_tables(platform)
    public_store.create_tables(platform)


@hookimpl
def tangram_routes(platform: Platform) -> APIRouter:
    combined = APIRouter()
    # fixed paths (/ui/inbox, /ui/public/...) before the pages' /ui/{app}/... patterns; the
    # routes themselves, not included routers, so the kernel sees which endpoints are public
    combined.routes.extend([*inbox.router.routes, *public_forms.router.routes, *router.routes])
    return combined


@hookimpl
def tangram_package_sections() -> list[PackageSection]:
    return [menus.SECTION]
