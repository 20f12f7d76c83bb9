"""The list page's DSL editor (static/dsl_editor.js, CodeMirror 6 from static/vendor/codemirror)
in a real browser: the server's error underlined at its line and column with its message, a
field name completed, a valid filter that narrows the list, and the filter box kept in step."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from rule_engine import FUNCTIONS
from tests.builder_ui.conftest import ADMIN, APP, REP, shot, sign_in

Api = Callable[..., Any]
DEALS = f"/api/apps/{APP}/records/deal"
EDITOR_JS = Path(__file__).parents[2] / "builder_ui" / "static" / "dsl_editor.js"


@pytest.fixture(autouse=True)
def _trash_new_deals(api: Api) -> Iterator[None]:
    """The session's other tests expect their own records on a list's first page."""
    before = {d["id"] for d in api("GET", DEALS, params={"limit": 1000})["items"]}
    yield
    made = [d["id"] for d in api("GET", DEALS, params={"limit": 1000})["items"] if d["id"] not in before]
    if made:
        api("POST", DEALS + "/bulk-delete", json={"ids": made})


def _not_expected(problems: list[str]) -> list[str]:
    """All but the intended 422 of the list API (and the console line the browser logs for it)."""
    return [
        p
        for p in problems
        if not (p.startswith("422: ") and "/records/deal" in p) and "Failed to load resource" not in p
    ]


def test_the_editor_completes_the_dsl_functions_of_the_rule_engine() -> None:
    listed = re.search(r"const FUNCTIONS = (\[.*?\]);", EDITOR_JS.read_text(), re.S)
    assert listed is not None
    assert json.loads(listed.group(1)) == list(FUNCTIONS)


def test_dsl_editor_underlines_the_server_error_completes_fields_and_filters(
    page: Page, problems: list[str], api: Api
) -> None:
    for title, amount in [("编辑器-甲", "100"), ("编辑器-乙", "300")]:
        api("POST", DEALS, user=REP, json={"title": title, "amount": amount})
    sign_in(page, REP, f"/ui/{APP}/deal")
    expect(page.locator("#title")).to_have_text("商机")
    editor = page.locator("#filter-form .dsl-editor .cm-content")
    expect(editor).to_be_visible()
    rows = page.locator("#records tbody tr")

    # An unknown field: the server's 422 names line 1, column 16; the editor underlines it.
    editor.click()
    page.keyboard.type("amount > 1 and nosuch == 2")
    page.keyboard.press("Escape")
    page.click("#filter-form button[type=submit]")
    underline = page.locator(".dsl-editor .cm-lintRange-error")
    expect(underline).to_have_text("nosuch")
    expect(page.locator("#filter-error .where")).to_have_text("第 1 行第 16 列")
    underline.hover()
    tip = page.locator(".cm-tooltip-lint")
    expect(tip).to_contain_text("第 1 行第 16 列")
    expect(tip).to_contain_text("nosuch")
    shot(page, "dsl-editor-error-zh")

    # A field name completed, then a valid filter (Ctrl+Enter) narrows the list.
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    expect(underline).to_have_count(0)
    page.keyboard.type("amount > 150 and starts_with(ti")
    chosen = page.locator(".cm-tooltip-autocomplete li[aria-selected=true]")
    expect(chosen).to_contain_text("title")
    chosen.click()  # (Enter accepts too, once the list has been open CodeMirror's 75 ms)
    page.keyboard.type(", '编辑器-")
    wanted = "amount > 150 and starts_with(title, '编辑器-')"
    expect(editor).to_have_text(wanted)
    expect(page.locator("#filter")).to_have_value(wanted)
    # Highlighted by kind: a field, a function, a keyword, a string, a number.
    colours = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.dsl-editor .cm-line span')]
             .map(s => [s.textContent, getComputedStyle(s).color]))"""
    )
    assert colours["amount"] == colours["title"] == "rgb(15, 118, 110)"
    assert colours["starts_with"] == "rgb(29, 78, 216)"
    assert colours["and"] == "rgb(122, 31, 162)"
    assert colours["'编辑器-'"] == "rgb(163, 21, 21)" and colours["150"] == "rgb(17, 102, 68)"
    page.keyboard.press("Control+Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("编辑器-乙")
    assert f"filter={wanted}" in page.evaluate("decodeURIComponent(location.search.replace(/\\+/g, ' '))")

    # Whatever sets the box (here "clear") shows in the editor.
    page.click("#filter-clear")
    expect(page.locator(".dsl-editor .cm-placeholder")).to_be_visible()
    assert page.evaluate("TG.dslEditor.view.state.doc.toString()") == ""
    expect(rows.filter(has_text="编辑器-甲")).to_have_count(1)

    # The same in English: the server's message and the place in English.
    page.click(".lang button[data-lang=en]")
    expect(page.locator("#title")).to_have_text("Deal")
    editor.click()
    page.keyboard.type("title == 'x' or")
    page.keyboard.press("Escape")
    page.click("#filter-form button[type=submit]")
    expect(page.locator(".dsl-editor .cm-lintRange-error")).to_have_count(1)
    expect(page.locator("#filter-error .where")).to_contain_text("line 1, column")
    page.locator(".dsl-editor .cm-lintRange-error").hover()
    expect(page.locator(".cm-tooltip-lint")).to_contain_text("line 1, column")
    shot(page, "dsl-editor-error-en")
    page.click(".lang button[data-lang=zh]")  # the next tests read Chinese
    expect(page.locator("#title")).to_have_text("商机")
    assert _not_expected(problems) == []
    assert any(p.startswith("422: ") for p in problems)


def test_completion_follows_a_lookup_and_offers_a_select_fields_values(
    page: Page, problems: list[str], api: Api
) -> None:
    accounts = f"/api/apps/{APP}/records/account"
    key = api("POST", accounts, user=ADMIN, json={"name": "补全重点客户", "grade": "A"})
    other = api("POST", accounts, user=ADMIN, json={"name": "补全普通客户", "grade": "B"})
    for title, account in [("补全-重点", key), ("补全-普通", other)]:
        api("POST", DEALS, user=ADMIN, json={"title": title, "account": account["id"], "stage": "proposal"})
    sign_in(page, ADMIN, f"/ui/{APP}/deal?q=补全-")
    expect(page.locator("#title")).to_have_text("商机")
    rows = page.locator("#records tbody tr")
    expect(rows).to_have_count(2)
    editor = page.locator("#filter-form .dsl-editor .cm-content")
    editor.click()
    page.keyboard.type("account.gr")
    chosen = page.locator(".cm-tooltip-autocomplete li[aria-selected=true]")
    expect(chosen).to_contain_text("grade")  # a field of the account, not of the deal
    expect(chosen).to_contain_text("等级")
    chosen.click()
    page.keyboard.type(" == '")
    offered = page.locator(".cm-tooltip-autocomplete li")
    expect(offered).to_have_count(2)
    expect(offered.nth(0)).to_contain_text("A")
    expect(offered.nth(0)).to_contain_text("重点")  # the option's label beside its value
    shot(page, "dsl-editor-options-zh")
    offered.nth(0).click()
    page.keyboard.type("' and stage == 'pro")
    expect(chosen).to_contain_text("proposal")
    chosen.click()
    page.keyboard.type("'")
    wanted = "account.grade == 'A' and stage == 'proposal'"
    expect(editor).to_have_text(wanted)
    page.keyboard.press("Control+Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("补全-重点")
    assert problems == []


def test_the_plain_box_still_works_without_codemirror(page: Page, problems: list[str], api: Api) -> None:
    api("POST", DEALS, user=ADMIN, json={"title": "无编辑器-甲", "amount": "5"})
    page.route("**/vendor/codemirror/codemirror.min.js", lambda route: route.fulfill(status=200, body=""))
    sign_in(page, ADMIN, f"/ui/{APP}/deal")
    expect(page.locator("#title")).to_have_text("商机")
    expect(page.locator(".dsl-editor")).to_have_count(0)
    page.fill("#filter", "starts_with(title, '无编辑器-')")
    page.click("#filter-form button[type=submit]")
    expect(page.locator("#records tbody tr")).to_have_count(1)
    assert problems == []


def test_builder_fill_and_ime_composition_reach_the_editor_and_the_box(
    page: Page, problems: list[str], api: Api
) -> None:
    for title, amount in [("华东-甲", "10"), ("华南-乙", "20")]:
        api("POST", DEALS, user=ADMIN, json={"title": title, "amount": amount})
    sign_in(page, ADMIN, f"/ui/{APP}/deal")
    expect(page.locator("#title")).to_have_text("商机")
    editor = page.locator("#filter-form .dsl-editor .cm-content")
    rows = page.locator("#records tbody tr")

    # The filter builder writes the box; the editor shows it.
    page.click("#filter-builder summary")
    root = page.locator("#fb-root > .fb-group")
    root.locator("> .fb-actions .fb-add").click()
    root.locator("> .fb-row").nth(0).locator(".fb-value").fill("华南-")
    expect(editor).to_have_text("contains(title, '华南-')")
    page.click("#filter-form button[type=submit]")
    expect(rows).to_have_count(1)

    # A saved view sets the box; the editor shows its filter.
    view = api(
        "POST", f"/ui/views/{APP}/deal", json={"name": "编辑器视图", "filter": "starts_with(title, '华东')"}
    )
    try:
        page.reload()
        page.select_option("#view-select", str(view["id"]))
        expect(editor).to_have_text("starts_with(title, '华东')")
        expect(rows).to_have_count(1)
    finally:
        with contextlib.suppress(ValueError):  # 204: no body for the helper to decode
            api("DELETE", f"/ui/views/{APP}/deal/{view['id']}")
    root = page.locator("#fb-root > .fb-group")

    # Filled as a script or another test fills the box: the editor follows, and the builder reads
    # the text back into its rows where it has the builder's shapes, else shows none.
    page.fill("#filter", "starts_with(title, '华')")
    expect(editor).to_have_text("starts_with(title, '华')")
    expect(root.locator("> .fb-row")).to_have_count(1)
    expect(root.locator("> .fb-row .fb-op")).to_have_value("starts")
    expect(root.locator("> .fb-row .fb-value")).to_have_value("华")
    page.fill("#filter", "starts_with(title, '华') and len(title) > 3")
    expect(root.locator("> .fb-row")).to_have_count(0)

    # Chinese typed through an IME composition lands in the editor and the box.
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("starts_with(title, '")
    cdp = page.context.new_cdp_session(page)
    for text in ["h", "hua", "huad", "huadong"]:
        cdp.send(
            "Input.imeSetComposition", {"text": text, "selectionStart": len(text), "selectionEnd": len(text)}
        )
    cdp.send("Input.insertText", {"text": "华东"})
    wanted = "starts_with(title, '华东')"
    expect(editor).to_have_text(wanted)
    expect(page.locator("#filter")).to_have_value(wanted)
    page.keyboard.press("Control+Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("华东-甲")

    # An error on the second line is underlined there too.
    page.fill("#filter", "stage == 'won'\nand amount >> 150")
    page.click("#filter-form button[type=submit]")
    expect(page.locator("#filter-error .where")).to_have_text("第 2 行第 13 列")
    underline = page.locator(".dsl-editor .cm-line").nth(1).locator(".cm-lintRange-error")
    expect(underline).to_have_text(">")
    assert _not_expected(problems) == []
