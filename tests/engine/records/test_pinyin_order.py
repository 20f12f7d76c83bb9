"""Chinese text sorts in pinyin order on both databases, with the record id breaking ties."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient

from engine.schema.pinyin_order import sort_key

ACCOUNTS = "/api/apps/sales/records/account"
#: In pinyin order, worked out by hand: a, bi, da, ge, hua, teng, wan, xiao, zhao.
IN_PINYIN_ORDER = ["阿里巴巴", "比亚迪", "大疆", "格力", "华为", "腾讯", "万科", "小米", "招商"]


def _names(client: TestClient, sort: str) -> list[tuple[str, str, int]]:
    r = client.get(ACCOUNTS, params={"sort": sort, "limit": 100})
    assert r.status_code == 200, r.text
    return [(i["name"], i["region"], i["id"]) for i in r.json()["items"]]


def test_names_sort_by_pinyin_not_code_point(sales: TestClient) -> None:
    shuffled = IN_PINYIN_ORDER[:]
    random.Random(7).shuffle(shuffled)
    for name in shuffled:
        assert sales.post(ACCOUNTS, json={"name": name}).status_code == 201
    assert [n for n, _, _ in _names(sales, "name")] == IN_PINYIN_ORDER
    assert [n for n, _, _ in _names(sales, "-name")] == IN_PINYIN_ORDER[::-1]
    assert sorted(IN_PINYIN_ORDER) != IN_PINYIN_ORDER  # code point order would differ


def test_equal_values_keep_a_stable_order_by_id(sales: TestClient) -> None:
    regions = ["华南", "华东", "华南", "华北", "华东", "华南"]
    for i, region in enumerate(regions):
        assert sales.post(ACCOUNTS, json={"name": f"客户{i}", "region": region}).status_code == 201
    rows = _names(sales, "region")
    assert [r for _, r, _ in rows] == ["华北", "华东", "华东", "华南", "华南", "华南"]  # bei, dong, nan
    for region in ("华东", "华南"):
        ids = [i for _, r, i in rows if r == region]
        assert ids == sorted(ids)


def test_sort_key_orders_tones_and_scripts_like_icu() -> None:
    # ICU's Chinese order: symbols, digits, Chinese by pinyin then tone, then Latin letters
    words = ["ma", "吗", "骂", "马", "麻", "妈", "1号", "-"]
    assert sorted(words, key=sort_key) == ["-", "1号", "妈", "麻", "马", "骂", "吗", "ma"]
