"""``tangram_record_event`` sees one event per changed row, whichever path changed it (sub-table
rows, trash and restore of a parent, purge, merge, transfer), and nothing when a write fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import Platform, RecordEvent, Settings, hookimpl
from engine.http import create_app
from engine.identity.users import create_user

from .conftest import ADMIN, USER, sign_in

ORDERS = "/api/apps/ev/records/order"
LINES = "/api/apps/ev/records/line"


def _label(text: str) -> dict[str, str]:
    return {"zh": text, "en": text}


def _field(name: str, type_: str, **settings: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "label": _label(name), **settings}


EVENTS_APP: dict[str, Any] = {
    "name": "ev",
    "label": _label("Events"),
    "entities": [
        {
            "name": "order",
            "label": _label("Order"),
            "fields": [
                _field("title", "text"),
                _field("lines", "sub_table", entity="line", link_field="order"),
                _field("line_count", "rollup", entity="line", link_field="order", function="count"),
            ],
        },
        {
            "name": "line",
            "label": _label("Line"),
            "fields": [
                _field("order", "lookup", entity="order"),
                _field("product", "text", required=True),
                _field("qty", "integer", min=0),
                _field("code", "text"),
            ],
            "duplicate_rules": [{"name": "same_code", "fields": ["code"], "policy": "block"}],
        },
    ],
}

Seen = tuple[str, str, int]


class Spy:
    """A plugin that writes down every record event it is given."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []

    @hookimpl
    def tangram_record_event(self, event: RecordEvent, platform: Platform) -> None:
        self.seen.append((event.name, event.entity, event.record_id))

    def take(self) -> list[Seen]:
        """What was seen since the last call, in a stable order (the order is not promised)."""
        seen, self.seen = sorted(self.seen), []
        return seen


@pytest.fixture
def spy() -> Spy:
    return Spy()


@pytest.fixture
def api(settings: Settings, spy: Spy) -> Iterator[TestClient]:
    """The administrator's client on a platform with the spy registered and the app imported;
    the spy has seen nothing yet."""
    platform = Platform(settings, plugins=[spy], load_entry_points=False)
    platform.init_database()
    with platform.db.begin() as conn:
        create_user(conn, *ADMIN, is_admin=True)
        create_user(conn, *USER)
    try:
        with TestClient(create_app(platform=platform)) as client:
            client.headers.update(sign_in(client, *ADMIN))
            r = client.post("/api/apps", json=EVENTS_APP)
            assert r.status_code == 201, r.text
            spy.take()
            yield client
    finally:
        platform.close()


def _order(api: TestClient, spy: Spy, *products: str) -> tuple[int, list[int]]:
    r = api.post(ORDERS, json={"title": "o", "lines": [{"product": p} for p in products]})
    assert r.status_code == 201, r.text
    spy.take()
    return r.json()["id"], [line["id"] for line in r.json()["lines"]]


def _events(name: str, entity: str, *ids: int) -> list[Seen]:
    return [(f"record.{name}", entity, i) for i in ids]


def test_creating_a_parent_with_lines_publishes_an_event_for_each_row(api: TestClient, spy: Spy) -> None:
    r = api.post(ORDERS, json={"title": "o", "lines": [{"product": "a"}, {"product": "b"}]})
    assert r.status_code == 201, r.text
    order, lines = r.json()["id"], [line["id"] for line in r.json()["lines"]]
    assert len(lines) == 2
    assert spy.take() == sorted(_events("created", "order", order) + _events("created", "line", *lines))


def test_changing_lines_through_the_parent_publishes_an_event_for_each_changed_row(
    api: TestClient, spy: Spy
) -> None:
    order, (changed, removed, untouched) = _order(api, spy, "a", "b", "c")
    r = api.patch(
        f"{ORDERS}/{order}",
        json={"lines": [{"id": changed, "product": "a2"}, {"id": untouched}, {"product": "d"}]},
    )
    assert r.status_code == 200, r.text
    [added] = [line["id"] for line in r.json()["lines"] if line["product"] == "d"]
    assert spy.take() == sorted(
        _events("updated", "order", order)
        + _events("updated", "line", changed)
        + _events("deleted", "line", removed)
        + _events("created", "line", added)
    )


