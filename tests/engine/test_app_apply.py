"""Changing a live app as one versioned step: apply, dry run, versions, diff, rollback, removing
an entity and uninstalling the app, on both databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from engine import Settings
from engine.cli import create_cli

from .conftest import sales_app

APP = "/api/apps/sales"
ACCOUNTS = f"{APP}/records/account"
DEALS = f"{APP}/records/deal"

REP_ROLE = {
    "name": "rep",
    "label": {"zh": "销售代表", "en": "Rep"},
    "permissions": {"account": {"read": True, "create": True}},
}


def _field(package: dict[str, Any], entity: str, name: str) -> dict[str, Any]:
    fields = next(e for e in package["entities"] if e["name"] == entity)["fields"]
    return next(f for f in fields if f["name"] == name)


def _apply(client: TestClient, package: dict[str, Any], status: int = 200, **params: Any) -> dict[str, Any]:
    r = client.put(APP, json=package, params=params)
    assert r.status_code == status, r.text
    return r.json()


def _seed(client: TestClient, url: str, *rows: dict[str, Any]) -> list[int]:
    ids = []
    for row in rows:
        r = client.post(url, json=row)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def test_apply_changes_entities_and_roles_together_as_one_numbered_version(sales: TestClient) -> None:
    [rid] = _seed(sales, ACCOUNTS, {"name": "甲", "region": "华东"})
    package = sales_app()
    _field(package, "account", "region").update(name="sales_region", id="region")
    account = package["entities"][0]
    account["fields"].append(
        {"name": "employees", "type": "integer", "label": {"zh": "员工数", "en": "Staff"}}
    )
    package["roles"] = [REP_ROLE]

    answer = _apply(sales, package)

    assert answer["changed"] is True and (answer["from_version"], answer["version"]) == (1, 2)
    ops = {op["op"]: op for op in answer["migrations"][0]["operations"]}
    assert ops["rename_column"] == {"op": "rename_column", "from": "region", "to": "sales_region"}
    assert ops["add_column"]["field"] == "employees"
    record = sales.get(f"{ACCOUNTS}/{rid}").json()
    assert record["sales_region"] == "华东" and record["employees"] is None
    assert [r["name"] for r in sales.get(f"{APP}/roles").json()] == ["rep"]
    versions = sales.get(f"{APP}/versions").json()
    assert [(v["version"], v["note"], v["created_by_name"]) for v in versions] == [
        (2, "apply", "admin"),
        (1, "import", "admin"),
    ]
    audit = sales.get("/api/audit", params={"event": "app_applied"}).json()["items"]
    assert audit[0]["app"] == "sales" and audit[0]["details"]["version"] == 2


def test_applying_the_installed_package_again_makes_no_version(sales: TestClient) -> None:
    answer = _apply(sales, sales_app())
    assert answer["changed"] is False and answer["version"] == 1 and answer["changes"] == []
    assert len(sales.get(f"{APP}/versions").json()) == 1


def test_dry_run_answers_the_plan_with_the_rows_in_the_way_and_changes_nothing(sales: TestClient) -> None:
    ok, bad = _seed(sales, ACCOUNTS, {"name": "甲", "region": "12"}, {"name": "乙", "region": "华东"})
    package = sales_app()
    _field(package, "account", "region")["type"] = "integer"
    package["entities"].append({"name": "lead", "label": {"zh": "线索", "en": "Lead"}})

    plan = _apply(sales, package, dry_run="true")

    assert plan["dry_run"] is True and plan["would_apply"] is False and plan["version"] == 2
    by_entity = {m["entity"]: m for m in plan["migrations"]}
    assert by_entity["lead"]["change"] == "added"
    refused = by_entity["account"]["refused"]
    assert [row["id"] for row in refused["rows"]] == [bad] and refused["total"] == 1
    assert {"section": "entities", "name": "lead", "change": "added"} in plan["changes"]
    # nothing changed: same version, same values, no new table
    assert sales.get(APP).json()["entities"][0]["fields"][2]["type"] == "text"
    assert sales.get(f"{ACCOUNTS}/{ok}").json()["region"] == "12"
    assert sales.get(f"{APP}/records/lead").status_code == 404
    assert len(sales.get(f"{APP}/versions").json()) == 1


def test_a_refused_apply_changes_no_entity_at_all(sales: TestClient) -> None:
    [bad] = _seed(sales, ACCOUNTS, {"name": "乙", "region": "华东"})
    package = sales_app()
    package["entities"].append({"name": "lead", "label": {"zh": "线索", "en": "Lead"}})
    _field(package, "account", "region")["type"] = "integer"

    answer = _apply(sales, package, status=409)

    assert answer["error"]["code"] == "migration_refused"
    assert [row["id"] for row in answer["error"]["details"]["rows"]] == [bad]
    assert sales.get(f"{APP}/records/lead").status_code == 404
    assert sales.get(f"{ACCOUNTS}/{bad}").json()["region"] == "华东"
    # once the row is fixed, the same package applies
    assert sales.patch(f"{ACCOUNTS}/{bad}", json={"region": "7"}).status_code == 200
    assert _apply(sales, package)["version"] == 2
    assert sales.get(f"{ACCOUNTS}/{bad}").json()["region"] == 7


def test_a_roll_up_over_an_entity_added_in_the_same_step_starts_at_zero(sales: TestClient) -> None:
    [rid] = _seed(sales, ACCOUNTS, {"name": "甲"})
    package = sales_app()
    package["entities"].append(
        {
            "name": "contact",
            "label": {"zh": "联系人", "en": "Contact"},
            "fields": [
                {"name": "name", "type": "text", "label": {"zh": "姓名", "en": "Name"}},
                {
                    "name": "account",
                    "type": "lookup",
                    "label": {"zh": "客户", "en": "Account"},
                    "entity": "account",
                },
            ],
        }
    )
    package["entities"][0]["fields"].append(
        {
            "name": "contacts",
            "type": "rollup",
            "label": {"zh": "联系人数", "en": "Contacts"},
            "entity": "contact",
            "link_field": "account",
            "function": "count",
        }
    )
    _apply(sales, package)
    assert sales.get(f"{ACCOUNTS}/{rid}").json()["contacts"] == 0
    _seed(sales, f"{APP}/records/contact", {"name": "王", "account": rid})
    assert sales.get(f"{ACCOUNTS}/{rid}").json()["contacts"] == 1


def test_diff_between_versions_names_each_change(sales: TestClient) -> None:
    package = sales_app()
    _field(package, "account", "region").update(name="area", id="region")
    package["roles"] = [REP_ROLE]
    # ``rules`` is a reserved section no plugin owns: opaque items, versioned with the rest
    package["rules"] = [{"name": "welcome", "when": "record.created"}]
    _apply(sales, package)

    diff = sales.get(f"{APP}/versions/diff", params={"from": 1, "to": 2}).json()

    assert diff["from"] == 1 and diff["to"] == 2
    account = next(c for c in diff["changes"] if c.get("name") == "account")
    assert account["fields_renamed"] == [{"from": "region", "to": "area"}]
    assert {"section": "roles", "name": "rep", "change": "added"} in diff["changes"]
    assert {"section": "rules", "name": "welcome", "change": "added"} in diff["changes"]
    assert sales.get(f"{APP}/versions/diff", params={"from": 2}).json()["changes"] == []
    assert sales.get(f"{APP}/versions/2").json()["package"]["rules"] == package["rules"]
    assert sales.get(f"{APP}/versions/9").status_code == 404


def test_rollback_is_a_new_version_and_brings_removed_data_back(sales: TestClient) -> None:
    [rid] = _seed(sales, ACCOUNTS, {"name": "甲", "region": "华东"})
    package = sales_app()
    package["entities"][0]["fields"] = [f for f in package["entities"][0]["fields"] if f["name"] != "region"]
    _apply(sales, package)
    assert "region" not in sales.get(f"{ACCOUNTS}/{rid}").json()

    r = sales.post(f"{APP}/versions/1/rollback")

    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3
    assert sales.get(f"{ACCOUNTS}/{rid}").json()["region"] == "华东"
    assert sales.get(f"{APP}/versions").json()[0]["note"] == "rollback to 1"
    assert sales.get(f"{APP}/versions/diff", params={"from": 1, "to": 3}).json()["changes"] == []


def test_rollback_that_would_drop_an_entity_with_records_needs_its_name(sales: TestClient) -> None:
    package = sales_app()
    package["entities"].append({"name": "lead", "label": {"zh": "线索", "en": "Lead"}})
    package["entities"][-1]["fields"] = [
        {"name": "name", "type": "text", "label": {"zh": "名", "en": "Name"}}
    ]
    _apply(sales, package)
    _seed(sales, f"{APP}/records/lead", {"name": "x"})

    refused = sales.post(f"{APP}/versions/1/rollback")
    assert refused.status_code == 409 and refused.json()["error"]["details"]["rows"] == {"lead": 1}
    plan = sales.post(f"{APP}/versions/1/rollback", params={"dry_run": "true"}).json()
    assert plan["would_apply"] is False
    assert {"entity": "lead", "change": "removed", "rows": 1, "needs_confirm": True} in plan["migrations"]

    assert sales.post(f"{APP}/versions/1/rollback", params={"confirm": "lead"}).status_code == 200
    assert sales.get(f"{APP}/records/lead").status_code == 404


def test_remove_entity_is_refused_while_it_holds_records_unless_confirmed(sales: TestClient) -> None:
    _seed(sales, DEALS, {"title": "大单"})
    package = sales_app()
    package["roles"] = [{**REP_ROLE, "permissions": {"deal": {"read": True}, "account": {"read": True}}}]
    _apply(sales, package)

    refused = sales.delete(f"{APP}/entities/deal")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["details"]["rows"] == {"deal": 1}
    assert sales.get(DEALS).json()["total"] == 1

    r = sales.delete(f"{APP}/entities/deal", params={"confirm": "deal"})
    assert r.status_code == 200, r.text
    assert sales.get(DEALS).status_code == 404
    exported = sales.get(APP).json()
    assert [e["name"] for e in exported["entities"]] == ["account"]
    assert exported["roles"][0]["permissions"] == {"account": {"read": True}}
    audit = sales.get("/api/audit", params={"event": "entity_removed"}).json()["items"]
    assert audit[0]["target"] == "deal"


def test_an_entity_others_refer_to_cannot_be_removed(sales: TestClient) -> None:
    r = sales.delete(f"{APP}/entities/account", params={"confirm": "account"})
    assert r.status_code == 422, r.text
    assert any("/entities/0/fields" in p["pointer"] for p in r.json()["error"]["problems"])
    assert sales.get(ACCOUNTS).status_code == 200


def test_uninstall_needs_the_apps_name_while_it_holds_records(sales: TestClient) -> None:
    _seed(sales, ACCOUNTS, {"name": "甲"})
    refused = sales.delete(APP)
    assert refused.status_code == 409 and refused.json()["error"]["details"]["rows"]["account"] == 1

    r = sales.delete(APP, params={"confirm": "sales"})
    assert r.status_code == 200, r.text
    assert sales.get(APP).status_code == 404
    assert sales.get(ACCOUNTS).status_code == 404
    audit = sales.get("/api/audit", params={"event": "app_uninstalled"}).json()["items"]
    assert audit[0]["app"] == "sales"
    # the name is free again; its versions go on from the last one, and the tables are new
    again = sales.post("/api/apps", json=sales_app())
    assert again.status_code == 201, again.text
    assert sales.get(ACCOUNTS).json()["total"] == 0
    assert sales.get(f"{APP}/versions").json()[0]["version"] == 2


def test_an_empty_app_uninstalls_without_confirmation(sales: TestClient) -> None:
    assert sales.delete(APP).status_code == 200
    assert sales.get("/api/apps").json() == []


def test_only_administrators_change_apps(sales: TestClient, anon: TestClient) -> None:
    from .conftest import USER, sign_in

    headers = sign_in(anon, *USER)
    assert anon.put(APP, json=sales_app(), headers=headers).status_code == 403
    assert anon.delete(APP, headers=headers).status_code == 403
    assert anon.get(f"{APP}/versions", headers=headers).status_code == 403


def test_body_naming_another_app_is_refused(sales: TestClient) -> None:
    package = {**sales_app(), "name": "other"}
    assert _apply(sales, package, status=422)["error"]["code"] == "invalid_package"


# -- the command line ----------------------------------------------------------------------------
@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANGRAM_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("TANGRAM_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TANGRAM_SECRET_KEY", "test-secret")


def test_cli_import_of_an_installed_app_points_to_apply(cli_env: None, tmp_path: Path) -> None:
    file = tmp_path / "sales.json"
    file.write_text(json.dumps(sales_app()), "utf-8")
    runner = CliRunner()
    assert runner.invoke(create_cli(), ["app", "import", str(file)]).exit_code == 0
    again = runner.invoke(create_cli(), ["app", "import", str(file)])
    assert again.exit_code == 1
    assert f"tangram app apply {file}" in again.output and "PUT" not in again.output


def test_cli_apply_dry_run_then_apply_then_versions(cli_env: None, tmp_path: Path) -> None:
    file = tmp_path / "sales.json"
    file.write_text(json.dumps(sales_app()), "utf-8")
    runner = CliRunner()
    assert runner.invoke(create_cli(), ["app", "import", str(file)]).exit_code == 0
    package = sales_app()
    package["entities"].append({"name": "lead", "label": {"zh": "线索", "en": "Lead"}})
    file.write_text(json.dumps(package), "utf-8")

    dry = runner.invoke(create_cli(), ["app", "apply", str(file), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "added entities lead" in dry.output and "nothing changed" in dry.output
    done = runner.invoke(create_cli(), ["app", "apply", str(file)])
    assert done.exit_code == 0, done.output
    assert "now at version 2" in done.output
    listed = runner.invoke(create_cli(), ["app", "versions", "sales"])
    assert listed.output.splitlines()[0].startswith("v2\t") and "apply" in listed.output
