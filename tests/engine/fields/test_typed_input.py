"""Input conventions through the record API on both databases: blank text is missing, a percent
is a fraction or carries its sign, thousands separators only where they group thousands."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.engine.fields.conftest import LAB, create, field, label, problems

PIPELINE = "/api/apps/pipeline/records/deal"
PIPELINE_APP: dict[str, Any] = {
    "name": "pipeline",
    "label": label("销售漏斗", "Pipeline"),
    "entities": [
        {
            "name": "deal",
            "label": label("商机", "Deal"),
            "fields": [
                field("title", "text", required=True),
                field("amount", "currency"),
                field("probability", "percent"),
                field("forecast", "formula", expression="amount * probability", result_type="number"),
            ],
        }
    ],
}


@pytest.fixture
def pipeline(client: TestClient) -> TestClient:
    r = client.post("/api/apps", json=PIPELINE_APP)
    assert r.status_code == 201, r.text
    return client


#: Entities with one required text: ``team`` is simple (the runtime's fast path), ``order`` has
#: formulas and roll-ups (the full path); both must agree.
REQUIRED_TEXT = [("team", "name"), ("order", "title")]


@pytest.mark.parametrize(("entity", "name"), REQUIRED_TEXT)
@pytest.mark.parametrize("blank", ["", "   ", "\u3000", " \t\n"])
def test_required_text_refuses_blank_on_create_and_update(
    lab: TestClient, entity: str, name: str, blank: str
) -> None:
    url = f"{LAB}/{entity}"
    r = lab.post(url, json={name: blank})
    assert r.status_code == 422, r.text
    assert {p: v["code"] for p, v in problems(r).items()} == {f"/{name}": "required"}
    record = create(lab, entity, {name: "A"})
    r = lab.patch(f"{url}/{record['id']}", json={name: blank})
    assert r.status_code == 422, r.text
    assert {p: v["code"] for p, v in problems(r).items()} == {f"/{name}": "required"}
    assert lab.get(f"{url}/{record['id']}").json()[name] == "A"
    assert lab.get(url).json()["total"] == 1


@pytest.mark.parametrize(("entity", "name"), REQUIRED_TEXT)
def test_a_too_long_value_is_one_problem_not_also_required(lab: TestClient, entity: str, name: str) -> None:
    r = lab.post(f"{LAB}/{entity}", json={name: "x" * 256})
    assert r.status_code == 422, r.text
    assert {p: v["code"] for p, v in problems(r).items()} == {f"/{name}": "too_long"}


def test_blank_optional_text_is_stored_as_null(lab: TestClient) -> None:
    item = create(lab, "item", {"title": "  ", "notes": " \n ", "body": "<p><br></p>", "email": ""})
    assert item["title"] is item["notes"] is item["body"] is item["email"] is None
    assert lab.get(f"{LAB}/item", params={"filter": "title is null and notes is null"}).json()["total"] == 1


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (0.5, "0.5"),
        ("0.5", "0.5"),
        ("50%", "0.5"),
        ("50 %", "0.5"),
        ("５０％", "0.5"),
        (1, "1"),
        ("150%", "1.5"),
    ],
)
def test_percent_is_a_fraction_or_carries_its_sign(pipeline: TestClient, sent: Any, stored: str) -> None:
    deal = create_deal(pipeline, {"title": "A", "amount": "1,000", "probability": sent})
    assert Decimal(deal["probability"]) == Decimal(stored)
    assert Decimal(deal["forecast"]) == Decimal(1000) * Decimal(stored)


def create_deal(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(PIPELINE, json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("sent", [50, "50", 50.0, "1,000", -20])
@pytest.mark.parametrize(
    ("locale", "how"), [("en", 'e.g. 50 % as 0.5 or "50%"'), ("zh-CN", '50% 写作 0.5 或 "50%"')]
)
def test_a_bare_percent_above_one_is_refused_saying_how_to_write_it(
    pipeline: TestClient, sent: Any, locale: str, how: str
) -> None:
    r = pipeline.post(
        PIPELINE,
        json={"title": "A", "amount": 1000, "probability": sent},
        headers={"Accept-Language": locale},
    )
    assert r.status_code == 422, r.text
    problem = problems(r)["/probability"]
    assert problem["code"] == "percent_ambiguous" and how in problem["message"], problem
    deal = create_deal(pipeline, {"title": "A", "amount": 1000, "probability": 0.5})
    r = pipeline.patch(f"{PIPELINE}/{deal['id']}", json={"probability": sent})
    assert r.status_code == 422, r.text
    assert Decimal(pipeline.get(f"{PIPELINE}/{deal['id']}").json()["forecast"]) == 500


@pytest.mark.parametrize("sent", ["12,34", "1,2345", "1.234,50", "1,000 000", "12_34"])
def test_thousands_separators_only_where_they_group_thousands(pipeline: TestClient, sent: str) -> None:
    r = pipeline.post(PIPELINE, json={"title": "A", "amount": sent})
    assert r.status_code == 422, r.text
    assert problems(r)["/amount"]["code"] == "invalid_number"


@pytest.mark.parametrize(
    ("sent", "stored"), [("1,234.50", "1234.50"), ("1 234 567", "1234567.00"), ("￥１，２３４", "1234.00")]
)
def test_grouped_amounts_are_read_as_written(pipeline: TestClient, sent: str, stored: str) -> None:
    assert create_deal(pipeline, {"title": "A", "amount": sent})["amount"] == stored
