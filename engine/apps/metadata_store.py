"""Apps and their versioned packages; every change to an entity migrates its table.

The current package of an app lives in ``tg_apps``; every accepted change appends the whole
package to ``tg_app_versions``, so any earlier design can be read back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from engine.apps.derived_values import recompute_entity
from engine.apps.package import AppPackage, entity_of, parse_package
from engine.apps.runtime import AppRuntime
from engine.clock import iso, utcnow
from engine.context import Context
from engine.errors import Conflict, InvalidPackage, NotFound
from engine.schema import system_tables as st
from engine.schema.diff import RecomputeDerived, diff_entity
from engine.schema.migrations import Migrator, Recompute, hold_app_schema, purge_removed, removed_fields
from form_engine import EntityDef, Problem, pydantic_problems


@dataclass(frozen=True)
class StoredApp:
    package: AppPackage
    version: int


def app_not_found(name: str) -> NotFound:
    return NotFound("app_not_found", app=name)


def load_app(conn: sa.Connection, name: str) -> StoredApp:
    row = conn.execute(sa.select(st.apps.c.package, st.apps.c.version).where(st.apps.c.name == name)).first()
    if row is None:
        raise app_not_found(name)
    return StoredApp(AppPackage.model_validate(row.package), row.version)


_VERSION_QUERY = sa.select(st.apps.c.version).where(st.apps.c.name == sa.bindparam("name"))


def app_version(conn: sa.Connection, name: str) -> int | None:
    """The current version of an app; runs before every record operation, so it is prebuilt."""
    return conn.execute(_VERSION_QUERY, {"name": name}).scalar()


def list_apps(conn: sa.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(st.apps.c.name, st.apps.c.version, st.apps.c.package, st.apps.c.updated_at).order_by(
            st.apps.c.name
        )
    )
    return [
        {
            "name": r.name,
            "label": r.package["label"],
            "version": r.version,
            "entities": [e["name"] for e in r.package.get("entities", [])],
            "updated_at": iso(r.updated_at),
        }
        for r in rows
    ]


def save_version(
    conn: sa.Connection, package: AppPackage, ctx: Context, note: str, version: int, *, new: bool = False
) -> None:
    """Make ``package`` the app's current version and keep it in the history; ``new``: the app
    is not installed yet (an import).

    Refused if someone else stored ``version`` first; the caller has already migrated tables."""
    now = utcnow()
    document = package.export()
    if new:
        conn.execute(
            st.apps.insert().values(
                name=package.name, version=version, package=document, created_at=now, updated_at=now
            )
        )
    else:
        updated = conn.execute(
            st.apps.update()
            .where(st.apps.c.name == package.name, st.apps.c.version == version - 1)
            .values(version=version, package=document, updated_at=now)
        )
        if updated.rowcount != 1:
            raise Conflict("app_changed_meanwhile", app=package.name)
    conn.execute(
        st.app_versions.insert().values(
            app=package.name,
            version=version,
            package=document,
            created_at=now,
            created_by=ctx.user_id,
            note=note,
        )
    )


def import_app(conn: sa.Connection, data: Any, ctx: Context) -> AppPackage:
    """Create a new app and one table per entity. The caller's transaction makes it atomic."""
    package = parse_package(data)
    hold_app_schema(conn, package.name, exclusive=True)
    if app_version(conn, package.name) is not None:
        raise Conflict("app_exists", app=package.name)
    for entity in package.entities:
        Migrator(conn, package.name, None, entity).apply(diff_entity(None, entity))
    save_version(conn, package, ctx, "import", next_version(conn, package.name), new=True)
    return package


def next_version(conn: sa.Connection, name: str) -> int:
    """The number an app's next version takes. An app uninstalled and imported again goes on
    from its last version (kept in the history), so no process's cached runtime of the old app
    passes for the new one."""
    last = conn.execute(
        sa.select(sa.func.max(st.app_versions.c.version)).where(st.app_versions.c.app == name)
    ).scalar()
    return (last or 0) + 1


