"""Field rules carried through derived values and metadata: a formula reading a field hidden
from the caller is hidden too, in records, lists, filters and sorts; form state and form
descriptions tell nothing about hidden values; hints, the per-app OpenAPI document and the
role list name no field hidden from the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import Platform
from engine.http import create_app

from ..fields.conftest import field, label
from .probe_app import APP, CUSTOMERS, OWN, Probe, build_probe

DEALS = f"/api/apps/{APP}/records/deal"
FORMS = f"/api/apps/{APP}/forms/customer"
NOTE_CONDITION = "secret_note is null or not starts_with(secret_note, 'carol')"

EXTRA: dict[str, Any] = {
    "fields": [
        field("band", "formula", expression="if(salary > 500, 'high', 'low')", result_type="text"),
        field("band_twice", "formula", expression="band + band", result_type="text"),
        field("phone_head", "formula", expression="starts_with(phone, '+86138')", result_type="boolean"),
        field("shout", "formula", expression="upper(name)", result_type="text"),
    ],
    "forms": [
        {
            "name": "main",
            "label": label("主表单", "Main"),
            "layout": [
                {"field": "name"},
                {"field": "secret_note"},
                {"field": "region", "visible_if": NOTE_CONDITION, "required_if": "name == 'x'"},
            ],
        }
    ],
    "entities": [
        {
            "name": "deal",
            "label": label("商机", "Deal"),
            "fields": [
                field("title", "text"),
                field("customer", "lookup", entity="customer"),
                field(
                    "cust_band",
                    "formula",
                    expression="if(customer.salary > 500, 'high', 'low')",
                    result_type="text",
                ),
            ],
        }
    ],
    "permissions": {"deal": {"create": True, "read": OWN, "update": OWN}},
}


@pytest.fixture
def probe(platform: Platform) -> Iterator[Probe]:
    app = create_app(platform=platform)
    with TestClient(app):
        yield build_probe(platform, app, EXTRA)


def _text(r: Any) -> str:
    return r.text


def test_a_formula_reading_a_hidden_or_masked_field_is_hidden_everywhere(probe: Probe) -> None:
    rich = probe.customer("alice", name="rich", salary=900, phone="13800138000")
    probe.customer("alice", name="poor", salary=100)
    alice, carol = probe.client("alice"), probe.client("carol")
    seen = alice.get(f"{CUSTOMERS}/{rich['id']}").json()
    assert seen["shout"] == "RICH"  # reads only what she sees
    assert not {"band", "band_twice", "phone_head", "salary"} & seen.keys()
    page = alice.get(CUSTOMERS).json()
    assert page["total"] == 2 and all("band" not in item for item in page["items"])
    for params in ({"filter": "band == 'high'"}, {"filter": "band_twice == 'highhigh'"}, {"sort": "band"},
                   {"filter": "phone_head"}):  # fmt: skip
        r = alice.get(CUSTOMERS, params=params)
        assert r.status_code == 403, (params, r.text)
    assert alice.get(CUSTOMERS, params={"filter": "shout == 'RICH'"}).json()["total"] == 1
    full = carol.get(f"{CUSTOMERS}/{rich['id']}").json()
    assert full["band"] == "high" and full["band_twice"] == "highhigh"
    assert carol.get(CUSTOMERS, params={"filter": "band == 'high'"}).json()["total"] == 1


def test_a_formula_reading_a_hidden_field_through_a_lookup_is_hidden(probe: Probe) -> None:
    rich = probe.customer("alice", name="rich", salary=900)
    deal = probe.record("deal", "alice", title="big", customer=rich["id"])
    alice, carol = probe.client("alice"), probe.client("carol")
    assert "cust_band" not in alice.get(f"{DEALS}/{deal['id']}").json()
    assert alice.get(DEALS, params={"filter": "cust_band == 'high'"}).status_code == 403
    assert carol.get(f"{DEALS}/{deal['id']}").json()["cust_band"] == "high"


def test_form_state_does_not_depend_on_hidden_values(probe: Probe) -> None:
    plotted = probe.customer("alice", name="a", secret_note="carol: merger plan")
    plain = probe.customer("alice", name="b", secret_note="nothing")
    alice, carol = probe.client("alice"), probe.client("carol")

    def state(client: TestClient, record_id: int, draft: dict[str, Any] | None = None) -> dict[str, Any]:
        r = client.post(f"{FORMS}/main/state", json={"record": draft or {}, "id": record_id})
        assert r.status_code == 200, r.text
        return r.json()["fields"]

    assert state(carol, plotted["id"])["region"]["visible"] is False
    assert state(carol, plain["id"])["region"]["visible"] is True
    for record_id in (plotted["id"], plain["id"]):
        fields = state(alice, record_id)
        assert fields["region"]["visible"] is True and "secret_note" not in fields
    # a guess in the draft is not laid over the hidden value either
    assert state(alice, plain["id"], {"secret_note": "carol"})["region"]["visible"] is True


def test_form_descriptions_leave_out_hidden_fields_and_conditions_on_them(probe: Probe) -> None:
    alice, carol = probe.client("alice"), probe.client("carol")
    mine = alice.get(f"{FORMS}/main").json()
    assert "secret_note" not in mine["fields"] and "secret_note" not in str(mine["layout"])
    assert mine["fields"]["region"]["conditions"] == {"required_if": "name == 'x'"}
    assert mine["depends_on"] == ["name"]
    theirs = carol.get(f"{FORMS}/main").json()
    assert theirs["fields"]["region"]["conditions"]["visible_if"] == NOTE_CONDITION
    assert "secret_note" in theirs["depends_on"]
    assert "salary" not in str(alice.get(f"{FORMS}/default").json())


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("get", CUSTOMERS, {"params": {"filter": "secret_notes == 'x'"}}),
        ("get", CUSTOMERS, {"params": {"sort": "salaryy"}}),
        ("post", CUSTOMERS, {"json": {"name": "n", "salry": 5}}),
    ],
)
def test_did_you_mean_hints_name_no_hidden_field(probe: Probe, method: str, url: str, kwargs: Any) -> None:
    def named(r: Any) -> bool:
        text = r.text
        for typo in ("secret_notes", "salaryy", "salry"):
            text = text.replace(typo, "")
        return "secret_note" in text or "salary" in text

    r = getattr(probe.client("alice"), method)(url, **kwargs)
    assert r.status_code == 422 and not named(r), r.text
    r = getattr(probe.client("carol"), method)(url, **kwargs)
    assert r.status_code == 422 and named(r), r.text  # she sees them: the hint may name them


def test_non_admins_get_the_api_and_roles_of_what_they_may_read(probe: Probe) -> None:
    alice, carol = probe.client("alice"), probe.client("carol")
    schemas = alice.get(f"/api/apps/{APP}/openapi.json").json()["components"]["schemas"]
    assert not {"secret_note", "salary", "contract", "band"} & schemas["Customer"]["properties"].keys()
    assert {"name", "phone"} <= schemas["Customer"]["properties"].keys()
    assert "salary" not in schemas["CustomerCreate"]["properties"]
    schemas = carol.get(f"/api/apps/{APP}/openapi.json").json()["components"]["schemas"]
    assert {"secret_note", "salary", "band"} <= schemas["Customer"]["properties"].keys()
    assert alice.get(f"/api/apps/{APP}/roles").json() == [
        {"name": "rep", "label": {"zh": "销售", "en": "Rep"}}
    ]
    everything = probe.client("admin").get(f"/api/apps/{APP}/roles").json()
    assert {r["name"] for r in everything} == {"rep", "manager"} and "permissions" in everything[0]
