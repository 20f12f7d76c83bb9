"""The report engine as a kernel plugin: its package sections, its routes, and the record
events that make cached results stale."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from fastapi import APIRouter

from engine import PackageSection, Platform, RecordEvent, hookimpl
from report_engine.routes import build_router
from report_engine.sections import SECTIONS
from report_engine.service import ReportService

_services: weakref.WeakKeyDictionary[Platform, ReportService] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def service_of(platform: Platform) -> ReportService:
    """The platform's report service (one per platform, made on first use)."""
    with _lock:
        found = _services.get(platform)
        if found is None:
            found = _services[platform] = ReportService(platform)
        return found


@hookimpl
def tangram_package_sections() -> list[PackageSection]:
    return SECTIONS


@hookimpl
def tangram_routes(platform: Platform) -> APIRouter:
    return build_router(platform, service_of(platform))


@hookimpl
def tangram_record_event(event: RecordEvent, platform: Platform) -> Any:
    service = _services.get(platform)
    if service is not None:
        service.cache.changed(event.app, event.entity)
