"""The record service used from Python, as other engines and imports use it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import Context, InvalidInput, Platform, Principal, RecordEvent, RecordUpdated, StaleVersion
from engine.apps.metadata_store import import_app

from .conftest import sales_app

CTX = Context(user=Principal(id=1, username="admin", is_admin=True))


@pytest.fixture
def service_platform(platform: Platform) -> Platform:
    with platform.db.begin() as conn:
        import_app(conn, sales_app(), CTX)
    return platform


def test_bulk_create_then_update_publishes_events_with_old_values(service_platform: Platform) -> None:
    seen: list[RecordEvent] = []
    service_platform.events.subscribe(seen.append)
    records = service_platform.records.bulk_create(
        CTX, "sales", "deal", [{"title": "a", "amount": 1}, {"title": "b", "amount": "2.25"}]
    )
    assert [r["amount"] for r in records] == [Decimal("1.00"), Decimal("2.25")]
    assert [e.name for e in seen] == ["record.created", "record.created"]
    updated = service_platform.records.update(
        CTX, "sales", "deal", records[1]["id"], {"amount": "3"}, version=1
    )
    assert updated["version"] == 2
    assert seen[-1].name == "record.updated"
    last = seen[-1]
    assert isinstance(last, RecordUpdated)
    assert last.changes == {"amount": (Decimal("2.25"), Decimal("3.00"))}


def test_python_callers_get_the_same_refusals(service_platform: Platform) -> None:
    with pytest.raises(InvalidInput) as info:
        service_platform.records.create(CTX, "sales", "deal", {"amount": "lots"})
    assert {p.field for p in info.value.problems} == {"amount", "title"}
    record = service_platform.records.create(CTX, "sales", "deal", {"title": "x"})
    service_platform.records.update(CTX, "sales", "deal", record["id"], {"title": "y"})
    with pytest.raises(StaleVersion):
        service_platform.records.update(CTX, "sales", "deal", record["id"], {"title": "z"}, version=1)
    page = service_platform.records.list_records(CTX, "sales", "deal", filter="title == 'y'")
    assert page.total == 1 and page.items[0]["id"] == record["id"]


def test_a_failing_listener_never_undoes_the_write(service_platform: Platform) -> None:
    def broken(event: RecordEvent) -> None:
        raise RuntimeError("listener bug")

    service_platform.events.subscribe(broken)
    record = service_platform.records.create(CTX, "sales", "deal", {"title": "kept"})
    assert service_platform.records.get(CTX, "sales", "deal", record["id"])["title"] == "kept"
