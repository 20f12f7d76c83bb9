"""The ``tangram`` command line. Plugins add commands through the ``tangram_commands`` hook.

:func:`create_cli` builds the command group anew for each run, so a plugin's commands join that
run's group and nothing shared.
"""

from __future__ import annotations

import dataclasses
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

import templates_library
from engine.apps import metadata_store, package_apply, template_upgrade, versions
from engine.context import SYSTEM
from engine.errors import TangramError
from engine.host.platform import Platform
from engine.host.plugins import create_plugin_manager
from engine.identity import audit, departments, roles, throttle, users
from engine.records import import_jobs
from engine.records.exporter import export_records
from engine.schema.migrations import ensure_search_columns, refresh_duplicate_keys
from engine.settings import Settings


def _sqlite_file(settings: Settings) -> Path | None:
    url = settings.resolved_database_url()
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def _announce_new_database(settings: Settings) -> None:
    """Say where a database is being created, so a second one never appears unnoticed."""
    path = _sqlite_file(settings)
    if path is not None and not path.exists():
        click.echo(
            f"creating a new database at {path} "
            "(set TANGRAM_DATA_DIR or TANGRAM_DATABASE_URL to use another)",
            err=True,
        )


@contextmanager
def _platform() -> Iterator[Platform]:
    settings = Settings()
    _announce_new_database(settings)
    platform = Platform(settings)
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
SQLite file in ~/.local/share/tangram (or $XDG_DATA_HOME/tangram), whichever folder a command
runs in.
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
    _announce_new_database(settings)
    _first_run_hints(settings)
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
        uvicorn.run(create_app(settings, run_jobs=True), **options)
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


@click.command()
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tangram-demo"),
    show_default=True,
    help="Where the demo's SQLite database and files live.",
)
@click.option("--template", default=None, help="A bundled template with a demo plan (default: the first).")
@click.option("--scale", type=click.FloatRange(0.001, 10), default=1.0, show_default=True,
              help="Share of the plan's record counts (0.05 for a quick look).")  # fmt: skip
