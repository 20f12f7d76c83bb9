"""What the kernel compiles from one version of an app: tables, validators, serialisers.

Built once per app version and cached; a process notices a newer version (changed by another
process) by the version number it reads at the start of each operation.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from engine.apps.package import AppPackage, entity_of
from engine.clock import iso
from engine.schema.compiler import build_table, dupkey_columns, link_fields, link_table
from engine.schema.search_text import PINYIN_COLUMN, SEARCH_COLUMN
from form_engine import EntityDef, FieldDef, FieldType, LookupConfig, compile_entity
from form_engine import EntityRuntime as FormRuntime

#: The bound parameter of ``EntityRuntime.select_by_id``.
ROW_ID = "_row_id"
SYSTEM_OUTPUT = ("created_at", "updated_at", "created_by", "updated_by", "owner", "version", "deleted_at")


def _serialiser(ft: FieldType, f: FieldDef) -> Callable[[Any], Any]:
    return lambda value: ft.to_json(value, f)


def _relation(f: Any) -> bool:
    """Storage-"none" fields whose values the kernel keeps elsewhere (sub-tables, links)."""
    return f.field_type.storage == "none" and not f.field_type.system_column


@dataclass
class EntityRuntime:
    app: str
    entity: EntityDef
    table: sa.Table
    validator: FormRuntime
    #: field name -> function turning the stored Python value into JSON
    serialisers: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    #: names of the stored columns in output order (id first, system columns last)
    columns: list[str] = field(default_factory=list)
    #: many-to-many field name -> its link table (source_id, target_id)
    link_tables: dict[str, sa.Table] = field(default_factory=dict)
    #: system fields (created_at-type...) -> the system column they show
    system_aliases: dict[str, str] = field(default_factory=dict)
    #: columns kept for the kernel only (duplicate keys), never shown
    hidden_columns: frozenset[str] = frozenset()
    #: the compiled app this entity belongs to (set by ``AppRuntime``)
    app_runtime: AppRuntime | None = field(default=None, repr=False, compare=False)
    #: what other modules derive from this entity's definition once (e.g. what each set of
    #: roles may see), kept here so it lives and dies with the app version it came from
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_json(self, record: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        serialisers = self.serialisers
        hidden = self.hidden_columns
        for key, value in record.items():
            if hidden and key in hidden:
                continue
            convert = serialisers.get(key)
            out[key] = value if convert is None or value is None else convert(value)
        for name, column in self.system_aliases.items():
            if column in out:
                out[name] = out[column]
        return out

    @functools.cached_property
    def insert_returning_id(self) -> sa.Insert:
        return self.table.insert().returning(self.table.c.id, sort_by_parameter_order=True)

    @functools.cached_property
    def select_by_id(self) -> sa.Select[Any]:
        """One row by id (parameter ``ROW_ID``), built once: a write or a check reads one
        row far more often than many, and building a statement costs more than running it."""
        return sa.select(self.table).where(self.table.c.id == sa.bindparam(ROW_ID))

    def value_json(self, name: str, value: Any) -> Any:
        convert = self.serialisers.get(name)
        return value if convert is None or value is None else convert(value)

    def lookups(self) -> dict[str, str]:
        """Lookup field name -> target entity name."""
        return {f.name: f.config_as(LookupConfig).entity for f in self.entity.fields if f.type == "lookup"}

    def fields_of_type(self, *types: str) -> list[Any]:
        return [f for f in self.entity.fields if f.type in types]


class AppRuntime:
    def __init__(self, package: AppPackage, version: int) -> None:
        self.package = package
        self.version = version
        self.metadata = sa.MetaData()
        self.entities: dict[str, EntityRuntime] = {}
        #: what other modules derive from this app version once (e.g. which roll-ups read
        #: an entity), kept here so it lives and dies with the version it was derived from
        self.derived: dict[str, Any] = {}
        for entity in package.entities:
            table = build_table(self.metadata, package.name, entity)
            serialisers: dict[str, Callable[[Any], Any]] = {
                "created_at": iso,
                "updated_at": iso,
                "deleted_at": iso,
            }
            for f in entity.stored_fields():
                ft = f.field_type
                if type(ft).to_json is not FieldType.to_json:
                    serialisers[f.name] = _serialiser(ft, f)
            self.entities[entity.name] = EntityRuntime(
                app=package.name,
                entity=entity,
                table=table,
                validator=compile_entity(entity, self.resolve_entity),
                serialisers=serialisers,
                columns=[
                    "id",
                    *(f.name for f in entity.stored_fields()),
                    *(f.name for f in entity.fields if _relation(f)),
                    *SYSTEM_OUTPUT,
                ],
                link_tables={
                    f.name: link_table(self.metadata, package.name, entity.name, f)
                    for f in link_fields(entity)
                },
                system_aliases={
                    f.name: f.field_type.system_column for f in entity.fields if f.field_type.system_column
                },
                hidden_columns=frozenset([*dupkey_columns(entity), SEARCH_COLUMN, PINYIN_COLUMN]),
                app_runtime=self,
            )

    def resolve_entity(self, name: str) -> EntityDef | None:
        """Definitions of the app's entities by name, for DSL paths through lookups."""
        return self.package.entity(name) if self.package.has_entity(name) else None

    def entity(self, name: str) -> EntityRuntime:
        if name not in self.entities:
            entity_of(self.package, name)  # raises NotFound with a suggestion
        return self.entities[name]


class RuntimeCache:
    """Compiled runtimes keyed by app name, replaced when the stored version moves on.

    Each thread also remembers the runtime it last resolved per app, so that the records a
    request read are shown with the version they were read with (``peek``), not a newer one
    another thread met in between (which may have renamed or hidden their fields)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runtimes: dict[str, AppRuntime] = {}
        self._resolved = threading.local()

    def get(self, name: str, version: int, load: Callable[[], tuple[AppPackage, int]]) -> AppRuntime:
        runtime = self._runtimes.get(name)
        if runtime is None or runtime.version != version:
            package, stored_version = load()
            runtime = AppRuntime(package, stored_version)
            with self._lock:
                latest = self._runtimes.get(name)
                if latest is None or latest.version <= runtime.version:
                    self._runtimes[name] = runtime
        self._seen()[name] = runtime
        return runtime

    def peek(self, name: str) -> AppRuntime | None:
        return self._seen().get(name) or self._runtimes.get(name)

    def _seen(self) -> dict[str, AppRuntime]:
        seen: dict[str, AppRuntime] | None = getattr(self._resolved, "runtimes", None)
        if seen is None:
            seen = self._resolved.runtimes = {}
        return seen
