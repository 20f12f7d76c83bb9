"""The ``tangram`` command line. Plugins add commands through the ``tangram_commands`` hook.

:func:`create_cli` builds the command group anew for each run, so a plugin's commands join that
run's group and nothing shared.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import pluggy
import sqlalchemy as sa

from engine.apps import metadata_store
from engine.context import SYSTEM
from engine.errors import TangramError
from engine.host.platform import Platform
from engine.host.plugins import create_plugin_manager
from engine.identity import audit, departments, roles, throttle, users
from engine.schema.migrations import refresh_duplicate_keys
from engine.settings import Settings


@contextmanager
def _platform() -> Iterator[Platform]:
    platform = Platform(Settings())
    try:
        platform.init_database()
        yield platform
    finally:
        platform.close()


def _fail(exc: TangramError) -> None:
    click.echo(f"error: {exc.message('en')}", err=True)
    for problem in exc.problems:
        click.echo(f"  {problem.to_dict()['pointer']}: {problem.message()}", err=True)
    if exc.details:
        click.echo(json.dumps(exc.details, ensure_ascii=False, indent=2, default=str), err=True)
    sys.exit(1)


def _audit(
    conn: sa.Connection, event: str, *, target: str | None = None, app: str | None = None, **details: Any
) -> None:
    """An administrator's action from the command line: by the system, through the CLI door."""
    audit.record(conn, event, ctx=SYSTEM, app=app, target=target, details={**details, "door": "cli"})


HELP = """Tangram: a metadata-driven low-code platform.

Configuration comes from TANGRAM_* environment variables (TANGRAM_DATABASE_URL,
TANGRAM_DATA_DIR, TANGRAM_SECRET_KEY, TANGRAM_LOG_LEVEL); with none set, data lives in a
SQLite file under ./data.
"""


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 8000).")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1),
    help="Server processes (default 1). Use several on PostgreSQL: each has its own pool.",
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the HTTP server (creates the database on first start)."""
    import uvicorn

    from engine.http import create_app

    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    workers = workers or settings.workers
    options: dict[str, Any] = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_level": settings.log_level.lower(),
        # Forwarding headers are read by the app, from TANGRAM_TRUSTED_PROXIES only; uvicorn's
        # own reading would believe any client on 127.0.0.1.
        "proxy_headers": False,
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Each worker process builds its own app from the same TANGRAM_* environment. What they
    # share is made here first, so that they do not race to create the platform tables or
    # each generate a different secret key.
    settings.resolved_secret_key()
    platform = Platform(settings)
    try:
        platform.init_database()
    finally:
        platform.close()
    uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)


#: What each ``serve --workers N`` process imports to build its app.
APP_FACTORY = "engine.http:app_from_environment"


@click.command()
def init() -> None:
    """Create the database and the platform's tables (safe to run again)."""
    with _platform() as platform:
        click.echo(f"database ready: {platform.db.url.render_as_string(hide_password=True)}")


