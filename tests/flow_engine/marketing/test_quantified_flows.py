"""Flow rules that quantify over related records (``any``/``none``/``count``) run in Python with
the same meaning as a segment in SQL: live rows only, and only those the acting user may read."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import flow_engine
from tests.flow_engine.marketing.conftest import USER, Shop
from tests.flow_engine.marketing.test_segments import A_NOT_B, SEGMENTS, bought_a_not_b, members_of, populate

L = {"zh": "流程", "en": "Flow"}
CHANGES = itertools.count()
#: ``rep`` reads and edits the accounts and order lines they own; activities are all readable.
ROLES: list[dict[str, Any]] = [
    {
        "name": "rep",
        "label": L,
        "everyone": True,
        "permissions": {
            "account": {"read": {"scope": "own"}, "update": {"scope": "own"}},
            "order_line": {"read": {"scope": "own"}},
            "activity": {"read": True},
        },
    }
]


def routing(rule: str) -> dict[str, Any]:
    """A flow started by hand that ends ``approved`` when ``rule`` holds, ``done`` otherwise."""
    return {
        "name": "route",
        "label": L,
        "entity": "account",
        "trigger": {"type": "manual"},
        "nodes": [
            {"id": "start", "type": "start", "next": "check"},
            {
                "id": "check",
                "type": "condition",
                "branches": [{"when": rule, "next": "yes"}],
                "default": "no",
            },
            {"id": "yes", "type": "end", "result": "approved"},
            {"id": "no", "type": "end", "result": "done"},
        ],
    }


def triggered(rule: str) -> dict[str, Any]:
    return {
        "name": "busy",
        "label": L,
        "entity": "account",
        "trigger": {"type": "record", "on": ["updated"], "when": rule},
        "nodes": [{"id": "start", "type": "start", "next": "end"}, {"id": "end", "type": "end"}],
    }


def publish(shop: Shop, flow: dict[str, Any]) -> flow_engine.FlowService:
    service = flow_engine.FlowService(shop.platform)
    service.put_flow(shop.ctx("admin"), "shop", flow["name"], flow)
    service.publish(shop.ctx("admin"), "shop", flow["name"])
    return service


def routed(shop: Shop, service: flow_engine.FlowService, account_id: int) -> str:
    view = service.start(shop.ctx("admin"), "shop", "account", account_id, "route")
    return str(view["status"])


def started(shop: Shop, service: flow_engine.FlowService, account_id: int) -> int:
    return len(service.record_instances(shop.ctx("admin"), "shop", "account", account_id))


def touch(shop: Shop, account_id: int, as_user: str = "admin") -> None:
    """Change the account (its e-mail), which runs the flow's record trigger as ``as_user``."""
    email = f"{as_user}.{next(CHANGES)}@example.cn"
    shop.platform.records.update(shop.ctx(as_user), "shop", "account", account_id, {"email": email})


def trash(shop: Shop, entity: str, record_id: int) -> None:
    shop.platform.records.delete(shop.ctx("admin"), "shop", entity, record_id)


def test_a_condition_branch_routes_by_the_related_records(shop_factory) -> None:
    shop = shop_factory()
    service = publish(shop, routing("any(order_line via account: product == 'A')"))
    buyer, other, trashed = (shop.create("account", {"name": n}) for n in ("买家", "只买 B", "退货"))
    shop.create("order_line", {"account": buyer["id"], "product": "A"})
    shop.create("order_line", {"account": other["id"], "product": "B"})
    returned = shop.create("order_line", {"account": trashed["id"], "product": "A"})
    trash(shop, "order_line", returned["id"])
    assert [routed(shop, service, a["id"]) for a in (buyer, other, trashed)] == ["approved", "done", "done"]


