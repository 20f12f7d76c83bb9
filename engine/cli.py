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
from engine.apps import metadata_store
from engine.context import SYSTEM
from engine.errors import TangramError
from engine.host.platform import Platform
from engine.host.plugins import create_plugin_manager
from engine.identity import audit, departments, roles, throttle, users
from engine.records import import_jobs
from engine.records.exporter import export_records
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


@click.command()
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tangram-demo"),
    show_default=True,
    help="Where the demo's SQLite database and files live.",
)
@click.option("--template", default="crm", show_default=True, help="A bundled template with a demo plan.")
@click.option("--scale", type=click.FloatRange(0.001, 10), default=1.0, show_default=True,
              help="Share of the plan's record counts (0.05 for a quick look).")  # fmt: skip
@click.option("--fresh", is_flag=True, help="Delete the folder's earlier demo and start over.")
@click.option("--serve/--no-serve", "then_serve", default=True, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
def demo(
    folder: Path, template: str, scale: float, fresh: bool, then_serve: bool, host: str, port: int
) -> None:
    """A fresh database in FOLDER with TEMPLATE installed, a year of sample data, a user per
    role (their sign-in names and passwords are printed), then the server."""
    import shutil

    from engine.records.sample_data import SampleData

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
            package = metadata_store.import_app(conn, templates_library.load(template), SYSTEM)
        click.echo(f"installed {template} ({len(package.entities)} entities)")
        sample = SampleData(platform.records, package.name, plan, scale=scale)
        people = sample.create_people(hash_cost=settings.password_hash_cost)
        with click.progressbar(length=sample.total(), label="sample records") as bar:
            done: dict[str, int] = {}

            def progress(entity: str, made: int, total: int) -> None:
                bar.update(made - done.get(entity, 0))
                done[entity] = made

            counts = sample.create_records(progress)
    except TangramError as exc:
        _fail(exc)
    finally:
        platform.close()
    made = ", ".join(f"{entity} {n:,}" for entity, n in counts.items())
    click.echo(f"created {sum(counts.values()):,} records: {made}")
    click.echo("sign in as (username / password / roles):")
    for person in people:
        held = ", ".join(person.roles)
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


@click.command("install")
@click.argument("template")
def app_install(template: str) -> None:
    """Install a bundled template (see ``tangram app templates``) as a new app."""
    try:
        data = templates_library.load(template)
    except templates_library.TemplateNotFound as exc:
        click.echo(f"error: no template {template}; bundled: {', '.join(exc.known)}", err=True)
        sys.exit(1)
    try:
        with _platform() as platform, platform.db.begin() as conn:
            package = metadata_store.import_app(conn, data, SYSTEM)
            _audit(conn, "app_imported", app=package.name, template=template)
    except TangramError as exc:
        _fail(exc)
    click.echo(f"installed {template} as app {package.name} with {len(package.entities)} entities")


@click.command("templates")
def app_templates() -> None:
    """List the templates bundled with Tangram."""
    for item in templates_library.available():
        label = f"{item['label']['en']} / {item['label']['zh']}"
        click.echo(f"{item['name']}\t{label}\t{item['entities']} entities")


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
    _report(result, errors)


def _report(tally: dict[str, int], errors: list[Any]) -> None:
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
    _report(result, errors)


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
def data_export(app: str, entity: str, output: Path, filter_: str | None, sort: str | None) -> None:
    """Export ENTITY's records to CSV or XLSX (by the output's extension)."""
    fmt = "xlsx" if output.suffix.lower() == ".xlsx" else "csv"
    try:
        with _platform() as platform:
            content, _ = export_records(platform.records, SYSTEM, app, entity, fmt, filter=filter_, sort=sort)
    except TangramError as exc:
        _fail(exc)
    output.write_bytes(content)
    click.echo(f"wrote {output}")


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
    data = (data_import, data_import_resume, data_import_errors, data_export)
    for command in (serve, init, migrate, worker, demo, *data):
        cli.add_command(command)
    groups = {
        "app": (
            "Install, import, export and list apps.",
            [app_install, app_templates, app_import, app_export, app_list],
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
    (plugins if plugins is not None else create_plugin_manager()).hook.tangram_commands(cli=cli)
    return cli


def main(argv: list[str] | None = None) -> Any:
    return create_cli().main(args=argv, prog_name="tangram")
