"""Two server processes on one database (two ``Platform`` objects, each with its own runtime
cache and connection pool): while one migrates an entity, the other keeps reading and writing
it — no 5xx, and every answer right for the version it was served with."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine import SYSTEM, Platform, Settings
from engine.apps import metadata_store
from engine.http import create_app

from .conftest import ADMIN, sales_app, sign_in

DEAL_URL = "/api/apps/sales/entities/deal"
DEALS = "/api/apps/sales/records/deal"


def _deal() -> dict[str, Any]:
    return sales_app()["entities"][1]


def _field(definition: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in definition["fields"] if f["name"] == name)


def _changes() -> list[dict[str, Any]]:
    """A rename, an added field, a removed field and a retype, one version each."""
    renamed = _deal()
    _field(renamed, "notes").update(id="notes", name="remarks")
    added = {
        **renamed,
        "fields": [
            *renamed["fields"],
            {"name": "priority", "type": "integer", "label": {"zh": "优先级", "en": "Priority"}},
        ],
    }
    removed = {**added, "fields": [f for f in added["fields"] if f["name"] != "won"]}
    retyped = {**removed, "fields": [dict(f) for f in removed["fields"]]}
    _field(retyped, "quantity").update(id="quantity", type="number", scale=2)
    return [renamed, added, removed, retyped]


@pytest.fixture
def other(settings: Settings, sales: TestClient) -> Iterator[TestClient]:
    """The admin on a second process, its runtime of the sales app already cached."""
    second = Platform(settings, load_entry_points=False)
    try:
        with TestClient(create_app(platform=second)) as client:
            client.headers.update(sign_in(client, *ADMIN))
            assert client.get(DEALS).status_code == 200
            yield client
    finally:
        second.close()


def test_another_process_reads_and_writes_through_migrations_without_a_5xx(
    sales: TestClient, other: TestClient
) -> None:
    stop = threading.Event()
    statuses: Counter[int] = Counter()
    created: list[int] = []
    problems: list[str] = []

    def traffic() -> None:
        client = TestClient(other.app, headers=dict(other.headers))
        while not stop.is_set():
            r = client.post(DEALS, json={"title": "during", "quantity": 3})
            statuses[r.status_code] += 1
            if r.status_code == 201:
                created.append(r.json()["id"])
                if r.json()["quantity"] not in (3, "3.00"):
                    problems.append(r.text)
            listed = client.get(DEALS, params={"filter": "quantity >= 3", "limit": 5})
            statuses[listed.status_code] += 1
            if listed.status_code == 200 and any(d["title"] != "during" for d in listed.json()["items"]):
                problems.append(listed.text)

    workers = [threading.Thread(target=traffic) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        for definition in _changes():
            r = sales.put(DEAL_URL, json=definition)
            assert r.status_code == 200, r.text
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert set(statuses) <= {200, 201}, statuses
    assert statuses[201] > 0 and not problems, problems[:3]
    # Every create of the other process is there, under the last version's types.
    total = other.get(DEALS, params={"filter": "quantity == 3", "limit": 1}).json()["total"]
    assert total == len(created)
    record = other.get(f"{DEALS}/{created[-1]}").json()
    assert record["quantity"] == "3.00" and "remarks" in record and "priority" in record
    assert "won" not in record and "notes" not in record


def test_a_transaction_that_read_the_old_version_runs_on_the_old_tables(
    sales: TestClient, other: TestClient, platform: Platform, database_url: str
) -> None:
    """The race of the review: a request resolved the app, then another process migrated
    before its query ran. It runs on the tables it was compiled for (the migration waits on
    PostgreSQL; SQLite's snapshot keeps them), and the next request sees the new version."""
    assert other.post(DEALS, json={"title": "before", "notes": "kept"}).status_code == 201
    second: Platform = other.app.state.platform  # type: ignore[attr-defined]
    renamed = _changes()[0]
    with second.db.connect() as conn:
        runtime = second.runtime(conn, "sales")
        table = runtime.entity("deal").table
        migration = threading.Thread(target=lambda: sales.put(DEAL_URL, json=renamed))
        migration.start()
        _wait_until_migrated_or_waiting(platform, migration, database_url)
        rows = conn.execute(sa.select(table.c.title, table.c.notes)).all()
        assert [(r.title, r.notes) for r in rows] == [("before", "kept")]
    migration.join()
    listed = other.get(DEALS, params={"filter": "remarks == 'kept'"})
    assert listed.status_code == 200, listed.text
    assert [d["title"] for d in listed.json()["items"]] == ["before"]
    assert other.get(DEALS, params={"filter": "notes == 'kept'"}).status_code == 422


def _wait_until_migrated_or_waiting(platform: Platform, migration: threading.Thread, url: str) -> None:
    """Until the migration either finished (SQLite: nothing holds it) or waits for the open
    transaction's hold on the app (PostgreSQL)."""
    postgres = sa.make_url(url).get_backend_name() == "postgresql"
    for _ in range(2000):
        migration.join(0.01)
        if not migration.is_alive():
            assert not postgres, "the migration did not wait for the transaction on the old version"
            return
        if postgres:
            with platform.db.connect() as conn:
                waiting = conn.execute(
                    sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                ).scalar()
            if waiting:
                return
    raise AssertionError("the migration neither finished nor waited")


NOTES_APP = {
    "name": "notes",
    "label": {"zh": "笔记", "en": "Notes"},
    "entities": [
        {
            "name": "note",
            "label": {"zh": "笔记", "en": "Note"},
            "fields": [{"name": "text", "type": "text", "label": {"zh": "内容", "en": "Text"}}],
        }
    ],
}
NOTES = "/api/apps/notes/records/note"


def test_a_migration_holds_up_other_apps_writes_only_as_long_as_the_database_allows(
    sales: TestClient, settings: Settings, platform: Platform, database_url: str
) -> None:
    """PostgreSQL: a migration holds its own app's tables, other apps write on. SQLite: the
    file has one write lock, held by the migration for its whole length; a write of another
    app waits up to the busy timeout, then answers 503 with Retry-After and changes nothing."""
    assert sales.post("/api/apps", json=NOTES_APP).status_code == 201
    impatient = Platform(
        settings.model_copy(update={"sqlite_busy_timeout_seconds": 0.2}), load_entry_points=False
    )
    try:
        with TestClient(create_app(platform=impatient)) as client:
            client.headers.update(sign_in(client, *ADMIN))
            assert client.get(NOTES).status_code == 200  # the token's first use is noted now
            with platform.db.begin() as conn:  # a migration of the sales app, not yet committed
                metadata_store.put_entity(conn, "sales", _changes()[0], "deal", SYSTEM)
                r = client.post(NOTES, json={"text": "during"})
                if sa.make_url(database_url).get_backend_name() == "sqlite":
                    assert r.status_code == 503, r.text
                    assert r.headers["retry-after"] == "5" and r.json()["error"]["code"] == "database_busy"
                else:
                    assert r.status_code == 201, r.text
                assert client.get(NOTES).status_code == 200  # reads never wait
            assert client.post(NOTES, json={"text": "after"}).status_code == 201
            texts = sorted(n["text"] for n in client.get(NOTES).json()["items"])
            expected = (
                ["after"] if sa.make_url(database_url).get_backend_name() == "sqlite" else ["after", "during"]
            )
            assert texts == expected
    finally:
        impatient.close()
