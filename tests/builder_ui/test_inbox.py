"""Browser tests of approvals, the inbox, the header's unread count, menus and a public form, on
a server of their own with the flow engine and its notification centre installed (the session's
server in conftest has no flow engine, and shows none of this)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

import builder_ui.plugin
import flow_engine.notify.plugin
import flow_engine.plugin
from engine import Platform, Settings
from engine.identity.users import create_user
from tests.builder_ui.conftest import ADMIN, APP, PACKAGE, REP, api_caller, serve, shot, sign_in
from tests.conftest import TEST_HASH_COST

Api = Callable[..., Any]
MANAGER = ("mgr", "mgr-password-1")
INTAKE = ("intake", "intake-password-1")
FLOW = {
    "name": "deal_approval",
    "label": {"zh": "商机审批", "en": "Deal approval"},
    "entity": "deal",
    "trigger": {"type": "manual"},
    "nodes": [
        {"id": "start", "type": "start", "next": "copy"},
        {"id": "copy", "type": "cc", "to": [{"user": "mgr"}], "next": "tell"},
        {
            "id": "tell",
            "type": "action",
            "next": "review",
            "actions": [
                {
                    "type": "notify",
                    "to": [{"user": "mgr"}],
                    "title": {"zh": "待审批：{title}", "en": "To approve: {title}"},
                    "body": {"zh": "金额 {amount}", "en": "Amount {amount}"},
                }
            ],
        },
        {"id": "review", "type": "approval", "mode": "any", "approvers": [{"user": "mgr"}], "next": "end"},
        {"id": "end", "type": "end", "result": "approved"},
    ],
}
FILL = {
    "name": "deal_follow_up",
    "label": {"zh": "商机跟进", "en": "Deal follow-up"},
    "entity": "deal",
    "trigger": {"type": "manual"},
    "nodes": [
        {"id": "start", "type": "start", "next": "update"},
        {
            "id": "update",
            "type": "task",
            "title": {"zh": "更新商机进展", "en": "Update the deal"},
            "assignee": [{"user": "rep"}],
            "fields": ["stage", "amount", "notes"],
            "next": "end",
        },
        {"id": "end", "type": "end"},
    ],
}
TWO_STEP = {
    "name": "deal_two_step",
    "label": {"zh": "两级审批", "en": "Two-step approval"},
    "entity": "deal",
    "trigger": {"type": "manual"},
    "nodes": [
        {"id": "start", "type": "start", "next": "first"},
        {"id": "first", "type": "approval", "label": {"zh": "初审", "en": "First review"},
         "approvers": [{"user": "mgr"}], "next": "second"},
        {"id": "second", "type": "approval", "label": {"zh": "复审", "en": "Second review"},
         "approvers": [{"user": "mgr"}], "next": "end"},
        {"id": "end", "type": "end", "result": "approved"},
    ],
}  # fmt: skip
MENUS = [
    {"name": "sales", "label": {"zh": "销售", "en": "Sales"}, "icon": "briefcase", "order": 1,
     "items": [{"entity": "deal", "icon": "chart"}, {"entity": "account", "icon": "building"}]},
]  # fmt: skip


@pytest.fixture(scope="module")
def flow_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The test app with an approval flow and menus; a rep submits, a manager approves."""
    folder = tmp_path_factory.mktemp("ui-flows")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'tangram.db'}",
        data_dir=folder / "data",
        secret_key="ui-flow-secret",
        password_hash_cost=TEST_HASH_COST,
    )
    # no report engine: the app's home is "my workspace", and nothing asks for a dashboard
    plugins = [flow_engine.plugin, flow_engine.notify.plugin.PLUGIN, builder_ui.plugin]
    platform = Platform(settings, plugins=plugins, load_entry_points=False)
    platform.init_database()
    with platform.db.begin() as conn:
        create_user(conn, *ADMIN, is_admin=True, hash_cost=TEST_HASH_COST)
        rep = create_user(conn, *REP, display_name="李娜", hash_cost=TEST_HASH_COST)
        mgr = create_user(conn, *MANAGER, display_name="王经理", hash_cost=TEST_HASH_COST)
        intake = create_user(conn, *INTAKE, display_name="官网", hash_cost=TEST_HASH_COST)
    package = copy.deepcopy(json.loads(PACKAGE.read_text("utf-8")))
    package["flows"] = [FLOW, FILL, TWO_STEP]
    package["menus"] = MENUS
    package["roles"].append(
        {"name": "manager", "label": {"zh": "经理", "en": "Manager"},
         "permissions": {"deal": {"read": True}, "account": {"read": True}, "deal_line": {"read": True}}}
    )  # fmt: skip
    calls = api_caller(platform)
    api = next(calls)
    api("POST", "/api/apps", json=package)
    api("POST", f"/api/apps/{APP}/flows/deal_approval/publish")
    for flow in (FILL, TWO_STEP):
        api("POST", f"/api/apps/{APP}/flows/{flow['name']}/publish")
    for user, role in ((rep, "rep"), (mgr, "manager"), (intake, "rep")):
        api("PUT", f"/api/apps/{APP}/users/{user}/roles", json={"roles": [role]})
    calls.close()
    try:
        yield platform
    finally:
        platform.close()


