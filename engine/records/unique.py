"""Explaining a unique violation: which field, which existing record or which other item.

The service checks what it can before writing, but the database's unique constraints are the
last line (two writers racing, a restored record whose value was taken meanwhile). When one
fires, the transaction is gone; this looks again on a fresh connection to answer 409 with the
field and the record in the way, never a bare database error. The record is named only to a
caller who may read it with the clashing fields in full; anyone else gets a blind refusal
(``engine.records.blind_conflicts``) that names neither the record nor the item.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.access import AccessPolicy
from engine.apps.runtime import EntityRuntime
from engine.context import Context
from engine.errors import Conflict, DuplicateValue
from engine.records.blind_conflicts import blind, visible_ids


def duplicate_value_error(
    conn: sa.Connection,
    er: EntityRuntime,
    rows: list[dict[str, Any]],
    access: AccessPolicy,
    ctx: Context,
) -> Conflict | None:
    """The first unique field (or field set) that ``rows`` clash on, among themselves or with
    a live stored record, as ``ctx`` may be told; None when the violation was something else."""
    table = er.table
    groups = [[f.name] for f in er.entity.stored_fields() if f.unique]
    groups += [list(ix.fields) for ix in er.entity.indexes if ix.unique]
    for group in groups:
        seen: dict[tuple[Any, ...], int] = {}
        for i, row in enumerate(rows):
            key = tuple(row.get(name) for name in group)
            if any(v is None for v in key):
                continue
            clash_id = conn.execute(
                sa.select(table.c.id).where(
                    table.c.deleted_at.is_(None),
                    table.c.id != row.get("id", 0),
                    *[table.c[n] == v for n, v in zip(group, key, strict=True)],
                )
            ).scalar()
            if clash_id is None and key in seen:
                other = seen[key]
                return DuplicateValue(
                    "unique_clash.items",
                    first=other,
                    second=i,
                    fields=", ".join(group),
                    values=", ".join(map(str, key)),
                    details={"fields": group, "items": [other, i]},
                )
            seen[key] = i
            if clash_id is not None:
                labels = [er.entity.field(n).label for n in group]
                if not visible_ids(conn, access, ctx, er, [clash_id], group):
                    names = {lang: " + ".join(getattr(lb, lang) for lb in labels) for lang in ("zh", "en")}
                    return blind(er, len(rows), names)
                return DuplicateValue(
                    "unique_clash.existing",
                    fields={lang: " + ".join(getattr(lb, lang) for lb in labels) for lang in ("zh", "en")},
                    values=", ".join(map(str, key)),
                    existing_id=clash_id,
                    details={"fields": group, "existing_id": clash_id},
                )
    return None
