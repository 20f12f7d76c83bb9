"""Duplicate and unique answers are no oracle: a conflict names a record only to someone who
may read it with the matched fields in full; other conflicts are refused blindly and rationed.

The first test replays the review's probe: one bulk of 10,000 candidate phones against a phone
the rep sees masked (and another against a phone outside her scope) recovered the number in one
request. Now it recovers nothing, and the next probe is refused whatever it would have matched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine import Platform
from engine.http import create_app
from engine.records.blind_conflicts import BUDGET
from engine.schema import system_tables as st

from .probe_app import CUSTOMERS, Probe, build_probe

MASKED_PHONE = "13790412222"  # alice's own customer; she sees 137****2222
BOBS_PHONE = "13912345678"  # bob's customer; outside alice's scope


@pytest.fixture
def probe(platform: Platform) -> Iterator[Probe]:
    app = create_app(platform=platform)
    with TestClient(app):
        yield build_probe(platform, app)


def _error(r: Any) -> dict[str, Any]:
    return r.json()["error"]


def _count(probe: Probe) -> int:
    with probe.platform.db.connect() as conn:
        table = probe.platform.cached_runtime("crm").entity("customer").table
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _charges(probe: Probe, who: str) -> list[int]:
    with probe.platform.db.connect() as conn:
        rows = conn.execute(
            sa.select(st.audit.c.details).where(
                st.audit.c.event == "blind_conflict", st.audit.c.actor == probe.users[who]
            )
        )
        return [details["cost"] for (details,) in rows]


def _assert_blind(r: Any, *secrets: str) -> None:
    assert r.status_code == 409, r.text
    error = _error(r)
    assert error["code"] == "duplicate_hidden"
    assert not error.get("details") and not error["problems"]
    for secret in secrets:
        assert secret not in r.text


def test_the_10000_candidate_bulk_probe_recovers_nothing(probe: Probe) -> None:
    mine = probe.customer("alice", name="mine", phone=MASKED_PHONE)
    bobs = probe.customer("bob", name="bob's", phone=BOBS_PHONE)
    alice, dave = probe.client("alice"), probe.client("dave")
    assert alice.get(f"{CUSTOMERS}/{mine['id']}").json()["phone"] == "137****2222"
    before = _count(probe)

    items = [{"name": f"o{i}", "phone": f"137{i:04d}2222"} for i in range(10_000)]
    r = alice.post(f"{CUSTOMERS}/bulk", json={"items": items})
    _assert_blind(r, "9041", "0412222", f'"id":{mine["id"]}')
    assert "item" not in r.text and "existing_id" not in r.text

    items = [{"name": f"o{i}", "phone": f"1391234{i:04d}"} for i in range(10_000)]
    r = dave.post(f"{CUSTOMERS}/bulk", json={"items": items})
    _assert_blind(r, "5678", f'"id":{bobs["id"]}')

    assert _count(probe) == before  # nothing written
    assert _charges(probe, "alice") == [10_000] and _charges(probe, "dave") == [10_000]
    # The next probe is refused before it is checked: the true phone and a free one alike.
    for phone in (MASKED_PHONE, "13700000001"):
        r = alice.post(CUSTOMERS, json={"name": "again", "phone": phone})
        assert r.status_code == 429 and _error(r)["code"] == "too_many_attempts", r.text
    # Writes that no other record's values are checked against go on.
    assert alice.post(CUSTOMERS, json={"name": "no phone"}).status_code == 201


def test_one_at_a_time_blind_hits_are_rationed(probe: Probe) -> None:
    probe.customer("bob", name="bob's", phone=BOBS_PHONE)
    alice = probe.client("alice")
    for _ in range(BUDGET):
        _assert_blind(alice.post(CUSTOMERS, json={"name": "guess", "phone": BOBS_PHONE}), "bob")
    assert alice.post(CUSTOMERS, json={"name": "guess", "phone": BOBS_PHONE}).status_code == 429
    assert alice.post(CUSTOMERS, json={"name": "fresh", "phone": "13500000000"}).status_code == 429
    # Another rep's budget is their own; a manager sees the record and is told which it is.
    assert probe.client("erin").post(CUSTOMERS, json={"name": "x", "phone": "13500000000"}).status_code == 201
    r = probe.client("carol").post(CUSTOMERS, json={"name": "x", "phone": BOBS_PHONE})
    assert r.status_code == 409 and _error(r)["code"] == "duplicate_record"


def test_a_match_the_caller_may_see_names_the_record(probe: Probe) -> None:
    alice = probe.client("alice")
    own = alice.post(CUSTOMERS, json={"name": "a", "email": "a@example.com", "mobile": "13600000000"})
    assert own.status_code == 201, own.text
    mine = own.json()["id"]
    r = alice.post(CUSTOMERS, json={"name": "b", "email": "a@example.com"})
    assert r.status_code == 409 and _error(r)["details"]["existing_id"] == mine
    r = alice.post(CUSTOMERS, json={"name": "b", "mobile": "13600000000"})
    assert r.status_code == 409 and _error(r)["code"] == "duplicate_warning"
    assert _error(r)["details"]["existing_id"] == mine
    assert _charges(probe, "alice") == []  # conflicts she may see cost nothing


def test_unique_values_of_records_out_of_scope_are_refused_blindly(probe: Probe) -> None:
    carols = probe.customer("carol", name="Huawei", email="vip@huawei.com")
    alice = probe.client("alice")
    r = alice.post(CUSTOMERS, json={"name": "probe", "email": "vip@huawei.com"})
    _assert_blind(r, "Huawei", f'"existing_id":{carols["id"]}', "record 1")
    items = [{"name": f"p{i}", "email": f"u{i}@huawei.com"} for i in range(50)] + [
        {"name": "hit", "email": "vip@huawei.com"}
    ]
    r = alice.post(f"{CUSTOMERS}/bulk", json={"items": items})
    _assert_blind(r, "/items/50", '"items"')
    assert _charges(probe, "alice") == [1, 51]


def test_a_warn_match_the_caller_cannot_see_is_no_match(probe: Probe) -> None:
    bobs = probe.customer("bob", name="bob's", mobile="13600000009")
    r = probe.client("alice").post(CUSTOMERS, json={"name": "same mobile", "mobile": "13600000009"})
    assert r.status_code == 201, r.text
    assert "_duplicates" not in r.json() and str(bobs["id"]) not in str(r.json().get("_duplicates"))
    # bob, who can see his record, is warned about hers and told which his own is
    r = probe.client("bob").post(CUSTOMERS, json={"name": "again", "mobile": "13600000009"})
    assert r.status_code == 409 and _error(r)["details"]["existing_id"] == bobs["id"]
