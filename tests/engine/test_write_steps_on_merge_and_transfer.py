"""Records changed as a consequence of a merge (re-pointed lookups) or moved by an ownership
transfer are updates like any other: the actor is recorded, and duplicate keys, formulas and
roll-ups that read the changed field follow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import SYSTEM, Platform
from engine.http import create_app

from .conftest import USER, sign_in

RECORDS = "/api/apps/steps/records"


def _label(text: str) -> dict[str, str]:
    return {"zh": text, "en": text}


def _field(name: str, type_: str, **settings: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "label": _label(name), **settings}


STEPS_APP: dict[str, Any] = {
    "name": "steps",
    "label": _label("Steps"),
    "entities": [
        {"name": "contact", "label": _label("Contact"), "fields": [_field("name", "text")]},
        {
            "name": "project",
            "label": _label("Project"),
            "fields": [
                _field("name", "text"),
                _field(
                    "acme_notes",
                    "rollup",
                    entity="note",
                    link_field="project",
                    function="count",
                    filter="contact.name == 'Acme'",
                ),
            ],
        },
        {
            "name": "note",
            "label": _label("Note"),
            "fields": [
                _field("text", "text"),
                _field("contact", "lookup", entity="contact"),
                _field("project", "lookup", entity="project"),
                _field("contact_name", "formula", expression="contact.name", result_type="text"),
            ],
            "duplicate_rules": [{"name": "same_text", "fields": ["contact", "text"], "policy": "allow"}],
        },
        {
            "name": "board",
            "label": _label("Board"),
            "fields": [
                _field("name", "text"),
                _field(
                    "self_owned",
                    "rollup",
                    entity="task",
                    link_field="board",
                    function="count",
                    filter="owner == created_by",
                ),
            ],
        },
        {
            "name": "task",
            "label": _label("Task"),
            "fields": [
                _field("title", "text"),
                _field("board", "lookup", entity="board"),
                _field("kept_by_creator", "formula", expression="owner == created_by", result_type="boolean"),
            ],
        },
    ],
    # Every signed-in user may do everything: the second user below needs no assignment.
    "roles": [
        {
            "name": "everyone",
            "label": _label("Everyone"),
            "everyone": True,
            "permissions": {
                name: {op: True for op in ("create", "read", "update", "delete")}
                for name in ("contact", "project", "note", "board", "task")
            },
        }
    ],
}


@pytest.fixture
def steps(client: TestClient) -> TestClient:
    """The admin client with the ``steps`` app imported."""
    r = client.post("/api/apps", json=STEPS_APP)
    assert r.status_code == 201, r.text
    return client


@pytest.fixture
def rep(platform: Platform, steps: TestClient) -> Iterator[TestClient]:
    """A second signed-in user (a role held by everyone lets them do everything)."""
    with TestClient(create_app(platform=platform)) as other:
        other.headers.update(sign_in(other, *USER))
        yield other


def _me(client: TestClient) -> int:
    return int(client.get("/api/auth/me").json()["id"])


def _get(client: TestClient, entity: str, record_id: int) -> dict[str, Any]:
    r = client.get(f"{RECORDS}/{entity}/{record_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _system(platform: Platform, entity: str, values: dict[str, Any]) -> int:
    return int(platform.records.create(SYSTEM, "steps", entity, values)["id"])


@pytest.fixture
def merged(platform: Platform, steps: TestClient) -> dict[str, int]:
    """Contact "Acme Co" merged into "Acme" by the administrator; each had a note "t" in the
    same project. Before the merge the project counted one note of Acme."""
    ids = {
        "keep": _system(platform, "contact", {"name": "Acme"}),
        "gone": _system(platform, "contact", {"name": "Acme Co"}),
        "project": _system(platform, "project", {"name": "p"}),
    }
    ids["first"] = _system(platform, "note", {"text": "t", "contact": ids["keep"], "project": ids["project"]})
    ids["moved"] = _system(platform, "note", {"text": "t", "contact": ids["gone"], "project": ids["project"]})
    assert _get(steps, "note", ids["moved"])["contact_name"] == "Acme Co"
    assert _get(steps, "project", ids["project"])["acme_notes"] == 1
    r = steps.post(f"{RECORDS}/contact/{ids['keep']}/merge", json={"from": ids["gone"]})
    assert r.status_code == 200, r.text
    assert _get(steps, "note", ids["moved"])["contact"] == ids["keep"]
    return ids


def test_a_record_re_pointed_by_a_merge_is_updated_by_the_actor(
    steps: TestClient, merged: dict[str, int]
) -> None:
    note = _get(steps, "note", merged["moved"])
    assert note["updated_by"] == _me(steps)
    assert note["version"] == 2


def test_formulas_of_a_record_re_pointed_by_a_merge_read_the_survivor(
    steps: TestClient, merged: dict[str, int]
) -> None:
    assert _get(steps, "note", merged["moved"])["contact_name"] == "Acme"


def test_roll_ups_filtered_on_the_re_pointed_lookup_are_recomputed(
    steps: TestClient, merged: dict[str, int]
) -> None:
    assert _get(steps, "project", merged["project"])["acme_notes"] == 2


def test_duplicate_keys_of_a_record_re_pointed_by_a_merge_follow_the_lookup(
    steps: TestClient, merged: dict[str, int]
) -> None:
    """Both notes now say "t" about Acme: a third one like them matches both."""
    twin = steps.post(f"{RECORDS}/note", json={"text": "t", "contact": merged["keep"]})
    assert twin.status_code == 201, twin.text
    assert sorted(d["id"] for d in twin.json()["_duplicates"]) == [merged["first"], merged["moved"]]


@pytest.fixture
def transferred(steps: TestClient, rep: TestClient) -> dict[str, int]:
    """Two tasks the administrator created (and so owns) on one board; the rep then takes
    the first one. Before the transfer both were kept by their creator."""
    board = steps.post(f"{RECORDS}/board", json={"name": "b"}).json()["id"]
    tasks = []
    for title in ("one", "two"):
        r = steps.post(f"{RECORDS}/task", json={"title": title, "board": board})
        assert r.status_code == 201, r.text
        # A plain update computes the formula from the stored row (owner and creator known).
        r = steps.patch(f"{RECORDS}/task/{r.json()['id']}", json={"title": title + "!"})
        assert r.status_code == 200, r.text
        tasks.append(r.json()["id"])
    assert [_get(steps, "task", t)["kept_by_creator"] for t in tasks] == [True, True]
    assert _get(steps, "board", board)["self_owned"] == 2
    r = rep.post(f"{RECORDS}/task/transfer", json={"ids": [tasks[0]], "owner": _me(rep)})
    assert r.status_code == 200, r.text
    assert r.json()["transferred"] == [tasks[0]]
    return {"board": board, "moved": tasks[0], "kept": tasks[1]}


def test_formulas_of_a_transferred_record_read_the_new_owner(
    steps: TestClient, rep: TestClient, transferred: dict[str, int]
) -> None:
    moved, kept = _get(steps, "task", transferred["moved"]), _get(steps, "task", transferred["kept"])
    assert (moved["owner"], moved["updated_by"]) == (_me(rep), _me(rep))
    assert (moved["kept_by_creator"], kept["kept_by_creator"]) == (False, True)


def test_roll_ups_filtered_on_the_owner_are_recomputed_after_a_transfer(
    steps: TestClient, transferred: dict[str, int]
) -> None:
    assert _get(steps, "board", transferred["board"])["self_owned"] == 1
