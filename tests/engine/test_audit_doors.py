"""Every administrative change is in the audit log, whichever door it came through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from engine import Platform, Settings
from engine.cli import create_cli
from engine.identity import audit

from .conftest import sales_app

ACCOUNTS = "/api/apps/sales/records/account"


def _events(client: TestClient, event: str) -> list[dict[str, Any]]:
    r = client.get("/api/audit", params={"event": event})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def test_http_imports_entity_changes_and_purges_are_audited(sales: TestClient) -> None:
    [imported] = _events(sales, "app_imported")
    assert (imported["app"], imported["details"]["door"]) == ("sales", "http")
    entity = sales.get("/api/apps/sales").json()["entities"][0]
    entity["fields"] = [f for f in entity["fields"] if f["name"] != "region"]
    assert sales.put("/api/apps/sales/entities/account", json=entity).status_code == 200
    assert [(e["target"], e["details"]["outcome"]) for e in _events(sales, "entity_changed")] == [
        ("account", "changed")
    ]
    assert sales.post("/api/apps/sales/entities/account/purge").status_code == 200
    assert [e["target"] for e in _events(sales, "fields_purged")] == ["account"]
    record = sales.post(ACCOUNTS, json={"name": "gone"}).json()
    sales.delete(f"{ACCOUNTS}/{record['id']}")
    assert sales.delete(f"{ACCOUNTS}/{record['id']}", params={"purge": "true"}).status_code == 200
    [purged] = _events(sales, "records_purged")
    assert (purged["target"], purged["details"]["ids"]) == ("account", [record["id"]])


def test_command_line_users_and_imports_are_audited(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANGRAM_DATABASE_URL", database_url)
    monkeypatch.setenv("TANGRAM_DATA_DIR", str(tmp_path / "data"))
    cli, runner = create_cli(), CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    result = runner.invoke(
        cli, ["user", "create", "--username", "boss", "--password", "long-enough", "--admin"]
    )
    assert result.exit_code == 0, result.output
    package = tmp_path / "sales.json"
    package.write_text(json.dumps(sales_app()), encoding="utf-8")
    assert runner.invoke(cli, ["app", "import", str(package)]).exit_code == 0
    platform = Platform(
        Settings(database_url=database_url, data_dir=tmp_path / "data"), load_entry_points=False
    )
    try:
        with platform.db.connect() as conn:
            items, _total = audit.query(
                conn, event=None, actor=None, app=None, since=None, until=None, limit=50, offset=0
            )
    finally:
        platform.close()
    seen = {(i["event"], i["details"].get("door")) for i in items}
    assert {("user_created", "cli"), ("app_imported", "cli")} <= seen
