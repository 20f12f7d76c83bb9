"""Applying schema operations to a real table, inside the caller's transaction.

Everything runs in one transaction on both backends (SQLite and PostgreSQL both have
transactional DDL), so a refused or failed migration leaves the table exactly as it was.
Data-dependent checks (values that do not convert, duplicates under a new unique index) run
before any change and are reported with the rows in the way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from engine.clock import utcnow
from engine.errors import MigrationRefused
from engine.schema import system_tables as st
from engine.schema.compiler import (
    build_index,
    build_table,
    dupkey_column_name,
    field_column,
    index_specs,
    link_table,
    link_table_full_name,
    removed_column_name,
    table_name,
)
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
    SyncIndexes,
    SyncSearch,
)
from engine.schema.search_index import add_search_columns, has_search_columns, refill_search_values
from form_engine import EntityDef, FieldDef, FieldValueError, duplicate_keys, key_prefix

#: How many offending rows a refusal lists (the total is always given).
MAX_LISTED_ROWS = 50

#: Computes derived values for stored rows; the apps layer supplies it (it needs the compiled
#: app: validators, and the child entities roll-ups read), so this layer stays below it.
Recompute = Callable[[RecomputeDerived], None]


def hold_app_schema(conn: sa.Connection, app: str, *, exclusive: bool) -> None:
    """Hold the app's tables as they are until this transaction ends (PostgreSQL).

    Every record operation takes the shared hold *before* it reads the app's version, and a
    migration the exclusive one before it reads the package: an operation that read the old
    version therefore runs all its statements on the old tables (the migration waits for it),
    and one that comes later waits for the migration and reads the new version. Without it, a
    request of another process could compile SQL for the old version, wait on the migration's
    table lock, then run that SQL on the new columns (a 500). On SQLite a transaction already
    reads one snapshot, schema included, and writers take turns, so nothing is needed.
    """
    if conn.dialect.name != "postgresql":
        return
    lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    conn.execute(sa.text(f"SELECT {lock}(:key)"), {"key": _schema_key(app)})


def _schema_key(app: str) -> int:
    digest = hashlib.blake2b(f"tangram.app-schema:{app}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Migrator:
    """Runs the operations for one entity on one connection."""

    def __init__(
        self,
        conn: sa.Connection,
        app: str,
        old: EntityDef | None,
        new: EntityDef,
        recompute: Recompute | None = None,
    ) -> None:
        self.conn = conn
        self.app = app
        self.old = old
        self.new = new
        self.recompute = recompute
        self.table = table_name(app, new.name)
        self.quote = conn.dialect.identifier_preparer.quote
        #: field id -> [(record id, converted value)], computed by the check, written by apply
        self._converted: dict[str, list[tuple[int, Any]]] = {}
        #: names of converted fields at least one of whose stored values changed
        self._moved: set[str] = set()

    def apply(self, ops: list[Operation]) -> None:
        if self.old is not None and self.conn.dialect.name == "postgresql":
            # Writers wait until this transaction ends, so the rows checked below are the rows
            # converted (readers go on). SQLite's write transaction already excludes writers.
            self.conn.exec_driver_sql(f"LOCK TABLE {self.quote(self.table)} IN EXCLUSIVE MODE")
        self._check(ops)
        for op in ops:
            if isinstance(op, CreateTable):
                build_table(sa.MetaData(), self.app, op.entity).create(self.conn)
            elif isinstance(op, AddColumn):
                self._add_column(op.field, op.field.name)
            elif isinstance(op, RestoreColumn):
                self._rename_column(op.column_name, op.field.name)
                self._forget_removed(op.field.id)
            elif isinstance(op, RenameColumn):
                self._rename_column(op.old.name, op.new.name)
            elif isinstance(op, RemoveColumn):
                self._drop_indexes_on(op.field.name)
                self._rename_column(op.field.name, removed_column_name(op.field.id))
                self._remember_removed(op.field)
            elif isinstance(op, ConvertColumn):
                self._convert(op)
            elif isinstance(op, SyncIndexes):
                self._sync_indexes()
            elif isinstance(op, CreateLinkTable):
                self._create_link_table(op.field)
            elif isinstance(op, RemoveLinkTable):
                self._remember_removed(op.field, link_table_full_name(self.app, self.new.name, op.field))
            elif isinstance(op, SyncDuplicateKeys):
                self._sync_duplicate_keys(op)
            elif isinstance(op, SyncSearch):
                refill_search_values(self.conn, build_table(sa.MetaData(), self.app, self.new), self.new)
            elif isinstance(op, RecomputeDerived):
                self._recompute(op)

    # -- checks before any change ----------------------------------------------------------
    def _check(self, ops: list[Operation]) -> None:
        problems: list[dict[str, Any]] = []
        if any(isinstance(op, CreateTable) for op in ops) and sa.inspect(self.conn).has_table(self.table):
            raise MigrationRefused("table_exists", table=self.table)
        for op in ops:
            if isinstance(op, ConvertColumn):
                converted, failures = self._convert_all(op.old, op.new, op.source)
                if op.lenient:  # derived values: recomputed after the change
                    converted += [(failure["id"], None) for failure in failures]
                    failures = []
                self._converted[op.new.id] = converted
                problems.extend(failures)
        if self.old is not None:
            problems.extend(self._duplicate_groups())
        if problems:
            raise MigrationRefused(
                "migration_loses_data",
                entity=self.new.name,
                count=len(problems),
                details={"rows": problems[:MAX_LISTED_ROWS], "total": len(problems)},
            )

    def _old_values(self, field: FieldDef, column_name: str) -> list[tuple[int, Any]]:
        table = sa.table(self.table, sa.column("id"), field_column(field, column_name))
        rows = self.conn.execute(
            sa.select(table.c.id, table.c[column_name]).where(table.c[column_name].is_not(None))
        )
        return [(row[0], row[1]) for row in rows]

    def _convert_all(
        self, old: FieldDef, new: FieldDef, column_name: str
    ) -> tuple[list[tuple[int, Any]], list[dict[str, Any]]]:
        new_type = new.field_type
        converted, failures = [], []
        for record_id, value in self._old_values(old, column_name):
            try:
                converted.append((record_id, new_type.convert_from(value, old, new)))
                if converted[-1][1] != value:
                    self._moved.add(new.name)
            except FieldValueError as exc:
                failures.append(
                    {
                        "id": record_id,
                        "field": new.name,
                        "value": old.field_type.to_json(value, old),
                        "problem": exc.problem_code,
                    }
                )
        return converted, failures

    def _duplicate_groups(self) -> list[dict[str, Any]]:
        """Rows that a unique index the new definition adds would reject."""
        assert self.old is not None
        existing = {spec.name for spec in index_specs(self.app, self.old) if spec.unique}
        old_names = {f.id: f.name for f in self.old.fields}
        new_names = {f.id: f.name for f in self.new.fields}
        found = []
        for spec in index_specs(self.app, self.new):
            if not spec.unique or spec.name in existing:
                continue
            if any(i not in old_names for i in spec.field_ids):
                continue
            cols: list[sa.ColumnClause[Any]] = [sa.column(old_names[i]) for i in spec.field_ids]
            table = sa.table(self.table, sa.column("id"), sa.column("deleted_at"), *cols)
            query = (
                sa.select(*cols, sa.func.count().label("n"))
                .select_from(table)
                .where(table.c.deleted_at.is_(None), *[c.is_not(None) for c in cols])
                .group_by(*cols)
                .having(sa.func.count() > 1)
            )
            for row in self.conn.execute(query).all()[:MAX_LISTED_ROWS]:
                values = dict(zip([new_names[i] for i in spec.field_ids], row[:-1], strict=True))
                ids_query = sa.select(table.c.id).where(
                    table.c.deleted_at.is_(None), *[c == v for c, v in zip(cols, row[:-1], strict=True)]
                )
                found.append(
                    {
                        "problem": "duplicate_value",
                        "fields": list(values),
                        "value": {k: str(v) for k, v in values.items()},
                        "ids": [r[0] for r in self.conn.execute(ids_query.order_by(table.c.id))],
                    }
                )
        return found

    # -- changes -----------------------------------------------------------------------------
    def _add_column(self, field: FieldDef, name: str) -> None:
        column_type = field.field_type.column_type(field).compile(dialect=self.conn.dialect)
        self.conn.exec_driver_sql(
            f"ALTER TABLE {self.quote(self.table)} ADD COLUMN {self.quote(name)} {column_type}"
        )

    def _rename_column(self, old: str, new: str) -> None:
        self.conn.exec_driver_sql(
            f"ALTER TABLE {self.quote(self.table)} RENAME COLUMN {self.quote(old)} TO {self.quote(new)}"
        )

    def _drop_column(self, name: str) -> None:
        self.conn.exec_driver_sql(f"ALTER TABLE {self.quote(self.table)} DROP COLUMN {self.quote(name)}")

    def _convert(self, op: ConvertColumn) -> None:
        converted = self._converted[op.new.id]
        if not op.column_changes:
            target = op.new.name
        else:
            target = f"_tmp_{op.new.id}"
            self._add_column(op.new, target)
        table = sa.table(self.table, sa.column("id"), field_column(op.new, target))
        if converted:
            self.conn.execute(
                table.update().where(table.c.id == sa.bindparam("_id")).values({target: sa.bindparam("_v")}),
                [{"_id": record_id, "_v": value} for record_id, value in converted],
            )
        if op.column_changes:
            self._drop_indexes_on(op.new.name)
            self._drop_column(op.new.name)
            self._rename_column(target, op.new.name)

    def _recompute(self, op: RecomputeDerived) -> None:
        """Only converted fields whose values moved can have made anything stale."""
        converted = tuple(name for name in op.converted if name in self._moved)
        if not (op.fields or converted):
            return
        if self.recompute is None:
            raise TypeError("a migration that recomputes derived values needs `recompute`")
        self.recompute(RecomputeDerived(op.fields, converted))

    def _existing_indexes(self) -> dict[str, list[str]]:
        inspector = sa.inspect(self.conn)
        return {
            ix["name"]: [c for c in ix["column_names"] if c]
            for ix in inspector.get_indexes(self.table)
            if ix["name"] and (ix["name"].startswith("ix_") or ix["name"].startswith("ux_"))
        }

    def _drop_indexes_on(self, column_name: str) -> None:
        for name, columns in self._existing_indexes().items():
            if column_name in columns:
                self.conn.exec_driver_sql(f"DROP INDEX {self.quote(name)}")

    def _sync_indexes(self) -> None:
        wanted = {spec.name: spec for spec in index_specs(self.app, self.new)}
        existing = self._existing_indexes()
        for name in existing:
            if name not in wanted:
                self.conn.exec_driver_sql(f"DROP INDEX {self.quote(name)}")
        table = build_table(sa.MetaData(), self.app, self.new)
        for name, spec in wanted.items():
            if name not in existing:
                build_index(table, self.new, spec).create(self.conn)

    def _create_link_table(self, field: FieldDef) -> None:
        table = link_table(sa.MetaData(), self.app, self.new.name, field)
        if not sa.inspect(self.conn).has_table(table.name):
            table.create(self.conn)
        self._forget_removed(field.id)

    def _sync_duplicate_keys(self, op: SyncDuplicateKeys) -> None:
        """Hidden key columns: added, dropped, and refilled from the rows' current values."""
        for name in op.drop:
            self._drop_indexes_on(name)
            self._drop_column(name)
        for name in op.add:
            self.conn.exec_driver_sql(
                f"ALTER TABLE {self.quote(self.table)} ADD COLUMN {self.quote(name)} "
                f"{sa.String(100).compile(dialect=self.conn.dialect)}"
            )
        if not (op.recompute or op.add) or not self.new.duplicate_rules:
            return
        table = build_table(sa.MetaData(), self.app, self.new)
        rules = self.new.duplicate_rules
        updates = []
        for row in self.conn.execute(sa.select(table)).mappings():
            keys = duplicate_keys(self.new, dict(row))
            updates.append({"_id": row["id"], **{f"k{i}": keys.get(r.name) for i, r in enumerate(rules)}})
        if updates:
            self.conn.execute(
                table.update()
                .where(table.c.id == sa.bindparam("_id"))
                .values({dupkey_column_name(r.name): sa.bindparam(f"k{i}") for i, r in enumerate(rules)}),
                updates,
            )

    def _remember_removed(self, field: FieldDef, column_name: str | None = None) -> None:
        self._forget_removed(field.id)
        self.conn.execute(
            st.removed_fields.insert().values(
                app=self.app,
                entity=self.new.name,
                field_id=field.id,
                column_name=column_name or removed_column_name(field.id),
                field=field.export(),
                removed_at=utcnow(),
            )
        )

    def _forget_removed(self, field_id: str) -> None:
        self.conn.execute(
            st.removed_fields.delete().where(
                st.removed_fields.c.app == self.app,
                st.removed_fields.c.entity == self.new.name,
                st.removed_fields.c.field_id == field_id,
            )
        )


