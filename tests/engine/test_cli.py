"""The tangram command line, run as a user would (a fresh data folder, env configuration)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from click.testing import CliRunner
from fastapi import FastAPI

from engine.cli import create_cli
from engine.http import app_from_environment

from .conftest import sales_app

cli = create_cli()


def test_help_documents_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ["serve", "init", "migrate", "app", "user", "worker"]:
        assert command in result.output
    sub = CliRunner().invoke(cli, ["app", "--help"])
    assert all(c in sub.output for c in ["import", "export", "list"])


def test_init_user_import_list_export(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["init"]).exit_code == 0
    result = runner.invoke(
        cli, ["user", "create", "--username", "boss", "--password", "long-enough", "--admin"]
    )
    assert result.exit_code == 0, result.output
    package = tmp_path / "sales.json"
    package.write_text(json.dumps(sales_app(), ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(cli, ["app", "import", str(package)])
    assert result.exit_code == 0, result.output
    assert "sales" in runner.invoke(cli, ["app", "list"]).output
    out = tmp_path / "out.json"
    assert runner.invoke(cli, ["app", "export", "sales", "-o", str(out)]).exit_code == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert [e["name"] for e in exported["entities"]] == ["account", "deal"]


def test_cli_errors_are_readable_and_exit_nonzero(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x"', encoding="utf-8")
    result = runner.invoke(cli, ["app", "import", str(bad)])
    assert result.exit_code == 1 and "not valid JSON" in result.output
    bad.write_text(json.dumps({"name": "Bad Name", "label": {"zh": "x", "en": "x"}}), encoding="utf-8")
    result = runner.invoke(cli, ["app", "import", str(bad)])
    assert result.exit_code == 1 and "/name" in result.output
    result = runner.invoke(cli, ["user", "create", "--username", "u", "--password", "short"])
    assert result.exit_code == 1 and "8 characters" in result.output
    result = runner.invoke(cli, ["app", "export", "missing"])
    assert result.exit_code == 1 and "missing" in result.output


def test_worker_once_runs_the_due_jobs_and_exits(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    # the installed engines' kinds (the flow engine's timers, notification deliveries)
    assert "flow.timer" in result.output and "notify.email" in result.output
    assert "test.record" not in result.output and "ran 0 job(s)" in result.output
    monkeypatch.setenv("TANGRAM_PLUGINS", "tests.engine.job_kinds")
    result = runner.invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "test.record" in result.output and "ran 0 job(s)" in result.output


@pytest.fixture
def uvicorn_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """What ``serve`` hands to uvicorn, instead of serving."""
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    return calls


def test_serve_runs_one_process_with_the_app_built_here(
    runner: CliRunner, uvicorn_runs: list[tuple[Any, dict[str, Any]]]
) -> None:
    result = runner.invoke(cli, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    [(app, options)] = uvicorn_runs
    try:
        assert isinstance(app, FastAPI) and "workers" not in options
        assert options["host"] == "127.0.0.1" and options["port"] == 8123
    finally:
        app.state.platform.close()


def test_serve_with_workers_prepares_what_they_share_then_runs_the_factory(
    runner: CliRunner,
    uvicorn_runs: list[tuple[Any, dict[str, Any]]],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TANGRAM_WORKERS", "3")
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert [(app, options["workers"], options["factory"]) for app, options in uvicorn_runs] == [
        ("engine.http:app_from_environment", 3, True),
        ("engine.http:app_from_environment", 2, True),
    ]
    # The workers would race to create these: the tables and the secret key exist beforehand.
    assert (tmp_path / "data" / "secret_key").exists()
    engine = sa.create_engine(database_url)
    try:
        assert "tg_users" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    app = app_from_environment()
    try:
        assert app.state.platform.settings.database_url == database_url
    finally:
        app.state.platform.close()
