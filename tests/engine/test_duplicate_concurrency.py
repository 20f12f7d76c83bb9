"""A ``block`` duplicate rule holds however many writers race with the same value."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from engine import SYSTEM, Platform
from engine.apps.metadata_store import import_app
from engine.records.steps import DuplicateRecord

from .fields.conftest import field, label

PACKAGE: dict[str, Any] = {
    "name": "race",
    "label": label("竞争", "Race"),
    "entities": [
        {
            "name": "person",
            "label": label("人员", "Person"),
            "fields": [field("name", "text"), field("phone", "phone")],
            "duplicate_rules": [{"name": "same_phone", "fields": ["phone"], "policy": "block"}],
        }
    ],
}
WRITERS = 12


@pytest.fixture
def race(platform: Platform) -> Platform:
    with platform.db.begin() as conn:
        import_app(conn, PACKAGE, SYSTEM)
    return platform


def test_concurrent_creates_of_one_phone_let_exactly_one_through(race: Platform) -> None:
    start = threading.Barrier(WRITERS)
    outcomes: list[str] = []

    def write(i: int) -> None:
        start.wait()
        try:
            race.records.create(SYSTEM, "race", "person", {"name": f"p{i}", "phone": "13812345678"})
            outcomes.append("created")
        except DuplicateRecord:
            outcomes.append("blocked")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["blocked"] * (WRITERS - 1) + ["created"]
    assert race.records.list_records(SYSTEM, "race", "person").total == 1
