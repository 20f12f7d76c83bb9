"""Entity definition -> real SQLAlchemy ``Table``: one table per entity, one column per field."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

from form_engine import EntityDef, FieldDef, UTCDateTime, id_column_type

#: Prefix of a removed field's column, kept (with its data) until an explicit purge.
REMOVED_PREFIX = "_del_"


def table_name(app: str, entity: str) -> str:
    return f"{app}__{entity}"


def removed_column_name(field_id: str) -> str:
    return f"{REMOVED_PREFIX}{field_id}"


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
    if spec.unique:
        alive = table.c.deleted_at.is_(None)
        return sa.Index(spec.name, *columns, unique=True, sqlite_where=alive, postgresql_where=alive)
    return sa.Index(spec.name, *columns)


def build_table(metadata: sa.MetaData, app: str, entity: EntityDef) -> sa.Table:
    """The table of ``entity`` (system columns first), with the indexes it declares."""
    columns = system_columns() + [field_column(f) for f in entity.stored_fields()]
    table = sa.Table(table_name(app, entity.name), metadata, *columns)
    for spec in index_specs(app, entity):
        build_index(table, entity, spec)
    return table
