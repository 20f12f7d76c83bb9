"""Every hook a plugin may implement. Our own engines, and the kernel's own write steps, use
exactly these, like anyone else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter

    from engine.apps.sections import PackageSection
    from engine.host.actions import ActionRegistry
    from engine.host.platform import Platform
    from engine.records import RecordEvent, WriteStep, WriteUnit

hookspec = pluggy.HookspecMarker("tangram")
hookimpl = pluggy.HookimplMarker("tangram")


@hookspec
def tangram_startup(platform: Platform) -> None:
    """Called once when the platform has created its tables."""


@hookspec
def tangram_routes(platform: Platform) -> APIRouter | None:
    """Return a FastAPI router to mount; its routes require authentication unless public."""


@hookspec
def tangram_actions(registry: ActionRegistry) -> None:
    """Register action types (``registry.register(name, handler, schema=...)``)."""


@hookspec
def tangram_package_sections() -> list[PackageSection] | None:
    """Return the app-package sections this plugin owns (``flows``, ``reports``): their JSON
    Schema and cross-checks, so they are validated, exported, imported and versioned with the app."""


@hookspec
def tangram_write_steps() -> list[WriteStep] | None:
    """Return write steps to run on every batch of rows, inside the write's transaction."""


@hookspec
def tangram_before_commit(unit: WriteUnit) -> None:
    """Called once per write unit after its changes, before the commit; ``unit.pending`` holds
    one event per changed row, and ``unit.conn`` writes in the same transaction."""


@hookspec
def tangram_record_event(event: RecordEvent, platform: Platform) -> None:
    """Called after the commit, once per changed row (children, merged and purged ones too)."""


@hookspec
def tangram_jobs(platform: Platform) -> dict[str, Any] | None:
    """Return ``{job_kind: handler(platform, payload)}`` for the durable job runner."""


@hookspec
def tangram_commands(cli: click.Group) -> None:
    """Add click commands to the ``tangram`` command line."""


@hookspec
def tangram_ui_pages(platform: Platform) -> list[dict[str, Any]] | None:
    """Return UI pages ``{"path", "label": {"zh", "en"}, "template"}`` for the browser app."""
