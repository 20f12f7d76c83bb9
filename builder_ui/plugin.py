"""The plugin's hooks: its table at startup, its pages and static files as routes."""

from __future__ import annotations

from fastapi import APIRouter

from builder_ui import preferences, saved_views
from builder_ui.list_routes import router as list_router
from builder_ui.pages import router
from engine import Platform, hookimpl


@hookimpl
def tangram_startup(platform: Platform) -> None:
    preferences.create_tables(platform)
    saved_views.create_tables(platform)


@hookimpl
def tangram_routes(platform: Platform) -> APIRouter:
    routes = APIRouter()
    # The list page's routes first: the pages' /ui/{app}/{entity}/... would claim their paths.
    # The route objects themselves, so the kernel still sees which endpoints are public.
    routes.routes.extend([*list_router.routes, *router.routes])
    return routes
