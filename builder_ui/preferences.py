"""Per-user browser preferences (the language chosen with the 中文 / English switch), kept in the
plugin's own table, created idempotently at startup."""

from __future__ import annotations

import sqlalchemy as sa

from engine import Platform

LOCALES = ("zh", "en")

metadata = sa.MetaData()
preferences = sa.Table(
    "ui_preferences",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("locale", sa.String(8), nullable=False),
)


def create_tables(platform: Platform) -> None:
    with platform.db.begin() as conn:
        metadata.create_all(conn, checkfirst=True)


def locale_of(platform: Platform, user_id: int) -> str | None:
    """The language the user chose, or ``None`` (then the browser's Accept-Language decides)."""
    with platform.db.connect() as conn:
        value = conn.execute(
            sa.select(preferences.c.locale).where(preferences.c.user_id == user_id)
        ).scalar_one_or_none()
    return value if value in LOCALES else None


def set_locale(platform: Platform, user_id: int, locale: str) -> None:
    with platform.db.begin() as conn:
        changed = conn.execute(
            preferences.update().where(preferences.c.user_id == user_id).values(locale=locale)
        ).rowcount
        if not changed:
            conn.execute(preferences.insert().values(user_id=user_id, locale=locale))
