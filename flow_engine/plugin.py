"""The flow engine as a kernel plugin: every way it joins the platform is one hook here."""

from __future__ import annotations

import functools
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
    create_plugin_manager,
    hookimpl,
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

#: The registry of the platform built last: package checks have no platform to ask.
_registry: list[ActionRegistry] = []
_LOCK = RecordLock()


@functools.cache
def _installed_actions() -> ActionRegistry:
    """The actions of every installed plugin (their entry points), as ``tangram serve`` has them."""
    registry, last = ActionRegistry(), list(_registry)
    create_plugin_manager().hook.tangram_actions(registry=registry)
    _registry[:] = last  # our hook below took this registry for a platform's: it is none
    return registry


def _actions() -> ActionRegistry:
    """The actions package checks know: those of every installed plugin, and those of the platform
    built last (one may be given plugins that are not installed, as tests do). Not the last
    platform's alone: whether a package is valid must not depend on which platform a process
    happened to build last (one without the marketing plugin made the CRM template invalid)."""
    return ActionRegistry.union(*_registry[-1:], _installed_actions())


def _check_flows(package: AppPackage, items: Sequence[dict[str, Any]]) -> list[Problem]:
    return check_flows(package, items, _actions())


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
    _registry.append(registry)
    del _registry[:-1]


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
