"""The generated app in a real browser, as its users would use it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.builder_ui.conftest import ADMIN, APP, REP, shot, sign_in

Api = Callable[..., Any]


def _deal(api: Api, user: tuple[str, str] = ADMIN, **values: Any) -> dict[str, Any]:
    record: dict[str, Any] = api("POST", f"/api/apps/{APP}/records/deal", user=user, json=values)
    return record


def _expected_4xx(problems: list[str], status: str) -> list[str]:
    """The problems left once the API answers the test provoked are taken out."""
    return [p for p in problems if not p.startswith(status) and "Failed to load resource" not in p]


def test_sign_in_language_switch_who_am_i_and_sign_out(page: Page, problems: list[str]) -> None:
    page.goto(f"/ui/{APP}/deal")
    expect(page).to_have_url(re.compile(r"/ui/login\?next="))
    page.click(".lang button[data-lang=zh]")
    expect(page.locator("h1")).to_have_text("登录")
    page.fill("#username", REP[0])
    page.fill("#password", REP[1])
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/ui/{APP}/deal$"))
    expect(page.locator("#title")).to_have_text("商机")
    expect(page.locator("#nav")).to_contain_text("客户")
    expect(page.locator("#nav a", has_text="商机明细")).to_have_count(0)  # saved inside a deal
    expect(page.locator("#whoami")).to_have_text(REP[0])
    page.click(".lang button[data-lang=en]")
    expect(page.locator("#title")).to_have_text("Deal")
    expect(page.locator("#nav")).to_contain_text("Account")
    page.reload()  # the choice is stored for the user
    expect(page.locator("#title")).to_have_text("Deal")
    page.click("#whoami")
    expect(page.locator("#me")).to_contain_text("李娜")
    expect(page.locator("#me")).to_contain_text("rep")
    page.click(".lang button[data-lang=zh]")
    expect(page.locator("h1").first).to_have_text("我的账号")
    page.click("#sign-out")
    expect(page.locator("#login-form")).to_be_visible()
    page.goto("/ui/")
    expect(page).to_have_url(re.compile(r"/ui/login"))
    assert problems == []


def test_admin_lands_on_the_installed_apps_with_templates_to_install(page: Page, problems: list[str]) -> None:
    sign_in(page, ADMIN)
    expect(page.locator("#apps .app-card")).to_contain_text(["业务"])
    expect(page.locator("#templates .card").first).to_be_visible()
    shot(page, "apps-zh")
    assert problems == []


def test_list_sorts_searches_and_shows_a_filter_error_at_its_line_and_column(
    page: Page, problems: list[str], api: Api
) -> None:
    accounts = api("GET", f"/api/apps/{APP}/records/account", params={"q": "比亚迪"})["items"]
    for title, amount in [("列表-乙", "300"), ("列表-甲", "100"), ("列表-丙", "200")]:
        _deal(api, title=title, amount=amount, stage="proposal", account=accounts[0]["id"])
    sign_in(page, ADMIN, f"/ui/{APP}/deal")
    page.fill("#q", "列表")
    page.click("#search-form button")
    rows = page.locator("#records tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#pager .total")).to_have_text("共 3 条")
    expect(rows.first).to_contain_text("方案")  # the option's label, not its value
    expect(rows.first).to_contain_text("比亚迪")  # the lookup's title, not its id
    page.click("#records th[data-field=amount] button")
    expect(page.locator("#records th[data-field=amount]")).to_have_attribute("aria-sort", "ascending")
    expect(rows.locator("td:first-child")).to_have_text(["列表-甲", "列表-丙", "列表-乙"])
    page.click("#records th[data-field=amount] button")
    expect(rows.locator("td:first-child")).to_have_text(["列表-乙", "列表-丙", "列表-甲"])
    expect(rows.first).to_contain_text("¥300.00")

    page.fill("#filter", "stage == 'proposal'\nand amount >> 150")
    page.click("#filter-form button[type=submit]")
    error = page.locator("#filter-error")
    expect(error).to_be_visible()
    expect(error.locator(".where")).to_have_text("第 2 行第 13 列")
    expect(page.locator("#filter")).to_have_attribute("aria-invalid", "true")
    page.fill("#filter", "stage == 'proposal' and amount > 150")
    page.click("#filter-form button[type=submit]")
    expect(error).to_be_hidden()
    expect(rows).to_have_count(2)
    assert "filter=" in page.url and "q=" in page.url  # the view is in the address, for back and reload
    shot(page, "list-zh")
    assert _expected_4xx(problems, "422") == []


def test_rep_sees_masked_values_and_only_own_records(page: Page, problems: list[str], api: Api) -> None:
    _deal(api, user=REP, title="代表自己的商机", amount="50")
    _deal(api, title="别人的商机", amount="60")
    sign_in(page, REP, f"/ui/{APP}/account")
    expect(page.locator("#records tbody tr").first).to_contain_text("138****8000")
    page.goto(f"/ui/{APP}/deal")
    expect(page.locator("#records tbody")).to_contain_text("代表自己的商机")
    expect(page.locator("#records tbody")).not_to_contain_text("别人的商机")
    assert problems == []


def test_record_page_shows_sections_sub_table_history_and_related_records(
    page: Page, problems: list[str], api: Api
) -> None:
    account = api("POST", f"/api/apps/{APP}/records/account", json={"name": "腾讯科技", "grade": "B"})
    deal = _deal(
        api,
        title="三百六十度",
        amount="1000",
        account=account["id"],
        lines=[{"product": "服务器", "quantity": 3}],
    )
    api("PATCH", f"/api/apps/{APP}/records/deal/{deal['id']}", json={"amount": "1200"})
    sign_in(page, ADMIN, f"/ui/{APP}/deal/{deal['id']}")
    expect(page.locator("#title")).to_have_text("三百六十度")
    body = page.locator("#record-body")
    expect(body.locator("h2")).to_contain_text(["基本信息", "结果"])
    expect(body.locator("[data-field=account] dd")).to_have_text("腾讯科技")
    expect(body).to_contain_text("服务器")  # the sub-table's row
    history = page.locator("#history li")
    expect(history.first).to_contain_text("admin")
    expect(history.first).to_contain_text("¥1,000.00")
    expect(history.first).to_contain_text("¥1,200.00")
    shot(page, "record-zh")
    page.goto(f"/ui/{APP}/account/{account['id']}")
    related = page.locator("section.related[data-entity=deal]")
    expect(related).to_contain_text("三百六十度")
    related.locator("a.button").click()  # quick create fills the link
    expect(page.locator("#f-account")).to_have_value(account["name"])  # the picker shows the title
    assert problems == []


def test_edit_shows_conditions_and_server_errors_at_their_fields_then_saves(
    page: Page, problems: list[str], api: Api
) -> None:
    deal = _deal(api, title="待编辑", amount="10")
    sign_in(page, ADMIN, f"/ui/{APP}/deal/{deal['id']}/edit")
    reason = page.locator(".form-field[data-field=loss_reason]")
    expect(page.locator("#f-title")).to_have_value("待编辑")
    expect(reason).to_be_hidden()
    page.select_option("#f-stage", "lost")
    expect(reason).to_be_visible()  # visible_if, asked of the form-state API
    expect(reason).to_have_class(re.compile("required"))
    page.select_option("#f-stage", "won")
    expect(reason).to_be_hidden()
    page.fill("#f-amount", "")
    page.click("#save")
    amount_error = page.locator(".form-field[data-field=amount] .field-error")
    expect(amount_error).to_have_text("赢单的商机必须填写金额")
    expect(page.locator("#f-title")).to_have_value("待编辑")  # nothing typed is lost on a 4xx
    page.fill("#f-amount", "88.5")
    expect(amount_error).to_be_hidden()
    page.click("#save")
    expect(page).to_have_url(re.compile(rf"/ui/{APP}/deal/{deal['id']}$"))
    expect(page.locator("#record-body [data-field=stage] dd")).to_have_text("赢单")
    expect(page.locator("#history li").first).to_contain_text("¥88.50")
    assert api("GET", f"/api/apps/{APP}/records/deal/{deal['id']}")["stage"] == "won"
    assert _expected_4xx(problems, "422") == []


def test_create_through_the_form_with_a_required_conditional_field(page: Page, problems: list[str]) -> None:
    sign_in(page, REP, f"/ui/{APP}/deal/new")
    page.fill("#f-title", "新建的输单")
    page.select_option("#f-stage", "lost")
    page.click("#save")
    expect(page.locator(".form-field[data-field=loss_reason] .field-error")).to_have_text("输单原因为必填项")
    page.select_option("#f-loss_reason", "price")
    page.locator(".form-field[data-field=lines] button").click()
    page.locator(".form-field[data-field=lines] input[data-col=product]").fill("键盘")
    page.locator(".form-field[data-field=lines] input[data-col=quantity]").fill("2")
    shot(page, "form-zh")
    page.click("#save")
    expect(page.locator("#title")).to_have_text("新建的输单")
    expect(page.locator("#record-body [data-field=loss_reason] dd")).to_have_text("价格")
    expect(page.locator("#record-body")).to_contain_text("键盘")
    assert _expected_4xx(problems, "422") == []


def test_kanban_drag_is_an_update_and_a_refused_move_snaps_back(
    page: Page, problems: list[str], api: Api
) -> None:
    ok = _deal(api, user=REP, title="看板-有金额", amount="500", stage="lead")
    refused = _deal(api, user=REP, title="看板-无金额", stage="lead")
    sign_in(page, REP, f"/ui/{APP}/deal/kanban/stage")
    lead = page.locator(".column[data-value=lead]")
    won = page.locator(".column[data-value=won]")
    expect(lead.locator(".kcard", has_text="看板-有金额")).to_be_visible()
    won_before = int(won.locator(".count").inner_text())
    lead.locator(".kcard", has_text="看板-有金额").drag_to(won.locator(".cards-list"))
    expect(won.locator(".kcard", has_text="看板-有金额")).to_be_visible()
    expect(won.locator(".count")).to_have_text(str(won_before + 1))
    expect(won.locator(".sum")).to_contain_text("¥")
    stage_of = "async (id) => (await (await fetch('/api/apps/biz/records/deal/' + id)).json()).stage"
    page.wait_for_function(f"async (id) => (await ({stage_of})(id)) === 'won'", arg=ok["id"])
    lead.locator(".kcard", has_text="看板-无金额").drag_to(won.locator(".cards-list"))
    expect(page.locator("#flash")).to_contain_text("赢单的商机必须填写金额")
    expect(lead.locator(".kcard.refused", has_text="看板-无金额")).to_be_visible()  # snapped back
    expect(won.locator(".kcard", has_text="看板-无金额")).to_have_count(0)
    assert api("GET", f"/api/apps/{APP}/records/deal/{refused['id']}")["stage"] == "lead"
    shot(page, "kanban-zh")
    assert _expected_4xx(problems, "422") == []


def test_app_home_is_the_roles_default_dashboard(page: Page, problems: list[str], api: Api) -> None:
    _deal(api, title="仪表盘", amount="700", stage="proposal")
    sign_in(page, ADMIN, f"/ui/{APP}")
    expect(page.locator("#home h1")).to_have_text("总览")
    expect(page.locator(".cell[data-report=deal_total] .kpi")).to_contain_text("¥")
    chart = page.locator(".cell[data-report=deals_by_stage] .chart")
    expect(chart).to_have_attribute("data-ready", "true")
    expect(chart.locator("canvas")).to_have_count(1)
    shot(page, "dashboard-zh")
    page.click(".lang button[data-lang=en]")
    expect(page.locator("#home h1")).to_have_text("Overview")
    expect(page.locator(".cell[data-report=deals_by_stage] h2")).to_have_text("Deals by stage")
    shot(page, "dashboard-en")
    page.goto(f"/ui/{APP}/deal")
    shot(page, "list-en")
    page.click(".lang button[data-lang=zh]")
    expect(page.locator("#title")).to_have_text("商机")
    assert problems == []


def test_phone_sized_screen_shows_lists_as_cards_and_stacks_the_record_page(
    page: Page, problems: list[str], api: Api
) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    deal = _deal(api, title="手机上看", amount="20", stage="lead")
    sign_in(page, ADMIN, f"/ui/{APP}/deal")
    expect(page.locator("#title")).to_have_text("商机")  # the page's scripts have run
    expect(page.locator("#nav")).not_to_be_in_viewport()
    page.click(".nav-toggle")
    expect(page.locator("#nav")).to_be_in_viewport()
    page.locator("#nav a", has_text="商机").click()
    expect(page.locator("#records thead")).to_be_hidden()
    row = page.locator("#records tbody tr", has_text="手机上看")
    expect(row.locator("td[data-label=金额]")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width  # nothing forces sideways scrolling
    shot(page, "list-phone-zh")
    row.locator("a").click()
    expect(page.locator("#title")).to_have_text("手机上看")
    body = page.locator("#record-body").bounding_box()
    side = page.locator(".record-side").bounding_box()
    assert body is not None and side is not None and side["y"] > body["y"]  # stacked, not side by side
    shot(page, "record-phone-zh")
    assert deal["id"] > 0
    assert problems == []
