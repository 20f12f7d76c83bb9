"""Keyword search (``q=``) on the list route, on SQLite and PostgreSQL: Chinese substrings, pinyin
initials and syllables, combined with filters, kept in step with every write and schema change,
and never over a field or a row the caller may not see."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ..conftest import sales_app

ACCOUNTS = "/api/apps/sales/records/account"

NAMES = {
    "深圳华为技术有限公司": "华南",
    "华为终端有限公司": "华南",
    "小米科技有限责任公司": "华北",
    "为华贸易": "华东",  # holds both characters of 华为, not the word
    "曾小贤工作室": "华东",  # 曾 reads ceng, and zeng as a surname
    "ACME Holdings 100%": "海外",
    "北京字节跳动": "华北",
}


def _seed(client: TestClient) -> dict[str, int]:
    ids = {}
    for name, region in NAMES.items():
        r = client.post(ACCOUNTS, json={"name": name, "region": region})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    return ids


def _search(client: TestClient, q: str, **params: Any) -> list[str]:
    r = client.get(ACCOUNTS, params={"q": q, "limit": 1000, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return sorted(item["name"] for item in body["items"])


def _containing(text: str) -> list[str]:
    """The expected answer, worked out from the data (ASCII case ignored)."""
    return sorted(
        n for n, region in NAMES.items() if text.lower() in n.lower() or text.lower() in region.lower()
    )


@pytest.mark.parametrize(
    "q", ["华为", "有限公司", "华为技术", "小", "acme", "ACME hold", "100%", "华南", "跳动"]
)
def test_search_finds_every_record_holding_the_text(sales: TestClient, q: str) -> None:
    _seed(sales)
    assert _search(sales, q) == _containing(q)


def test_search_finds_chinese_inside_a_longer_name_and_not_scattered_characters(sales: TestClient) -> None:
    _seed(sales)
    assert _search(sales, "华为") == ["华为终端有限公司", "深圳华为技术有限公司"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("hw", ["华为终端有限公司"]),  # initials at the start; 深圳华为 is szhw…
        ("szhw", ["深圳华为技术有限公司"]),
        ("huawei", ["华为终端有限公司", "深圳华为技术有限公司"]),
        ("Hua Wei", ["华为终端有限公司", "深圳华为技术有限公司"]),
        ("zengxiaoxian", ["曾小贤工作室"]),
        ("cengxiaoxian", ["曾小贤工作室"]),
        ("zxx", ["曾小贤工作室"]),
        ("zijietiaodong", ["北京字节跳动"]),
    ],
)
def test_search_by_pinyin_of_the_title(sales: TestClient, q: str, expected: list[str]) -> None:
    _seed(sales)
    found = _search(sales, q)
    assert all(name in found for name in expected), found
    if q == "hw":
        # substring of the initials: 深圳华为 gives "szhw", so both hold "hw"
        assert found == ["华为终端有限公司", "深圳华为技术有限公司"]


def test_search_combines_with_a_filter_and_sorts(sales: TestClient) -> None:
    _seed(sales)
    assert _search(sales, "有限", filter="region == '华南'") == ["华为终端有限公司", "深圳华为技术有限公司"]
    r = sales.get(ACCOUNTS, params={"q": "公司", "sort": "name"})
    assert [i["name"] for i in r.json()["items"]] == [
        "华为终端有限公司",
        "深圳华为技术有限公司",
        "小米科技有限责任公司",
    ]


def test_search_follows_changes_trash_and_restore(sales: TestClient) -> None:
    ids = _seed(sales)
    rid = ids["小米科技有限责任公司"]
    assert sales.patch(f"{ACCOUNTS}/{rid}", json={"name": "红米科技"}).status_code == 200
    assert _search(sales, "小米") == []
    assert _search(sales, "红米") == ["红米科技"]
    assert _search(sales, "hmkj") == ["红米科技"]
    assert sales.delete(f"{ACCOUNTS}/{rid}").status_code == 200
    assert _search(sales, "红米") == []
    assert _search(sales, "红米", trash="true") == ["红米科技"]
    assert sales.post(f"{ACCOUNTS}/{rid}/restore").status_code == 200
    assert _search(sales, "红米") == ["红米科技"]
    sales.delete(f"{ACCOUNTS}/{rid}")
    assert sales.delete(f"{ACCOUNTS}/{rid}", params={"purge": "true"}).status_code == 200
    assert _search(sales, "红米", trash="true") == []


def test_bulk_created_records_are_searchable(sales: TestClient) -> None:
    items = [{"name": f"批量客户{i:03d}", "region": "华中"} for i in range(120)]
    r = sales.post(f"{ACCOUNTS}/bulk", json={"items": items})
    assert r.status_code == 201, r.text
    assert _search(sales, "客户07") == sorted(f"批量客户{i:03d}" for i in range(70, 80))


def test_schema_changes_keep_search_in_step(sales: TestClient) -> None:
    _seed(sales)
    definition = sales_app()["entities"][0]
    # the title moves to region: its pinyin is searched instead of the name's
    definition["title_field"] = "region"
    assert sales.put("/api/apps/sales/entities/account", json=definition).status_code == 200
    assert _search(sales, "huadong") == ["为华贸易", "曾小贤工作室"]
    assert _search(sales, "huawei") == []
    # a renamed field keeps being searched under its new name
    definition["fields"][0] = {**definition["fields"][0], "id": "name", "name": "company"}
    assert sales.put("/api/apps/sales/entities/account", json=definition).status_code == 200
    r = sales.get(ACCOUNTS, params={"q": "字节"})
    assert [i["company"] for i in r.json()["items"]] == ["北京字节跳动"]
    # a new text field is searched once it holds values
    definition["fields"].append({"name": "memo", "type": "long_text", "label": {"zh": "备注", "en": "Memo"}})
    assert sales.put("/api/apps/sales/entities/account", json=definition).status_code == 200
    rid = r.json()["items"][0]["id"]
    assert sales.patch(f"{ACCOUNTS}/{rid}", json={"memo": "重点跟进：抖音电商"}).status_code == 200
    assert [i["id"] for i in sales.get(ACCOUNTS, params={"q": "抖音"}).json()["items"]] == [rid]


def test_too_long_search_text_is_a_clear_422(sales: TestClient) -> None:
    r = sales.get(ACCOUNTS, params={"q": "长" * 201})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["problems"][0]["pointer"] == "/q"


def test_blank_search_lists_everything(sales: TestClient) -> None:
    _seed(sales)
    assert sales.get(ACCOUNTS, params={"q": "   "}).json()["total"] == len(NAMES)
