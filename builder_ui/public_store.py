"""Published forms (an entity's form at a public link, submitted as a designated user) and the
submission counts that rate-limit them, in the plugin's own tables."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine import Platform
from form_engine import UTCDateTime, id_column_type

metadata = sa.MetaData()

public_forms = sa.Table(
    "ui_public_forms",
    metadata,
    sa.Column("id", id_column_type(), primary_key=True, autoincrement=True),
    #: the secret part of the public link; unguessable, so a form is found only by its link
    sa.Column("token", sa.String(64), nullable=False, unique=True),
    sa.Column("app", sa.String(30), nullable=False),
    sa.Column("entity", sa.String(30), nullable=False),
    sa.Column("form", sa.String(60), nullable=False),
    #: submissions create records as this user, with their permissions
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger),
)

#: One row per submission attempt, counted per client address over a sliding window.
hits = sa.Table(
    "ui_public_form_hits",
    metadata,
    sa.Column("id", id_column_type(), primary_key=True, autoincrement=True),
    sa.Column("address", sa.String(90), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_ui_public_form_hits_address", "address", "at"),
)


@dataclass(frozen=True)
class PublicForm:
    id: int
    token: str
    app: str
    entity: str
    form: str
    user_id: int
    enabled: bool

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "token": self.token,
            "app": self.app,
            "entity": self.entity,
            "form": self.form,
            "user_id": self.user_id,
            "enabled": self.enabled,
            "url": f"/ui/public/{self.token}",
        }


def create_tables(platform: Platform) -> None:
    with platform.db.begin() as conn:
        metadata.create_all(conn, checkfirst=True)


def _of(row: Any) -> PublicForm:
    return PublicForm(row.id, row.token, row.app, row.entity, row.form, row.user_id, row.enabled)


def publish(
    conn: sa.Connection, app: str, entity: str, form: str, user_id: int, by: int | None, now: datetime
) -> PublicForm:
    token = secrets.token_urlsafe(24)
    values = {"token": token, "app": app, "entity": entity, "form": form, "user_id": user_id}
    new_id = conn.execute(
        public_forms.insert()
        .values(**values, enabled=True, created_at=now, created_by=by)
        .returning(public_forms.c.id)
    ).scalar_one()
    return PublicForm(new_id, token, app, entity, form, user_id, True)


def all_forms(conn: sa.Connection) -> list[PublicForm]:
    return [_of(r) for r in conn.execute(sa.select(public_forms).order_by(public_forms.c.id))]


def by_id(conn: sa.Connection, form_id: int) -> PublicForm | None:
    row = conn.execute(sa.select(public_forms).where(public_forms.c.id == form_id)).first()
    return _of(row) if row is not None else None


def by_token(conn: sa.Connection, token: str) -> PublicForm | None:
    """The enabled form behind a public link, or None (unknown and disabled look the same)."""
    row = conn.execute(
        sa.select(public_forms).where(public_forms.c.token == token, public_forms.c.enabled.is_(True))
    ).first()
    return _of(row) if row is not None else None


def set_enabled(conn: sa.Connection, form_id: int, enabled: bool) -> None:
    conn.execute(public_forms.update().where(public_forms.c.id == form_id).values(enabled=enabled))


@dataclass(frozen=True)
class SubmissionLimit:
    """At most ``per_window`` submission attempts per client address in ``window``."""

    per_window: int = 10
    window: timedelta = timedelta(minutes=10)

    def admit(self, conn: sa.Connection, address: str, now: datetime) -> bool:
        """Count this attempt and say whether it is within the limit. Counting first means a
        refused attempt counts too, so hammering the link does not reopen it."""
        address = address[:90]
        conn.execute(hits.insert().values(address=address, at=now))
        since = now - self.window
        conn.execute(hits.delete().where(hits.c.at < since - self.window))  # old rows go
        count = conn.execute(
            sa.select(sa.func.count()).select_from(hits).where(hits.c.address == address, hits.c.at >= since)
        ).scalar_one()
        return int(count) <= self.per_window
