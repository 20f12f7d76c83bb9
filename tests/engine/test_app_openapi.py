"""Each app's OpenAPI document describes its real fields, so a generated client is typed."""

from __future__ import annotations

import jsonschema
from fastapi.testclient import TestClient


def _resolve(document: dict, schema: dict) -> dict:  # type: ignore[type-arg]
    """Inline ``#/components/schemas`` references so jsonschema can check a body."""
    return {**schema, "components": document["components"]}


def test_record_schemas_are_the_entity_fields(sales: TestClient) -> None:
    r = sales.get("/api/apps/sales/openapi.json")
    assert r.status_code == 200, r.text
    document = r.json()
    assert document["openapi"].startswith("3.1")
    deal = document["components"]["schemas"]["Deal"]
    assert {"title", "amount", "quantity", "won", "close_date", "next_call", "notes", "account"} <= set(
        deal["properties"]
    )
    assert deal["properties"]["quantity"]["type"] == ["integer", "null"]
    assert deal["properties"]["close_date"]["format"] == "date"
    create = document["components"]["schemas"]["DealCreate"]
    assert create["required"] == ["title"] and "id" not in create["properties"]
    assert "/api/apps/sales/records/deal/{id}" in document["paths"]
    assert document["paths"]["/api/apps/sales/records/deal"]["post"]["operationId"] == "create_deal"


def test_real_records_validate_against_the_document(sales: TestClient) -> None:
    document = sales.get("/api/apps/sales/openapi.json").json()
    body = {"title": "云服务", "amount": "99.50", "quantity": 3, "won": False, "close_date": "2026-12-01"}
    schemas = document["components"]["schemas"]
    jsonschema.Draft202012Validator(schemas["DealCreate"]).validate(body)
    record = sales.post("/api/apps/sales/records/deal", json=body).json()
    jsonschema.Draft202012Validator(schemas["Deal"]).validate(record)
    bad = {"title": "x", "quantity": "three"}
    assert list(jsonschema.Draft202012Validator(schemas["DealCreate"]).iter_errors(bad))


def test_document_follows_changes_to_the_entity(sales: TestClient) -> None:
    package = sales.get("/api/apps/sales").json()
    account = package["entities"][0]
    account["fields"].append(
        {"name": "phone_note", "type": "text", "label": {"zh": "电话备注", "en": "Phone note"}}
    )
    assert sales.put("/api/apps/sales/entities/account", json=account).status_code == 200
    document = sales.get("/api/apps/sales/openapi.json").json()
    assert "phone_note" in document["components"]["schemas"]["Account"]["properties"]


def test_unknown_app_document_is_404(client: TestClient) -> None:
    assert client.get("/api/apps/nope/openapi.json").status_code == 404


def _record_routes(client: TestClient) -> set[tuple[str, str]]:
    """(method, path) of every route the server has for one app's records, forms and files."""
    from tests.engine.access.test_routes_need_auth import walk

    prefixes = ("/api/apps/{app}/records/{entity}", "/api/apps/{app}/forms/{entity}", "/api/apps/{app}/files")
    found = set()
    for path, methods in walk(client.app.routes):  # type: ignore[attr-defined]
        if path.startswith(prefixes):
            for method in methods - {"HEAD"}:
                found.add((method.lower(), path))
    return found


def test_every_record_route_is_in_the_app_document(sales: TestClient) -> None:
    """A client generated from the per-app document can call every record route there is."""
    import re

    document = sales.get("/api/apps/sales/openapi.json").json()
    routes = _record_routes(sales)
    assert len(routes) >= 15
    for method, path in routes:
        concrete = path.replace("{app}", "sales").replace("{entity}", "account")
        concrete = re.sub(r"\{record_id\}", "{id}", concrete)
        assert concrete in document["paths"], (method, path)
        assert method in document["paths"][concrete], (method, path)


def test_list_operation_documents_search_and_trash(sales: TestClient) -> None:
    document = sales.get("/api/apps/sales/openapi.json").json()
    names = {p["name"] for p in document["paths"]["/api/apps/sales/records/account"]["get"]["parameters"]}
    assert {"filter", "sort", "limit", "offset", "q", "trash"} <= names
