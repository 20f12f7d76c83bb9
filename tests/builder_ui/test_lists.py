"""The list page's tools in a real browser: saved views with their columns, the filter builder
writing rule DSL, bulk actions (with an all-or-nothing refusal), export of the current view and
the import wizard."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.builder_ui.conftest import ADMIN, APP, REP, shot, sign_in

Api = Callable[..., Any]
DEALS = f"/api/apps/{APP}/records/deal"


@pytest.fixture(autouse=True)
def _trash_new_deals(api: Api) -> Iterator[None]:
    """The session's other tests expect their own records on a list's first page: the deals a
    test here makes go to the trash after it."""
    before = {d["id"] for d in api("GET", DEALS, params={"limit": 1000})["items"]}
    yield
    made = [d["id"] for d in api("GET", DEALS, params={"limit": 1000})["items"] if d["id"] not in before]
    if made:
        api("POST", DEALS + "/bulk-delete", json={"ids": made})


def _deal(api: Api, user: tuple[str, str] = ADMIN, **values: Any) -> dict[str, Any]:
    record: dict[str, Any] = api("POST", DEALS, user=user, json=values)
    return record


def _find(api: Api, q: str, user: tuple[str, str] = ADMIN) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api("GET", DEALS, user=user, params={"q": q, "limit": 100})["items"]
    return items


def _expected_4xx(problems: list[str], status: str) -> list[str]:
    return [p for p in problems if not p.startswith(status) and "Failed to load resource" not in p]


def _open_list(page: Page, user: tuple[str, str], path: str) -> None:
    """Sign in onto a list and wait until its first page is shown (its title appears then)."""
    sign_in(page, user, path)
    expect(page.locator("#title")).to_have_text("商机")


def _stage_every_matching_deal(page: Page, matching: int, stage: str) -> None:
    """On a list of more than one page: tick the page, then every matching record, and set the
    stage of them all."""
    expect(page.locator("#pager .total")).to_have_text(f"共 {matching} 条")
    page.check("#select-all")
    expect(page.locator("#bulk-count")).to_have_text("已选 20 条")  # one page
    page.click("#select-matching")
    expect(page.locator("#bulk-count")).to_have_text(f"已选 {matching} 条")
    page.select_option("#bulk-field", "stage")
    page.select_option("#bulk-value", stage)
    page.click("#bulk-apply")
    expect(page.locator("#flash")).to_have_text(f"已处理 {matching} 条记录")


def _apply_filter(page: Page, text: str) -> None:
    page.fill("#filter", text)
    page.click("#filter-form button[type=submit]")


def test_saved_view_keeps_filter_sort_and_columns_and_opens_as_the_default(
    page: Page, problems: list[str], api: Api
) -> None:
    for title, amount in [("视图-甲", "100"), ("视图-乙", "300"), ("视图-丙", "200")]:
        _deal(api, user=REP, title=title, amount=amount)
    shared = api("POST", f"/ui/views/{APP}/deal", json={"name": "全员看板", "shared": True})
    _open_list(page, REP, f"/ui/{APP}/deal")
    rows = page.locator("#records tbody tr")
    _apply_filter(page, "starts_with(title, '视图-') and amount > 150")
    expect(rows).to_have_count(2)
    page.click("#records th[data-field=amount] button")
    page.click("#records th[data-field=amount] button")  # descending
    page.click("#columns-toggle")
    page.uncheck("#col-account")
    for _ in range(2):
        page.locator(".column-list li[data-field=amount] button[aria-label=上移]").click()
    heads = page.locator("#records thead th[data-field]")
    expect(heads).to_have_text(["金额", "标题", "阶段", "输单原因", "预计成交"])
    page.click("#view-save-as")
    page.fill("#view-name", "大单")
    expect(page.locator("#view-shared")).to_be_hidden()  # only administrators share
    page.click("#view-dialog-save")
    expect(page.locator("#view-select option:checked")).to_have_text("大单")
    page.click("#view-make-default")
    expect(page.locator("#view-default-mark")).to_be_visible()
    shot(page, "list-views-zh")

    page.goto(f"/ui/{APP}/deal")  # the default view opens the list
    expect(page.locator("#view-select option:checked")).to_have_text("大单")
    expect(page.locator("#filter")).to_have_value("starts_with(title, '视图-') and amount > 150")
    expect(heads).to_have_text(["金额", "标题", "阶段", "输单原因", "预计成交"])
    expect(rows.locator("td:nth-child(2)")).to_have_text(["视图-乙", "视图-丙"])
    stored = api("GET", f"/ui/views/{APP}/deal", user=REP)
    mine = next(v for v in stored["views"] if v["name"] == "大单")
    assert (mine["sort"], mine["columns"], stored["default"]) == (
        "-amount",
        ["amount", "title", "stage", "loss_reason", "close_date"],
        mine["id"],
    )

    page.select_option("#view-select", str(shared["id"]))  # a shared view: read, not changed
    expect(page.locator("#view-select optgroup[label=共享视图] option")).to_have_text(["全员看板"])
    expect(page.locator("#view-save")).to_be_hidden()
    expect(page.locator("#view-delete")).to_be_hidden()
    expect(page.locator("#filter")).to_have_value("")
    page.select_option("#view-select", str(mine["id"]))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#view-delete")
    expect(page.locator("#flash")).to_have_text("视图已删除")
    expect(page.locator("#view-select option", has_text="大单")).to_have_count(0)
    assert [v["name"] for v in api("GET", f"/ui/views/{APP}/deal", user=REP)["views"]] == ["全员看板"]
    assert problems == []


def test_filter_builder_writes_the_dsl_that_filters_the_list(
    page: Page, problems: list[str], api: Api
) -> None:
    for title, amount, stage in [
        ("筛选-甲", "100", "lead"),
        ("筛选-乙", "300", "proposal"),
        ("筛选-丙", "500", "won"),
        ("筛选-丁", "600", "proposal"),
    ]:
        _deal(api, title=title, amount=amount, stage=stage)
    _open_list(page, ADMIN, f"/ui/{APP}/deal")
    page.click("#filter-builder summary")
    root = page.locator("#fb-root > .fb-group")
    root.locator("> .fb-actions .fb-add").click()
    first = root.locator("> .fb-row").nth(0)
    expect(first.locator(".fb-op option")).to_have_text(
        ["包含", "开头是", "等于", "不等于", "为空", "不为空"]
    )
    first.locator(".fb-value").fill("筛选-")
    root.locator("> .fb-actions .fb-add").click()
    second = root.locator("> .fb-row").nth(1)
    second.locator(".fb-field").select_option("amount")
    second.locator(".fb-op").select_option("ge")
    second.locator(".fb-value").fill("200")
    root.locator("> .fb-actions .fb-add-group").click()
    group = root.locator("> .fb-group.nested")
    expect(group.locator(".fb-join")).to_have_value("or")
    row = group.locator(".fb-row").nth(0)
    row.locator(".fb-field").select_option("stage")
    expect(row.locator(".fb-value option")).to_have_text(
        ["线索", "方案", "赢单", "输单"]
    )  # labels, not values
    row.locator(".fb-value").select_option(["won", "lost"])
    group.locator(".fb-add").click()
    row = group.locator(".fb-row").nth(1)
    row.locator(".fb-field").select_option("amount")
    row.locator(".fb-op").select_option("lt")
    row.locator(".fb-value").fill("400")
    dsl = "contains(title, '筛选-') and amount >= 200 and (stage in ['won', 'lost'] or amount < 400)"
    expect(page.locator("#filter")).to_have_value(dsl)
    shot(page, "filter-builder-zh")
    page.click("#filter-form button[type=submit]")
    titles = page.locator("#records tbody tr td:first-child")
    expect(page.locator("#records tbody tr")).to_have_count(2)
    expected = sorted(["筛选-乙", "筛选-丙"])
    assert sorted(titles.all_inner_texts()) == expected
    assert "filter=" in page.url

    page.reload()  # the filter comes back from the address: the rows are read back from it
    page.click("#filter-builder summary")
    expect(page.locator("#records tbody tr")).to_have_count(2)
    expect(root.locator("> .fb-row")).to_have_count(2)
    expect(root.locator("> .fb-row").nth(0).locator(".fb-field")).to_have_value("title")
    expect(root.locator("> .fb-row").nth(0).locator(".fb-value")).to_have_value("筛选-")
    expect(root.locator("> .fb-row").nth(1).locator(".fb-op")).to_have_value("ge")
    expect(root.locator("> .fb-row").nth(1).locator(".fb-value")).to_have_value("200")
    expect(group.locator(".fb-join")).to_have_value("or")
    expect(group.locator(".fb-row").nth(0).locator(".fb-value")).to_have_values(["won", "lost"])
    expect(group.locator(".fb-row").nth(1).locator(".fb-op")).to_have_value("lt")
    group.locator(".fb-row").nth(1).locator(".fb-value").fill("250")  # and they keep writing the DSL
    expect(page.locator("#filter")).to_have_value(dsl.replace("amount < 400", "amount < 250"))

    page.fill("#filter", "amount >> 1")  # typed by hand: the rows no longer describe it
    expect(root.locator("> .fb-row")).to_have_count(0)
    page.click("#filter-form button[type=submit]")
    expect(page.locator("#filter-error .where")).to_have_text("第 1 行第 9 列")
    assert _expected_4xx(problems, "422") == []


def test_bulk_edit_refusal_transfer_and_delete(page: Page, problems: list[str], api: Api) -> None:
    made = [
        _deal(api, title=f"批量-{n}", amount=amount, stage="lead")
        for n, amount in [(1, "10"), (2, "20"), (3, None)]
    ]
    ids = sorted(d["id"] for d in made)
    rep_id = next(p["id"] for p in api("GET", "/api/directory/users") if p["name"] == "李娜")
    _open_list(page, ADMIN, f"/ui/{APP}/deal?q=批量-&sort=title")
    rows = page.locator("#records tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#bulk-bar")).to_be_hidden()
    page.check("#select-all")
    expect(page.locator("#bulk-count")).to_have_text("已选 3 条")
    page.select_option("#bulk-field", "stage")
    page.select_option("#bulk-value", "proposal")
    page.click("#bulk-apply")
    expect(page.locator("#flash")).to_have_text("已处理 3 条记录")
    expect(rows.locator("td", has_text="方案")).to_have_count(3)
    assert {d["stage"] for d in _find(api, "批量-")} == {"proposal"}

    page.check("#select-all")
    page.select_option("#bulk-value", "won")  # 批量-3 has no amount: the whole change is refused
    page.click("#bulk-apply")
    refusal = page.locator("#bulk-error")
    expect(refusal).to_contain_text("没有任何记录被修改")
    expect(refusal.locator("li")).to_have_count(1)
    expect(refusal.locator("li")).to_contain_text("批量-3")
    expect(refusal.locator("li")).to_contain_text("赢单的商机必须填写金额")
    shot(page, "list-bulk-zh")
    assert {d["stage"] for d in _find(api, "批量-")} == {"proposal"}

    page.uncheck("#select-all")
    rows.nth(0).locator("input.row-select").check()
    page.select_option("#bulk-owner", str(rep_id))
    page.click("#bulk-transfer")
    expect(page.locator("#flash")).to_have_text("已处理 1 条记录")
    owners = {d["id"]: d["owner"] for d in _find(api, "批量-")}
    assert owners[ids[0]] == rep_id and owners[ids[1]] != rep_id

    rows.nth(1).locator("input.row-select").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#bulk-delete")
    expect(rows).to_have_count(2)
    assert sorted(d["id"] for d in _find(api, "批量-")) == [ids[0], ids[2]]
    assert _expected_4xx(problems, "422") == []


def test_bulk_edit_picks_a_lookup_as_the_form_does(page: Page, problems: list[str], api: Api) -> None:
    """The new value is picked with the field's own form widget: a lookup by typing its title."""
    target = api("POST", f"/api/apps/{APP}/records/account", json={"name": "批量关联客户"})
    api("POST", f"/api/apps/{APP}/records/account", json={"name": "批量别的客户"})
    made = [_deal(api, title=f"关联-{n}", stage="lead") for n in (1, 2)]
    _open_list(page, ADMIN, f"/ui/{APP}/deal?q=关联-&sort=title")
    expect(page.locator("#records tbody tr")).to_have_count(2)
    page.check("#select-all")
    page.select_option("#bulk-field", "account")
    box = page.locator("#bulk-value")
    expect(box).to_have_attribute("role", "combobox")
    box.click()
    box.type("批量关联")
    page.locator("#bulk-value-list [role=option]", has_text="批量关联客户").click()
    expect(box).to_have_value("批量关联客户")
    shot(page, "list-bulk-lookup-zh")
    page.click("#bulk-apply")
    expect(page.locator("#flash")).to_have_text("已处理 2 条记录")
    assert {d["id"]: d["account"] for d in _find(api, "关联-")} == {d["id"]: target["id"] for d in made}
    assert _expected_4xx(problems, "422") == []


