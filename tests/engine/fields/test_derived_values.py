"""Formulas and roll-ups after a schema change: computed for the records already stored, in the
migration's transaction, and on an administrator's request; definitions whose computed values
could never be stored are refused when they are saved."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine import Platform
from engine.apps import derived_values, metadata_store
from tests.engine.conftest import USER, sign_in
from tests.engine.fields.conftest import LAB, LAB_APP, create, field, problems

ENTITIES = "/api/apps/lab/entities"


def definition(name: str) -> dict[str, Any]:
    return copy.deepcopy(next(e for e in LAB_APP["entities"] if e["name"] == name))


def put(client: TestClient, entity: dict[str, Any], status: int = 200) -> Any:
    r = client.put(f"{ENTITIES}/{entity['name']}", json=entity)
    assert r.status_code == status, r.text
    return r


def get(client: TestClient, entity: str, record_id: int) -> dict[str, Any]:
    r = client.get(f"{LAB}/{entity}/{record_id}")
    assert r.status_code == 200, r.text
    return r.json()


def with_field(entity: str, *fields: dict[str, Any]) -> dict[str, Any]:
    changed = definition(entity)
    changed["fields"] += list(fields)
    return changed


def with_setting(entity: dict[str, Any], name: str, **settings: Any) -> dict[str, Any]:
    for f in entity["fields"]:
        if f["name"] == name:
            f.update(settings)
    return entity


def orders(client: TestClient) -> list[dict[str, Any]]:
    """Three orders: two lines (150 + 10), one line (40), none."""
    return [
        create(
            client,
            "order",
            {"title": "a", "lines": [{"product": "p", "amount": "150"}, {"product": "q", "amount": "10"}]},
        ),
        create(client, "order", {"title": "b", "lines": [{"product": "r", "amount": "40"}]}),
        create(client, "order", {"title": "c"}),
    ]


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rows per batch, so a handful of records crosses several batches."""
    monkeypatch.setattr(derived_values, "BATCH_SIZE", 2)


# -- computed by the migration -------------------------------------------------------------------


@pytest.mark.usefixtures("small_batches")
def test_a_new_formula_is_computed_for_existing_records(lab: TestClient) -> None:
    lines = [create(lab, "line", {"product": f"p{i}", "amount": str(10 * i)}) for i in range(5)]
    create(lab, "line", {"product": "blank"})
    put(lab, with_field("line", field("doubled", "formula", expression="amount * 2", scale=1)))
    assert [get(lab, "line", line["id"])["doubled"] for line in lines] == [
        "0.0",
        "20.0",
        "40.0",
        "60.0",
        "80.0",
    ]
    assert lab.get(f"{LAB}/line", params={"filter": "is_blank(doubled)"}).json()["total"] == 1


def test_derived_values_are_not_user_changes(lab: TestClient) -> None:
    line = create(lab, "line", {"product": "p", "amount": "10"})
    put(lab, with_field("line", field("doubled", "formula", expression="amount * 2")))
    after = get(lab, "line", line["id"])
    assert after["doubled"] == "20.00"
    assert after["version"] == line["version"] and after["updated_at"] == line["updated_at"]
    history = lab.get(f"{LAB}/line/{line['id']}/history").json()
    assert [entry["op"] for entry in history] == ["create"]


@pytest.mark.usefixtures("small_batches")
def test_a_new_roll_up_and_a_formula_reading_it_are_computed_for_existing_records(lab: TestClient) -> None:
    a, b, c = orders(lab)
    changed = with_field(
        "order",
        field("small", "rollup", entity="line", link_field="order", function="count", filter="amount < 100"),
        field("small_twice", "formula", expression="small * 2", result_type="integer"),
    )
    put(lab, changed)
    assert [
        (get(lab, "order", o["id"])["small"], get(lab, "order", o["id"])["small_twice"]) for o in (a, b, c)
    ] == [
        (1, 2),
        (1, 2),
        (0, 0),
    ]


