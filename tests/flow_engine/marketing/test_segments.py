"""Dynamic segments: saved rules with quantifiers, members and counts through the record list."""

from __future__ import annotations

import random
from collections.abc import Collection
from datetime import timedelta
from typing import Any

import pytest

from engine import InvalidInput, put_section
from tests.flow_engine.marketing.conftest import USER, Shop

A_NOT_B = "any(order_line via account: product == 'A') and none(order_line via account: product == 'B')"
VISITS = (
    "count(activity via account: kind == 'visit' and at > add_days(now(), -30)) >= 3 "
    "and none(activity via account: kind == 'enquiry' and at > add_days(now(), -30))"
)
SEGMENTS = [
    {
        "name": "a_not_b",
        "label": {"zh": "买了 A 没买 B", "en": "A but not B"},
        "entity": "account",
        "rule": A_NOT_B,
    },
    {"name": "warm", "entity": "account", "rule": VISITS},
]


def populate(shop: Shop, seed: int, rep_owns: Collection[int] = ()) -> list[dict[str, Any]]:
    """Accounts with random order lines and activities; returns the accounts with what they got.
    Accounts whose index is in ``rep_owns`` (and their order lines) belong to the user ``rep``."""
    rnd = random.Random(seed)
    rep = shop.user_id(USER[0])
    now = shop.clock.now  # a segment evaluates now() at the flow engine's clock
    accounts = []
    for i in range(24):
        values: dict[str, Any] = {"name": f"acc{i}", "email": f"acc{i}@example.cn"}
        if i in rep_owns:
            values["owner"] = rep
        account = shop.create("account", values)
        products = [rnd.choice(["A", "B", "C"]) for _ in range(rnd.randint(0, 3))]
        for product in products:
            line = {"account": account["id"], "product": product}
            shop.create("order_line", {**line, **({"owner": rep} if i in rep_owns else {})})
        kinds = []
        for _ in range(rnd.randint(0, 6)):
            kind = rnd.choice(["visit", "visit", "visit", "enquiry", "call"])
            days = rnd.randint(0, 45)
            at = now - timedelta(days=days, hours=1)
            shop.create("activity", {"account": account["id"], "kind": kind, "at": at.isoformat()})
            kinds.append((kind, days))
        accounts.append({"index": i, "id": account["id"], "products": products, "activities": kinds})
    return accounts


def bought_a_not_b(account: dict[str, Any]) -> bool:
    return "A" in account["products"] and "B" not in account["products"]


def warm(account: dict[str, Any]) -> bool:
    recent = [kind for kind, days in account["activities"] if days < 30]
    return recent.count("visit") >= 3 and "enquiry" not in recent


def members_of(client: Any, segment: str, page: int = 5) -> tuple[set[int], int]:
    seen: set[int] = set()
    offset = 0
    while True:
        r = client.get(f"/api/apps/shop/segments/{segment}/members", params={"limit": page, "offset": offset})
        assert r.status_code == 200, r.text
        body = r.json()
        seen |= {item["id"] for item in body["items"]}
        offset += page
        if offset >= body["total"]:
            return seen, body["total"]


@pytest.mark.parametrize(("segment", "rule"), [("a_not_b", bought_a_not_b), ("warm", warm)])
def test_members_and_count_are_the_records_the_rule_selects(shop_factory, http_for, segment, rule) -> None:
    shop = shop_factory(segments=SEGMENTS)
    accounts = populate(shop, seed=11)
    expected = {a["id"] for a in accounts if rule(a)}
    assert expected and len(expected) < len(accounts), "the generated data should split the accounts"
    admin = http_for(shop)
    found, total = members_of(admin, segment)
    assert found == expected and total == len(expected)
    r = admin.get(f"/api/apps/shop/segments/{segment}/count")
    assert r.status_code == 200, r.text
    assert r.json()["count"] == len(expected)


def test_a_reader_sees_only_members_and_related_rows_in_their_scope(shop_factory, http_for) -> None:
    """``rep`` reads their own accounts and order lines only: the members they see are their
    own accounts, judged on the order lines they may read."""
    shop = shop_factory(segments=SEGMENTS)
    mine = set(range(0, 24, 2))
    accounts = populate(shop, seed=5, rep_owns=mine)
    # an account of rep's whose only line of product A belongs to someone else
    account = shop.create("account", {"name": "shared", "owner": shop.user_id(USER[0])})
    shop.create("order_line", {"account": account["id"], "product": "A"})
    rep = http_for(shop, USER)
    found, total = members_of(rep, "a_not_b")
    expected = {a["id"] for a in accounts if a["index"] in mine and bought_a_not_b(a)}
    assert found == expected and total == len(expected)
    admin_found, _ = members_of(http_for(shop), "a_not_b")
    assert account["id"] in admin_found and account["id"] not in found