@pytest.fixture
def trashed(api: TestClient, spy: Spy) -> tuple[int, list[int], int]:
    """An order trashed with its two live lines; a third line was trashed on its own before."""
    order, (first, second, earlier) = _order(api, spy, "a", "b", "c")
    assert api.delete(f"{LINES}/{earlier}").status_code == 200
    spy.take()
    r = api.delete(f"{ORDERS}/{order}")
    assert r.status_code == 200, r.text
    return order, [first, second], earlier


def test_trashing_a_parent_publishes_an_event_for_it_and_each_live_line(
    trashed: tuple[int, list[int], int], spy: Spy
) -> None:
    order, live, _earlier = trashed
    assert spy.take() == sorted(_events("deleted", "order", order) + _events("deleted", "line", *live))


def test_restoring_a_parent_publishes_an_event_for_it_and_each_line_it_brings_back(
    api: TestClient, trashed: tuple[int, list[int], int], spy: Spy
) -> None:
    order, live, _earlier = trashed
    spy.take()
    r = api.post(f"{ORDERS}/{order}/restore")
    assert r.status_code == 200, r.text
    assert spy.take() == sorted(_events("restored", "order", order) + _events("restored", "line", *live))


def test_purging_a_parent_publishes_an_event_for_it_and_each_line_purged_with_it(
    api: TestClient, trashed: tuple[int, list[int], int], spy: Spy
) -> None:
    order, live, earlier = trashed
    spy.take()
    r = api.delete(f"{ORDERS}/{order}", params={"purge": True})
    assert r.status_code == 200, r.text
    assert api.get(f"{LINES}/{earlier}", params={"trash": True}).status_code == 404
    assert spy.take() == sorted(_events("purged", "order", order) + _events("purged", "line", *live, earlier))


def test_a_merge_publishes_events_for_both_records_and_each_re_pointed_one(api: TestClient, spy: Spy) -> None:
    keep, _kept_lines = _order(api, spy, "a")
    gone, moved = _order(api, spy, "b", "c")
    r = api.post(f"{ORDERS}/{keep}/merge", json={"from": gone})
    assert r.status_code == 200, r.text
    assert spy.take() == sorted(
        _events("updated", "order", keep)
        + _events("deleted", "order", gone)
        + _events("updated", "line", *moved)
    )


def test_a_transfer_publishes_one_update_per_record_that_changed_hands(api: TestClient, spy: Spy) -> None:
    first, _ = _order(api, spy)
    second, _ = _order(api, spy)
    rep = api.get("/api/users").json()
    [rep_id] = [u["id"] for u in rep if u["username"] == USER[0]]
    r = api.post(f"{ORDERS}/transfer", json={"ids": [first, second], "owner": rep_id})
    assert r.status_code == 200, r.text
    assert spy.take() == _events("updated", "order", first, second)


@pytest.mark.parametrize(
    ("lines", "status"),
    [
        pytest.param([{"product": "a"}, {"product": "b", "qty": -1}], 422, id="invalid-second-line"),
        pytest.param(
            [{"product": "a", "code": "X"}, {"product": "b", "code": "X"}],
            409,
            id="duplicate-line-found-after-the-parent-was-written",
        ),
    ],
)
def test_a_failed_create_publishes_nothing(
    api: TestClient, spy: Spy, lines: list[dict[str, Any]], status: int
) -> None:
    r = api.post(ORDERS, json={"title": "o", "lines": lines})
    assert r.status_code == status, r.text
    assert api.get(ORDERS).json()["total"] == 0
    assert spy.take() == []


def test_a_failed_change_through_the_parent_publishes_nothing(api: TestClient, spy: Spy) -> None:
    order, (line,) = _order(api, spy, "a")
    r = api.patch(
        f"{ORDERS}/{order}",
        json={"title": "changed", "lines": [{"id": line, "product": "a2"}, {"product": "b", "qty": -1}]},
    )
    assert r.status_code == 422, r.text
    assert api.get(f"{ORDERS}/{order}").json()["title"] == "o"
    assert spy.take() == []