def test_changing_sum_to_avg_recomputes_the_roll_up_and_the_formulas_reading_it(lab: TestClient) -> None:
    a, b, c = orders(lab)
    put(lab, with_setting(definition("order"), "total", function="avg"))
    got = [get(lab, "order", o["id"]) for o in (a, b, c)]
    assert [(o["total"], o["taxed"]) for o in got] == [("80.00", "160.00"), ("40.00", "80.00"), (None, None)]
    put(lab, with_setting(definition("order"), "total", function="sum"))
    assert get(lab, "order", a["id"])["total"] == "160.00" and get(lab, "order", c["id"])["total"] == "0.00"


def test_a_new_filter_or_result_type_recomputes_the_roll_up(lab: TestClient) -> None:
    a, b, _c = orders(lab)
    put(lab, with_setting(definition("order"), "line_count", filter="amount > 20"))
    assert get(lab, "order", a["id"])["line_count"] == 1 and get(lab, "order", b["id"])["line_count"] == 1
    put(lab, with_setting(definition("order"), "mean", scale=0, result_type="integer"))
    assert get(lab, "order", a["id"])["mean"] == 80


def test_a_formula_given_a_new_expression_or_result_type_is_recomputed(lab: TestClient) -> None:
    line = create(lab, "line", {"product": "p", "amount": "10"})
    put(lab, with_field("line", field("label", "formula", expression="product", result_type="text")))
    assert get(lab, "line", line["id"])["label"] == "p"
    put(lab, with_field("line", field("label", "formula", expression="amount > 5", result_type="boolean")))
    assert get(lab, "line", line["id"])["label"] is True


def test_a_formula_through_a_lookup_reads_the_referenced_record(lab: TestClient) -> None:
    team = create(lab, "team", {"name": "north"})
    member = create(lab, "contact", {"name": "x", "team": team["id"]})
    loner = create(lab, "contact", {"name": "y"})
    put(lab, with_field("contact", field("team_name", "formula", expression="team.name", result_type="text")))
    assert get(lab, "contact", member["id"])["team_name"] == "north"
    assert get(lab, "contact", loner["id"])["team_name"] is None


def test_roll_ups_of_other_entities_follow_a_recomputed_formula(lab: TestClient) -> None:
    a, b, _c = orders(lab)
    doubled = field("doubled", "formula", expression="amount * 2")
    put(lab, with_field("line", doubled))
    put(
        lab,
        with_field(
            "order",
            field(
                "doubled_total", "rollup", entity="line", link_field="order", function="sum", field="doubled"
            ),
        ),
    )
    assert get(lab, "order", a["id"])["doubled_total"] == "320.00"
    put(lab, with_field("line", {**doubled, "expression": "amount * 3"}))
    assert get(lab, "order", a["id"])["doubled_total"] == "480.00"
    assert get(lab, "order", b["id"])["doubled_total"] == "120.00"


def test_a_converted_field_recomputes_the_formulas_reading_it(lab: TestClient) -> None:
    code = field("code", "text")
    shown = field("shown", "formula", expression="code", result_type="text")
    put(lab, with_field("line", code, shown))
    line = create(lab, "line", {"product": "p", "code": "1,200"})
    assert line["shown"] == "1,200"
    put(lab, with_field("line", {**code, "type": "integer"}, shown))
    assert get(lab, "line", line["id"])["shown"] == "1200"


def test_a_failed_migration_leaves_the_records_as_they_were(lab: TestClient, platform: Platform) -> None:
    a, _b, _c = orders(lab)
    refused = with_setting(definition("order"), "total", function="avg")
    refused["fields"].append(field("doubled", "formula", expression="total * 2"))
    with_setting(refused, "title", type="integer")  # "a" is no integer: the change is refused
    r = lab.put(f"{ENTITIES}/order", json=refused)
    assert r.status_code == 409 and r.json()["error"]["code"] == "migration_refused", r.text
    assert get(lab, "order", a["id"])["total"] == "160.00"
    with platform.db.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("lab__order")}
    assert "doubled" not in columns