@pytest.fixture(scope="module")
def server(flow_platform: Platform) -> Iterator[str]:
    yield from serve(flow_platform)


@pytest.fixture(scope="module")
def fapi(server: str, flow_platform: Platform) -> Iterator[Api]:
    yield from api_caller(flow_platform)


def _deal(fapi: Api, title: str, amount: int = 1000) -> int:
    return int(
        fapi("POST", f"/api/apps/{APP}/records/deal", user=REP, json={"title": title, "amount": amount})["id"]
    )


def _tasks_on(
    fapi: Api, deal: int, user: tuple[str, str] = ADMIN, *, cc: bool = True
) -> list[dict[str, Any]]:
    """``user``'s open tasks on one deal, carbon copies too unless ``cc`` is false."""
    found = fapi("GET", "/api/tasks", user=user)
    return [t for t in found if t["record_id"] == deal and (cc or t["kind"] != "cc")]


def _instances(fapi: Api, deal: int) -> list[dict[str, Any]]:
    return list(fapi("GET", f"/api/apps/{APP}/records/deal/{deal}/flow-instances", user=REP))


def test_rep_submits_for_approval_and_withdraws_on_the_record_page(
    page: Page, problems: list[str], fapi: Api, server: str
) -> None:
    deal = _deal(fapi, "撤回测试商机")
    sign_in(page, REP, f"{server}/ui/{APP}/deal/{deal}")
    card = page.locator("#approval")
    expect(card).to_contain_text("尚未提交审批")
    card.get_by_role("button", name="提交：商机审批").click()
    expect(card.locator(".status")).to_have_text("审批中")
    expect(card.locator(".waiting")).to_have_text("当前审批人：王经理")
    expect(card.locator(".steps li[data-action=started]")).to_contain_text("李娜")
    assert [i["status"] for i in _instances(fapi, deal)] == ["running"]
    shot(page, "record-approval-zh")
    card.get_by_role("button", name="撤回").click()
    expect(card.locator(".status")).to_have_text("已撤回")
    expect(card.get_by_role("button", name="提交：商机审批")).to_be_visible()
    assert [i["status"] for i in _instances(fapi, deal)] == ["withdrawn"]
    assert problems == []


