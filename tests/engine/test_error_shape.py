"""Every error path answers the same shape: code, message, request id, problems."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from engine import Platform, hookimpl
from engine.http import create_app

from .conftest import ADMIN, sign_in


def _assert_shape(r, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) >= {"code", "message", "request_id", "problems"}
    assert error["request_id"] == r.headers["x-request-id"]
    assert isinstance(error["problems"], list) and error["message"]
    for problem in error["problems"]:
        assert {"code", "pointer", "message"} <= set(problem)
    return error


def test_error_shape_on_every_kind_of_error(sales: TestClient) -> None:
    deals = "/api/apps/sales/records/deal"
    _assert_shape(sales.get("/nowhere"), 404)
    _assert_shape(sales.put("/api/health"), 405)
    _assert_shape(sales.get("/api/apps", headers={"Authorization": "Bearer nope"}), 401)
    _assert_shape(sales.post(deals, content=b"[1,", headers={"content-type": "application/json"}), 422)
    _assert_shape(sales.post(deals, json=[1, 2]), 422)
    _assert_shape(sales.post(deals, json={"amount": "x"}), 422)
    _assert_shape(
        sales.post(deals, content=b'{"title": "\\ud800"}', headers={"content-type": "application/json"}), 422
    )
    _assert_shape(sales.get(deals + "/1"), 404)
    _assert_shape(sales.get(deals, params={"filter": "(("}), 422)
    _assert_shape(sales.post("/api/apps", json={"name": 1}), 422)
    first = sales.post("/api/apps/sales/records/account", json={"name": "x"}).json()
    _assert_shape(sales.post("/api/apps/sales/records/account", json={"name": "x"}), 409)
    _assert_shape(sales.patch(f"/api/apps/sales/records/account/{first['id']}", json={"version": 9}), 409)


def test_messages_follow_accept_language(sales: TestClient) -> None:
    r = sales.get("/api/apps/sales/records/deal/42", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "编号" in r.json()["error"]["message"]
    r = sales.get("/api/apps/sales/records/deal/42", headers={"Accept-Language": "en-US"})
    assert "no deal record with id 42" in r.json()["error"]["message"]


class _Boom:
    @hookimpl
    def tangram_routes(self, platform: Platform) -> APIRouter:
        router = APIRouter()

        @router.get("/api/boom")
        def boom() -> None:
            raise RuntimeError("kaboom")

        return router


@pytest.fixture
def boom_client(platform: Platform) -> Iterator[TestClient]:
    platform.plugins.register(_Boom())
    with TestClient(create_app(platform=platform), raise_server_exceptions=False) as client:
        client.headers.update(sign_in(client, *ADMIN))
        yield client


def test_unexpected_exception_is_500_with_request_id_and_no_internals(
    boom_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    r = boom_client.get("/api/boom", headers={"X-Request-ID": "req-123"})
    error = _assert_shape(r, 500)
    assert error["request_id"] == "req-123" and "kaboom" not in r.text
    assert any("req-123" in rec.getMessage() for rec in caplog.records)


def test_request_errors_speak_chinese_too(sales: TestClient) -> None:
    zh = {"Accept-Language": "zh-CN"}
    r = sales.get("/api/apps/sales/records/deal/abc", headers=zh)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["message"] == "应为整数"
    r = sales.post("/api/apps/sales/records/deal", json=[1], headers=zh)
    assert r.json()["error"]["problems"][0]["message"] == "应为 JSON 对象"
    r = sales.get("/api/apps/sales/records/deal/abc")
    assert "integer" in r.json()["error"]["problems"][0]["message"]


def test_kernel_messages_follow_accept_language(sales: TestClient) -> None:
    zh, en = {"Accept-Language": "zh-CN"}, {"Accept-Language": "en"}
    error = _assert_shape(sales.get("/api/apps/nope/records/deal", headers=zh), 404)
    assert (error["code"], error["message"]) == ("not_found", "没有名为 nope 的应用")
    error = _assert_shape(sales.get("/api/apps/nope/records/deal", headers=en), 404)
    assert error["message"] == "no app named 'nope'"
    error = _assert_shape(
        sales.get("/api/apps/sales/records/deal", params={"sort": "amout"}, headers=zh), 422
    )
    assert error["message"] == "排序参数无效"
    assert error["problems"][0]["message"] == "不能按 amout 排序（是否想写 amount？）"
    error = _assert_shape(
        sales.get("/api/apps/sales/records/deal", params={"sort": "amout"}, headers=en), 422
    )
    assert error["problems"][0]["message"] == "cannot sort by 'amout'; did you mean 'amount'?"
    error = _assert_shape(sales.get("/api/apps/sales/records/deel", headers=en), 404)
    assert error["message"] == "app 'sales' has no entity 'deel' (did you mean 'deal'?)"
    assert _assert_shape(sales.get("/nowhere", headers=zh), 404)["message"] == "地址不存在：/nowhere"
    error = _assert_shape(sales.post("/api/auth/token", json={"username": "x"}, headers=zh), 422)
    assert error["problems"][0]["message"] == "缺少必填项"


def test_a_filter_error_keeps_the_braces_of_the_rule(sales: TestClient) -> None:
    deals = "/api/apps/sales/records/deal"
    r = sales.get(deals, params={"filter": "matches(title, 'a{2,1}')"}, headers={"Accept-Language": "zh"})
    error = _assert_shape(r, 422)
    assert (
        error["message"].startswith("筛选条件无效：第 1 行第 16 列：")
        and "重复次数 {2,1} 无效" in error["message"]
    )
    assert error["problems"][0]["code"] == "invalid_filter"
    assert error["problems"][0]["message"] == "筛选条件有误：" + error["message"].removeprefix(
        "筛选条件无效："
    )
    r = sales.get(deals, params={"filter": "matches(title, 'a{2,1}')"})
    assert "found the repetition {2,1}" in _assert_shape(r, 422)["problems"][0]["message"]
