"""The flow engine's own tables: published versions, instances, node states, tasks, the step log
and round-robin cursors. Created idempotently at startup (``tangram_startup``)."""

from __future__ import annotations

import sqlalchemy as sa

from form_engine import UTCDateTime, id_column_type, json_column

metadata = sa.MetaData()


def _id() -> sa.Column[int]:
    return sa.Column("id", id_column_type(), primary_key=True, autoincrement=True)


#: Immutable published versions of a flow; instances point at the one they started on.
versions = sa.Table(
    "flow_versions",
    metadata,
    _id(),
    sa.Column("app", sa.String(30), nullable=False),
    sa.Column("flow", sa.String(60), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("definition", json_column(), nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("published_by", sa.BigInteger),
    sa.UniqueConstraint("app", "flow", "version", name="uq_flow_versions"),
)

instances = sa.Table(
    "flow_instances",
    metadata,
    _id(),
    sa.Column("app", sa.String(30), nullable=False),
    sa.Column("flow", sa.String(60), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("entity", sa.String(30), nullable=False),
    sa.Column("record_id", sa.BigInteger, nullable=False),
    #: starting -> running -> approved | rejected | done | withdrawn | cancelled | failed
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("started_by", sa.BigInteger),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    #: the record as it was submitted
    sa.Column("snapshot", json_column()),
    #: why it started (event, manual, schedule) and the trigger's key, for exactly-once starts
    sa.Column("cause", sa.String(20), nullable=False),
    sa.Column("start_key", sa.String(200), unique=True),
    #: the record is locked against edits while an approval of this instance runs
    sa.Column("locked", sa.Boolean, nullable=False, default=False),
    sa.Column("error", sa.Text),
    sa.Index("ix_flow_instances_record", "app", "entity", "record_id", "status"),
)

node_states = sa.Table(
    "flow_node_states",
    metadata,
    _id(),
    sa.Column("instance_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("node", sa.String(60), nullable=False),
    #: ready -> waiting -> done | cancelled
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("outcome", sa.String(20)),
    sa.Column("entered_at", UTCDateTime, nullable=False),
    sa.Column("left_at", UTCDateTime),
    sa.Column("due_at", UTCDateTime),
    #: resolved approvers, open parallel branches, the node a return resumes at...
    sa.Column("data", json_column(), nullable=False),
)

tasks = sa.Table(
    "flow_tasks",
    metadata,
    _id(),
    sa.Column("instance_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("state_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("node", sa.String(60), nullable=False),
    #: approval | fill | cc | resubmit
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("assignee", sa.BigInteger, nullable=False),
    #: open | queued | approved | rejected | done | returned | transferred | cancelled | read
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("due_at", UTCDateTime),
    sa.Column("acted_at", UTCDateTime),
    sa.Column("comment", sa.Text),
    sa.Column("transferred_from", sa.BigInteger),
    sa.Column("data", json_column(), nullable=False),
    sa.Index("ix_flow_tasks_assignee", "assignee", "status"),
)

steps = sa.Table(
    "flow_steps",
    metadata,
    _id(),
    sa.Column("instance_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("node", sa.String(60)),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.BigInteger),
    sa.Column("action", sa.String(30), nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("details", json_column()),
)

cursors = sa.Table(
    "flow_cursors",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)


def create_tables(engine: sa.Engine) -> None:
    metadata.create_all(engine, checkfirst=True)
