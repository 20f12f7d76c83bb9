"""Auto-number fields: the next value of a gap-free counter, taken inside the create transaction.

One ``tg_sequences`` row per field and ``form_engine.sequence_key`` (the pattern with its date
parts filled in, so ``{YYYYMMDD}`` restarts daily). The counter moves with one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the row stays locked until the write commits
(PostgreSQL) or the single SQLite writer finishes, and a rolled-back create gives its numbers
back, so numbers have no gaps and no repeats however many creates run at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from engine.records.steps.base import WriteStep
from engine.schema import system_tables as st
from form_engine import format_auto_number, sequence_key

if TYPE_CHECKING:
    from engine.records.steps.base import Batch


def next_values(conn: sa.Connection, key: str, count: int) -> range:
    """Reserve ``count`` consecutive numbers of the counter ``key``; returns them."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(st.sequences)
        .values(key=key, value=count)
        .on_conflict_do_update(
            index_elements=[st.sequences.c.key], set_={"value": st.sequences.c.value + count}
        )
        .returning(st.sequences.c.value)
    )
    last = conn.execute(statement).scalar_one()
    return range(last - count + 1, last + 1)


def counter_key(app: str, entity: str, field_id: str, key: str) -> str:
    """Counters are per field: two entities with the same pattern number independently."""
    return f"{app}.{entity}.{field_id}:{key}"[:200]


class AutoNumbers(WriteStep):
    """Fills every auto-number field of new rows (clients cannot write them)."""

    def before(self, write: Batch) -> None:
        if write.op != "create":
            return
        for f in write.er.fields_of_type("auto_number"):
            pattern, zone = f.config.pattern, f.config.timezone
            key = counter_key(
                write.er.app, write.er.entity.name, f.id, sequence_key(pattern, write.unit.now, zone)
            )
            numbers = next_values(write.unit.conn, key, len(write.rows))
            for row, seq in zip(write.rows, numbers, strict=True):
                row[f.name] = format_auto_number(pattern, seq, write.unit.now, zone)
