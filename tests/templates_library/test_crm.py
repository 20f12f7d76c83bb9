"""The CRM template installs and behaves as a sales team expects, on both databases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

import templates_library
from engine import parse_package
from tests.engine.conftest import sign_in

CRM = "/api/apps/crm/records"


@pytest.fixture
def crm(client: TestClient) -> TestClient:
    r = client.post("/api/apps", json=templates_library.load("crm"))
    assert r.status_code == 201, r.text
    return client


def create(client: TestClient, entity: str, data: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"{CRM}/{entity}", json=data)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def get(client: TestClient, entity: str, record_id: int) -> dict[str, Any]:
    r = client.get(f"{CRM}/{entity}/{record_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_every_bundled_template_is_a_valid_package() -> None:
    names = [t["name"] for t in templates_library.available()]
    assert "crm" in names
    for name in names:
        assert parse_package(templates_library.load(name)).name == name


def test_the_crm_names_every_entity_the_product_promises() -> None:
    package = templates_library.load("crm")
    entities = {e["name"] for e in package["entities"]}
    assert entities >= {
        "lead", "account", "contact", "opportunity", "product", "quote", "contract",
        "payment_plan", "payment", "activity", "case", "campaign", "knowledge_article",
    }  # fmt: skip
    roles = {r["label"]["zh"] for r in package["roles"]}
    assert roles == {"销售代表", "销售经理", "销售总监", "客服", "客服主管", "管理员"}
    for entity in package["entities"]:
        assert entity["label"]["zh"] and entity["label"]["en"]
        for field in entity["fields"]:
            assert field["label"]["zh"] and field["label"]["en"], (entity["name"], field["name"])


def test_probability_follows_the_stage_and_feeds_the_account(crm: TestClient) -> None:
    account = create(crm, "account", {"name": "深圳华为技术有限公司", "grade": "A"})
    deal = create(crm, "opportunity", {"name": "园区网络改造", "account": account["id"], "amount": "100000"})
    assert Decimal(deal["probability"]) == Decimal("0.1")  # a new deal starts at 初步接洽
    stages = {"analysis": "0.3", "proposal": "0.6", "negotiation": "0.8", "won": "1"}
    for stage, probability in stages.items():
        r = crm.patch(f"{CRM}/opportunity/{deal['id']}", json={"stage": stage})
        assert r.status_code == 200, r.text
        assert Decimal(r.json()["probability"]) == Decimal(probability)
        assert Decimal(r.json()["expected_revenue"]) == Decimal("100000") * Decimal(probability)
    figures = get(crm, "account", account["id"])
    assert Decimal(figures["won_amount"]) == Decimal("100000")
    assert Decimal(figures["open_pipeline"]) == 0

    other = create(crm, "opportunity", {"name": "二期", "account": account["id"], "amount": "250000.50"})
    assert Decimal(get(crm, "account", account["id"])["open_pipeline"]) == Decimal("250000.50")
    r = crm.patch(f"{CRM}/opportunity/{other['id']}", json={"stage": "lost"})
    assert r.status_code == 422
    assert [p["field"] for p in r.json()["error"]["problems"]] == ["loss_reason"]
    r = crm.patch(f"{CRM}/opportunity/{other['id']}", json={"stage": "lost", "loss_reason": "price"})
    assert r.status_code == 200, r.text
    assert Decimal(get(crm, "account", account["id"])["open_pipeline"]) == 0


def test_lines_take_the_list_price_and_add_up(crm: TestClient) -> None:
    account = create(crm, "account", {"name": "比亚迪股份有限公司"})
    router = create(crm, "product", {"name": "企业路由器", "list_price": "3999.00"})
    licence = create(crm, "product", {"name": "年度服务", "list_price": "12000.00"})
    deal = create(
        crm,
        "opportunity",
        {
            "name": "门店网络",
            "account": account["id"],
            "lines": [
                {"product": router["id"], "quantity": "3"},
                {"product": licence["id"], "unit_price": "10000"},
            ],
        },
    )
    deal = get(crm, "opportunity", deal["id"])
    subtotals = sorted(Decimal(line["subtotal"]) for line in deal["lines"])
    assert subtotals == [Decimal("10000"), Decimal("3999") * 3]
    assert Decimal(deal["lines_total"]) == Decimal("10000") + Decimal("3999") * 3


def test_contract_outstanding_is_amount_less_payments(crm: TestClient) -> None:
    account = create(crm, "account", {"name": "大疆创新", "grade": "A"})
    contract = create(crm, "contract", {"name": "无人机采购", "account": account["id"], "amount": "500000"})
    assert contract["number"].startswith("HT-") and contract["customer_grade"] == "A"
    create(crm, "payment", {"contract": contract["id"], "amount": "200000", "paid_on": "2026-11-01"})
    create(crm, "payment", {"contract": contract["id"], "amount": "50000.25", "paid_on": "2026-11-20"})
    contract = get(crm, "contract", contract["id"])
    assert Decimal(contract["received_amount"]) == Decimal("250000.25")
    assert Decimal(contract["outstanding"]) == Decimal("249999.75")
    assert Decimal(get(crm, "account", account["id"])["received_amount"]) == Decimal("250000.25")


def test_a_credit_code_is_a_blocking_duplicate_key(crm: TestClient) -> None:
    create(crm, "account", {"name": "阿里巴巴（中国）有限公司", "uscc": "91330100799655058B"})
    r = crm.post(f"{CRM}/account", json={"name": "阿里巴巴", "uscc": "91330100799655058B"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_record"
    r = crm.post(f"{CRM}/account", json={"name": "坏代码", "uscc": "91330100799655058"})
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "uscc"


def test_reps_see_their_own_records_and_the_director_masked_mobiles(
    crm: TestClient, anon: TestClient
) -> None:
    sales = crm.post("/api/departments", json={"name": "销售中心"}).json()["id"]
    east = crm.post("/api/departments", json={"name": "华东销售部", "parent_id": sales}).json()["id"]
    ids = {}
    for username, department in (("wangwei", east), ("lina", sales)):
        r = crm.post(
            "/api/users", json={"username": username, "password": "password-123", "department_id": department}
        )
        assert r.status_code == 201, r.text
        ids[username] = r.json()["id"]
    for username, role in (("wangwei", "sales_rep"), ("lina", "sales_director")):
        r = crm.put(f"/api/apps/crm/users/{ids[username]}/roles", json={"roles": [role]})
        assert r.status_code == 200, r.text

    rep = sign_in(anon, "wangwei", "password-123")
    lead = {"company": "小米", "contact_name": "雷先生", "mobile": "13812345678"}
    mine = anon.post(f"{CRM}/lead", json=lead, headers=rep)
    assert mine.status_code == 201, mine.text
    create(crm, "lead", {"company": "美团", "contact_name": "王女士", "mobile": "13900001111"})
    listed = anon.get(f"{CRM}/lead", headers=rep).json()
    assert [r["company"] for r in listed["items"]] == ["小米"]
    assert listed["items"][0]["mobile"] == "+8613812345678"

    director = sign_in(anon, "lina", "password-123")
    seen = anon.get(f"{CRM}/lead", headers=director).json()["items"]
    assert [r["company"] for r in seen] == ["小米"]  # the admin's own lead is outside the tree
    assert seen[0]["mobile"] != "+8613812345678" and "*" in seen[0]["mobile"]
