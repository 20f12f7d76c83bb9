"""Installing a template from the command line, and a template's export -> import -> export."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import templates_library
from engine import parse_package
from engine.cli import create_cli

cli = create_cli()


def test_install_lists_installs_and_refuses_twice(runner: CliRunner) -> None:
    listed = runner.invoke(cli, ["app", "templates"])
    assert listed.exit_code == 0
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == ["crm", "maintenance"]
    assert "客户关系管理" in listed.output

    installed = runner.invoke(cli, ["app", "install", "crm"])
    assert installed.exit_code == 0, installed.output
    assert "installed crm as app crm with 15 entities" in installed.output
    again = runner.invoke(cli, ["app", "install", "crm"])
    assert again.exit_code != 0 and "crm" in again.output
    unknown = runner.invoke(cli, ["app", "install", "erp"])
    assert unknown.exit_code != 0 and "crm, maintenance" in unknown.output


def test_export_import_export_is_identical(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["app", "install", "crm"]).exit_code == 0
    first = tmp_path / "crm.json"
    assert runner.invoke(cli, ["app", "export", "crm", "-o", str(first)]).exit_code == 0
    exported = json.loads(first.read_text("utf-8"))
    assert exported == parse_package(templates_library.load("crm")).export()

    # The same document under another name imports into the same database and exports unchanged.
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps({**exported, "name": "crm_copy"}, ensure_ascii=False), encoding="utf-8")
    assert runner.invoke(cli, ["app", "import", str(copy)]).exit_code == 0
    second = tmp_path / "crm_copy.json"
    assert runner.invoke(cli, ["app", "export", "crm_copy", "-o", str(second)]).exit_code == 0
    assert json.loads(second.read_text("utf-8")) == {**exported, "name": "crm_copy"}
