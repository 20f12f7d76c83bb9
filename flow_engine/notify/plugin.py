"""The notification centre as a kernel plugin: its tables, routes, channel section and jobs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from engine import PackageSection, Platform, hookimpl
from flow_engine.notify import channels, routes, tables
from flow_engine.notify.center import EMAIL_JOB, ROBOT_JOB
from flow_engine.notify.delivery import Deliveries
from flow_engine.notify.email import SmtpSettings
from flow_engine.webhooks import create_tables as create_secret_tables


class NotifyPlugin:
    """Register with ``Platform(settings, plugins=[NotifyPlugin()])``; ``smtp`` defaults to the
    ``TANGRAM_SMTP_*`` environment."""

    def __init__(self, smtp: SmtpSettings | None = None) -> None:
        self.smtp = smtp or SmtpSettings()
        self.deliveries = Deliveries(self.smtp)

    @hookimpl
    def tangram_startup(self, platform: Platform) -> None:
        tables.create_tables(platform.db)
        create_secret_tables(platform.db)

    @hookimpl
    def tangram_package_sections(self) -> list[PackageSection]:
        return [channels.section()]

    @hookimpl
    def tangram_jobs(self, platform: Platform) -> dict[str, Any]:
        return {EMAIL_JOB: self.deliveries.email, ROBOT_JOB: self.deliveries.robot}

    @hookimpl
    def tangram_routes(self, platform: Platform) -> APIRouter:
        return routes.router


#: The instance the ``tangram.plugins`` entry point registers.
PLUGIN = NotifyPlugin()
