"""NUL and lone surrogates are refused at the HTTP edge with a 422, on both databases: record
values, filters, sign-in, names in paths; never a driver error or an answer that cannot be encoded."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from .conftest import ADMIN

DEALS = "/api/apps/sales/records/deal"
ACCOUNTS = "/api/apps/sales/records/account"
#: Raw JSON text: json.dumps writes a NUL as \u0000, and a lone surrogate as \ud800 (ensure_ascii).
NUL = "a\x00b"
SURROGATE = "a\ud800b"


def post_raw(client: TestClient, url: str, body: object, **headers: str) -> object:
    return client.post(url, content=json.dumps(body), headers={"content-type": "application/json", **headers})


def refused(r: object, pointer: str, char: str) -> dict[str, object]:
    assert r.status_code == 422, r.text  # type: ignore[attr-defined]
    error = r.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "invalid_request"
    found = {p["pointer"]: p for p in error["problems"]}
    assert found[pointer]["code"] == "unstorable_text", found
    assert char in found[pointer]["message"]
    return error  # type: ignore[no-any-return]


@pytest.mark.parametrize(("text", "char"), [(NUL, "U+0000"), (SURROGATE, "U+D800")])
def test_record_values_with_unstorable_text_are_a_422(sales: TestClient, text: str, char: str) -> None:
    r = post_raw(sales, ACCOUNTS, {"name": text})
    refused(r, "/name", char)
    r = post_raw(sales, DEALS, {"title": "ok", "notes": {"nested": [text]}})
    refused(r, "/notes/nested/0", char)
    r = post_raw(sales, DEALS, {"title": "ok", text: 1})
    refused(r, "/a\\u" + f"{ord(text[1]):04x}" + "b", char)
    first = sales.post(ACCOUNTS, json={"name": "fine"}).json()
    r = sales.patch(
        f"{ACCOUNTS}/{first['id']}",
        content=json.dumps({"name": text}),
        headers={"content-type": "application/json"},
    )
    refused(r, "/name", char)
    assert sales.get(ACCOUNTS).json()["total"] == 1


def test_messages_are_in_chinese_too(sales: TestClient) -> None:
    error = refused(
        post_raw(sales, ACCOUNTS, {"name": NUL}, **{"accept-language": "zh-CN"}), "/name", "U+0000"
    )
    assert "无法保存" in error["problems"][0]["message"]  # type: ignore[index]


def test_filters_with_unstorable_text_are_a_422(sales: TestClient) -> None:
    sales.post(ACCOUNTS, json={"name": "fine"})
    r = sales.get(ACCOUNTS, params={"filter": f'name == "{NUL}"'})
    refused(r, "/query/filter", "U+0000")
    # The DSL's own escapes cannot smuggle them in either.
    for escape, says in (("\\0", "NUL"), ("\\u0000", "NUL"), ("\\ud800", "four hex digits")):
        r = sales.get(ACCOUNTS, params={"filter": f'name == "a{escape}"'})
        assert r.status_code == 422, r.text
        problem = r.json()["error"]["problems"][0]
        assert problem["code"] == "invalid_filter" and says in problem["message"], problem


@pytest.mark.parametrize(("text", "char"), [(NUL, "U+0000"), (SURROGATE, "U+D800")])
@pytest.mark.parametrize("route", ["/api/auth/token", "/api/auth/session"])
def test_sign_in_with_unstorable_text_is_a_422(anon: TestClient, route: str, text: str, char: str) -> None:
    refused(post_raw(anon, route, {"username": text, "password": "whatever-1"}), "/username", char)
    refused(post_raw(anon, route, {"username": ADMIN[0], "password": text}), "/password", char)
    assert anon.post("/api/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200


def test_path_and_form_fields_are_checked_too(client: TestClient) -> None:
    refused(client.get("/api/apps/sa%00les"), "/path/app", "U+0000")
    r = client.post("/api/auth/token", data={"username": NUL, "password": "x"})
    refused(r, "/username", "U+0000")