@click.option("--fresh", is_flag=True, help="Delete the folder's earlier demo and start over.")
@click.option("--serve/--no-serve", "then_serve", default=True, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
def demo(
    folder: Path, template: str | None, scale: float, fresh: bool, then_serve: bool, host: str, port: int
) -> None:
    """A fresh database in FOLDER with TEMPLATE installed, a year of sample data, a user per
    role (their sign-in names and passwords are printed), then the server."""
    import shutil

    from engine.records.sample_data import SampleData

    if template is None:
        names = [t["name"] for t in templates_library.available()]
        with_plans = [name for name in names if templates_library.demo_plan(name)]
        template = with_plans[0] if with_plans else ""
    try:
        plan = templates_library.demo_plan(template)
    except templates_library.TemplateNotFound as exc:
        click.echo(f"error: no template {template}; bundled: {', '.join(exc.known)}", err=True)
        sys.exit(1)
    if plan is None:
        click.echo(f"error: template {template} has no demo plan", err=True)
        sys.exit(1)
    database = folder / "tangram.db"
    if database.exists() and not fresh:
        click.echo(
            f"error: {folder} holds a demo already; add --fresh to start over, or serve it with\n"
            f"  TANGRAM_DATA_DIR={folder} TANGRAM_DATABASE_URL=sqlite:///{database} tangram serve",
            err=True,
        )
        sys.exit(1)
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings(database_url=f"sqlite:///{database.resolve()}", data_dir=folder.resolve())
    click.echo(f"demo database: {database.resolve()}")
    platform = Platform(settings)
    try:
        platform.init_database()
        with platform.db.begin() as conn:
            package = template_upgrade.install_template(conn, template, SYSTEM)
        click.echo(f"installed {template} ({len(package.entities)} entities)")
        sample = SampleData(platform.records, package.name, plan, scale=scale)
        people = sample.create_people(hash_cost=settings.password_hash_cost)
        with click.progressbar(length=sample.total(), label="sample records") as bar:
            done: dict[str, int] = {}

            def progress(entity: str, made: int, total: int) -> None:
                bar.update(made - done.get(entity, 0))
                done[entity] = made

            counts = sample.create_records(progress)
        # after the data: the generated year is history, not something to automate
        published = sample.publish(platform)
    except TangramError as exc:
        _fail(exc)
    finally:
        platform.close()
    made = ", ".join(f"{entity} {n:,}" for entity, n in counts.items())
    click.echo(f"created {sum(counts.values()):,} records: {made}")
    for section, names in published.items():
        click.echo(f"published {len(names)} {section}: {', '.join(names)}")
    click.echo("sign in as (username / password / roles):")
    for person in people:
        held = ", ".join(person.roles) or "-"
        click.echo(f"  {person.username:14} {person.password:24} {held}  {person.display_name}")
    click.echo(
        f"serve this demo again later with:\n"
        f"  TANGRAM_DATA_DIR={folder} TANGRAM_DATABASE_URL=sqlite:///{database} tangram serve"
    )
    if then_serve:
        import uvicorn

        from engine.http import create_app

        click.echo(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            proxy_headers=False,  # TANGRAM_TRUSTED_PROXIES decides, in the app
        )


def _first_run_hints(settings: Settings) -> None:
    """Where the data is, and what to do first when nobody can sign in yet."""
    platform = Platform(settings)
    try:
        platform.init_database()
        with platform.db.connect() as conn:
            nobody = not users.list_users(conn)
    finally:
        platform.close()
    click.echo(f"database: {platform.db.url.render_as_string(hide_password=True)}")
    if settings.database_url == "":
        click.echo(f"data folder: {settings.data_dir.resolve()}")
    if nobody:
        click.echo(
            "no user exists yet: create an administrator with\n"
            "  tangram user create --username admin --admin\n"
            "(it asks for the password), then sign in with POST /api/auth/token or at /docs"
        )


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
    recompute duplicate keys made by an older normalisation, and build the keyword-search index of
    tables made before it existed. Columns of existing platform
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
                    if ensure_search_columns(conn, name, entity):
                        click.echo(f"built the keyword-search index of {name}.{entity.name}")


def _read_package(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        click.echo(
            f"error: {file} is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}", err=True
        )
        sys.exit(1)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def app_import(file: Path) -> None:
    """Import a new app package (JSON); creates its tables. All or nothing."""
    data = _read_package(file)
    try:
        with _platform() as platform, platform.db.begin() as conn:
            package = metadata_store.import_app(conn, data, SYSTEM)
            _audit(conn, "app_imported", app=package.name)
    except TangramError as exc:
        if exc.key == "app_exists":
            click.echo(
                f"error: app {exc.params['app']} is installed already; to change it to this package, "
                f"run: tangram app apply {file} (add --dry-run to see the plan first)",
                err=True,
            )
            sys.exit(1)
        _fail(exc)
    click.echo(f"imported app {package.name} with {len(package.entities)} entities")


@click.command("install")
@click.argument("template")
def app_install(template: str) -> None:
    """Install a bundled template (see ``tangram app templates``) as a new app."""
    try:
        templates_library.load(template)
    except templates_library.TemplateNotFound as exc:
        click.echo(f"error: no template {template}; bundled: {', '.join(exc.known)}", err=True)
        sys.exit(1)
    try:
        with _platform() as platform, platform.db.begin() as conn:
            package = template_upgrade.install_template(conn, template, SYSTEM)
            _audit(conn, "app_imported", app=package.name, template=template)
    except TangramError as exc:
        _fail(exc)
    click.echo(f"installed {template} as app {package.name} with {len(package.entities)} entities")


@click.command("templates")
def app_templates() -> None:
    """List the templates bundled with Tangram."""
    for item in templates_library.available():
        label = f"{item['label']['en']} / {item['label']['zh']}"
        click.echo(f"{item['name']}\t{item['version']}\t{label}\t{item['entities']} entities")


def _report(applied: package_apply.Applied, *, verdict: bool = True) -> None:
    """The plan or outcome of an apply, one line per change (and, with ``verdict``, whether
    the dry run would apply)."""
    if not applied.changed:
        click.echo(f"app {applied.package.name} is already at this package (version {applied.version})")
        return
    for change in applied.changes:
        name = f" {change['name']}" if "name" in change else ""
        click.echo(f"  {change['change']} {change['section']}{name}")
    for migration in applied.migrations:
        ops = ", ".join(op["op"] for op in migration.get("operations", []))
        click.echo(f"  table {migration['entity']}: {migration['change']}{f' ({ops})' if ops else ''}")
        if migration.get("needs_confirm"):
            click.echo(
                f"    holds {migration['rows']} record(s): add --confirm {migration['entity']} to remove them"
            )
        if migration.get("refused"):
            refused = migration["refused"]
            click.echo(f"    refused: {refused['total']} row(s) in the way", err=True)
            click.echo(json.dumps(refused["rows"], ensure_ascii=False, default=str), err=True)
    if applied.dry_run:
        if verdict:
            outcome = "would apply" if applied.as_json().get("would_apply") else "would be refused"
            click.echo(f"dry run: version {applied.version} {outcome}; nothing changed")
    else:
        click.echo(f"applied: app {applied.package.name} is now at version {applied.version}")


def _run_apply(work: Any, target: str) -> None:
    """Run ``work(conn) -> Applied`` in one transaction, audit it, forget removed files."""
    try:
        with _platform() as platform:
            with platform.db.begin() as conn:
                applied = work(conn)
                details = applied.audit_details("cli")
                if details is not None:
                    audit.record(
                        conn,
                        "app_applied",
                        ctx=SYSTEM,
                        app=applied.package.name,
                        target=target,
                        details=details,
                    )
            if not applied.dry_run:
                for file_id in applied.files:
                    platform.files.remove(applied.package.name, file_id)
    except TangramError as exc:
        _fail(exc)
    _report(applied)


@click.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show the plan (and the rows in the way); change nothing.")
@click.option("--confirm", multiple=True, help="An entity the package drops whose records may go with it.")
def app_apply(file: Path, dry_run: bool, confirm: tuple[str, ...]) -> None:
    """Apply a package to the installed app of its name, as its next version: entities
    migrated, roles, forms and every other section replaced, all or nothing."""
    data = _read_package(file)
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str):
        click.echo(f'error: {file} has no app name ("name")', err=True)
        sys.exit(1)
    _run_apply(
        lambda conn: package_apply.apply_package(
            conn, name, data, SYSTEM, confirm=set(confirm), dry_run=dry_run
        ),
        "package",
    )


@click.command("versions")
@click.argument("name")
def app_versions(name: str) -> None:
    """List the app's versions, newest first."""
    try:
        with _platform() as platform, platform.db.connect() as conn:
            rows = versions.list_versions(conn, name)
    except TangramError as exc:
        _fail(exc)
    for row in rows:
        who = row["created_by_name"] or "system"
        click.echo(f"v{row['version']}\t{row['created_at']}\t{who}\t{row['note'] or ''}".rstrip())


@click.command("rollback")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")
@click.option("--confirm", multiple=True, help="An entity added since whose records may be removed.")
def app_rollback(name: str, version: int, dry_run: bool, confirm: tuple[str, ...]) -> None:
    """Make an earlier version of the app current again (as a new version)."""
    _run_apply(
        lambda conn: versions.rollback(conn, name, version, SYSTEM, confirm=set(confirm), dry_run=dry_run),
        f"rollback:{version}",
    )


def _upgrade_report(answer: dict[str, Any]) -> None:
    """The template changes taken, the admin's changes kept, and every conflict."""
    head = f"{answer['template']} {answer['from_template_version']} -> {answer['to_template_version']}"
    click.echo(f"upgrade of {answer['app']}: {head}")
    for title, key in (("from the template", "taken"), ("kept from the app", "kept")):
        for change in answer[key]:
            click.echo(f"  {title}: {change['change']} {change['pointer']}")
    for conflict in answer["resolved"]:
        click.echo(f"  conflict at {conflict['pointer']}: took {conflict['resolution']}")
    for conflict in answer["conflicts"]:
        sides = (json.dumps(conflict.get(s, None), ensure_ascii=False) for s in ("ours", "theirs"))
        click.echo(f"  CONFLICT at {conflict['pointer']}: ours {next(sides)}, theirs {next(sides)}")
    for found in answer.get("problems", []):
        click.echo(f"  {found['pointer']}: {found['message']}", err=True)


@click.command("upgrade")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Show the merge, its conflicts and the plan; change nothing.")
@click.option(
    "--template-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The new template version as a package file (default: the bundled template).",
)
@click.option("--template-version", help="The version of --template-file (default: a hash of it).")
@click.option(
    "--take",
    nargs=2,
    multiple=True,
    metavar="ours|theirs POINTER",
    help="Settle the conflict at POINTER (repeatable).",
)
@click.option("--confirm", multiple=True, help="An entity the new version drops whose records may go.")
def app_upgrade(
    name: str,
    dry_run: bool,
    template_file: Path | None,
    template_version: str | None,
    take: tuple[tuple[str, str], ...],
    confirm: tuple[str, ...],
) -> None:
    """Upgrade an app installed from a template to a newer template version, keeping the
    admin's changes (a three-way merge); refused while a conflict has no --take."""
    document = _read_package(template_file) if template_file is not None else None
    resolutions = {pointer: side for side, pointer in take}
    try:
        with _platform() as platform:
            with platform.db.begin() as conn:
                upgraded = template_upgrade.upgrade_app(
                    conn, name, SYSTEM, document=document, version=template_version,
                    resolutions=resolutions, confirm=set(confirm), dry_run=dry_run,
                )  # fmt: skip
                applied = upgraded.applied
                details = applied.audit_details("cli") if applied is not None else None
                if details is not None:
                    target = f"template:{upgraded.origin['template']}@{upgraded.to_version}"
                    audit.record(conn, "app_applied", ctx=SYSTEM, app=name, target=target, details=details)
            if applied is not None and not dry_run:
                for file_id in applied.files:
                    platform.files.remove(name, file_id)
    except TangramError as exc:
        _fail(exc)
    answer = upgraded.as_json()
    _upgrade_report(answer)
    if applied is not None:
        _report(applied, verdict=not dry_run)
    if dry_run:
        verdict = "would apply" if answer["would_apply"] else "would be refused"
        unsettled = len(answer["conflicts"])
        settle = f" ({unsettled} conflict(s) to settle with --take)" if unsettled else ""
        click.echo(f"dry run: the upgrade {verdict}{settle}; nothing changed")
    else:
        click.echo(f"{name} now follows template version {upgraded.to_version}")


@click.command("uninstall")
@click.argument("name")
@click.option("--confirm", help="The app's name again, to remove it with its records.")
def app_uninstall(name: str, confirm: str | None) -> None:
    """Remove an app with its tables, records, history and files."""
    try:
        with _platform() as platform:
            with platform.db.begin() as conn:
                counts, _files = package_apply.uninstall_app(conn, name, confirm)
                audit.record(
                    conn, "app_uninstalled", ctx=SYSTEM, app=name, details={"rows": counts, "door": "cli"}
                )
            platform.files.remove_app(name)
    except TangramError as exc:
        _fail(exc)
    click.echo(f"uninstalled app {name} ({sum(counts.values())} record(s) removed)")


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
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 8 characters; asked for (not echoed) when not given, which keeps it out of "
    "the shell history.",
)
@click.option("--display-name", help="The name people see (any language).")
@click.option("--department", help="Department id or exact name (see tangram department list).")
@click.option("--admin", is_flag=True, help="Make the user a platform administrator.")
def user_create(
    username: str, password: str, display_name: str | None, department: str | None, admin: bool
) -> None:
    """Create a user who can sign in with POST /api/auth/token."""
    try:
        with _platform() as platform, platform.db.begin() as conn:
            department_id = departments.find_department(conn, department) if department else None
            user_id = users.create_user(
                conn,
                username,
                password,
                is_admin=admin,
                display_name=display_name,
                department_id=department_id,
                min_length=platform.settings.password_min_length,
                hash_cost=platform.settings.password_hash_cost,
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
@click.option("--department", help="Department id or exact name.")
@click.option("--display-name", help="The name people see.")
@click.option("--manager", help="The manager's username or id.")
@click.option("--password", help="A new password (ends every session of the user).")
@click.option("--disable/--enable", default=None, help="Disable (ends every session at once) or enable.")
def user_set(
    username: str,
    department: str | None,
    display_name: str | None,
    manager: str | None,
    password: str | None,
    disable: bool | None,
) -> None:
    """Change a user's department, manager, password or active flag."""
    changes: dict[str, Any] = {}
    try:
        with _platform() as platform, platform.db.begin() as conn:
            row = users.find_user(conn, username)
            if department is not None:
                changes["department_id"] = departments.find_department(conn, department)
            if display_name is not None:
                changes["display_name"] = display_name
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
@click.option("--parent", help="Parent department id or exact name.")
@click.option("--head", help="The head's username or id.")
def department_create(name: str, parent: str | None, head: str | None) -> None:
    """Add a department (under --parent); record scopes follow this tree."""
    try:
        with _platform() as platform, platform.db.begin() as conn:
            head_id = users.find_user(conn, head).id if head else None
            parent_id = departments.find_department(conn, parent) if parent else None
            dept_id = departments.create_department(conn, name, parent_id=parent_id, head_id=head_id)
    except TangramError as exc:
        _fail(exc)
    click.echo(f"created department {name} (id {dept_id})")


@click.command("list")
def department_list() -> None:
    """The departments: id, name, parent and head."""
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


def _column_map(pairs: tuple[str, ...]) -> dict[str, str] | None:
    if not pairs:
        return None
    mapping = {}
    for pair in pairs:
        column, sep, field = pair.rpartition("=")
        if not sep or not column or not field:
            click.echo(f"error: --map takes COLUMN=FIELD, got {pair!r}", err=True)
            sys.exit(2)
        mapping[column] = field
    return mapping


@click.command("import")
@click.argument("app")
@click.argument("entity")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "pairs", multiple=True, help="COLUMN=FIELD, repeatable; unmapped columns are guessed.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option(
    "--on-duplicate",
    type=click.Choice(["skip", "update", "create"]),
    default="skip",
    show_default=True,
    help="What a row matching a record by the entity's duplicate rules does.",
)
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
def data_import(
    app: str,
    entity: str,
    file: Path,
    pairs: tuple[str, ...],
    dry_run: bool,
    on_duplicate: str,
    batch_size: int,
) -> None:
    """Import a CSV (UTF-8, GB18030) or XLSX file into ENTITY of APP, batch by batch.

    Rows that fail are listed with their problems and kept in the import's error file
    (tangram import-errors ID); a stopped import continues with tangram import-resume ID."""
    content = file.read_bytes()
    try:
        with _platform() as platform:
            records = platform.records
            guessed = import_jobs.preview(records, app, entity, content, file.name).mapping
            mapping = {**guessed, **(_column_map(pairs) or {})}
            for column, field in mapping.items():
                click.echo(f"  {column} -> {field}")
            with click.progressbar(length=1, label="checking" if dry_run else "importing") as bar:

                def progress(done: int, total: int) -> None:
                    bar.length = total or 1
                    bar.update(done - bar.pos)

                if dry_run:
                    tally, errors = import_jobs.dry_run(
                        records, SYSTEM, app, entity, content, file.name,
                        mapping=mapping, on_duplicate=on_duplicate, progress=progress,
                    )  # fmt: skip
                    result = {**dataclasses.asdict(tally), "failed": len(errors)}
                else:
                    import_id = import_jobs.create_import(
                        records, SYSTEM, app, entity, content, file.name,
                        mapping=mapping, on_duplicate=on_duplicate, batch_size=batch_size,
                    )  # fmt: skip
                    click.echo(f"import {import_id}")
                    result = import_jobs.run_import(records, SYSTEM, import_id, progress)["tally"]
                    with platform.db.connect() as conn:
                        errors = import_jobs.row_errors(conn, import_id)
    except TangramError as exc:
        _fail(exc)
    _import_report(result, errors)