def test_export_downloads_the_current_view(page: Page, problems: list[str], api: Api) -> None:
    for title, amount in [("导出-甲", "100"), ("导出-乙", "300"), ("导出-丙", "200"), ("不导出", "50")]:
        _deal(api, title=title, amount=amount)
    _open_list(page, ADMIN, f"/ui/{APP}/deal")
    _apply_filter(page, "starts_with(title, '导出-')")
    expect(page.locator("#records tbody tr")).to_have_count(3)
    page.click("#records th[data-field=amount] button")
    expect(page.locator("#records th[data-field=amount]")).to_have_attribute("aria-sort", "ascending")
    # the sorted page is shown (the export link follows each rendered page)
    expect(page.locator("#records tbody tr td:first-child")).to_have_text(["导出-甲", "导出-丙", "导出-乙"])
    with page.expect_download() as caught:
        page.click("#export-csv")
    download = caught.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["标题"] for r in table] == ["导出-甲", "导出-丙", "导出-乙"]
    page.fill("#q", "导出-丙")  # the search box and the columns shown narrow the file too
    page.click("#search-form button")
    expect(page.locator("#records tbody tr")).to_have_count(1)
    page.click("#columns-toggle")
    page.uncheck("#col-account")
    page.locator(".column-list li[data-field=amount] button[aria-label=上移]").click()
    heads = page.locator("#records thead th[data-field]").all_inner_texts()
    with page.expect_download() as caught:
        page.click("#export-csv")
    grid = list(csv.reader(io.StringIO(Path(caught.value.path()).read_text("utf-8-sig"))))
    assert grid[0] == ["id", *heads] and "客户" not in grid[0]
    assert [row[grid[0].index("标题")] for row in grid[1:]] == ["导出-丙"]
    with page.expect_download() as caught:
        page.click("#export-xlsx")
    assert caught.value.suggested_filename.endswith(".xlsx")
    assert Path(caught.value.path()).read_bytes()[:2] == b"PK"  # a zip: the XLSX container
    assert problems == []