@click.command()
def migrate() -> None:
    """Bring stored data up to this version of Tangram: create the platform tables it adds, and
    recompute duplicate keys made by an older normalisation. Columns of existing platform
    tables are not altered yet: there is no released schema to upgrade from."""
    with _platform() as platform:
        click.echo(f"platform tables are up to date on {platform.db.dialect.name}")
        with platform.db.begin() as conn:
            names = [app["name"] for app in metadata_store.list_apps(conn)]
        for name in names:
            with platform.db.begin() as conn:
                package = metadata_store.load_app(conn, name).package
                for entity in package.entities:
                    if refresh_duplicate_keys(conn, name, entity):
                        click.echo(f"recomputed the duplicate keys of {name}.{entity.name}")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def app_import(file: Path) -> None:
    """Import an app package (JSON); creates its tables. All or nothing."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        click.echo(
            f"error: {file} is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}", err=True
        )
        sys.exit(1)
    try:
        with _platform() as platform, platform.db.begin() as conn:
            package = metadata_store.import_app(conn, data, SYSTEM)
            _audit(conn, "app_imported", app=package.name)
    except TangramError as exc:
        _fail(exc)
    click.echo(f"imported app {package.name} with {len(package.entities)} entities")


@click.command("export")
@click.argument("name")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout)."
)
def app_export(name: str, output: Path | None) -> None:
    """Export an app package as JSON."""
    try:
        with _platform() as platform, platform.db.connect() as conn:
            document = metadata_store.load_app(conn, name).package.export()
    except TangramError as exc:
        _fail(exc)
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")


@click.command("list")
def app_list() -> None:
    """List the installed apps."""
    with _platform() as platform, platform.db.connect() as conn:
        apps = metadata_store.list_apps(conn)
    if not apps:
        click.echo("no apps yet; import one with: tangram app import FILE")
    for item in apps:
        click.echo(
            f"{item['name']}\tv{item['version']}\t{item['label']['en']} / {item['label']['zh']}\t"
            f"{', '.join(item['entities'])}"
        )


@click.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--admin", is_flag=True, help="Make the user a platform administrator.")
def user_create(username: str, password: str, admin: bool) -> None:
    """Create a user who can sign in with POST /api/auth/token."""
    try:
        with _platform() as platform, platform.db.begin() as conn:
            user_id = users.create_user(
                conn, username, password, is_admin=admin, hash_cost=platform.settings.password_hash_cost
            )
            _audit(conn, "user_created", target=f"user:{user_id}", is_admin=admin)
    except TangramError as exc:
        _fail(exc)
    click.echo(f"created user {username} (id {user_id}{', admin' if admin else ''})")


@click.command("list")
def user_list() -> None:
    """List users with their department and roles per app."""
    with _platform() as platform, platform.db.connect() as conn:
        rows = users.list_users(conn)
    for u in rows:
        roles_text = "; ".join(f"{app}: {', '.join(r)}" for app, r in u["roles"].items()) or "-"
        flags = ("admin " if u["is_admin"] else "") + ("" if u["is_active"] else "disabled")
        click.echo(
            f"{u['id']}\t{u['username']}\tdept {u['department_id'] or '-'}\t{roles_text}\t{flags}".rstrip()
        )


@click.command("set")
@click.argument("username")
@click.option("--department", type=int, help="Department id.")
@click.option("--manager", help="The manager's username or id.")
@click.option("--password", help="A new password (ends every session of the user).")
@click.option("--disable/--enable", default=None, help="Disable (ends every session at once) or enable.")
def user_set(
    username: str, department: int | None, manager: str | None, password: str | None, disable: bool | None
) -> None:
    """Change a user's department, manager, password or active flag."""
    changes: dict[str, Any] = {}
    try:
        with _platform() as platform, platform.db.begin() as conn:
            row = users.find_user(conn, username)
            if department is not None:
                changes["department_id"] = department
            if manager is not None:
                changes["manager_id"] = users.find_user(conn, manager).id
            if password is not None:
                changes["password"] = password
            if disable is not None:
                changes["is_active"] = not disable
            users.update_user(
                conn,
                row.id,
                changes,
                min_length=platform.settings.password_min_length,
                hash_cost=platform.settings.password_hash_cost,
            )
            audit.record(
                conn,
                "user_changed",
                username="cli",
                target=f"user:{row.id}",
                details={"fields": sorted(changes)},
            )
    except TangramError as exc:
        _fail(exc)
    click.echo(f"updated user {username}: {', '.join(sorted(changes)) or 'nothing to change'}")


@click.command("unlock")
@click.argument("username")
def user_unlock(username: str) -> None:
    """End a sign-in lock: forget the user's failed sign-ins from every address."""
    try:
        with _platform() as platform, platform.db.begin() as conn:
            row = users.find_user(conn, username)
            cleared = throttle.unlock(conn, row.username)
            _audit(conn, "user_unlocked", target=f"user:{row.id}", addresses=cleared)
    except TangramError as exc:
        _fail(exc)
    click.echo(f"unlocked user {row.username} ({cleared} address(es) cleared)")