def _import_report(tally: dict[str, int], errors: list[Any]) -> None:
    counts = (f"{name} {tally.get(name, 0)}" for name in ("created", "updated", "skipped", "failed"))
    click.echo(", ".join(counts))
    for error in errors[:50]:
        for found in error.problems:
            found = found if isinstance(found, dict) else found.to_dict()
            click.echo(f"  row {error.row} {found['pointer']}: {found['message']}", err=True)
    if len(errors) > 50:
        click.echo(f"  ... and {len(errors) - 50} more rows", err=True)


@click.command("import-resume")
@click.argument("import_id", type=int)
def data_import_resume(import_id: int) -> None:
    """Continue a stopped import from its last committed batch."""
    try:
        with _platform() as platform:
            with click.progressbar(length=1, label="importing") as bar:

                def progress(done: int, total: int) -> None:
                    bar.length = total or 1
                    bar.update(done - bar.pos)

                result = import_jobs.run_import(platform.records, SYSTEM, import_id, progress)["tally"]
            with platform.db.connect() as conn:
                errors = import_jobs.row_errors(conn, import_id)
    except TangramError as exc:
        _fail(exc)
    _import_report(result, errors)


@click.command("import-errors")
@click.argument("import_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def data_import_errors(import_id: int, output: Path) -> None:
    """Write the rows an import refused, with an errors column, to fix and import again."""
    try:
        with _platform() as platform, platform.db.connect() as conn:
            output.write_bytes(import_jobs.error_file(conn, SYSTEM, import_id))
    except TangramError as exc:
        _fail(exc)
    click.echo(f"wrote {output}")


@click.command("export")
@click.argument("app")
@click.argument("entity")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="FILE.csv or FILE.xlsx")  # fmt: skip
@click.option("--filter", "filter_", help="A rule-DSL filter, as in the list API.")
@click.option("--sort", help="Sort keys, as in the list API (-amount,name).")
@click.option("-q", "--search", help="Keyword search, as the list API's q=.")
@click.option("--columns", help="Comma-separated field names: just these columns, in this order.")
def data_export(
    app: str,
    entity: str,
    output: Path,
    filter_: str | None,
    sort: str | None,
    search: str | None,
    columns: str | None,
) -> None:
    """Export ENTITY's records to CSV or XLSX (by the output's extension)."""
    fmt = "xlsx" if output.suffix.lower() == ".xlsx" else "csv"
    chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    try:
        with _platform() as platform:
            content, _ = export_records(
                platform.records, SYSTEM, app, entity, fmt,
                filter=filter_, sort=sort, q=search, columns=chosen,
            )  # fmt: skip
    except TangramError as exc:
        _fail(exc)
    output.write_bytes(content)
    click.echo(f"wrote {output}")