def test_import_wizard_maps_dry_runs_imports_and_offers_the_error_file(
    page: Page, problems: list[str], api: Api, tmp_path: Path
) -> None:
    source = tmp_path / "商机.csv"
    lines = [
        ("标题", "金额", "说明"),
        ("导入-甲", "100", "第一条"),
        ("导入-乙", "一百", "金额写错"),
        ("导入-丙", "300", ""),
    ]
    source.write_text("\n".join(",".join(line) for line in lines) + "\n", "utf-8")
    _open_list(page, ADMIN, f"/ui/{APP}/deal")
    page.click("#import-link")
    expect(page.locator("#title")).to_have_text("导入商机")
    page.set_input_files("#import-file", str(source))
    page.click("#import-upload")
    mapping = page.locator("#mapping tbody tr")
    expect(mapping).to_have_count(3)
    expect(page.locator("#mapping tr[data-column=标题] select")).to_have_value("title")  # guessed
    expect(page.locator("#mapping tr[data-column=金额] select")).to_have_value("amount")
    expect(page.locator("#mapping tr[data-column=说明] select")).to_have_value("")
    page.locator("#mapping tr[data-column=说明] select").select_option("notes")  # mapped by hand
    page.click("#import-dry-run")
    expect(page.locator("#import-tally")).to_have_text("新建 2 条，更新 0 条，跳过 0 条，失败 1 条")
    errors = page.locator("#row-errors li")
    expect(errors).to_have_count(1)
    expect(errors).to_contain_text("第 3 行")
    assert _find(api, "导入-") == []  # a dry run writes nothing
    shot(page, "import-zh")

    page.click("#import-run")
    result = page.locator("#result-step")
    expect(result).to_have_attribute("data-status", "done")
    expect(page.locator("#import-progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#import-tally")).to_have_text("新建 2 条，更新 0 条，跳过 0 条，失败 1 条")
    imported = {d["title"]: d for d in _find(api, "导入-")}
    assert sorted(imported) == ["导入-丙", "导入-甲"]
    assert imported["导入-甲"]["notes"] == "第一条" and imported["导入-甲"]["amount"] in (
        "100",
        "100.00",
        100,
    )
    with page.expect_download() as caught:
        page.click("#import-errors-file")
    refused = Path(caught.value.path()).read_text("utf-8-sig")
    assert "导入-乙" in refused and "导入-甲" not in refused
    page.click(".lang button[data-lang=en]")
    expect(page.locator("#title")).to_have_text("Import Deal")
    shot(page, "import-en")
    page.click(".lang button[data-lang=zh]")  # the next tests read Chinese
    expect(page.locator("#title")).to_have_text("导入商机")
    assert problems == []


