"""Input conventions through the record API on both databases: blank text is missing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.engine.fields.conftest import LAB, create, problems

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
