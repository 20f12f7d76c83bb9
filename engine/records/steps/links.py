"""Many-to-many fields: a link table per field, (source_id, target_id) pairs.

A value sent on create or update is the whole set of target ids and replaces the stored one;
omitting the field leaves the links alone. Ids must name live target records. Trashing either
side keeps the pairs (a restore brings the relation back); reads list only live targets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from engine.records import references
from form_engine import Problem

if TYPE_CHECKING:
    from engine.records.steps.base import Write


class Links:
    def before(self, write: Write) -> None:
        if write.op not in ("create", "update"):
            return
        problems: list[Problem] = []
        for f in write.er.fields_of_type("many_to_many"):
            target = references.record_target(write.runtime, f.config.entity)
            wanted = {i for rel in write.relations for i in (rel.get(f.name) or [])}
            if not wanted:
                continue
            missing = wanted - references.existing_ids(write.conn, target, wanted)
            for rel, at in zip(write.relations, write.pointers, strict=True):
                for k, value in enumerate(rel.get(f.name) or []):
                    if value in missing:
                        problems.append(
                            references.missing_problem(write.er, f.name, target, value, f"{at}/{f.name}/{k}")
                        )
        references.refuse(problems)

    def after(self, write: Write) -> None:
        if write.op not in ("create", "update"):
            return
        for name, table in write.er.link_tables.items():
            for record_id, rel in zip(write.ids, write.relations, strict=True):
                if name not in rel:
                    continue
                replace_links(write.conn, table, record_id, rel[name] or [])


def replace_links(conn: sa.Connection, table: sa.Table, source_id: int, target_ids: list[int]) -> None:
    conn.execute(table.delete().where(table.c.source_id == source_id))
    if target_ids:
        conn.execute(table.insert(), [{"source_id": source_id, "target_id": t} for t in target_ids])


def linked_ids(
    conn: sa.Connection, table: sa.Table, target: sa.Table, source_ids: list[int]
) -> dict[int, list[int]]:
    """source id -> ids of its live targets, in the order they were linked (by target id)."""
    out: dict[int, list[int]] = {i: [] for i in source_ids}
    if not source_ids:
        return out
    query = (
        sa.select(table.c.source_id, table.c.target_id)
        .join(target, target.c.id == table.c.target_id)
        .where(table.c.source_id.in_(source_ids), target.c.deleted_at.is_(None))
        .order_by(table.c.source_id, table.c.target_id)
    )
    for source_id, target_id in conn.execute(query):
        out[source_id].append(target_id)
    return out
