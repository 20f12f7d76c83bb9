"""A second template of another kind, installed beside the CRM in the same database."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

import templates_library


def test_both_templates_live_side_by_side(client: TestClient) -> None:
    for name in ("crm", "maintenance"):
        r = client.post("/api/apps", json=templates_library.load(name))
        assert r.status_code == 201, r.text
    assert sorted(a["name"] for a in client.get("/api/apps").json()) == ["crm", "maintenance"]

    base = "/api/apps/maintenance/records"
    press = client.post(
        f"{base}/equipment", json={"name": "冲压机 3 号", "serial_number": "YL-2024-003"}
    ).json()
    bearing = client.post(
        f"{base}/spare_part", json={"code": "BRG-6205", "name": "轴承 6205", "unit_price": "38.50"}
    )
    assert bearing.status_code == 201, bearing.text
    order = {
        "equipment": press["id"],
        "kind": "repair",
        "reported_at": "2026-11-27T09:30:00+08:00",
        "labour_cost": "200",
        "parts": [{"part": bearing.json()["id"], "quantity": 4}],
    }
    r = client.post(f"{base}/work_order", json=order)
    assert r.status_code == 201, r.text
    done = client.patch(f"{base}/work_order/{r.json()['id']}", json={"status": "done"})
    assert done.status_code == 422 and done.json()["error"]["problems"][0]["field"] == "work_done"

    work_order = client.get(f"{base}/work_order/{r.json()['id']}").json()
    assert Decimal(work_order["cost"]) == Decimal("38.50") * 4 + 200
    equipment = client.get(f"{base}/equipment/{press['id']}").json()
    assert equipment["open_orders"] == 1
    assert Decimal(equipment["maintenance_cost"]) == Decimal("38.50") * 4 + 200
    assert client.get("/api/apps/crm/records/lead").json()["total"] == 0
