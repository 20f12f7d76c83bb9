"""Per-app secrets: the webhook signing key, the robots' webhook addresses and signing keys.

They live in their own table, never in the app package, so exporting an app never carries
them; the API sets them and answers only whether one is set (and its last characters).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from form_engine import UTCDateTime, json_column

metadata = sa.MetaData()
app_secrets = sa.Table(
    "flow_app_secrets",
    metadata,
    sa.Column("app", sa.String(30), primary_key=True),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", json_column(), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)


def create_tables(db: sa.Engine) -> None:
    metadata.create_all(db, checkfirst=True)


def get_secret(conn: sa.Connection, app: str, name: str) -> dict[str, Any] | None:
    value: dict[str, Any] | None = conn.execute(
        sa.select(app_secrets.c.value).where(app_secrets.c.app == app, app_secrets.c.name == name)
    ).scalar()
    return value


def put_secret(conn: sa.Connection, app: str, name: str, value: dict[str, Any]) -> None:
    where = (app_secrets.c.app == app, app_secrets.c.name == name)
    done = conn.execute(app_secrets.update().where(*where).values(value=value, updated_at=datetime.now(UTC)))
    if done.rowcount == 0:
        conn.execute(
            app_secrets.insert().values(app=app, name=name, value=value, updated_at=datetime.now(UTC))
        )


def hint(text: str | None) -> str | None:
    """The last four characters, enough to tell two secrets apart and useless to an attacker."""
    return None if not text else "…" + text[-4:]
