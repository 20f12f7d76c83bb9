"""Who may have an uploaded file: the readers of a record holding it, or, before any record
does, the person who uploaded it.

A file belongs to the entity it was uploaded for (its descriptor on disk says which, and who
uploaded it). Its bytes are served to someone who can read a record of that entity holding the
file in a field shown to them (not hidden, not masked: a masked field shows a masked
descriptor, not the file); while no record holds it, to its uploader only. Administrators and
the system have every file. Attaching follows the same rule: a write may put a file into a
record only if the writer uploaded it for that entity or may already have it, so a file id
seen once is no key to anyone else's bytes.

Records keep descriptors as JSON, so the holders of a file are found by its id in the text of
the entity's file columns (ids are 32 random hex digits) and then checked value by value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from engine.access import AccessPolicy
from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.context import Context
from engine.errors import Forbidden

FILE_TYPES = ("attachment", "image", "signature")


def unrestricted(ctx: Context) -> bool:
    return ctx.user is None or ctx.user.is_admin


def _holds(value: Any, file_id: str) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(isinstance(item, Mapping) and item.get("id") == file_id for item in items)


def holders(
    conn: sa.Connection, er: EntityRuntime, file_id: str, fields: list[str], scope: Any = None
) -> set[int]:
    """Ids of the records of ``er`` (trashed ones too) holding ``file_id`` in one of ``fields``,
    among those ``scope`` selects (None: all)."""
    if not fields:
        return set()
    table = er.table
    pattern = f"%{file_id}%"
    query = sa.select(table.c.id, *(table.c[f] for f in fields)).where(
        sa.or_(*(sa.cast(table.c[f], sa.Text).like(pattern) for f in fields))
    )
    if scope is not None:
        query = query.where(scope)
    return {row[0] for row in conn.execute(query) if any(_holds(v, file_id) for v in row[1:])}


def file_fields(er: EntityRuntime) -> list[str]:
    return [f.name for f in er.entity.fields if f.type in FILE_TYPES]


def may_have(
    conn: sa.Connection,
    access: AccessPolicy,
    ctx: Context,
    runtime: AppRuntime,
    descriptor: Mapping[str, Any],
    *,
    as_uploader: bool,
) -> bool:
    """Whether ``ctx`` may have the file ``descriptor`` (as the store keeps it) describes.
    ``as_uploader``: its uploader may have it even once a record holds it (to attach it)."""
    if unrestricted(ctx):
        return True
    assert ctx.user is not None
    er = runtime.entities.get(descriptor.get("entity", ""))
    if er is None:  # its entity is gone: no reader left to check against
        return False
    uploaded = descriptor.get("uploader") == ctx.user.id
    if uploaded and as_uploader:
        return True
    fields = file_fields(er)
    if uploaded and not holders(conn, er, descriptor["id"], fields):
        return True
    try:
        access.require(ctx, er, "read")
    except Forbidden:
        return False
    plan = access.field_plan(ctx, er)
    shown = [f for f in fields if f not in plan.hidden and f not in plan.masked]
    scope = access.row_filter(ctx, conn, er, "read")
    return bool(holders(conn, er, descriptor["id"], shown, sa.true() if scope is None else scope))