def test_manager_approves_in_the_inbox_and_the_record_shows_approved(
    page: Page, problems: list[str], fapi: Api, server: str
) -> None:
    deal = _deal(fapi, "收件箱审批商机", 88000)
    fapi("POST", f"/api/apps/{APP}/records/deal/{deal}/flows/deal_approval", user=REP)
    mine = _tasks_on(fapi, deal, MANAGER)
    assert sorted(t["kind"] for t in mine) == ["approval", "cc"]
    sign_in(page, MANAGER, f"{server}/ui/inbox")
    task = page.locator(f"#tasks li[data-task='{next(t['id'] for t in mine if t['kind'] == 'approval')}']")
    expect(task).to_contain_text("收件箱审批商机")
    expect(task).to_contain_text("商机审批")
    expect(page.locator("#cc")).to_contain_text("收件箱审批商机")
    expect(page.locator("#notifications li.notification").first).to_be_visible()
    shot(page, "inbox-zh")
    task.locator("textarea").fill("同意，价格合理")
    task.get_by_role("button", name="同意").click()
    expect(page.locator(f"#tasks li[data-task='{task.get_attribute('data-task')}']")).to_have_count(0)
    [instance] = _instances(fapi, deal)
    assert instance["status"] == "approved"
    page.locator("#cc li", has_text="收件箱审批商机").get_by_role("link").click()
    card = page.locator("#approval")
    expect(card.locator(".status")).to_have_text("已通过")
    expect(card.locator(".steps li[data-action=approve]")).to_contain_text("王经理")
    expect(card.locator(".steps li[data-action=approve] .comment")).to_have_text("同意，价格合理")
    expect(page.locator("#history li").first).to_be_visible()  # the page has settled
    page.click(".lang button[data-lang=en]")
    expect(page.locator("#approval .status")).to_have_text("Approved")
    expect(page.locator("#history li").first).to_be_visible()
    shot(page, "record-approval-en")
    page.goto(f"{server}/ui/inbox")
    expect(page.locator("#tasks-title")).to_contain_text("Awaiting my approval")
    expect(page.locator("#cc li.task").first).to_be_visible()
    expect(page.locator("#notifications li.notification").first).to_be_visible()
    shot(page, "inbox-en")
    page.click(".lang button[data-lang=zh]")
    expect(page.locator("#tasks-title")).to_contain_text("待我审批")
    assert problems == []


def test_an_approver_attaches_a_file_that_the_record_pages_step_log_offers(
    page: Page, problems: list[str], fapi: Api, server: str, tmp_path: Path
) -> None:
    deal = _deal(fapi, "附件审批商机", 66000)
    fapi("POST", f"/api/apps/{APP}/records/deal/{deal}/flows/deal_approval", user=REP)
    [task] = _tasks_on(fapi, deal, MANAGER, cc=False)
    scan = tmp_path / "盖章合同.pdf"
    scan.write_bytes(b"%PDF-1.4\n% signed and stamped\n%%EOF\n")
    sign_in(page, MANAGER, f"{server}/ui/inbox")
    item = page.locator(f"#tasks li[data-task='{task['id']}']")
    item.locator("input.task-files").set_input_files(str(scan))
    expect(item.locator(".task-attachments li.file")).to_contain_text("盖章合同.pdf")
    item.locator("textarea").fill("已盖章")
    shot(page, "inbox-attachment-zh")
    item.get_by_role("button", name="同意").click()
    expect(page.locator(f"#tasks li[data-task='{task['id']}']")).to_have_count(0)
    page.goto(f"{server}/ui/{APP}/deal/{deal}")
    link = page.locator("#approval .steps li[data-action=approve] .step-files a")
    expect(link).to_have_text("盖章合同.pdf")
    shot(page, "record-attachment-zh")
    got = page.request.get(f"{server}{link.get_attribute('href')}")
    assert got.status == 200 and got.body() == scan.read_bytes()
    assert problems == []


