"""Entity definition -> real SQLAlchemy ``Table``: one table per entity, one column per field."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

from engine.schema.search_index import attach_search_index, search_columns
from form_engine import EntityDef, FieldDef, UTCDateTime, id_column_type, link_table_name

#: Prefix of a removed field's column, kept (with its data) until an explicit purge.
REMOVED_PREFIX = "_del_"
#: Prefix of the hidden column holding a duplicate rule's normalised key (kept on every write).
DUPKEY_PREFIX = "_dupkey_"
#: PostgreSQL truncates identifiers longer than this.
MAX_IDENTIFIER = 63


def table_name(app: str, entity: str) -> str:
    return f"{app}__{entity}"


def removed_column_name(field_id: str) -> str:
    return f"{REMOVED_PREFIX}{field_id}"


def dupkey_column_name(rule: str) -> str:
    return f"{DUPKEY_PREFIX}{rule}"


def dupkey_columns(entity: EntityDef) -> list[str]:
    """The hidden key columns of the entity's duplicate rules, in rule order."""
    return [dupkey_column_name(rule.name) for rule in entity.duplicate_rules]


def link_table_full_name(app: str, entity: str, field: FieldDef) -> str:
    """The many-to-many link table of ``field``: named from the field id, so a rename keeps it."""
    name = f"{app}__{link_table_name(entity, field)}"
    if len(name) > MAX_IDENTIFIER:
        digest = hashlib.sha1(name.encode()).hexdigest()[:12]
        name = f"{name[: MAX_IDENTIFIER - 20]}__{digest}_links"
    return name


def link_table(metadata: sa.MetaData, app: str, entity: str, field: FieldDef) -> sa.Table:
    """(source_id, target_id) pairs; the primary key forbids a pair twice, the index finds
    the sources of a target (re-pointing on merge, filters)."""
    name = link_table_full_name(app, entity, field)
    return sa.Table(
        name,
        metadata,
        sa.Column("source_id", sa.BigInteger, primary_key=True),
        sa.Column("target_id", sa.BigInteger, primary_key=True),
        sa.Index(f"ix_{hashlib.sha1(name.encode()).hexdigest()[:16]}_target", "target_id"),
    )


def link_fields(entity: EntityDef) -> list[FieldDef]:
    return [f for f in entity.fields if f.type == "many_to_many"]


def system_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", id_column_type(), primary_key=True, autoincrement=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("updated_by", sa.BigInteger),
        sa.Column("owner", sa.BigInteger, index=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("deleted_at", UTCDateTime),
    ]


def field_column(field: FieldDef, name: str | None = None) -> sa.Column[object]:
    return sa.Column(name or field.name, field.field_type.column_type(field), nullable=True)


@dataclass(frozen=True)
class IndexSpec:
    """An index the definition asks for; named from field ids so a rename keeps the name."""

    name: str
    field_ids: tuple[str, ...]
    unique: bool


def index_specs(app: str, entity: EntityDef) -> list[IndexSpec]:
    by_name = {f.name: f for f in entity.fields}
    wanted: list[tuple[tuple[str, ...], bool]] = [(("owner",), False)]
    for f in entity.stored_fields():
        if f.unique:
            wanted.append(((f.id,), True))
        elif f.index or f.type == "lookup":
            wanted.append(((f.id,), False))
    for index in entity.indexes:
        wanted.append((tuple(by_name[n].id for n in index.fields), index.unique))
    for column in dupkey_columns(entity):
        wanted.append(((column,), False))
    specs: dict[str, IndexSpec] = {}
    table = table_name(app, entity.name)
    for ids, unique in wanted:
        digest = hashlib.sha1(f"{table}|{','.join(ids)}|{unique}".encode()).hexdigest()[:16]
        name = f"{'ux' if unique else 'ix'}_{digest}"
        specs[name] = IndexSpec(name, ids, unique)
    return list(specs.values())


def build_index(table: sa.Table, entity: EntityDef, spec: IndexSpec) -> sa.Index:
    by_id = {f.id: f.name for f in entity.fields}
    columns = [table.c[by_id.get(i, i)] for i in spec.field_ids]
    # Partial on live rows: lists always ask for them, so the index alone answers the filter
    # and the count (no lookup of each row's deleted_at), and the trash never blocks a value.
    alive = table.c.deleted_at.is_(None)
    return sa.Index(spec.name, *columns, unique=spec.unique, sqlite_where=alive, postgresql_where=alive)


def build_table(metadata: sa.MetaData, app: str, entity: EntityDef) -> sa.Table:
    """The table of ``entity`` (system columns first), with the indexes it declares."""
    columns = system_columns() + [field_column(f) for f in entity.stored_fields()]
    columns += [sa.Column(name, sa.String(100), nullable=True) for name in dupkey_columns(entity)]
    columns += search_columns()
    # AUTOINCREMENT on SQLite: an id is never reused, so an old lookup to a purged record
    # cannot come to point at a new one.
    table = sa.Table(table_name(app, entity.name), metadata, *columns, sqlite_autoincrement=True)
    for spec in index_specs(app, entity):
        build_index(table, entity, spec)
    attach_search_index(table)
    return table
