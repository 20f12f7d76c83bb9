"""Marketing automation's own rows: the e-mails a journey sent and what their readers did.

These are platform rows, not app records: a message is keyed by an unguessable token (see
``tokens``) that the tracking routes look up; what a reader does lands on the member record
through the write unit (``tracking``), so flows, lists and reports see it.
"""

from __future__ import annotations

import sqlalchemy as sa

from form_engine import UTCDateTime, id_column_type, json_column

metadata = sa.MetaData()

messages = sa.Table(
    "marketing_messages",
    metadata,
    sa.Column("id", id_column_type(), primary_key=True, autoincrement=True),
    #: the random half of the tracking token (the other half is its signature)
    sa.Column("token", sa.String(64), nullable=False, unique=True),
    #: one message per flow instance and key: a step run again does not send twice
    sa.Column("send_key", sa.String(200), nullable=False, unique=True),
    sa.Column("app", sa.String(30), nullable=False),
    sa.Column("entity", sa.String(30), nullable=False),
    sa.Column("record_id", sa.BigInteger, nullable=False),
    sa.Column("instance_id", sa.BigInteger),
    sa.Column("key", sa.String(60), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    #: the one address the click route may redirect to
    sa.Column("url", sa.String(2000)),
    #: record fields the open and the click are written to (``opened_field``, ``clicked_field``)
    sa.Column("fields", json_column(), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("opened_at", UTCDateTime),
    sa.Column("clicked_at", UTCDateTime),
    sa.Index("ix_marketing_messages_record", "app", "entity", "record_id"),
)

events = sa.Table(
    "marketing_events",
    metadata,
    sa.Column("id", id_column_type(), primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.BigInteger, nullable=False, index=True),
    #: ``opened`` or ``clicked``
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)


def create_tables(db: sa.Engine) -> None:
    metadata.create_all(db, checkfirst=True)