def test_a_fill_in_task_is_completed_in_the_inbox_with_its_fields(
    page: Page, problems: list[str], fapi: Api, server: str
) -> None:
    deal = _deal(fapi, "待跟进商机", 0)
    fapi("POST", f"/api/apps/{APP}/records/deal/{deal}/flows/deal_follow_up", user=REP)
    [task] = _tasks_on(fapi, deal, REP)
    sign_in(page, REP, f"{server}/ui/inbox")
    item = page.locator(f"#tasks li[data-task='{task['id']}']")
    expect(item).to_contain_text("商机跟进")
    form = item.locator(".fill-form")
    expect(form.locator(".form-field")).to_have_count(3)  # just the task's fields, none of the others
    expect(form.locator(".label")).to_have_text(["阶段", "金额", "备注"])
    form.locator("[data-field=stage] select").select_option("won")  # won needs an amount: refused
    form.locator("[data-field=notes] textarea").fill("客户已签字")
    item.get_by_role("button", name="完成").click()
    expect(form.locator("[data-field=amount] .field-error")).to_have_text("赢单的商机必须填写金额")
    assert fapi("GET", f"/api/apps/{APP}/records/deal/{deal}", user=REP)["stage"] != "won"  # nothing kept
    expect(form.locator("[data-field=notes] textarea")).to_have_value("客户已签字")  # what was typed stays
    form.locator("[data-field=amount] input").fill("120000")
    item.get_by_role("button", name="完成").click()
    expect(page.locator(f"#tasks li[data-task='{task['id']}']")).to_have_count(0)
    record = fapi("GET", f"/api/apps/{APP}/records/deal/{deal}", user=REP)
    assert (record["stage"], record["amount"], record["notes"]) == ("won", "120000.00", "客户已签字")
    assert [i["status"] for i in _instances(fapi, deal)] == ["done"]
    assert _expected_refusal(problems) == []


def test_an_approver_returns_the_request_to_an_earlier_step(
    page: Page, problems: list[str], fapi: Api, server: str
) -> None:
    deal = _deal(fapi, "两级审批商机")
    fapi("POST", f"/api/apps/{APP}/records/deal/{deal}/flows/deal_two_step", user=REP)
    [first] = _tasks_on(fapi, deal, MANAGER)
    sign_in(page, MANAGER, f"{server}/ui/inbox")
    item = page.locator(f"#tasks li[data-task='{first['id']}']")
    expect(item.locator(".return-target")).to_have_count(0)  # nothing before the first step
    item.get_by_role("button", name="同意").click()
    expect(item).to_have_count(0)
    [second] = _tasks_on(fapi, deal, MANAGER)
    item = page.locator(f"#tasks li[data-task='{second['id']}']")
    expect(item.locator(".return-target option")).to_have_text(["初审"])
    item.locator("textarea").fill("金额需重新核对")
    item.get_by_role("button", name="退回到此步").click()
    expect(item).to_have_count(0)
    [again] = _tasks_on(fapi, deal, MANAGER)
    assert again["node"] == "first" and again["id"] not in (first["id"], second["id"])
    expect(page.locator(f"#tasks li[data-task='{again['id']}']")).to_be_visible()
    [instance] = _instances(fapi, deal)
    steps = fapi("GET", f"/api/flow-instances/{instance['id']}", user=MANAGER)["steps"]
    returned = next(s for s in steps if s["action"] == "return")
    expected = ("second", "金额需重新核对", {"to": "first"})
    assert (returned["node"], returned["comment"], returned["details"]) == expected
    assert problems == []


def _expected_refusal(problems: list[str]) -> list[str]:
    """The test's own refused completion (a 422 and the console line reporting it) removed."""
    return [p for p in problems if not ("422" in p and "/complete" in p) and "status of 422" not in p]


def test_transfer_picks_a_colleague_from_the_directory(
    page: Page, problems: list[str], fapi: Api, server: str
) -> None:
    deal = _deal(fapi, "转交商机")
    fapi("POST", f"/api/apps/{APP}/records/deal/{deal}/flows/deal_approval", user=REP)
    [task] = _tasks_on(fapi, deal, MANAGER, cc=False)
    sign_in(page, MANAGER, f"{server}/ui/inbox")
    item = page.locator(f"#tasks li[data-task='{task['id']}']")
    item.get_by_role("combobox", name="转交").select_option(label="admin")
    item.locator("button[data-verb=transfer]").click()
    expect(page.locator(f"#tasks li[data-task='{task['id']}']")).to_have_count(0)
    admin_tasks = _tasks_on(fapi, deal)
    assert [(t["kind"], t["transferred_from"]) for t in admin_tasks] == [("approval", task["assignee"])]
    assert problems == []


