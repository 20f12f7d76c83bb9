"""The kernel: metadata store, schema compiler, record service, events, actions, users, API.

Reaches flow_engine, report_engine and builder_ui only through the ``tangram.plugins`` entry
points.
"""

from engine.actions import ActionCall, ActionRegistry
from engine.app_package import AppPackage, package_json_schema, parse_package
from engine.context import SYSTEM, Context, Principal
from engine.errors import (
    Conflict,
    DuplicateValue,
    Forbidden,
    InvalidInput,
    InvalidPackage,
    MigrationRefused,
    NotFound,
    StaleVersion,
    TangramError,
    TooManyAttempts,
    Unauthenticated,
)
from engine.events import (
    EventBus,
    RecordCreated,
    RecordDeleted,
    RecordEvent,
    RecordRestored,
    RecordUpdated,
)
from engine.hookspecs import hookimpl
from engine.platform import Platform
from engine.record_service import Page, RecordService
from engine.settings import Settings

__all__ = [
    "SYSTEM",
    "ActionCall",
    "ActionRegistry",
    "AppPackage",
    "Conflict",
    "Context",
    "DuplicateValue",
    "EventBus",
    "Forbidden",
    "InvalidInput",
    "InvalidPackage",
    "MigrationRefused",
    "NotFound",
    "Page",
    "Platform",
    "Principal",
    "RecordCreated",
    "RecordDeleted",
    "RecordEvent",
    "RecordRestored",
    "RecordService",
    "RecordUpdated",
    "Settings",
    "StaleVersion",
    "TangramError",
    "TooManyAttempts",
    "Unauthenticated",
    "hookimpl",
    "package_json_schema",
    "parse_package",
]
