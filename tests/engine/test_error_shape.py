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
