"""The plugin's hooks: its table at startup, its pages and static files as routes."""

from __future__ import annotations

from fastapi import APIRouter

from builder_ui import preferences, region_data, saved_views
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
    # The route objects themselves (the kernel reads each endpoint's public mark), fixed paths
    # first: the pages' /ui/{app}/{entity}/... would otherwise claim /ui/data/regions and the
    # list page's routes.
    routes.routes.extend([*region_data.router.routes, *list_router.routes, *router.routes])
    return routes
