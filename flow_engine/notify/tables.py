"""The notification centre's tables, created idempotently at start-up."""

from __future__ import annotations

import sqlalchemy as sa

from form_engine import UTCDateTime, id_column_type, json_column

metadata = sa.MetaData()

notifications = sa.Table(
    "flow_notifications",
    metadata,
    sa.Column("id", id_column_type(), primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("title", json_column(), nullable=False),
    sa.Column("body", json_column(), nullable=False),
    sa.Column("app", sa.String(30)),
    sa.Column("entity", sa.String(30)),
    sa.Column("record_id", sa.BigInteger),
    #: the channels asked for besides in-app (the deliveries themselves are jobs)
    sa.Column("channels", json_column()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("read_at", UTCDateTime),
    sa.Index("ix_flow_notifications_user", "user_id", "read_at"),
)

#: Where e-mail reaches a user (the kernel's users carry no address).
addresses = sa.Table(
    "flow_notify_addresses",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False),
)


def create_tables(db: sa.Engine) -> None:
    metadata.create_all(db, checkfirst=True)