@click.command()
@click.option("--once", is_flag=True, help="Run the jobs due now, then exit.")
def worker(once: bool) -> None:
    """Run due background jobs (timers, deliveries, retries) until stopped (SIGTERM, Ctrl-C).

    Any number of workers may run on PostgreSQL: each job runs once. Jobs that came due while
    nothing ran are run at start."""
    import signal
    import threading

    from engine.host.jobs import JobRunner

    with _platform() as platform:
        runner = JobRunner(platform)
        kinds = ", ".join(sorted(runner.handlers)) or "none (no plugin provides job kinds)"
        click.echo(f"worker {runner.worker}: job kinds {kinds}")
        if once:
            click.echo(f"ran {runner.run_pending()} job(s)")
            return
        stop = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_args: stop.set())
        ran = runner.run_forever(stop, platform.settings.job_poll_seconds)
        click.echo(f"stopped after {ran} job(s)")


def create_cli(plugins: pluggy.PluginManager | None = None) -> click.Group:
    """A new ``tangram`` group: the built-in commands, then those of ``plugins`` (by default
    every plugin installed under the ``tangram.plugins`` entry points)."""
    cli = click.Group("tangram", help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
    data = (data_import, data_import_resume, data_import_errors, data_export)
    for command in (serve, init, migrate, worker, demo, *data):
        cli.add_command(command)
    groups = {
        "app": (
            "Install, import, apply, upgrade, export, list, version and uninstall apps.",
            [
                app_install,
                app_templates,
                app_import,
                app_apply,
                app_export,
                app_list,
                app_versions,
                app_rollback,
                app_upgrade,
                app_uninstall,
            ],
        ),
        "user": ("Manage platform users.", [user_create, user_list, user_set, user_unlock]),
        "department": ("Manage the department tree.", [department_create, department_list]),
        "role": (
            "Roles are defined in the app package; assign them to users here.",
            [role_list, role_assign],
        ),
    }
    for name, (text, commands) in groups.items():
        cli.add_command(click.Group(name, commands=commands, help=text))
    if plugins is None:
        plugins = create_plugin_manager(modules=Settings().plugin_modules())
    plugins.hook.tangram_commands(cli=cli)
    return cli


def main(argv: list[str] | None = None) -> Any:
    return create_cli().main(args=argv, prog_name="tangram")
