"""Webhooks as a kernel plugin: the delivery job of the ``call_webhook`` action, the secret routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from engine import Platform, hookimpl
from flow_engine.webhooks import delivery, routes, secrets


class WebhookPlugin:
    """Register with ``Platform(settings, plugins=[WebhookPlugin()])`` or from another plugin."""

    @hookimpl
    def tangram_startup(self, platform: Platform) -> None:
        secrets.create_tables(platform.db)

    @hookimpl
    def tangram_jobs(self, platform: Platform) -> dict[str, Any]:
        return {delivery.DELIVER_JOB: delivery.deliver}

    @hookimpl
    def tangram_routes(self, platform: Platform) -> APIRouter:
        return routes.router


#: The instance the ``tangram.plugins`` entry point registers.
PLUGIN = WebhookPlugin()
