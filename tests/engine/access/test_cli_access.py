"""``tangram user``, ``department`` and ``role`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import create_cli
from tests.conftest import TEST_HASH_COST

from .conftest import CRM_APP


def test_departments_users_and_role_assignment_from_the_command_line(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANGRAM_DATABASE_URL", database_url)
    monkeypatch.setenv("TANGRAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TANGRAM_PASSWORD_HASH_COST", str(TEST_HASH_COST))
    runner = CliRunner()
    cli = create_cli()

    def run(*args: str) -> str:
        result = runner.invoke(cli, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    package = tmp_path / "crm.json"
    package.write_text(json.dumps(CRM_APP, ensure_ascii=False), encoding="utf-8")
    run("app", "import", str(package))
    run("user", "create", "--username", "lee", "--password", "lee-password-1")
    assert "id 1" in run("department", "create", "华东", "--head", "lee")
    run("user", "set", "lee", "--department", "1")
    assert "rep, manager" not in run("role", "assign", "--app", "crm", "--user", "lee", "rep", "manager")
    assert "lee" in run("role", "list", "--app", "crm").splitlines()[0]
    listed = run("user", "list")
    assert "crm: manager, rep" in listed and "dept 1" in listed
    run("user", "set", "lee", "--disable")
    assert "disabled" in run("user", "list")
    bad = runner.invoke(cli, ["role", "assign", "--app", "crm", "--user", "lee", "rpe"])
    assert bad.exit_code == 1 and "did you mean 'rep'" in bad.output
