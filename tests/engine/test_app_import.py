"""Importing, exporting and describing app packages."""

from __future__ import annotations

import jsonschema
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from engine import Platform, package_json_schema
from form_engine import FieldType, FieldTypeRegistry, Label, registry

from .conftest import USER, sales_app, sign_in


def _columns(platform: Platform, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(platform.db).get_columns(table)}


def test_import_creates_one_table_per_entity_with_one_column_per_field(
    sales: TestClient, platform: Platform
) -> None:
    system = {"id", "created_at", "updated_at", "created_by", "updated_by", "owner", "version", "deleted_at"}
    system |= {"_search", "_pinyin"}  # hidden: keyword search tokens and the title's pinyin
    assert _columns(platform, "sales__account") == system | {"name", "grade", "region"}
    assert _columns(platform, "sales__deal") == system | {
        "title",
        "amount",
        "quantity",
        "won",
        "close_date",
        "next_call",
        "notes",
        "account",
    }


def test_export_returns_the_package_as_imported(sales: TestClient) -> None:
    r = sales.get("/api/apps/sales")
    assert r.status_code == 200, r.text
    exported = r.json()
    expected = sales_app()
    for entity in expected["entities"]:
        for field in entity["fields"]:
            field.setdefault("id", field["name"])
    assert exported == expected


def test_list_apps_names_entities(sales: TestClient) -> None:
    r = sales.get("/api/apps")
    assert r.status_code == 200, r.text
    [app] = r.json()
    assert app["name"] == "sales" and app["entities"] == ["account", "deal"] and app["version"] == 1


def test_package_schema_is_public_and_accepts_the_sample(anon: TestClient) -> None:
    r = anon.get("/api/schema/app")
    assert r.status_code == 200, r.text
    jsonschema.Draft202012Validator(r.json()).validate(sales_app())


def test_bad_package_lists_every_problem_with_its_pointer(client: TestClient) -> None:
    package = sales_app()
    package["name"] = "Sales App"
    package["entities"][0]["fields"][1]["options"][0]["label"] = {"zh": "A"}
    package["entities"][1]["fields"][0]["type"] = "txet"
    r = client.post("/api/apps", json=package)
    assert r.status_code == 422, r.text
    pointers = {p["pointer"] for p in r.json()["error"]["problems"]}
    assert "/name" in pointers
    assert "/entities/0/fields/1/options/0/label" in pointers
    assert "/entities/1/fields/0/type" in pointers


def test_reference_to_missing_entity_and_duplicate_field_are_refused(client: TestClient) -> None:
    package = sales_app()
    package["entities"][1]["fields"][-1]["entity"] = "acount"
    package["entities"][0]["fields"].append({"name": "name", "type": "text", "label": {"zh": "x", "en": "x"}})
    r = client.post("/api/apps", json=package)
    assert r.status_code == 422, r.text
    problems = {p["pointer"]: p["message"] for p in r.json()["error"]["problems"]}
    assert "acount" in problems["/entities/1/fields/7/entity"]
    assert "/entities/0/fields/3/name" in problems


def test_malformed_json_is_a_clear_422(client: TestClient) -> None:
    r = client.post("/api/apps", content=b'{"name": "x",', headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "JSON" in r.json()["error"]["problems"][0]["message"]


def test_importing_an_existing_app_again_is_a_conflict(sales: TestClient) -> None:
    r = sales.post("/api/apps", json=sales_app())
    assert r.status_code == 409, r.text


def test_only_admins_import_apps(anon: TestClient) -> None:
    headers = sign_in(anon, *USER)
    r = anon.post("/api/apps", json=sales_app(), headers=headers)
    assert r.status_code == 403, r.text


def test_failed_import_leaves_the_database_as_it_was(client: TestClient, platform: Platform) -> None:
    with platform.db.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE sales__deal (x INTEGER)")
    r = client.post("/api/apps", json=sales_app())
    assert r.status_code == 409, r.text
    assert "sales__deal" in r.json()["error"]["message"]
    assert not sa.inspect(platform.db).has_table("sales__account")
    assert client.get("/api/apps").json() == []


def test_rules_may_read_through_lookups_on_import_and_on_change(client: TestClient) -> None:
    package = sales_app()
    deal = package["entities"][1]
    deal["fields"].append(
        {
            "name": "a_grade",
            "type": "formula",
            "label": {"zh": "A 级", "en": "Grade A"},
            "expression": "account.grade == 'A'",
            "result_type": "boolean",
        }
    )
    assert client.post("/api/apps", json=package).status_code == 201
    deal["validations"] = [
        {
            "condition": "account.regoin != '无'",
            "message": {"zh": "区域无效", "en": "no region"},
            "field": "title",
        }
    ]
    r = client.put("/api/apps/sales/entities/deal", json=deal)
    assert r.status_code == 422, r.text
    [problem] = r.json()["error"]["problems"]
    assert problem["pointer"] == "/validations/0/condition" and "region" in problem["message"]
    deal["validations"][0]["condition"] = "account.region != '无'"
    assert client.put("/api/apps/sales/entities/deal", json=deal).status_code == 200


class _LateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    shade: str = "teal"


class _LateType(FieldType):
    """A type a plugin registers after the schema was first asked for."""

    name = "late_colour"
    label = Label(zh="晚到的颜色", en="Late colour")
    config_model = _LateConfig
    stores = "VARCHAR(20)"


def test_package_schema_describes_a_field_type_registered_after_the_first_call() -> None:
    field_types = FieldTypeRegistry()
    for field_type in registry:
        field_types.register(field_type)
    before = package_json_schema(field_types)
    assert "late_colour" not in before["$defs"]["Field"]["properties"]["type"]["enum"]

    field_types.register(_LateType)
    after = package_json_schema(field_types)
    assert "late_colour" in after["$defs"]["Field"]["properties"]["type"]["enum"]
    [clause] = [
        c for c in after["$defs"]["Field"]["allOf"] if c["if"]["properties"]["type"]["const"] == "late_colour"
    ]
    assert set(clause["then"]["properties"]) == {"shade"}
    assert package_json_schema(field_types) is after