def test_a_trigger_counting_related_records_starts_from_the_second(shop_factory) -> None:
    shop = shop_factory()
    service = publish(shop, triggered("count(activity via account: kind == 'visit') >= 2"))
    account = shop.create("account", {"name": "常客"})
    shop.create("activity", {"account": account["id"], "kind": "visit"})
    shop.create("activity", {"account": account["id"], "kind": "call"})
    touch(shop, account["id"])
    assert started(shop, service, account["id"]) == 0
    shop.create("activity", {"account": account["id"], "kind": "visit"})
    touch(shop, account["id"])
    assert started(shop, service, account["id"]) == 1


def test_a_trashed_related_record_is_not_counted(shop_factory) -> None:
    shop = shop_factory()
    service = publish(shop, triggered("count(activity via account: kind == 'visit') >= 2"))
    account = shop.create("account", {"name": "回头客"})
    visits = [shop.create("activity", {"account": account["id"], "kind": "visit"}) for _ in range(2)]
    trash(shop, "activity", visits[1]["id"])
    touch(shop, account["id"])
    assert started(shop, service, account["id"]) == 0


def test_a_trigger_counts_only_the_related_records_the_acting_user_may_read(shop_factory) -> None:
    """``rep`` owns the account and one of its two order lines: their change does not start the
    flow (they cannot see the second line), the same change by the admin does."""
    shop = shop_factory(roles=ROLES)
    service = publish(shop, triggered("count(order_line via account) >= 2"))
    rep = shop.user_id(USER[0])
    account = shop.create("account", {"name": "共享客户", "owner": rep})
    shop.create("order_line", {"account": account["id"], "product": "A", "owner": rep})
    shop.create("order_line", {"account": account["id"], "product": "B"})
    touch(shop, account["id"], as_user=USER[0])
    assert started(shop, service, account["id"]) == 0
    touch(shop, account["id"])
    assert started(shop, service, account["id"]) == 1


def test_a_trigger_does_not_read_a_related_field_hidden_from_the_acting_user(shop_factory) -> None:
    activity = {"read": True, "fields": {"kind": {"access": "hidden"}}}
    roles = [{**ROLES[0], "permissions": {**ROLES[0]["permissions"], "activity": activity}}]
    shop = shop_factory(roles=roles)
    service = publish(shop, triggered("any(activity via account: kind == 'visit')"))
    account = shop.create("account", {"name": "来访客户", "owner": shop.user_id(USER[0])})
    shop.create("activity", {"account": account["id"], "kind": "visit"})
    touch(shop, account["id"], as_user=USER[0])
    assert started(shop, service, account["id"]) == 0
    touch(shop, account["id"])
    assert started(shop, service, account["id"]) == 1


def test_a_flow_condition_and_a_segment_select_the_same_records(shop_factory, http_for) -> None:
    shop = shop_factory(segments=SEGMENTS)
    accounts = populate(shop, seed=23)
    # lines in the trash count in neither: a B line trashed makes an A buyer "A but not B"
    for account in accounts[:6]:
        line = shop.create("order_line", {"account": account["id"], "product": "B"})
        trash(shop, "order_line", line["id"])
    both = shop.create("account", {"name": "A 和退掉的 B"})
    shop.create("order_line", {"account": both["id"], "product": "A"})
    returned = shop.create("order_line", {"account": both["id"], "product": "B"})
    trash(shop, "order_line", returned["id"])
    expected = {a["id"] for a in accounts if bought_a_not_b(a)} | {both["id"]}
    assert 1 < len(expected) < len(accounts), "the generated data should split the accounts"
    service = publish(shop, routing(A_NOT_B))
    in_flow = {a["id"] for a in [*accounts, both] if routed(shop, service, a["id"]) == "approved"}
    in_segment, _total = members_of(http_for(shop), "a_not_b")
    assert in_flow == expected
    assert in_segment == expected