def test_an_unknown_segment_is_404(shop_factory, http_for) -> None:
    shop = shop_factory(segments=SEGMENTS)
    r = http_for(shop).get("/api/apps/shop/segments/nope/members")
    assert r.status_code == 404, r.text
    error = r.json()["error"]
    assert error["code"] == "not_found" and "nope" in error["message"]


@pytest.mark.parametrize(
    ("rule", "column", "hint"),
    [
        ("any(order_lines via account: product == 'A')", 5, "order_line"),
        ("any(order_line via acount: product == 'A')", 20, "account"),
        ("any(order_line via account: prodcut == 'A')", 29, "product"),
    ],
)
def test_a_segment_with_a_bad_rule_is_refused_at_save(shop_factory, rule, column, hint) -> None:
    shop = shop_factory()
    with pytest.raises(InvalidInput) as info, shop.platform.db.begin() as conn:
        put_section(
            conn, "shop", "segments", [{"name": "bad", "entity": "account", "rule": rule}], shop.ctx("admin")
        )
    (problem,) = [p for p in info.value.problems if p.pointer == "/segments/0/rule"]
    assert (problem.line, problem.column) == (1, column)
    assert hint in str(problem.params["detail"])


def test_quantifying_over_an_entity_the_reader_may_not_read_is_forbidden(shop_factory, http_for) -> None:
    roles = [
        {
            "name": "rep",
            "label": {"zh": "rep", "en": "rep"},
            "everyone": True,
            "permissions": {"account": {"read": True}, "order_line": {"read": True}},
        }
    ]
    shop = shop_factory(segments=SEGMENTS, roles=roles)
    account = shop.create("account", {"name": "ann"})
    shop.create("activity", {"account": account["id"], "kind": "visit"})
    rep = http_for(shop, USER)
    r = rep.get("/api/apps/shop/segments/warm/members")
    assert r.status_code == 403, r.text
    r = rep.get("/api/apps/shop/records/account", params={"filter": "any(activity via account)"})
    assert r.status_code == 403, r.text
    r = rep.get("/api/apps/shop/records/account", params={"filter": "none(order_line via account)"})
    assert r.status_code == 200, r.text
    assert [item["id"] for item in r.json()["items"]] == [account["id"]]


def test_the_app_openapi_document_covers_each_segments_routes(shop_factory, http_for) -> None:
    shop = shop_factory(segments=SEGMENTS)
    doc = http_for(shop).get("/api/apps/shop/openapi.json")
    assert doc.status_code == 200, doc.text
    paths = doc.json()["paths"]
    assert "get" in paths["/api/apps/shop/segments"]
    for segment in ("a_not_b", "warm"):
        base = f"/api/apps/shop/segments/{segment}"
        assert "get" in paths[f"{base}/members"] and "get" in paths[f"{base}/count"]
        enrol = paths[f"{base}/enrol"]["post"]
        assert enrol["requestBody"]["content"]["application/json"]["schema"]["required"] == ["flow"]


def test_a_segments_now_is_the_flow_engines_clock(shop_factory, http_for) -> None:
    """Journeys wait on the flow engine's clock, so "visited in the last 30 days" counts from it."""
    recent = {"name": "recent", "entity": "activity", "rule": "at > add_days(now(), -30)"}
    shop = shop_factory(segments=[recent])
    account = shop.create("account", {"name": "近期访客"})
    visit = shop.create("activity", {"account": account["id"], "kind": "visit", "at": "2024-05-20T02:00:00Z"})
    admin = http_for(shop)

    def members() -> list[int]:
        r = admin.get("/api/apps/shop/segments/recent/members")
        assert r.status_code == 200, r.text
        return [item["id"] for item in r.json()["items"]]

    assert members() == [visit["id"]]  # 3 June 2024: two weeks ago
    shop.clock.advance(days=30)  # 3 July: six weeks ago
    assert members() == []
