"""The plugin's hooks: its table at startup, its pages and static files as routes."""

from __future__ import annotations

from fastapi import APIRouter

from builder_ui import preferences
from builder_ui.pages import router
from engine import Platform, hookimpl


@hookimpl
def tangram_startup(platform: Platform) -> None:
    preferences.create_tables(platform)


@hookimpl
def tangram_routes(platform: Platform) -> APIRouter:
    return router