def test_header_counts_unread_notifications_until_they_are_read(
    page: Page, problems: list[str], fapi: Api, server: str
) -> None:
    deal = _deal(fapi, "通知商机")
    fapi("POST", f"/api/apps/{APP}/records/deal/{deal}/flows/deal_approval", user=REP)
    unread = fapi("GET", "/api/notifications", user=MANAGER)["unread"]
    assert unread >= 1
    sign_in(page, MANAGER, f"{server}/ui/{APP}/deal")
    expect(page.locator("#unread-count")).to_have_text(str(unread))
    expect(page.locator("#records tbody tr").first).to_be_visible()  # the list has settled
    page.click("#inbox-link")
    expect(page.locator("#notifications li.unread")).to_have_count(min(unread, 50))
    page.click("#read-all")
    expect(page.locator("#notifications li.unread")).to_have_count(0)
    expect(page.locator("#unread-count")).to_be_hidden()
    assert fapi("GET", "/api/notifications", user=MANAGER)["unread"] == 0
    assert problems == []


def test_navigation_follows_the_packages_menus(page: Page, problems: list[str], server: str) -> None:
    sign_in(page, REP, f"{server}/ui/{APP}/account")
    nav = page.locator("#nav")
    expect(nav.locator(".group.sub")).to_have_text(["销售"])
    expect(nav.locator("a[data-entity]")).to_have_text(["商机", "客户"])
    expect(nav.locator("a[data-entity=deal] svg.icon")).to_have_count(1)
    assert problems == []


def test_a_stranger_fills_in_a_public_form_and_gets_thanks_only(
    page: Page, problems: list[str], fapi: Api, server: str
) -> None:
    published = fapi(
        "POST", "/ui/api/public-forms", json={"app": APP, "entity": "account", "user": INTAKE[0]}
    )
    before = fapi("GET", f"/api/apps/{APP}/records/account", params={"q": "官网来客"})["total"]
    page.goto(server + published["url"])
    expect(page.locator("#public-form")).to_be_visible()
    expect(page.locator("#sign-out")).to_have_count(0)
    page.fill("#f-name", "官网来客有限公司")
    page.select_option("#f-grade", "B")
    page.fill("#f-region", "华东")
    shot(page, "public-form-zh")
    page.wait_for_timeout(1100)  # the challenge refuses a form sent within a second of loading
    page.click("#submit")
    expect(page.locator("#thanks")).to_have_text("提交成功，感谢您的反馈！")
    expect(page.locator("#public-form")).to_be_hidden()
    found = fapi("GET", f"/api/apps/{APP}/records/account", params={"q": "官网来客"})
    assert found["total"] == before + 1
    [made] = [r for r in found["items"] if r["name"] == "官网来客有限公司"]
    intake = next(u["id"] for u in fapi("GET", "/api/directory/users") if u["name"] == "官网")
    assert (made["owner"], made["grade"], made["region"]) == (intake, "B", "华东")
    page.goto(server + published["url"] + "?lang=en")
    expect(page.locator("#submit")).to_have_text("Submit")
    shot(page, "public-form-en")
    assert problems == []


