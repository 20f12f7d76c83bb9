"""The tangram command line, run as a user would (a fresh data folder, env configuration)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import cli
from tests.conftest import TEST_HASH_COST

from .conftest import sales_app


@pytest.fixture
def runner(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TANGRAM_DATABASE_URL", database_url)
    monkeypatch.setenv("TANGRAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TANGRAM_PASSWORD_HASH_COST", str(TEST_HASH_COST))
    return CliRunner()


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


def test_worker_says_it_is_a_placeholder(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["worker"])
    assert result.exit_code == 0 and "no job kinds" in result.output
