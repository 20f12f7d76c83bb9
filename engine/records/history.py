"""Record history: who changed which field when, old -> new, in the write's own transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


def initial_changes(er: EntityRuntime, row: Mapping[str, Any]) -> dict[str, Any]:
    """A record's values as it was created, as ``{field: [null, value]}`` (fields left empty
    are left out): the ``changes`` of its ``create`` entry."""
    hidden = er.hidden_columns
    return changes_json(
        er,
        {
            f.name: (None, row[f.name])
            for f in er.entity.stored_fields()
            if row.get(f.name) is not None and f.name not in hidden
        },
    )


def creation_rows(er: EntityRuntime, olds: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``create`` entries for the records among ``olds`` changing for the first time.

    A record at version 1 has never changed, so its stored values are its initial ones: they
    are kept as its ``create`` entry just before its first change. A create itself writes no
    history row (a bulk create of 10,000 records costs no extra 10,000 inserts), and a record
    never changed shows its current values as its creation."""
    return [
        history_row(
            er.app, er.entity.name, old["id"], "create", old["created_at"], old["created_by"],
            initial_changes(er, old),
        )
        for old in olds
        if old.get("version") == 1
    ]  # fmt: skip


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
