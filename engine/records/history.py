"""Record history: who changed which field when, old -> new, in the write's own transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.schema import system_tables as st

if TYPE_CHECKING:
    from engine.apps.runtime import EntityRuntime


def history_row(
    app: str, entity: str, record_id: int, op: str, at: datetime, actor: int | None, changes: Any
) -> dict[str, Any]:
    return {
        "app": app,
        "entity": entity,
        "record_id": record_id,
        "op": op,
        "at": at,
        "actor": actor,
        "changes": changes,
    }


def changes_json(er: EntityRuntime, changes: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    """``{field: [old, new]}`` in JSON form, as the history table keeps it."""
    return {k: [er.value_json(k, o), er.value_json(k, n)] for k, (o, n) in changes.items()}


def write(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(st.history.insert(), rows)


def read(conn: sa.Connection, app: str, entity: str, record_id: int) -> list[Any]:
    return list(
        conn.execute(
            sa.select(st.history)
            .where(
                st.history.c.app == app,
                st.history.c.entity == entity,
                st.history.c.record_id == record_id,
            )
            .order_by(st.history.c.id)
        )
    )
