"""Applying a whole package to an installed app as one versioned step, and taking parts away.

``apply_package`` is the one door for changing an app as a whole (``PUT /api/apps/{app}``,
``tangram app apply``, a rollback to an earlier version, removing an entity): every entity is
migrated through the same diff and migrations as a change of one entity, inside the caller's
transaction, so the tables, roles, forms and every other section (plugins' too) change together
or not at all. Derived values are recomputed once every table has its new shape, since a roll-up
may read another entity changed in the same step. A dry run does all of it inside a savepoint
that is rolled back, so its plan (and the rows a migration would refuse) is exactly what the
real apply would do.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from engine.apps.derived_values import recompute_entity
from engine.apps.metadata_store import load_app, save_version
from engine.apps.package import AppPackage, entity_of, parse_package
from engine.apps.package_diff import diff_packages
from engine.apps.runtime import AppRuntime
from engine.context import Context
from engine.errors import Conflict, InvalidPackage, MigrationRefused
from engine.schema import system_tables as st
from engine.schema.compiler import build_table, link_fields, link_table_full_name, table_name
from engine.schema.diff import (
    AddColumn,
    ConvertColumn,
    CreateLinkTable,
    CreateTable,
    Operation,
    RecomputeDerived,
    RemoveColumn,
    RemoveLinkTable,
    RenameColumn,
    RestoreColumn,
    SyncDuplicateKeys,
    diff_entity,
)
from engine.schema.migrations import Migrator, removed_fields
from engine.schema.search_index import drop_search_index
from form_engine import EntityDef, FileConfig, SignatureConfig


@dataclass
class Applied:
    """What applying a package did (or, in a dry run, would do)."""

    package: AppPackage
    from_version: int
    version: int
    dry_run: bool
    #: the package diff, section by section (``package_diff.diff_packages``)
    changes: list[dict[str, Any]]
    #: per entity: what happens to its table, and the rows a migration refuses
    migrations: list[dict[str, Any]] = field(default_factory=list)
    #: file ids held by the records of removed entities (the caller deletes them after commit)
    files: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def audit_details(self, door: str) -> dict[str, Any] | None:
        """What the audit log keeps of a committed change; None for a dry run or no change."""
        if self.dry_run or not self.changed:
            return None
        return {
            "door": door,
            "from_version": self.from_version,
            "version": self.version,
            "changes": [
                {k: v for k, v in c.items() if k in ("section", "name", "change")} for c in self.changes
            ],
        }

    def as_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "app": self.package.name,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "from_version": self.from_version,
            "version": self.version,
            "changes": self.changes,
            "migrations": self.migrations,
        }
        if self.dry_run:
            blocked = [m for m in self.migrations if m.get("refused") or m.get("needs_confirm")]
            answer["would_apply"] = not blocked
        return answer


def row_count(conn: sa.Connection, app: str, entity: EntityDef) -> int:
    """Rows of the entity's table, trashed ones included."""
    table = sa.table(table_name(app, entity.name))
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def apply_package(
    conn: sa.Connection,
    app: str,
    data: Any,
    ctx: Context,
    *,
    confirm: Collection[str] = (),
    dry_run: bool = False,
    note: str = "apply",
) -> Applied:
    """Make ``data`` the app's package as its next version. Entities it no longer has are
    dropped with their data, which is refused while they hold records unless their names are
    in ``confirm``. Nothing changes when the package is the one installed."""
    stored = load_app(conn, app)
    if isinstance(data, dict):
        if data.get("name", app) != app:
            raise InvalidPackage("app_name_mismatch", body_name=data.get("name"), url_name=app)
        data = {**data, "name": app}
    package = parse_package(data)
    changes = diff_packages(stored.package.export(), package.export())
    applied = Applied(package, stored.version, stored.version, dry_run, changes)
    if not changes:
        return applied
    applied.version = stored.version + 1
    old = stored.package
    going = [e for e in old.entities if not package.has_entity(e.name)]
    counts = {e.name: row_count(conn, app, e) for e in going}
    unconfirmed = {name: n for name, n in counts.items() if n and name not in confirm}
    if unconfirmed and not dry_run:
        raise Conflict(
            "entity_has_data",
            entities=", ".join(unconfirmed),
            count=sum(unconfirmed.values()),
            details={"rows": unconfirmed},
        )
    savepoint = conn.begin_nested() if dry_run else None
    try:
        deferred: list[tuple[str, RecomputeDerived]] = []
        for entity in package.entities:
            before = old.entity(entity.name) if old.has_entity(entity.name) else None
            if before is not None and before.export() == entity.export():
                continue
            applied.migrations.append(_migrate(conn, app, before, entity, deferred, dry_run))
        for entity in going:
            applied.migrations.append(
                {"entity": entity.name, "change": "removed", "rows": counts[entity.name]}
                | ({"needs_confirm": True} if entity.name in unconfirmed else {})
            )
            applied.files += drop_entity(conn, app, entity)
        if not dry_run:
            _recompute_all(conn, package, applied.version, deferred)
            save_version(conn, package, ctx, note, applied.version)
    finally:
        if savepoint is not None:
            savepoint.rollback()
    if dry_run:
        applied.files = []
    return applied