def test_list_tools_in_english(page: Page, problems: list[str], api: Api) -> None:
    _deal(api, title="English-1", amount="1")
    _open_list(page, ADMIN, f"/ui/{APP}/deal?q=English-1")
    expect(page.locator("#records tbody tr")).to_have_count(1)
    page.click(".lang button[data-lang=en]")
    expect(page.locator("#view-select option").first).to_have_text("All records")
    page.click("#filter-builder summary")
    page.locator("#fb-root .fb-add").click()
    page.check("#select-all")
    expect(page.locator("#bulk-count")).to_have_text("1 selected")
    shot(page, "list-tools-en")
    page.click(".lang button[data-lang=zh]")
    expect(page.locator("#view-select option").first).to_have_text("全部记录")
    expect(page.locator("#records tbody tr")).to_have_count(1)
    assert problems == []


def test_bulk_edit_of_every_record_a_search_finds_across_pages(
    page: Page, problems: list[str], api: Api
) -> None:
    made = [_deal(api, title=f"搜全选-{n:02}", stage="lead") for n in range(22)]
    _deal(api, title="搜不到的", stage="lead")
    _open_list(page, ADMIN, f"/ui/{APP}/deal?q=搜全选")
    _stage_every_matching_deal(page, len(made), "proposal")
    assert {d["title"]: d["stage"] for d in _find(api, "搜全选")} == {d["title"]: "proposal" for d in made}
    assert _find(api, "搜不到的")[0]["stage"] == "lead"
    assert problems == []