def test_a_recompute_that_fails_rolls_the_whole_change_back(
    lab: TestClient, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _b, _c = orders(lab)

    def fails_after_writing(*args: Any, **kwargs: Any) -> Any:
        derived_values.recompute_entity(*args, **kwargs)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(metadata_store, "recompute_entity", fails_after_writing)
    r = lab.put(f"{ENTITIES}/order", json=with_setting(definition("order"), "total", function="avg"))
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    assert get(lab, "order", a["id"])["total"] == "160.00"
    assert lab.get("/api/apps/lab").json()["entities"][2]["fields"][4].get("function") == "sum"


# -- recomputed on request -----------------------------------------------------------------------


def _tamper(platform: Platform, sql: str) -> None:
    with platform.db.begin() as conn:
        conn.exec_driver_sql(sql)


def test_recompute_puts_stale_values_right_and_counts_them(lab: TestClient, platform: Platform) -> None:
    a, b, _c = orders(lab)
    thirds = [{"product": "p", "amount": amount} for amount in ("10", "10", "20")]
    assert create(lab, "order", {"title": "d", "lines": thirds})["mean"] == "13.33"  # kept rounded
    _tamper(platform, f"UPDATE lab__order SET total = 1, taxed = 1 WHERE id = {a['id']}")
    _tamper(platform, f"UPDATE lab__order SET line_count = 7 WHERE id = {b['id']}")
    r = lab.post(f"{ENTITIES}/order/recompute")
    assert r.status_code == 200, r.text
    assert r.json() == {"updated": 2, "failed": 0}
    fixed = get(lab, "order", a["id"])
    assert (fixed["total"], fixed["taxed"], fixed["version"]) == ("160.00", "320.00", a["version"])
    assert get(lab, "order", b["id"])["line_count"] == 1
    assert lab.post(f"{ENTITIES}/order/recompute").json() == {"updated": 0, "failed": 0}
    audit = lab.get("/api/audit", params={"event": "derived_recomputed"}).json()["items"]
    assert audit[0]["app"] == "lab" and audit[0]["target"] == "order"
    assert audit[0]["details"] == {"updated": 0, "failed": 0}


def test_recompute_keeps_the_values_of_records_the_rules_now_refuse(
    lab: TestClient, platform: Platform
) -> None:
    a, b, _c = orders(lab)
    strict = definition("order")
    strict["validations"] = [{"condition": "title != 'a'", "message": {"zh": "不行", "en": "no"}}]
    put(lab, strict)
    _tamper(platform, f"UPDATE lab__order SET taxed = 1 WHERE id IN ({a['id']}, {b['id']})")
    assert lab.post(f"{ENTITIES}/order/recompute").json() == {"updated": 1, "failed": 1}
    assert get(lab, "order", a["id"])["taxed"] == "1.00" and get(lab, "order", b["id"])["taxed"] == "80.00"


def test_only_administrators_may_recompute(lab: TestClient, anon: TestClient) -> None:
    headers = sign_in(anon, *USER)
    r = anon.post(f"{ENTITIES}/order/recompute", headers=headers)
    assert r.status_code == 403, r.text
    r = lab.post(f"{ENTITIES}/ordr/recompute")
    assert r.status_code == 404 and "order" in r.json()["error"]["message"]


# -- refused when the definition is saved --------------------------------------------------------


def test_a_formula_whose_type_its_result_type_cannot_hold_is_refused(lab: TestClient) -> None:
    changed = with_field("line", field("bad", "formula", expression="product", result_type="number"))
    found = problems(put(lab, changed, 422))
    at = f"/fields/{len(changed['fields']) - 1}/expression"
    assert found[at]["code"] == "result_type_mismatch"
    assert "text" in found[at]["message"] and found[at]["line"] == 1


def test_a_sum_or_avg_over_a_lookup_is_refused_at_import(client: TestClient) -> None:
    package = copy.deepcopy(LAB_APP)
    order = next(e for e in package["entities"] if e["name"] == "order")
    order["fields"].append(
        field("ids", "rollup", entity="line", link_field="order", function="avg", field="order")
    )
    r = client.post("/api/apps", json=package)
    assert r.status_code == 422, r.text
    at = f"/entities/{package['entities'].index(order)}/fields/{len(order['fields']) - 1}/field"
    assert problems(r)[at]["code"] == "not_a_quantity"
    assert "Lookup" in problems(r)[at]["message"]