@pytest.mark.parametrize(
    ("entity", "rule", "code", "named"),
    [
        ("account", "none(order_line via account)", None, ""),
        ("order_line", "none(order_line via account)", "flow_dsl", "order_line"),
        # a flow reads related rows as stored: their lookups hold ids it does not follow
        ("account", "any(order_line via account: account.name == '甲')", "flow_related_path", "account.name"),
    ],
)
def test_a_quantifier_a_flow_cannot_evaluate_is_refused_at_save(
    shop_factory, http_for, entity: str, rule: str, code: str | None, named: str
) -> None:
    shop = shop_factory()
    flow = {**routing(rule), "entity": entity}
    admin = http_for(shop)
    r = admin.put("/api/apps/shop/flows/route", json=flow, headers={"Accept-Language": "en"})
    if code is None:
        assert r.status_code == 200, r.text
        return
    assert r.status_code == 422, r.text
    [problem] = r.json()["error"]["problems"]
    assert (problem["code"], problem["pointer"]) == (code, "/flows/0/nodes/1/branches/0/when")
    assert named in problem["message"]
    zh = admin.put("/api/apps/shop/flows/route", json=flow, headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 422, zh.text
    message = zh.json()["error"]["problems"][0]["message"]
    assert named in message and message != problem["message"]
    assert admin.get("/api/apps/shop/flows/route").status_code == 404  # nothing saved


def waiting_for(rule: str, trigger: dict[str, Any] | None = None) -> dict[str, Any]:
    """A flow (on each new account, by default) that waits until ``rule`` holds, then ends
    ``approved``."""
    return {
        "name": "await",
        "label": L,
        "entity": "account",
        "trigger": trigger or {"type": "record", "on": ["created"]},
        "nodes": [
            {"id": "start", "type": "start", "next": "hold"},
            {"id": "hold", "type": "wait", "until": rule, "next": "end"},
            {"id": "end", "type": "end", "result": "approved"},
        ],
    }


def status_of(shop: Shop, service: flow_engine.FlowService, account_id: int) -> str:
    [instance] = service.record_instances(shop.ctx("admin"), "shop", "account", account_id)
    return str(instance["status"])


def test_a_wait_on_related_records_ends_when_one_of_them_changes(shop_factory) -> None:
    """The account itself never changes: the order lines pointing at it end its wait."""
    shop = shop_factory()
    service = publish(shop, waiting_for("any(order_line via account: product == 'B')"))
    waiting, other = (shop.create("account", {"name": n}) for n in ("等 B 的客户", "别的客户"))
    shop.run_due()
    assert status_of(shop, service, waiting["id"]) == "running"
    line = shop.create("order_line", {"account": waiting["id"], "product": "A"})
    shop.create("order_line", {"account": other["id"], "product": "B"})  # another account's
    shop.run_due()
    assert status_of(shop, service, waiting["id"]) == "running"
    assert status_of(shop, service, other["id"]) == "approved"
    # a line changed to B, through the lookup it already had
    shop.platform.records.update(shop.ctx("admin"), "shop", "order_line", line["id"], {"product": "B"})
    shop.run_due()
    assert status_of(shop, service, waiting["id"]) == "approved"


def test_a_wait_counting_related_records_is_rechecked_when_one_moves_away(shop_factory) -> None:
    """A line moved from one account to another changes both counts: both waits are met."""
    shop = shop_factory()
    service = publish(shop, waiting_for("count(order_line via account) == 1", {"type": "manual"}))
    first, second = (shop.create("account", {"name": n}) for n in ("甲", "乙"))
    moved, _kept = (shop.create("order_line", {"account": first["id"], "product": p}) for p in "AB")
    for account in (first, second):
        service.start(shop.ctx("admin"), "shop", "account", account["id"], "await")
    assert [status_of(shop, service, a["id"]) for a in (first, second)] == ["running", "running"]
    shop.platform.records.update(
        shop.ctx("admin"), "shop", "order_line", moved["id"], {"account": second["id"]}
    )
    shop.run_due()
    assert [status_of(shop, service, a["id"]) for a in (first, second)] == ["approved", "approved"]