def test_the_current_approver_rejects_on_the_record_page(
    page: Page, problems: list[str], fapi: Api, server: str, tmp_path: Path
) -> None:
    deal = _deal(fapi, "记录页驳回商机")
    fapi("POST", f"/api/apps/{APP}/records/deal/{deal}/flows/deal_approval", user=REP)
    sign_in(page, MANAGER, f"{server}/ui/{APP}/deal/{deal}")
    card = page.locator("#approval")
    expect(card.locator(".status")).to_have_text("审批中")
    expect(card.locator("#withdraw")).to_have_count(0)  # only the submitter withdraws
    card.locator("textarea").fill("金额需复核")
    sheet = tmp_path / "核算表.csv"
    sheet.write_text("金额,复核\n1000,否\n", "utf-8")
    card.locator("input.task-files").set_input_files(str(sheet))
    expect(card.locator(".task-attachments li.file")).to_contain_text("核算表.csv")
    shot(page, "record-approver-zh")
    card.get_by_role("button", name="驳回").click()
    expect(card.locator(".status")).to_have_text("已驳回")
    expect(card.locator(".steps li[data-action=reject] .comment")).to_have_text("金额需复核")
    expect(card.locator(".steps li[data-action=reject] .step-files a")).to_have_text("核算表.csv")
    assert [i["status"] for i in _instances(fapi, deal)] == ["rejected"]
    assert problems == []


def test_without_dashboards_the_home_shows_my_tasks_and_recent_records(
    page: Page, problems: list[str], fapi: Api, server: str
) -> None:
    deal = _deal(fapi, "工作台商机")
    fapi("POST", f"/api/apps/{APP}/records/deal/{deal}/flows/deal_approval", user=REP)
    waiting = [t for t in fapi("GET", "/api/tasks", user=MANAGER, params={"app": APP}) if t["kind"] != "cc"]
    latest = fapi(
        "GET", f"/api/apps/{APP}/records/deal", user=MANAGER, params={"sort": "-updated_at", "limit": 5}
    )
    sign_in(page, MANAGER, f"{server}/ui/{APP}")
    expect(page.locator("#home h1")).to_have_text("我的工作台")
    expect(page.locator("#home-tasks .badge")).to_have_text(str(len(waiting)))
    expect(page.locator("#home-tasks li").last).to_contain_text("工作台商机")
    expect(page.locator("#home section[data-entity]")).to_have_count(2)
    assert (
        page.locator("#home section[data-entity]").first.get_attribute("data-entity") == "deal"
    )  # menu order
    recent = page.locator("#home section[data-entity=deal] li")
    expect(recent).to_have_text([r["title"] for r in latest["items"]])
    shot(page, "home-workspace-zh")
    assert problems == []


def test_an_administrator_publishes_and_closes_a_public_form(
    page: Page, problems: list[str], fapi: Api, server: str
) -> None:
    before = {f["id"] for f in fapi("GET", "/ui/api/public-forms")}
    sign_in(page, ADMIN, f"{server}/ui/public-forms")
    expect(page.locator("#pf-app")).to_have_value(APP)  # the only app
    expect(page.locator("#pf-form option")).not_to_have_count(0)
    page.select_option("#pf-entity", "deal")
    expect(page.locator("#pf-form option[value=main]")).to_have_count(1)
    page.select_option("#pf-form", "main")
    page.select_option("#pf-user", label="官网")
    page.click("#publish-form button[type=submit]")
    rows = page.locator("#public-forms tbody tr")
    expect(rows).to_have_count(len(before) + 1)
    [made] = [f for f in fapi("GET", "/ui/api/public-forms") if f["id"] not in before]
    assert (made["entity"], made["form"], made["enabled"]) == ("deal", "main", True)
    row = page.locator(f"#public-forms tr[data-form='{made['id']}']")
    expect(row.get_by_role("link")).to_have_attribute("href", server + made["url"])
    shot(page, "public-forms-admin-zh")
    row.get_by_role("button", name="停用").click()
    expect(page.locator(f"#public-forms tr[data-form='{made['id']}']")).to_have_attribute(
        "data-enabled", "false"
    )
    assert [f["enabled"] for f in fapi("GET", "/ui/api/public-forms") if f["id"] == made["id"]] == [False]
    assert problems == []
