"""Saved list views: a named filter (rule DSL), sort, search text and column choice of one
entity's list, personal to their owner or shared by an administrator with everyone, and each
user's default view per list. Kept in the plugin's own tables, created idempotently at startup.

Who may do what is decided here, not in the browser: only the owner edits a personal view, only
an administrator shares one or edits a shared one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from builder_ui.errors import UiForbidden, UiInputError, UiNotFound
from engine import Context, Platform
from form_engine import id_column_type, json_column

metadata = sa.MetaData()
views = sa.Table(
    "ui_saved_views",
    metadata,
    sa.Column("id", id_column_type(), primary_key=True, autoincrement=True),
    sa.Column("app", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("owner_id", sa.BigInteger, nullable=False),
    sa.Column("shared", sa.Boolean, nullable=False, default=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("filter", sa.Text, nullable=False, default=""),
    sa.Column("sort", sa.String(1000), nullable=False, default=""),
    sa.Column("q", sa.String(200), nullable=False, default=""),
    sa.Column("columns", json_column(), nullable=False),
    sa.Index("ix_ui_saved_views_list", "app", "entity"),
)
defaults = sa.Table(
    "ui_default_views",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("app", sa.String(64), primary_key=True),
    sa.Column("entity", sa.String(64), primary_key=True),
    sa.Column("view_id", sa.BigInteger, nullable=False),
)


@dataclass(frozen=True)
class ViewSpec:
    """What a view holds, already checked against the entity and the caller's permissions."""

    name: str
    shared: bool
    filter: str
    sort: str
    q: str
    columns: list[str]


def create_tables(platform: Platform) -> None:
    with platform.db.begin() as conn:
        metadata.create_all(conn, checkfirst=True)


def _user(ctx: Context) -> tuple[int, bool]:
    assert ctx.user is not None  # every route here requires a signed-in user
    return ctx.user.id, ctx.user.is_admin


def _json(row: sa.RowMapping, ctx: Context) -> dict[str, Any]:
    user_id, is_admin = _user(ctx)
    mine = row["owner_id"] == user_id
    return {
        "id": row["id"],
        "name": row["name"],
        "shared": row["shared"],
        "mine": mine,
        "editable": is_admin if row["shared"] else mine,
        "filter": row["filter"],
        "sort": row["sort"],
        "q": row["q"],
        "columns": list(row["columns"]),
    }


def _visible(ctx: Context) -> Any:
    user_id, _ = _user(ctx)
    return sa.or_(views.c.shared.is_(True), views.c.owner_id == user_id)


def list_views(platform: Platform, ctx: Context, app: str, entity: str) -> dict[str, Any]:
    """The caller's own views and the shared ones, and the caller's default (if still visible)."""
    user_id, _ = _user(ctx)
    with platform.db.connect() as conn:
        rows = conn.execute(
            sa.select(views)
            .where(views.c.app == app, views.c.entity == entity, _visible(ctx))
            .order_by(views.c.shared.desc(), views.c.name, views.c.id)
        ).mappings()
        found = [_json(r, ctx) for r in rows]
        default = conn.execute(
            sa.select(defaults.c.view_id).where(
                defaults.c.user_id == user_id, defaults.c.app == app, defaults.c.entity == entity
            )
        ).scalar_one_or_none()
    ids = {v["id"] for v in found}
    return {"views": found, "default": default if default in ids else None}


def _load(conn: sa.Connection, ctx: Context, app: str, entity: str, view_id: int) -> sa.RowMapping:
    row = (
        conn.execute(
            sa.select(views).where(
                views.c.id == view_id, views.c.app == app, views.c.entity == entity, _visible(ctx)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise UiNotFound("view_not_found", view_id=view_id)
    return row


def _require_editable(ctx: Context, shared: bool, owner_id: int) -> None:
    user_id, is_admin = _user(ctx)
    if shared and not is_admin:
        raise UiForbidden("view_share_admin_only")
    if not shared and owner_id != user_id:
        raise UiForbidden("view_not_yours")


def create_view(platform: Platform, ctx: Context, app: str, entity: str, spec: ViewSpec) -> dict[str, Any]:
    user_id, _ = _user(ctx)
    _require_editable(ctx, spec.shared, user_id)
    with platform.db.begin() as conn:
        inserted = conn.execute(
            views.insert().values(app=app, entity=entity, owner_id=user_id, **spec.__dict__)
        ).inserted_primary_key
        assert inserted is not None
        view_id = inserted[0]
        return _json(_load(conn, ctx, app, entity, view_id), ctx)


def update_view(
    platform: Platform, ctx: Context, app: str, entity: str, view_id: int, spec: ViewSpec
) -> dict[str, Any]:
    """Replace what the view holds; sharing or unsharing it takes an administrator."""
    with platform.db.begin() as conn:
        row = _load(conn, ctx, app, entity, view_id)
        _require_editable(ctx, row["shared"], row["owner_id"])
        _require_editable(ctx, spec.shared, row["owner_id"])
        conn.execute(views.update().where(views.c.id == view_id).values(**spec.__dict__))
        return _json(_load(conn, ctx, app, entity, view_id), ctx)


def delete_view(platform: Platform, ctx: Context, app: str, entity: str, view_id: int) -> None:
    with platform.db.begin() as conn:
        row = _load(conn, ctx, app, entity, view_id)
        _require_editable(ctx, row["shared"], row["owner_id"])
        conn.execute(defaults.delete().where(defaults.c.view_id == view_id))
        conn.execute(views.delete().where(views.c.id == view_id))


def set_default(platform: Platform, ctx: Context, app: str, entity: str, view_id: int | None) -> None:
    """Make a view the caller's default for this list (``None``: no default, the plain list)."""
    user_id, _ = _user(ctx)
    mine = (defaults.c.user_id == user_id, defaults.c.app == app, defaults.c.entity == entity)
    # Two clicks at once (two tabs) both find no row and both insert: the loser tries again,
    # and its delete then sees the winner's row.
    for attempt in (1, 2):
        try:
            with platform.db.begin() as conn:
                if view_id is not None:
                    _load(conn, ctx, app, entity, view_id)
                conn.execute(defaults.delete().where(*mine))
                if view_id is not None:
                    conn.execute(
                        defaults.insert().values(user_id=user_id, app=app, entity=entity, view_id=view_id)
                    )
            return
        except sa.exc.IntegrityError:
            if attempt == 2:
                raise


def check_columns(columns: list[str], readable: list[str]) -> None:
    """Columns must be fields of the entity the caller may read, each once."""
    unknown = [c for c in columns if c not in readable]
    if unknown:
        raise UiInputError("view_columns_invalid", names=", ".join(unknown))
    if len(set(columns)) != len(columns):
        raise UiInputError("view_columns_twice")
