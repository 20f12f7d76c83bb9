"""The kernel: metadata store, schema compiler, record service, events, actions, users, API.

Reaches flow_engine, report_engine and builder_ui only through the ``tangram.plugins`` entry
points.
"""

from engine.apps.package import AppPackage, package_json_schema, parse_package
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
from engine.host.actions import ActionCall, ActionRegistry
from engine.host.events import (
    EventBus,
    RecordCreated,
    RecordDeleted,
    RecordEvent,
    RecordRestored,
    RecordUpdated,
)
from engine.host.hookspecs import hookimpl
from engine.host.settings import Settings
from engine.messages import MESSAGES, PROBLEMS
from engine.platform import Platform
from engine.records.service import Page, RecordService

__all__ = [
    "MESSAGES",
    "PROBLEMS",
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