def put_entity(
    conn: sa.Connection, app: str, data: Any, entity_name: str, ctx: Context
) -> tuple[AppPackage, str]:
    """Create or change one entity; migrates its table. Returns the package and what happened.

    Other transactions on the app's records finish first, and later ones wait for this one."""
    hold_app_schema(conn, app, exclusive=True)
    stored = load_app(conn, app)
    if isinstance(data, dict) and data.get("name", entity_name) != entity_name:
        raise InvalidPackage("entity_name_mismatch", body_name=data.get("name"), url_name=entity_name)
    if isinstance(data, dict):
        data = {**data, "name": entity_name}
    try:
        entity = EntityDef.model_validate(data)
    except ValidationError as exc:
        raise _invalid_entity(pydantic_problems(exc)) from None
    changed = stored.package.with_entity(entity)
    exported = changed.export()
    if stored.package.has_entity(entity_name):
        _follow_renames(exported, entity_name, stored.package.entity(entity_name), entity)
    try:
        # The whole package is checked, so the entity's rules may read through lookups into
        # the others, and the others' roll-ups are checked against the changed entity.
        package = parse_package(exported)
    except InvalidPackage as exc:
        prefix = f"/entities/{[e.name for e in changed.entities].index(entity_name)}"
        raise _invalid_entity([_relative(p, prefix) for p in exc.problems]) from None
    old = stored.package.entity(entity_name) if stored.package.has_entity(entity_name) else None
    kept = removed_fields(conn, app, entity_name) if old is not None else {}
    recompute = _recompute(conn, package, stored.version + 1, entity_name)
    Migrator(conn, app, old, entity, recompute).apply(diff_entity(old, package.entity(entity_name), kept))
    save_version(conn, package, ctx, f"entity {entity_name}", stored.version + 1)
    return package, "created" if old is None else "changed"


def put_section(
    conn: sa.Connection, app: str, name: str, items: list[dict[str, Any]], ctx: Context
) -> AppPackage:
    """Replace the items of a plugin's package section (``flows``, ``reports``...) as a new
    app version; the whole package is checked, so the section may refer to entities and fields."""
    stored = load_app(conn, app)
    document = {**stored.package.export(), name: items}
    if not items:
        document.pop(name)
    package = parse_package(document)
    save_version(conn, package, ctx, f"{name} changed", stored.version + 1)
    return package


def _follow_renames(exported: dict[str, Any], entity_name: str, old: EntityDef, new: EntityDef) -> None:
    """Role field rules name fields; a field renamed in this change (same stable id) keeps its
    rules under the new name, in the same version, so a masked field is never shown plainly
    in between."""
    old_names = {f.id: f.name for f in old.fields}
    renamed = {old_names[f.id]: f.name for f in new.fields if f.id in old_names and old_names[f.id] != f.name}
    if not renamed:
        return
    for role in exported.get("roles", []):
        rules = role.get("permissions", {}).get(entity_name, {}).get("fields")
        if rules:
            role["permissions"][entity_name]["fields"] = {renamed.get(k, k): v for k, v in rules.items()}


def _recompute(conn: sa.Connection, package: AppPackage, version: int, entity_name: str) -> Recompute:
    """The migration's last step: derived values computed for the rows already stored, with the
    app as it will be (compiled only when the change needs it)."""

    def run(op: RecomputeDerived) -> None:
        runtime = AppRuntime(package, version)
        recompute_entity(conn, runtime, runtime.entity(entity_name), op.fields, converted=op.converted)

    return run


def _invalid_entity(problems: list[Problem]) -> InvalidPackage:
    return InvalidPackage("entity_invalid", count=len(problems), problems=problems)


def _relative(problem: Problem, prefix: str) -> Problem:
    """Problems inside the entity sent are pointed at within its body; others keep their
    package pointer (``/entities/2/...``: another entity this change breaks)."""
    pointer = problem.pointer or ""
    if pointer == prefix or pointer.startswith(prefix + "/"):
        return dataclasses.replace(problem, pointer=pointer[len(prefix) :] or "/")
    return problem


def purge_fields(
    conn: sa.Connection, app: str, entity_name: str, field_id: str | None, ctx: Context
) -> list[str]:
    hold_app_schema(conn, app, exclusive=True)
    stored = load_app(conn, app)
    return purge_removed(conn, app, entity_of(stored.package, entity_name), field_id)
