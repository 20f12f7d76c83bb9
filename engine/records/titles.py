"""Display titles for the ids a record points at, so a reader sees 华为 and 王伟, not 4 and 7.

``?expand=titles`` adds ``"_titles": {field: title}`` to each record read: for lookups the
target record's title field (``title_field``, else its first text field), for many-to-many
fields a list in the same order, for user fields and ``owner``/``created_by``/``updated_by`` the
user's display name, for department fields the department's name. A title is only what the
reader could read anyway: a target outside their read scope (or whose title field is hidden for
them) has no title (``null``), a masked title comes masked, and a field hidden from the reader
has no entry. One query per target entity, users and departments, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from engine.access import AccessPolicy
from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.context import Context
from engine.identity import directory
from engine.records.loader import readable_scope
from form_engine import EntityDef, LookupConfig, ManyToManyConfig

#: System columns naming a user.
USER_COLUMNS = ("owner", "created_by", "updated_by")
_CHUNK = 500


def title_field(entity: EntityDef) -> str | None:
    """The field that names a record: ``title_field``, else the first text field."""
    if entity.title_field is not None:
        return entity.title_field
    return next((f.name for f in entity.fields if f.type == "text"), None)


def _titles_of(
    conn: sa.Connection, access: AccessPolicy, ctx: Context, target: EntityRuntime, ids: Iterable[int]
) -> dict[int, Any]:
    """``{id: title}`` of the target records the caller may read (trashed ones included)."""
    name = title_field(target.entity)
    wanted = sorted(set(ids))
    if name is None or not wanted:
        return {}
    scope = readable_scope(access, ctx, conn, target)
    table = target.table
    found: dict[int, Any] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = sa.select(table.c.id, table.c[name]).where(table.c.id.in_(wanted[start : start + _CHUNK]))
        if scope is not None:
            query = query.where(scope)
        for record_id, value in conn.execute(query):
            shown = access.present(ctx, target, {name: target.value_json(name, value)})
            found[record_id] = shown.get(name)
    return found


def add_titles(
    conn: sa.Connection,
    access: AccessPolicy,
    ctx: Context,
    runtime: AppRuntime,
    er: EntityRuntime,
    items: list[dict[str, Any]],
) -> None:
    """Add ``_titles`` to each record of ``items`` (records as the caller is shown them)."""
    entity = er.entity
    targets: dict[str, str] = {}
    for f in entity.fields:
        if f.type == "lookup":
            targets[f.name] = f.config_as(LookupConfig).entity
        elif f.type == "many_to_many":
            targets[f.name] = f.config_as(ManyToManyConfig).entity
    user_fields = [
        *USER_COLUMNS,
        *(f.name for f in entity.fields if f.type in ("user", "created_by", "updated_by")),
    ]
    department_fields = [f.name for f in entity.fields if f.type == "department"]

    def ids(names: Iterable[str]) -> set[int]:
        out: set[int] = set()
        for item in items:
            for name in names:
                value = item.get(name)
                values = value if isinstance(value, list) else [value]
                out.update(v for v in values if isinstance(v, int) and not isinstance(v, bool))
        return out

    by_target: dict[str, set[str]] = {}
    for name, target in targets.items():
        by_target.setdefault(target, set()).add(name)
    titles: dict[str, dict[int, Any]] = {}
    for target, names in by_target.items():
        found = _titles_of(conn, access, ctx, runtime.entity(target), ids(names))
        titles.update((name, found) for name in names)
    users = directory.user_names(conn, ids(user_fields))
    titles.update((name, users) for name in user_fields)
    departments = directory.department_names(conn, ids(department_fields))
    titles.update((name, departments) for name in department_fields)
    for item in items:
        shown: dict[str, Any] = {}
        for name, found in titles.items():
            if name not in item:
                continue
            value = item[name]
            if isinstance(value, list):
                shown[name] = [found.get(v) for v in value]
            elif value is not None:
                shown[name] = found.get(value)
        item["_titles"] = shown