def test_an_administrator_shares_a_view_that_reps_then_see(page: Page, problems: list[str], api: Api) -> None:
    _open_list(page, ADMIN, f"/ui/{APP}/deal")
    _apply_filter(page, "stage == 'won'")
    page.click("#view-save-as")
    page.fill("#view-name", "赢单（共享）")
    page.check("#view-shared")
    page.click("#view-dialog-save")
    expect(page.locator("#view-select optgroup[label=共享视图] option:checked")).to_have_text("赢单（共享）")
    seen = {v["name"]: v for v in api("GET", f"/ui/views/{APP}/deal", user=REP)["views"]}
    assert (seen["赢单（共享）"]["filter"], seen["赢单（共享）"]["shared"]) == ("stage == 'won'", True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#view-delete")
    expect(page.locator("#view-select option", has_text="赢单（共享）")).to_have_count(0)
    assert problems == []


def test_bulk_edit_of_every_record_the_filter_matches_across_pages(
    page: Page, problems: list[str], api: Api
) -> None:
    made = [_deal(api, title=f"全选-{n:02}", amount="5", stage="lead") for n in range(23)]
    _deal(api, title="不在筛选里", amount="5", stage="lead")
    _open_list(page, ADMIN, f"/ui/{APP}/deal")
    _apply_filter(page, "starts_with(title, '全选-')")
    _stage_every_matching_deal(page, len(made), "proposal")
    stages = {d["title"]: d["stage"] for d in _find(api, "全选-")}
    assert stages == {d["title"]: "proposal" for d in made}
    assert _find(api, "不在筛选里")[0]["stage"] == "lead"
    assert problems == []
