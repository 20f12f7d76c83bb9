"""The flow engine as a kernel plugin: every way it joins the platform is one hook here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from fastapi import APIRouter

from engine import (
    ActionRegistry,
    AppPackage,
    AppRuntime,
    Context,
    PackageSection,
    Platform,
    RecordEvent,
    WriteStep,
    WriteUnit,
    hookimpl,
    known_actions,
)
from flow_engine import actions, jobs
from flow_engine.checks import check_calendars, check_flows
from flow_engine.commands import flow_group
from flow_engine.openapi import flow_paths
from flow_engine.registry import runner_for, runner_of
from flow_engine.routes import router
from flow_engine.schema import CALENDAR, FLOW
from flow_engine.service import FlowService
from flow_engine.tables import create_tables
from flow_engine.triggers import RecordLock
from form_engine import Problem

_LOCK = RecordLock()


def _check_flows(package: AppPackage, items: Sequence[dict[str, Any]]) -> list[Problem]:
    return check_flows(package, items, known_actions())


def _publish_flows(platform: Platform, ctx: Context, app: str, names: Sequence[str]) -> list[str]:
    """Publish the named flows (their saved drafts), each as one new version."""
    service = FlowService(platform)
    return [service.publish(ctx, app, name)["flow"] for name in names]


@hookimpl
def tangram_startup(platform: Platform) -> None:
    create_tables(platform.db)
    runner_of(platform)


@hookimpl
def tangram_app_openapi(runtime: AppRuntime) -> dict[str, Any]:
    return flow_paths(runtime)


@hookimpl
def tangram_package_sections() -> list[PackageSection]:
    return [
        PackageSection(
            "flows", FLOW, _check_flows, "Flows: approvals and automations run on records", _publish_flows
        ),
        PackageSection("calendars", CALENDAR, check_calendars, "Working calendars for business-time limits"),
    ]


@hookimpl
def tangram_actions(registry: ActionRegistry) -> None:
    actions.register(registry)


@hookimpl
def tangram_write_steps() -> list[WriteStep]:
    return [_LOCK]


@hookimpl
def tangram_before_commit(unit: WriteUnit) -> None:
    runner = runner_for(unit.conn.engine)
    if runner is not None:
        runner.triggers.before_commit(unit)


@hookimpl
def tangram_record_event(event: RecordEvent, platform: Platform) -> None:
    runner_of(platform).triggers.kick(event)


@hookimpl
def tangram_jobs(platform: Platform) -> dict[str, Any]:
    return dict(jobs.handlers(platform))


@hookimpl
def tangram_routes(platform: Platform) -> APIRouter:
    return router


@hookimpl
def tangram_commands(cli: click.Group) -> None:
    cli.add_command(flow_group)
