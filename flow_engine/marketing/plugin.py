"""Marketing automation as a kernel plugin: segments, journey actions, the e-mail job, tracking."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from engine import ActionRegistry, AppRuntime, PackageSection, Platform, hookimpl
from flow_engine.marketing import routes, segments, tables
from flow_engine.marketing.journeys import EMAIL_JOB, Journeys
from flow_engine.marketing.openapi import segment_paths
from flow_engine.marketing.settings import MarketingSettings
from flow_engine.notify.email import SmtpSettings


class MarketingPlugin:
    """Register with ``Platform(settings, plugins=[..., MarketingPlugin()])``; ``smtp``
    defaults to the ``TANGRAM_SMTP_*`` environment, ``settings`` to ``TANGRAM_MARKETING_*``."""

    def __init__(self, settings: MarketingSettings | None = None, smtp: SmtpSettings | None = None) -> None:
        self.journeys = Journeys(settings or MarketingSettings(), smtp or SmtpSettings())

    @hookimpl
    def tangram_startup(self, platform: Platform) -> None:
        tables.create_tables(platform.db)

    @hookimpl
    def tangram_package_sections(self) -> list[PackageSection]:
        return [segments.section()]

    @hookimpl
    def tangram_actions(self, registry: ActionRegistry) -> None:
        self.journeys.register(registry)

    @hookimpl
    def tangram_jobs(self, platform: Platform) -> dict[str, Any]:
        return {EMAIL_JOB: self.journeys.send}

    @hookimpl
    def tangram_routes(self, platform: Platform) -> APIRouter:
        return routes.router

    @hookimpl
    def tangram_app_openapi(self, runtime: AppRuntime) -> dict[str, Any]:
        return segment_paths(runtime)


#: The instance the ``tangram.plugins`` entry point registers.
PLUGIN = MarketingPlugin()
