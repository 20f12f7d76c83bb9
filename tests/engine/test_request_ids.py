"""Every answer names its request: the caller's X-Request-ID, or a new one, exactly once."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_an_answer_echoes_the_request_id_it_was_sent(anon: TestClient) -> None:
    r = anon.get("/api/health", headers={"X-Request-ID": "req-7"})
    assert r.status_code == 200, r.text
    assert r.headers.get_list("x-request-id") == ["req-7"]


def test_a_request_without_an_id_gets_a_new_one(anon: TestClient) -> None:
    first, second = anon.get("/api/health"), anon.get("/api/health")
    ids = [r.headers["x-request-id"] for r in (first, second)]
    assert all(len(i) == 32 for i in ids) and ids[0] != ids[1]


def test_an_error_names_the_same_id_once_in_header_and_body(anon: TestClient) -> None:
    r = anon.get("/api/apps", headers={"X-Request-ID": "req-8"})
    assert r.status_code == 401, r.text
    assert r.headers.get_list("x-request-id") == ["req-8"]
    assert r.json()["error"]["request_id"] == "req-8"


def test_a_record_answer_carries_its_request_id(sales: TestClient) -> None:
    r = sales.post(
        "/api/apps/sales/records/account", json={"name": "华为"}, headers={"X-Request-ID": "req-9"}
    )
    assert r.status_code == 201, r.text
    assert r.headers.get_list("x-request-id") == ["req-9"]
    assert r.headers["content-type"] == "application/json"
