"""Many-to-many fields: a link table per field, (source_id, target_id) pairs.

A value sent on create or update is the whole set of target ids and replaces the stored one;
omitting the field leaves the links alone. Ids must name live target records. Trashing either
side keeps the pairs (a restore brings the relation back); reads list only live targets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from engine.records import references
from engine.records.steps.base import WriteStep
from form_engine import Problem

if TYPE_CHECKING:
    from engine.records.steps.base import Batch


class Links(WriteStep):
    def before(self, write: Batch) -> None:
        if write.op not in ("create", "update"):
            return
        problems: list[Problem] = []
        unit = write.unit
        for f in write.er.fields_of_type("many_to_many"):
            target = references.record_target(unit.runtime, f.config.entity, unit.readable)
            wanted = {i for rel in write.relations for i in (rel.get(f.name) or [])}
            if not wanted:
                continue
            missing = wanted - references.existing_ids(unit.conn, target, wanted)
            for rel, at in zip(write.relations, write.pointers, strict=True):
                for k, value in enumerate(rel.get(f.name) or []):
                    if value in missing:
                        problems.append(
                            references.missing_problem(write.er, f.name, target, value, f"{at}/{f.name}/{k}")
                        )
        references.refuse(problems)

    def after(self, write: Batch) -> None:
        if write.op not in ("create", "update"):
            return
        for name, table in write.er.link_tables.items():
            for record_id, rel in zip(write.ids, write.relations, strict=True):
                if name not in rel:
                    continue
                replace_links(write.unit.conn, table, record_id, rel[name] or [])


def replace_links(conn: sa.Connection, table: sa.Table, source_id: int, target_ids: list[int]) -> None:
    conn.execute(table.delete().where(table.c.source_id == source_id))
    if target_ids:
        conn.execute(table.insert(), [{"source_id": source_id, "target_id": t} for t in target_ids])
