"""Every hook a plugin may implement. Our own engines use exactly these, like anyone else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter

    from engine.host.actions import ActionRegistry
    from engine.host.events import RecordEvent
    from engine.platform import Platform

hookspec = pluggy.HookspecMarker("tangram")
hookimpl = pluggy.HookimplMarker("tangram")


@hookspec
def tangram_startup(platform: Platform) -> None:
    """Called once when the platform is built, after the database is reachable."""


@hookspec
def tangram_routes(platform: Platform) -> APIRouter | None:
    """Return a FastAPI router to mount; its routes require authentication unless public."""


@hookspec
def tangram_actions(registry: ActionRegistry) -> None:
    """Register action types (``registry.register(name, handler, schema=...)``)."""


@hookspec
def tangram_record_event(event: RecordEvent, platform: Platform) -> None:
    """Called after each committed record change (created, updated, deleted, restored)."""


@hookspec
def tangram_jobs(platform: Platform) -> dict[str, Any] | None:
    """Return ``{job_kind: handler(platform, payload)}`` for the durable job runner."""


@hookspec
def tangram_commands(cli: click.Group) -> None:
    """Add click commands to the ``tangram`` command line."""


@hookspec
def tangram_ui_pages(platform: Platform) -> list[dict[str, Any]] | None:
    """Return UI pages ``{"path", "label": {"zh", "en"}, "template"}`` for the browser app."""