@click.command("create")
@click.argument("name")
@click.option("--parent", type=int, help="Parent department id.")
@click.option("--head", help="The head's username or id.")
def department_create(name: str, parent: int | None, head: str | None) -> None:
    try:
        with _platform() as platform, platform.db.begin() as conn:
            head_id = users.find_user(conn, head).id if head else None
            dept_id = departments.create_department(conn, name, parent_id=parent, head_id=head_id)
    except TangramError as exc:
        _fail(exc)
    click.echo(f"created department {name} (id {dept_id})")


@click.command("list")
def department_list() -> None:
    with _platform() as platform, platform.db.connect() as conn:
        for d in departments.list_departments(conn):
            click.echo(f"{d['id']}\t{d['name']}\tparent {d['parent_id'] or '-'}\thead {d['head_id'] or '-'}")


@click.command("list")
@click.option("--app", "app_name", required=True)
def role_list(app_name: str) -> None:
    """The app's roles and who holds them."""
    try:
        with _platform() as platform, platform.db.connect() as conn:
            package = metadata_store.load_app(conn, app_name).package
            held = roles.assignments(conn, app_name)
    except TangramError as exc:
        _fail(exc)
    for r in package.roles:
        holders = [a["username"] for a in held if r.name in a["roles"]]
        click.echo(f"{r.name}\t{r.label.en} / {r.label.zh}\t{', '.join(holders) or '-'}")


@click.command("assign")
@click.option("--app", "app_name", required=True)
@click.option("--user", "username", required=True, help="Username or id.")
@click.argument("role_names", nargs=-1)
def role_assign(app_name: str, username: str, role_names: tuple[str, ...]) -> None:
    """Set the user's roles in the app (none given: remove all)."""
    try:
        with _platform() as platform, platform.db.begin() as conn:
            row = users.find_user(conn, username)
            package = metadata_store.load_app(conn, app_name).package
            held = roles.set_roles(conn, SYSTEM, package, row.id, list(role_names))
    except TangramError as exc:
        _fail(exc)
    click.echo(f"{username} in {app_name}: {', '.join(held) or 'no roles'}")


@click.command()
def worker() -> None:
    """Run due background jobs. PLACEHOLDER: no job kinds exist yet; timers and SLA
    escalations arrive with the flow engine. It starts, reports that, and exits."""
    kinds: dict[str, Any] = {}
    with _platform() as platform:
        for provided in platform.plugins.hook.tangram_jobs(platform=platform):
            kinds.update(provided or {})
    if not kinds:
        click.echo(
            "no job kinds are registered yet (the flow engine adds timers and SLA jobs); nothing to run"
        )
        return
    click.echo(f"job kinds: {', '.join(sorted(kinds))}; the durable job runner lands with the flow engine")


def create_cli(plugins: pluggy.PluginManager | None = None) -> click.Group:
    """A new ``tangram`` group: the built-in commands, then those of ``plugins`` (by default
    every plugin installed under the ``tangram.plugins`` entry points)."""
    cli = click.Group("tangram", help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
    for command in (serve, init, migrate, worker):
        cli.add_command(command)
    groups = {
        "app": ("Import, export and list apps.", [app_import, app_export, app_list]),
        "user": ("Manage platform users.", [user_create, user_list, user_set, user_unlock]),
        "department": ("Manage the department tree.", [department_create, department_list]),
        "role": (
            "Roles are defined in the app package; assign them to users here.",
            [role_list, role_assign],
        ),
    }
    for name, (text, commands) in groups.items():
        cli.add_command(click.Group(name, commands=commands, help=text))
    (plugins if plugins is not None else create_plugin_manager()).hook.tangram_commands(cli=cli)
    return cli


def main(argv: list[str] | None = None) -> Any:
    return create_cli().main(args=argv, prog_name="tangram")
