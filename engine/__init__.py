"""The kernel: metadata store, schema compiler, record service and write unit, events, actions,
users, access, API.

Reaches flow_engine, report_engine and builder_ui only through the ``tangram.plugins`` entry
points; this module is the door they come back in through.
"""

from engine.access import AccessPolicy, FieldPlan, OpenAccess, Operation, RoleAccess
from engine.apps.metadata_store import load_app, put_section
from engine.apps.package import AppPackage, package_json_schema, parse_package
from engine.apps.record_query import column_resolver, entity_dsl_fields, entity_relations, filter_clause
from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.apps.sections import PackageSection, SectionCheck
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
from engine.host.hookspecs import hookimpl
from engine.host.jobs import JobCall, JobHandler, JobRunner
from engine.host.known_actions import known_actions
from engine.host.platform import Platform
from engine.host.plugins import create_plugin_manager
from engine.http.deps import AdminDep, ContextDep, OptionalContextDep, PlatformDep, public_route
from engine.http.form_view import form_view
from engine.http.uploads import DESCRIPTOR_KEYS, UPLOAD_BODY, file_download, receive_upload
from engine.identity import directory
from engine.identity.departments import members as department_members
from engine.identity.departments import subtree as department_subtree
from engine.identity.users import acting_principal, user_labels
from engine.messages import MESSAGES, PROBLEMS
from engine.records import (
    Batch,
    EventBus,
    Page,
    RecordCreated,
    RecordDeleted,
    RecordEvent,
    RecordPurged,
    RecordRestored,
    RecordService,
    RecordUpdated,
    RetryPolicy,
    WriteOp,
    WriteOptions,
    WriteStep,
    WriteUnit,
    enqueue_job,
)
from engine.settings import Settings
from templates_library import TemplateNotFound
from templates_library import available as available_templates
from templates_library import load as load_template

__all__ = [
    "DESCRIPTOR_KEYS",
    "MESSAGES",
    "PROBLEMS",
    "SYSTEM",
    "UPLOAD_BODY",
    "AccessPolicy",
    "ActionCall",
    "ActionRegistry",
    "AdminDep",
    "AppPackage",
    "AppRuntime",
    "Batch",
    "Conflict",
    "Context",
    "ContextDep",
    "DuplicateValue",
    "EntityRuntime",
    "EventBus",
    "FieldPlan",
    "Forbidden",
    "InvalidInput",
    "InvalidPackage",
    "JobCall",
    "JobHandler",
    "JobRunner",
    "MigrationRefused",
    "NotFound",
    "OpenAccess",
    "Operation",
    "OptionalContextDep",
    "PackageSection",
    "Page",
    "Platform",
    "PlatformDep",
    "Principal",
    "RecordCreated",
    "RecordDeleted",
    "RecordEvent",
    "RecordPurged",
    "RecordRestored",
    "RecordService",
    "RecordUpdated",
    "RetryPolicy",
    "RoleAccess",
    "SectionCheck",
    "Settings",
    "StaleVersion",
    "TangramError",
    "TemplateNotFound",
    "TooManyAttempts",
    "Unauthenticated",
    "WriteOp",
    "WriteOptions",
    "WriteStep",
    "WriteUnit",
    "acting_principal",
    "available_templates",
    "column_resolver",
    "create_plugin_manager",
    "department_members",
    "department_subtree",
    "directory",
    "enqueue_job",
    "entity_dsl_fields",
    "entity_relations",
    "file_download",
    "filter_clause",
    "form_view",
    "hookimpl",
    "known_actions",
    "load_app",
    "load_template",
    "package_json_schema",
    "parse_package",
    "public_route",
    "put_section",
    "receive_upload",
    "user_labels",
]
