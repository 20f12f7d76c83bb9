"""The statements every step of an instance runs, built once and run with parameters.

Building a SQLAlchemy statement and computing its cache key costs several times what SQLite
takes to run it, and a step runs a dozen; so the hot ones are built here once, with bound
parameters: ``ROW`` for the row's id, ``IDS`` for a list of ids, the column names for values
(an UPDATE sets the columns its parameters name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from flow_engine import tables as t

#: The bound parameter naming the row a statement reads or changes.
ROW = "_row"
#: The bound parameter holding a list of ids (an expanding IN).
IDS = "_ids"
#: Statuses of a node state that still has work to do.
LIVE_STATES = ("ready", "waiting")
#: Statuses of a task that has not been decided yet.
OPEN_TASKS = ("open", "queued")


@lru_cache(maxsize=512)  # bounded: an app's tables are rebuilt when its schema changes
def update_by_id(table: sa.Table) -> sa.Update:
    """``UPDATE table SET <the columns given> WHERE id = :_row``."""
    return table.update().where(table.c.id == sa.bindparam(ROW))


@lru_cache(maxsize=512)
def select_by_id(table: sa.Table, *, lock: bool = False) -> sa.Select[tuple[object, ...]]:
    """``SELECT * FROM table WHERE id = :_row`` (``FOR UPDATE`` with ``lock``)."""
    query = sa.select(table).where(table.c.id == sa.bindparam(ROW))
    return query.with_for_update() if lock else query


@lru_cache(maxsize=512)
def insert(table: sa.Table) -> sa.Insert:
    """A plain INSERT (one row or many)."""
    return table.insert()


def insert_one(conn: sa.Connection, table: sa.Table, values: Mapping[str, Any]) -> int:
    """Insert one row and answer its id (SQLite's last row id, PostgreSQL's RETURNING: on SQLite
    that costs less than a RETURNING clause)."""
    key = conn.execute(insert(table), values).inserted_primary_key
    if key is None:  # pragma: no cover - an INSERT of one row always has one
        raise RuntimeError(f"no id for the new {table.name} row")
    return int(key[0])


def one_of(column: sa.ColumnElement[Any], values: Iterable[Any]) -> sa.ColumnElement[bool]:
    """``column IN values`` for a fixed list, as comparisons: SQLAlchemy sends a literal IN list
    as a parameter it expands into the SQL text at every run, which costs more than the query."""
    return sa.or_(*(column == v for v in values))


@lru_cache(maxsize=512)
def by_instance(table: sa.Table) -> sa.Select[tuple[object, ...]]:
    """Every row of one instance (``:_row``) in the order written."""
    return sa.select(table).where(table.c.instance_id == sa.bindparam(ROW)).order_by(table.c.id)


ns, tk, i = t.node_states, t.tasks, t.instances

#: The ids of an instance's states still ready or waiting.
LIVE_STATE_IDS = sa.select(ns.c.id).where(
    ns.c.instance_id == sa.bindparam(ROW), one_of(ns.c.status, LIVE_STATES)
)
#: Close states (``:_ids``).
CANCEL_STATES = (
    ns.update()
    .where(ns.c.id.in_(sa.bindparam(IDS, expanding=True)))
    .values(status="cancelled", left_at=sa.bindparam("at"))
)
#: Close the undecided tasks (carbon copies aside) of states (``:_ids``).
CANCEL_STATE_TASKS = (
    tk.update()
    .where(
        tk.c.state_id.in_(sa.bindparam(IDS, expanding=True)),
        one_of(tk.c.status, OPEN_TASKS),
        tk.c.kind != "cc",
    )
    .values(status="cancelled", acted_at=sa.bindparam("at"))
)
#: The tasks of one state (``:_row``) that decide it, in their order.
DECIDING_TASKS = (
    sa.select(tk).where(tk.c.state_id == sa.bindparam(ROW), tk.c.kind != "cc").order_by(tk.c.seq, tk.c.id)
)
#: Open a set of queued tasks (``:_ids``).
OPEN_TASKS_BY_ID = tk.update().where(tk.c.id.in_(sa.bindparam(IDS, expanding=True))).values(status="open")
#: The instances running on one record, of any flow or of one (``:flow``).
RUNNING_ON = (
    sa.select(i.c.id)
    .where(
        i.c.app == sa.bindparam("app"),
        i.c.entity == sa.bindparam("entity"),
        i.c.record_id == sa.bindparam("record_id"),
        one_of(i.c.status, ("starting", "running")),
    )
    .order_by(i.c.id)
)
RUNNING_ON_FLOW = RUNNING_ON.where(i.c.flow == sa.bindparam("flow"))
#: Whether an instance was started under a trigger's key already.
STARTED_UNDER = sa.select(i.c.id).where(i.c.start_key == sa.bindparam("start_key"))
#: A task (``:_row``) with its state's columns, named ``state__<column>`` (none for a carbon
#: copy an action made, which belongs to no state).
TASK_AND_STATE = (
    sa.select(tk, *(c.label(f"state__{c.name}") for c in ns.c))
    .outerjoin(ns, ns.c.id == tk.c.state_id)
    .where(tk.c.id == sa.bindparam(ROW))
)
#: A task's instance, with the app and flow it runs in (and whose the task is, and whether open).
TASK_INSTANCE = (
    sa.select(tk.c.instance_id, i.c.app, i.c.flow, tk.c.assignee, tk.c.status)
    .join(i, i.c.id == tk.c.instance_id)
    .where(tk.c.id == sa.bindparam(ROW))
)