def removed_fields(conn: sa.Connection, app: str, entity: str) -> dict[str, tuple[FieldDef, str]]:
    """Fields removed from ``entity`` whose data is still kept: id -> (definition, column)."""
    rows = conn.execute(
        sa.select(st.removed_fields).where(
            st.removed_fields.c.app == app, st.removed_fields.c.entity == entity
        )
    )
    return {row.field_id: (FieldDef.model_validate(row.field), row.column_name) for row in rows}


def purge_removed(conn: sa.Connection, app: str, entity: EntityDef, field_id: str | None = None) -> list[str]:
    """Drop the kept columns of removed fields (all, or one): their data is gone after this."""
    hold_app_schema(conn, app, exclusive=True)
    kept = removed_fields(conn, app, entity.name)
    targets = [field_id] if field_id is not None else list(kept)
    migrator = Migrator(conn, app, entity, entity)
    purged = []
    for fid in targets:
        if fid not in kept:
            continue
        if kept[fid][0].type == "many_to_many":
            migrator.conn.exec_driver_sql(f"DROP TABLE {migrator.quote(kept[fid][1])}")
        else:
            migrator._drop_column(kept[fid][1])
        migrator._forget_removed(fid)
        purged.append(fid)
    return purged


def refresh_duplicate_keys(conn: sa.Connection, app: str, entity: EntityDef) -> bool:
    """Recompute the entity's duplicate keys if any was made by another normalisation version.

    A change to how values normalise is a change of code, not of the definition, so no diff
    sees it; keys name their version (``form_engine.key_prefix``), and this finds stale ones.
    Returns whether it recomputed.
    """
    if not entity.duplicate_rules:
        return False
    hold_app_schema(conn, app, exclusive=True)
    table = build_table(sa.MetaData(), app, entity)
    stale = []
    for rule in entity.duplicate_rules:
        column = table.c[dupkey_column_name(rule.name)]
        stale.append(column.is_not(None) & ~column.startswith(key_prefix(rule.name), autoescape=True))
    if conn.execute(sa.select(table.c.id).where(sa.or_(*stale)).limit(1)).first() is None:
        return False
    Migrator(conn, app, entity, entity)._sync_duplicate_keys(SyncDuplicateKeys((), (), True))
    return True


def ensure_search_columns(conn: sa.Connection, app: str, entity: EntityDef) -> bool:
    """Give a table made before keyword search its hidden columns, index and values.
    Returns whether it changed the table."""
    name = table_name(app, entity.name)
    if has_search_columns(conn, name):
        return False
    add_search_columns(conn, name)
    refill_search_values(conn, build_table(sa.MetaData(), app, entity), entity)
    return True
