"""``tangram flow ...``: checking a flow file without a server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from engine import AppPackage


@click.group("flow")
def flow_group() -> None:
    """Flows: validate definitions."""


@flow_group.command("validate")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--app",
    "app_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The app package the flows run in (default: FILE itself if it is a package).",
)
def validate(path: Path, app_path: Path | None) -> None:
    """Check FILE: an app package with ``flows``, or one flow / a list of flows with --app."""
    from engine import InvalidPackage, parse_package

    try:
        data = json.loads(path.read_text("utf-8"))
        package_data = json.loads(app_path.read_text("utf-8")) if app_path else data
    except (OSError, ValueError) as exc:
        click.echo(f"error: cannot read {path}: {exc}", err=True)
        sys.exit(1)
    if app_path is not None:
        flows = data if isinstance(data, list) else [data]
        package_data = {**package_data, "flows": flows}
    try:  # parsing runs the flows section's checks (this plugin's), with every known action
        package: AppPackage = parse_package(package_data)
    except InvalidPackage as exc:
        for problem in exc.problems:
            click.echo(f"{problem.to_dict()['pointer']}: {problem.message()}", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(package.section('flows'))} flow(s)")
