"""What the command line tells and asks an administrator: where the data is, what to do first,
users with their department and display name, passwords typed at a prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner

from engine.cli import create_cli
from tests.conftest import TEST_HASH_COST

cli = create_cli()


@pytest.fixture
def runner(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TANGRAM_DATABASE_URL", database_url)
    monkeypatch.setenv("TANGRAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TANGRAM_PASSWORD_HASH_COST", str(TEST_HASH_COST))
    return CliRunner()


def _ok(runner: CliRunner, *args: str, stdin: str | None = None) -> str:
    result = runner.invoke(cli, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_serve_says_where_the_data_is_and_how_to_create_the_first_user(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: apps.append(app))
    out = _ok(runner, "serve")
    assert "database: " in out
    assert "no user exists yet" in out and "tangram user create --username admin --admin" in out
    _ok(runner, "user", "create", "--username", "root", "--password", "long-enough-1", "--admin")
    assert "no user exists yet" not in _ok(runner, "serve")
    for app in apps:
        app.state.platform.close()


def test_a_new_sqlite_database_is_announced_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANGRAM_DATABASE_URL", raising=False)
    monkeypatch.setenv("TANGRAM_DATA_DIR", str(tmp_path / "home-data"))
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(cli, ["department", "list"])
    assert first.exit_code == 0, first.output
    assert f"creating a new database at {tmp_path / 'home-data' / 'tangram.db'}" in first.output
    again = CliRunner().invoke(cli, ["department", "list"])
    assert "creating a new database" not in again.output
    assert not (tmp_path / "data").exists()


def test_user_create_with_department_and_display_name_and_a_prompted_password(runner: CliRunner) -> None:
    _ok(runner, "department", "create", "销售部")
    _ok(runner, "department", "create", "华南区", "--parent", "销售部")
    out = _ok(
        runner,
        "user",
        "create",
        "--username",
        "wang",
        "--display-name",
        "王伟",
        "--department",
        "华南区",
        stdin="secret-pass-1\nsecret-pass-1\n",
    )
    assert "created user wang" in out
    assert "secret-pass-1" not in out  # typed at a hidden prompt, never echoed
    listed = _ok(runner, "department", "list")
    south = next(line.split("\t")[0] for line in listed.splitlines() if "华南区" in line)
    users = _ok(runner, "user", "list")
    assert any(line.split("\t")[1] == "wang" and f"dept {south}" in line for line in users.splitlines())


def test_an_unknown_department_name_is_refused_by_name(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["user", "create", "--username", "li", "--password", "long-enough-1", "--department", "无此部门"]
    )
    assert result.exit_code == 1
    assert "无此部门" in result.output
