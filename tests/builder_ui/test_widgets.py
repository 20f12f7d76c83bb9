"""Form widgets and edit in place in a real browser: type-ahead pickers, 省/市/区 selects, file
and signature upload with previews, money/percent/rating/colour widgets, edit in place accepted
and refused, and the duplicate warning's two ways out."""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.builder_ui.conftest import ADMIN, REP, shot, sign_in

Api = Callable[..., Any]
APP = "wid"
PACKAGE = Path(__file__).with_name("widgets_package.json")


@pytest.fixture(scope="module")
def wid(api: Api) -> Api:
    """The widgets app installed once for this module; yields the API caller."""
    installed = {a["name"] for a in api("GET", "/api/apps")}
    if APP not in installed:
        api("POST", "/api/apps", json=json.loads(PACKAGE.read_text("utf-8")))
    return api


def _company(api: Api, **values: Any) -> dict[str, Any]:
    record: dict[str, Any] = api("POST", f"/api/apps/{APP}/records/company", json=values)
    return record


def _get(api: Api, entity: str, record_id: int) -> dict[str, Any]:
    record: dict[str, Any] = api("GET", f"/api/apps/{APP}/records/{entity}/{record_id}")
    return record


def _png(width: int, height: int) -> bytes:
    """A real PNG of one red colour, made here so the test knows its exact bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _expected(problems: list[str], *statuses: str) -> list[str]:
    """Problems left once the API answers the test provoked on purpose are taken out."""
    return [
        p
        for p in problems
        if not any(p.startswith(s) for s in statuses) and "Failed to load resource" not in p
    ]


def _saved_id(page: Page, entity: str) -> int:
    """The id of the record the form saved, once its page has loaded (leaving earlier would
    abort the page's own requests)."""
    expect(page).to_have_url(re.compile(rf"/ui/{APP}/{entity}/\d+$"))
    page.wait_for_load_state("networkidle")
    return int(page.url.rsplit("/", 1)[1])


def _editable(page: Page, field: str) -> Any:
    """The record page's value of ``field``, once edit in place is ready on it."""
    value = page.locator(f"[data-field={field}] dd")
    expect(value).to_have_attribute("role", "button")
    return value


def test_lookup_type_ahead_searches_titles_and_picks_with_the_keyboard(
    page: Page, problems: list[str], wid: Api
) -> None:
    first = _company(wid, name="星河科技-前")
    second = _company(wid, name="星河科技-后")
    _company(wid, name="别的公司")
    by_title = {first["name"]: first["id"], second["name"]: second["id"]}
    team = wid("POST", "/api/departments", json={"name": "华东销售部"})
    wid("POST", "/api/departments", json={"name": "华南销售部"})
    rep_id = next(u["id"] for u in wid("GET", "/api/directory/users") if u["name"] == "李娜")
    sign_in(page, ADMIN, f"/ui/{APP}/contact/new")
    page.fill("#f-name", "张三")
    box = page.locator("#f-company")
    expect(box).to_have_attribute("role", "combobox")
    box.click()
    box.type("星河科技")
    options = page.locator("#f-company-list [role=option]")
    expect(options).to_have_count(2)  # the search ran on the server: 别的公司 is not offered
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    second_option = options.nth(1)
    expect(second_option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", second_option.get_attribute("id") or "")
    picked_title = second_option.inner_text()
    shot(page, "widgets-typeahead-zh")
    box.press("Enter")
    expect(box).to_have_value(picked_title)
    expect(box).to_have_attribute("aria-expanded", "false")
    user_box = page.locator("#f-owner_user")
    user_box.click()
    user_box.type("李")
    page.locator("#f-owner_user-list [role=option]", has_text="李娜").click()
    expect(user_box).to_have_value("李娜")
    team_box = page.locator("#f-team")
    team_box.click()
    team_box.type("华东")
    expect(page.locator("#f-team-list [role=option]")).to_have_count(1)
    team_box.press("Enter")  # the first (only) match is active
    expect(team_box).to_have_value("华东销售部")
    page.click("#save")
    saved = _get(wid, "contact", _saved_id(page, "contact"))
    assert saved["company"] == by_title[picked_title]
    assert saved["owner_user"] == rep_id
    assert saved["team"] == team["id"]
    # editing shows the picked record's title, not its id
    page.goto(f"/ui/{APP}/contact/{saved['id']}/edit")
    expect(page.locator("#f-company")).to_have_value(picked_title)
    assert problems == []


def test_the_department_picker_names_each_team_by_its_place_in_the_tree(
    page: Page, problems: list[str], wid: Api
) -> None:
    """Two teams both called 一组 are told apart by their parents; a parent's name finds the
    teams under it."""
    north = wid("POST", "/api/departments", json={"name": "西北大区"})
    south = wid("POST", "/api/departments", json={"name": "西南大区"})
    wid("POST", "/api/departments", json={"name": "一组", "parent_id": north["id"]})
    southern = wid("POST", "/api/departments", json={"name": "一组", "parent_id": south["id"]})
    sign_in(page, ADMIN, f"/ui/{APP}/contact/new")
    page.fill("#f-name", "部门树")
    box = page.locator("#f-team")
    box.click()
    box.type("一组")
    options = page.locator("#f-team-list [role=option]")
    expect(options).to_have_text(["西北大区 › 一组", "西南大区 › 一组"])
    box.fill("")
    box.type("西南")
    expect(options).to_have_text(["西南大区", "西南大区 › 一组"])
    options.nth(1).click()
    expect(box).to_have_value("西南大区 › 一组")
    page.click("#save")
    assert _get(wid, "contact", _saved_id(page, "contact"))["team"] == southern["id"]
    assert problems == []


def test_rich_text_is_edited_with_formatting_and_read_as_formatted(
    page: Page, problems: list[str], wid: Api
) -> None:
    sign_in(page, ADMIN, f"/ui/{APP}/company/new")
    page.fill("#f-name", "富文本公司")
    editor = page.locator("trix-editor#f-profile")
    expect(page.locator("[data-field=profile] trix-toolbar [data-trix-attribute=bold]")).to_have_attribute(
        "title", "粗体"
    )
    expect(page.locator("[data-field=profile] .trix-button-group--file-tools")).to_be_hidden()
    editor.click()
    page.keyboard.type("主营 ")
    page.keyboard.press("Control+b")
    page.keyboard.type("工业软件")
    shot(page, "widgets-rich-text-zh")
    page.click("#save")
    saved = _get(wid, "company", _saved_id(page, "company"))
    assert "<strong>工业软件</strong>" in saved["profile"] and "主营" in saved["profile"]
    expect(page.locator("[data-field=profile] dd .rich-text strong")).to_have_text("工业软件")
    page.goto(f"/ui/{APP}/company/{saved['id']}/edit")
    expect(page.locator("trix-editor#f-profile strong")).to_have_text("工业软件")  # read back as it was
    # what a client sent past the form is cleaned by the kernel, and read as text and tags only
    risky = '<p>正文</p><script>window.bad = 1</script><a href="javascript:alert(1)">链接</a>'
    other = _company(wid, name="富文本清理", profile=risky)
    page.goto(f"/ui/{APP}/company/{other['id']}")
    shown = page.locator("[data-field=profile] dd .rich-text")
    expect(shown).to_have_text("正文链接")
    expect(shown.locator("script")).to_have_count(0)
    assert shown.locator("a").get_attribute("href") is None
    assert page.evaluate("window.bad") is None
    assert problems == []


def test_address_and_region_cascade_and_save_province_city_district(
    page: Page, problems: list[str], wid: Api
) -> None:
    sign_in(page, ADMIN, f"/ui/{APP}/company/new")
    page.fill("#f-name", "级联测试公司")
    city = page.locator("#f-address-city")
    expect(city).to_be_disabled()  # nothing to choose before the province
    page.select_option("#f-address", label="浙江省")
    expect(city).to_be_enabled()
    page.select_option("#f-address-city", label="杭州市")
    page.select_option("#f-address-district", label="西湖区")
    page.fill("#f-address-detail", "文三路 90 号")
    page.select_option("#f-area", label="北京市")
    page.select_option("#f-area-city", label="北京市")
    expect(page.locator("#f-area-district option", has_text="海淀区")).to_have_count(1)
    page.select_option("#f-area", label="广东省")  # another province empties the levels below it
    expect(page.locator("#f-area-city")).to_have_value("")
    expect(page.locator("#f-area-district")).to_be_disabled()
    page.select_option("#f-area-city", label="深圳市")
    page.select_option("#f-area-district", label="南山区")
    shot(page, "widgets-address-zh")
    page.click("#save")
    saved = _get(wid, "company", _saved_id(page, "company"))
    expect(page.locator("[data-field=address] dd")).to_have_text("浙江省杭州市西湖区文三路 90 号")
    expect(page.locator("[data-field=area] dd")).to_have_text("广东省深圳市南山区")
    address = saved["address"]
    assert (address["province"], address["city"], address["district"]) == ("浙江省", "杭州市", "西湖区")
    assert address["district_code"] == "330106"
    assert address["detail"] == "文三路 90 号"
    assert saved["area"]["code"] == "440305"
    # edit in place opens the same selects on the stored place; a municipality shows once
    _editable(page, "area").click()
    expect(page.locator("#ip-area-city")).to_have_value("440300")
    page.select_option("#ip-area", label="北京市")
    page.select_option("#ip-area-city", label="北京市")
    page.select_option("#ip-area-district", label="海淀区")
    page.click("[data-field=area] .in-place button[type=submit]")
    expect(page.locator("[data-field=area] dd")).to_have_text("北京市海淀区")
    assert _get(wid, "company", saved["id"])["area"]["code"] == "110108"
    # the edit form opens on the stored places
    page.goto(f"/ui/{APP}/company/{saved['id']}/edit")
    expect(page.locator("#f-address-district")).to_have_value("330106")
    expect(page.locator("#f-area-city")).to_have_value("110100")
    assert problems == []


def test_region_list_is_served_once_and_cacheable(page: Page, wid: Api, live_server: str) -> None:
    response = page.request.get(f"{live_server}/ui/data/regions")
    assert response.status == 200
    assert "max-age" in response.headers["cache-control"]
    tree = response.json()
    zhejiang = next(p for p in tree if p[0] == "330000")
    hangzhou = next(c for c in zhejiang[2] if c[0] == "330100")
    assert [d[1] for d in hangzhou[2] if d[0] == "330106"] == ["西湖区"]
    again = page.request.get(
        f"{live_server}/ui/data/regions", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status == 304


def test_image_upload_shows_progress_then_a_preview_and_can_be_removed(
    page: Page, problems: list[str], wid: Api
) -> None:
    picture = _png(3, 2)
    sign_in(page, ADMIN, f"/ui/{APP}/company/new")
    page.fill("#f-name", "图片测试公司")
    page.set_input_files(
        "#f-logo", files=[FilePayload(name="logo.png", mimeType="image/png", buffer=picture)]
    )
    preview = page.locator("[data-field=logo] .files img")
    expect(preview).to_have_count(1)
    expect(preview).to_have_attribute("alt", "logo.png")
    page.wait_for_function("document.querySelector('[data-field=logo] .files img').naturalWidth === 3")
    page.set_input_files(
        "#f-papers", files=[FilePayload(name="说明.txt", mimeType="text/plain", buffer="你好".encode())]
    )
    expect(page.locator("[data-field=papers] .files .file-name")).to_have_text("说明.txt")
    # a file the field does not accept is refused beside it, and nothing is added
    page.set_input_files(
        "#f-logo", files=[FilePayload(name="notes.txt", mimeType="text/plain", buffer=b"hello")]
    )
    expect(page.locator("[data-field=logo] .uploads .error")).to_contain_text("notes.txt")
    expect(preview).to_have_count(1)
    shot(page, "widgets-files-zh")
    page.click("#save")
    record_id = _saved_id(page, "company")
    saved = _get(wid, "company", record_id)
    assert [(d["name"], d["size"], d["content_type"]) for d in saved["logo"]] == [
        ("logo.png", len(picture), "image/png")
    ]
    assert [(d["name"], d["size"]) for d in saved["papers"]] == [("说明.txt", len("你好".encode()))]
    # the record page previews the stored image
    thumb = page.locator("[data-field=logo] dd img")
    expect(thumb).to_have_count(1)
    page.wait_for_function("document.querySelector('[data-field=logo] dd img').naturalWidth === 3")
    page.goto(f"/ui/{APP}/company/{record_id}/edit")
    page.click("[data-field=logo] .files button[aria-label*='logo.png']")
    page.click("#save")
    _saved_id(page, "company")
    assert _get(wid, "company", record_id)["logo"] == []
    assert _expected(problems, "422") == []


def test_signature_drawn_on_the_pad_is_stored_as_a_png(page: Page, problems: list[str], wid: Api) -> None:
    sign_in(page, ADMIN, f"/ui/{APP}/company/new")
    page.fill("#f-name", "签名测试公司")
    pad = page.locator("#f-sign")
    pad.scroll_into_view_if_needed()  # the mouse draws in the viewport
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 8):
        page.mouse.move(box["x"] + 20 + step * 30, box["y"] + 40 + (step % 2) * 30)
    page.mouse.up()
    page.click("[data-field=sign] button:has-text('使用此签名')")
    expect(page.locator("[data-field=sign] .signature-actions .muted")).to_have_text("签名已上传，保存后生效")
    page.click("#save")
    saved = _get(wid, "company", _saved_id(page, "company"))
    assert saved["sign"]["content_type"] == "image/png"
    assert saved["sign"]["size"] > 0
    assert problems == []


def test_money_percent_rating_time_and_coloured_choices(page: Page, problems: list[str], wid: Api) -> None:
    sign_in(page, ADMIN, f"/ui/{APP}/company/new")
    page.fill("#f-name", "数值测试公司")
    amount = page.locator("#f-amount")
    amount.fill("1234567.5")
    amount.blur()
    expect(amount).to_have_value("1,234,567.50")  # ¥ grouping once the user leaves the field
    expect(page.locator("[data-field=amount] .affix")).to_have_text("¥")
    page.fill("#f-share", "12.5")
    page.click("#f-stars button[aria-label='4 星']")
    expect(page.locator("#f-stars button[aria-checked=true]")).to_have_attribute("aria-label", "4 星")
    page.fill("#f-opens", "09:30:00")
    page.check("[data-field=labels] input[value=vip]")
    page.check("[data-field=labels] input[value=gov]")
    expect(page.locator("[data-field=labels] .choice").first).to_have_attribute(
        "style", re.compile("#FF9A2E", re.I)
    )
    page.select_option("#f-grade", "A")
    expect(page.locator("[data-field=grade] .swatch")).to_have_attribute(
        "style", re.compile("rgb\\(217, 45, 32\\)")
    )
    shot(page, "widgets-numbers-zh")
    page.click("#save")
    saved = _get(wid, "company", _saved_id(page, "company"))
    expect(page.locator("[data-field=labels] dd .option-tag")).to_have_text(["大客户", "政府"])
    expect(page.locator("[data-field=amount] dd")).to_have_text("¥1,234,567.50")
    assert float(saved["amount"]) == 1234567.5
    assert float(saved["share"]) == 0.125  # 12.5 points are the fraction 0.125
    assert saved["stars"] == 4
    assert saved["opens"] == "09:30:00"
    assert saved["labels"] == ["vip", "gov"]
    assert saved["grade"] == "A"
    # the edit form reads them back the way they were typed
    page.goto(f"/ui/{APP}/company/{saved['id']}/edit")
    expect(page.locator("#f-amount")).to_have_value("1,234,567.50")
    expect(page.locator("#f-share")).to_have_value("12.5")
    # an untouched form sends nothing: the history keeps one entry
    page.click("#save")
    _saved_id(page, "company")
    assert len(wid("GET", f"/api/apps/{APP}/records/company/{saved['id']}/history")) == 1
    # the list shows coloured choices as tags too, in their colours
    page.goto(f"/ui/{APP}/company?q=" + saved["name"])
    row = page.locator("#records tbody tr", has_text=saved["name"])
    expect(row.locator("td[data-label=标签] .option-tag")).to_have_text(["大客户", "政府"])
    expect(row.locator("td[data-label=等级] .option-tag")).to_have_attribute("style", "--choice:#D92D20")
    assert problems == []


def test_edit_in_place_saves_one_field_and_shows_a_refusal_beside_it(
    page: Page, problems: list[str], wid: Api
) -> None:
    record = _company(wid, name="就地编辑公司", amount="100")
    sign_in(page, ADMIN, f"/ui/{APP}/company/{record['id']}")
    value = _editable(page, "amount")
    expect(value).to_have_text("¥100.00")
    value.click()
    editor = page.locator("#ip-amount")
    expect(editor).to_be_focused()
    editor.fill("2500")
    editor.press("Enter")
    expect(value).to_have_text("¥2,500.00")
    assert float(_get(wid, "company", record["id"])["amount"]) == 2500
    expect(page.locator("#history li")).to_have_count(2)  # the page's history follows
    # a refused value stays in the editor with the rule's message beside the field
    value.click()
    page.fill("#ip-amount", "-5")
    page.click("[data-field=amount] .in-place button[type=submit]")
    expect(page.locator("#ip-amount-error")).to_have_text("注册资本不能为负数")
    expect(page.locator("#ip-amount")).to_have_value("-5.00")  # what was typed, grouped
    assert float(_get(wid, "company", record["id"])["amount"]) == 2500
    shot(page, "widgets-in-place-refused-zh")
    page.keyboard.press("Escape")
    expect(value).to_have_text("¥2,500.00")
    # someone else changes the record: the page's If-Match is stale, the typed text is kept
    wid("PATCH", f"/api/apps/{APP}/records/company/{record['id']}", json={"name": "就地编辑公司（改）"})
    _editable(page, "name").click()
    page.fill("#ip-name", "我的新名字")
    page.press("#ip-name", "Enter")
    expect(page.locator("#ip-name-error")).to_contain_text("已被修改")
    expect(page.locator("#ip-name")).to_have_value("我的新名字")
    assert _get(wid, "company", record["id"])["name"] == "就地编辑公司（改）"
    assert _expected(problems, "422", "409", "412") == []


def test_edit_in_place_with_a_type_ahead_picker(page: Page, problems: list[str], wid: Api) -> None:
    target = _company(wid, name="就地关联目标")
    contact = wid("POST", f"/api/apps/{APP}/records/contact", json={"name": "就地联系人"})
    sign_in(page, ADMIN, f"/ui/{APP}/contact/{contact['id']}")
    _editable(page, "company").click()
    page.locator("#ip-company").type("就地关联")
    page.locator("#ip-company-list [role=option]", has_text="就地关联目标").click()
    page.click("[data-field=company] .in-place button[type=submit]")
    expect(page.locator("[data-field=company] dd")).to_have_text("就地关联目标")
    assert _get(wid, "contact", contact["id"])["company"] == target["id"]
    # a field the form makes read-only for this record is not offered
    locked = wid("POST", f"/api/apps/{APP}/records/contact", json={"name": "locked"})
    page.goto(f"/ui/{APP}/contact/{locked['id']}")
    _editable(page, "company")
    expect(page.locator("[data-field=owner_user] dd")).not_to_have_attribute("role", "button")
    assert problems == []


def test_duplicate_warning_opens_the_existing_record_or_saves_anyway(
    page: Page, problems: list[str], wid: Api
) -> None:
    existing = _company(wid, name="重复的公司")
    sign_in(page, ADMIN, f"/ui/{APP}/company/new")
    page.fill("#f-name", "重复的公司")
    page.click("#save")
    error = page.locator("#form-error")
    expect(error).to_be_visible()
    link = error.get_by_role("link", name="打开已有记录")
    expect(link).to_have_attribute("href", f"/ui/{APP}/company/{existing['id']}")
    expect(page.locator("#f-name")).to_have_value("重复的公司")  # nothing typed is lost
    shot(page, "widgets-duplicate-zh")
    error.get_by_role("button", name="仍然保存").click()
    new_id = _saved_id(page, "company")
    assert new_id != existing["id"]
    same = wid("GET", f"/api/apps/{APP}/records/company", params={"filter": "name == '重复的公司'"})
    assert sorted(r["id"] for r in same["items"]) == sorted([existing["id"], new_id])
    # the other way out: open the existing record
    page.goto(f"/ui/{APP}/company/new")
    page.fill("#f-name", "重复的公司")
    page.click("#save")
    page.locator("#form-error").get_by_role("link", name="打开已有记录").click()
    assert _saved_id(page, "company") == existing["id"]
    assert _expected(problems, "409") == []


def test_widgets_in_english(page: Page, problems: list[str], wid: Api) -> None:
    record = _company(wid, name="English widgets", amount="42", stars=3, share="0.5")
    sign_in(page, ADMIN, f"/ui/{APP}/company/{record['id']}")
    page.wait_for_load_state("networkidle")
    page.click(".lang button[data-lang=en]")
    expect(page.locator("[data-field=amount] dt")).to_have_text("Capital")
    _editable(page, "stars").click()
    expect(page.locator("#ip-stars button[aria-checked=true]")).to_have_attribute("aria-label", "3 stars")
    shot(page, "widgets-in-place-en")
    page.goto(f"/ui/{APP}/company/{record['id']}/edit")
    expect(page.locator("#f-address option").first).to_have_text("Province")
    expect(page.locator("#f-share")).to_have_value("50")
    shot(page, "widgets-form-en")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#f-address-city")).to_be_visible()
    shot(page, "widgets-form-phone-en")
    page.click(".lang button[data-lang=zh]")
    expect(page.locator("#f-address option").first).to_have_text("省")
    assert problems == []


def test_many_to_many_picker_adds_chips_and_removes_them(page: Page, problems: list[str], wid: Api) -> None:
    people = [
        wid("POST", f"/api/apps/{APP}/records/contact", json={"name": name})
        for name in ("多选-赵", "多选-钱", "多选-孙")
    ]
    ids = {p["name"]: p["id"] for p in people}
    sign_in(page, ADMIN, f"/ui/{APP}/company/new")
    page.fill("#f-name", "多对多测试公司")
    box = page.locator("#f-people")
    for name in ("多选-钱", "多选-赵", "多选-孙"):
        box.click()
        box.type(name)
        page.locator("#f-people-list [role=option]", has_text=name).click()
    chips = page.locator("[data-field=people] .chip")
    expect(chips).to_have_count(3)
    chips.filter(has_text="多选-赵").get_by_role("button").click()
    expect(chips).to_have_count(2)
    box.click()
    box.type("多选")
    expect(page.locator("#f-people-list [role=option]")).to_have_count(
        1
    )  # the picked ones are not offered again
    box.press("Escape")
    page.click("#save")
    saved = _get(wid, "company", _saved_id(page, "company"))
    assert sorted(saved["people"]) == sorted([ids["多选-钱"], ids["多选-孙"]])
    assert problems == []


def test_edit_in_place_refused_by_permission_keeps_the_typed_value(
    page: Page, problems: list[str], api: Api
) -> None:
    """A rep may read every account but update only their own: the refusal is shown beside the
    field, opened from the keyboard."""
    account = api("POST", "/api/apps/biz/records/account", json={"name": "别人的客户"})
    sign_in(page, REP, f"/ui/biz/account/{account['id']}")
    value = page.locator("[data-field=name] dd")
    expect(value).to_have_attribute("role", "button")
    value.focus()
    page.keyboard.press("Enter")
    editor = page.locator("#ip-name")
    expect(editor).to_be_focused()
    editor.fill("我改的名字")
    editor.press("Enter")
    expect(page.locator("#ip-name-error")).to_be_visible()
    expect(editor).to_have_value("我改的名字")
    assert api("GET", f"/api/apps/biz/records/account/{account['id']}")["name"] == "别人的客户"
    assert _expected(problems, "403", "404") == []