def _migrate(
    conn: sa.Connection,
    app: str,
    old: EntityDef | None,
    new: EntityDef,
    deferred: list[tuple[str, RecomputeDerived]],
    dry_run: bool,
) -> dict[str, Any]:
    """Migrate one entity's table; in a dry run a refusal is reported instead of raised."""
    kept = removed_fields(conn, app, new.name) if old is not None else {}
    ops = diff_entity(old, new, kept)
    entry: dict[str, Any] = {
        "entity": new.name,
        "change": "added" if old is None else "changed",
        "operations": describe(old, ops),
    }

    def later(op: RecomputeDerived) -> None:
        deferred.append((new.name, op))

    migrator = Migrator(conn, app, old, new, later)
    if not dry_run:
        migrator.apply(ops)
        return entry
    savepoint = conn.begin_nested()
    try:
        migrator.apply(ops)
    except MigrationRefused as exc:
        savepoint.rollback()
        entry["refused"] = exc.details
        return entry
    savepoint.commit()
    return entry


def _recompute_all(
    conn: sa.Connection, package: AppPackage, version: int, deferred: list[tuple[str, RecomputeDerived]]
) -> None:
    """Derived values made stale by the step, computed with the app as it now is."""
    if not deferred:
        return
    runtime = AppRuntime(package, version)
    for name, op in deferred:
        recompute_entity(conn, runtime, runtime.entity(name), op.fields, converted=op.converted)


def describe(old: EntityDef | None, ops: list[Operation]) -> list[dict[str, Any]]:
    """The migration operations as a person reads them (temporary names of a swap left out)."""
    names = {f.id: f.name for f in old.fields} if old is not None else {}
    out: list[dict[str, Any]] = []
    for op in ops:
        if isinstance(op, CreateTable):
            out.append({"op": "create_table"})
        elif isinstance(op, AddColumn):
            out.append({"op": "add_column", "field": op.field.name, "type": op.field.type})
        elif isinstance(op, RestoreColumn):
            out.append({"op": "restore_column", "field": op.field.name})
        elif isinstance(op, RenameColumn) and not op.new.name.startswith("_renaming_"):
            out.append({"op": "rename_column", "from": names.get(op.old.id, op.old.name), "to": op.new.name})
        elif isinstance(op, ConvertColumn):
            out.append(
                {
                    "op": "convert_column",
                    "field": op.new.name,
                    "from_type": op.old.type,
                    "to_type": op.new.type,
                }
            )
        elif isinstance(op, RemoveColumn):
            out.append({"op": "remove_column", "field": op.field.name, "data_kept": True})
        elif isinstance(op, CreateLinkTable):
            out.append({"op": "create_link_table", "field": op.field.name})
        elif isinstance(op, RemoveLinkTable):
            out.append({"op": "remove_link_table", "field": op.field.name, "data_kept": True})
        elif isinstance(op, SyncDuplicateKeys):
            out.append({"op": "recompute_duplicate_keys"})
        elif isinstance(op, RecomputeDerived):
            out.append({"op": "recompute", "fields": list(op.fields), "converted": list(op.converted)})
    return out


def _file_ids(conn: sa.Connection, app: str, entity: EntityDef) -> list[str]:
    """Ids of the uploads the entity's records hold (files, images, signatures)."""
    fields = [f for f in entity.fields if isinstance(f.config, (FileConfig, SignatureConfig))]
    if not fields:
        return []
    table = build_table(sa.MetaData(), app, entity)
    found: list[str] = []
    for row in conn.execute(sa.select(*(table.c[f.name] for f in fields))):
        for value in row:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    found.append(item["id"])
    return found


def drop_entity(conn: sa.Connection, app: str, entity: EntityDef) -> list[str]:
    """Drop the entity's table, link tables and kept columns, with its history and shares.
    Returns the ids of the files its records held."""
    files = _file_ids(conn, app, entity)
    quote = conn.dialect.identifier_preparer.quote
    link_names = [link_table_full_name(app, entity.name, f) for f in link_fields(entity)]
    link_names += [
        column
        for fdef, column in removed_fields(conn, app, entity.name).values()
        if fdef.type == "many_to_many"
    ]
    drop_search_index(conn, table_name(app, entity.name))  # SQLite keeps an FTS5 table beside it
    for name in [*link_names, table_name(app, entity.name)]:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}")
    for table in (st.removed_fields, st.history, st.shares):
        conn.execute(table.delete().where(table.c.app == app, table.c.entity == entity.name))
    return files


def without_entity(package: AppPackage, entity: str) -> dict[str, Any]:
    """The package document without ``entity``, and without the roles' permissions on it (they
    would name an entity that no longer exists)."""
    entity_of(package, entity)
    document = package.export()
    document["entities"] = [e for e in document.get("entities", []) if e["name"] != entity]
    for role in document.get("roles", []):
        role.get("permissions", {}).pop(entity, None)
    return document


def uninstall_app(conn: sa.Connection, app: str, confirm: str | None) -> tuple[dict[str, int], list[str]]:
    """Remove the app: its tables and everything kept about its records and roles. Refused while
    it holds records unless ``confirm`` is the app's name. Returns the row counts per entity and
    the file ids its records held. The versions stay, so a later import of the same name
    continues their numbering (and no process mistakes it for the old app)."""
    stored = load_app(conn, app)
    counts = {e.name: row_count(conn, app, e) for e in stored.package.entities}
    if sum(counts.values()) and confirm != app:
        raise Conflict("app_has_data", app=app, count=sum(counts.values()), details={"rows": counts})
    files: list[str] = []
    for entity in stored.package.entities:
        files += drop_entity(conn, app, entity)
    for table in (st.role_assignments, st.shares, st.history, st.removed_fields, st.app_templates):
        conn.execute(table.delete().where(table.c.app == app))
    conn.execute(st.apps.delete().where(st.apps.c.name == app))
    return counts, files
