"""Schemathesis against the platform's OpenAPI document and an app's, as an administrator and as
a sales rep, on both databases: no 5xx, every answer in its documented schema with a documented
status code, 405 answers naming the methods a path does allow.

The number of examples per operation is bounded and the generation seeded (``derandomize``), so
a run is the same every time and takes seconds, not minutes.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from engine import Platform
from engine.http import create_app
from engine.identity.users import create_user, issue_token

from .conftest import sales_app

#: Examples per operation and generation mode: enough to reach the documented answers of a
#: route, few enough that the four documents on two databases take about a minute together.
#: Input the schema refuses (``GenerationMode.NEGATIVE``) costs seconds per operation just to
#: generate, so CI leaves it out; a run of 30 examples per operation in both modes found nothing.
EXAMPLES = {GenerationMode.POSITIVE: 6}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, unsupported_method]
#: Operations that would end the fuzzer's own session (they are tested on their own elsewhere).
SELF_ENDING = {"POST /api/auth/logout", "POST /api/auth/password", "DELETE /api/tokens/{token_id}"}

REP_ROLE = {
    "name": "rep",
    "label": {"zh": "销售", "en": "Rep"},
    "permissions": {
        "account": {"create": True, "read": {"scope": "own"}, "update": {"scope": "own"}},
        "deal": {
            "create": True,
            "read": {"scope": "own"},
            "update": {"scope": "own"},
            "delete": {"scope": "own"},
            "fields": {"amount": {"access": "masked", "mask": "generic"}, "notes": {"access": "hidden"}},
        },
    },
}


@dataclass
class Fuzzed:
    app: FastAPI
    tokens: dict[str, str]
    #: a user the administrator's fuzzing may change at will (not the administrator)
    victim: int


@pytest.fixture
def fuzzed(platform: Platform) -> Iterator[Fuzzed]:
    package = sales_app()
    package["roles"] = [REP_ROLE]
    cost = platform.settings.password_hash_cost
    app = create_app(platform=platform)
    with TestClient(app) as client:
        with platform.db.begin() as conn:
            boss = create_user(conn, "boss", "boss-password-1", is_admin=True, hash_cost=cost)
            seller = create_user(conn, "seller", "seller-password-1", hash_cost=cost)
            victim = create_user(conn, "victim", "victim-password-1", hash_cost=cost)
            tokens = {
                "admin": issue_token(conn, boss, name="fuzz", kind="api", ttl=None).token,
                "rep": issue_token(conn, seller, name="fuzz", kind="api", ttl=None).token,
            }
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        assert client.post("/api/apps", json=package, headers=admin).status_code == 201
        assigned = client.put(f"/api/apps/sales/users/{seller}/roles", json={"roles": ["rep"]}, headers=admin)
        assert assigned.status_code == 200, assigned.text
        rep = {"Authorization": f"Bearer {tokens['rep']}"}
        account = client.post("/api/apps/sales/records/account", json={"name": "acme"}, headers=rep).json()
        deal = {"title": "first", "amount": "1200.50", "account": account["id"]}
        assert client.post("/api/apps/sales/records/deal", json=deal, headers=rep).status_code == 201
        yield Fuzzed(app, tokens, victim)


def _fuzz(fuzzed: Fuzzed, document: str, who: str) -> list[str]:
    """Every operation of ``document``, ``EXAMPLES`` seeded examples each; the failures."""
    headers = {"Authorization": f"Bearer {fuzzed.tokens[who]}"}
    schema = schemathesis.openapi.from_asgi(document, fuzzed.app, headers=headers)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema raises here
        if f"{operation.method.upper()} {operation.path}" not in SELF_ENDING:
            for mode, examples in EXAMPLES.items():
                failures += _fuzz_operation(operation, mode, examples, headers, fuzzed.victim)
    return failures


def _fuzz_operation(
    operation: Any, mode: GenerationMode, examples: int, headers: dict[str, str], victim: int
) -> list[str]:
    label = f"{operation.method.upper()} {operation.path}"
    fixed = {"user_id": victim} if "{user_id}" in operation.path else None
    failures: list[str] = []

    @hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, path_parameters=fixed))
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, FailureGroup) as exc:  # every failure is collected, then reported
            failures.append(f"{label} -> {response.status_code}: {_summary(exc)}")

    with contextlib.suppress(hypothesis.errors.Unsatisfiable):  # nothing to break (negative)
        run()
    return failures


@pytest.mark.parametrize("who", ["admin", "rep"])
@pytest.mark.parametrize("document", ["/openapi.json", "/api/apps/sales/openapi.json"])
def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    fuzzed: Fuzzed, document: str, who: str
) -> None:
    failures = _fuzz(fuzzed, document, who)
    assert not failures, "\n\n".join(failures[:30]) + f"\n\n{len(failures)} failures"


def _summary(exc: BaseException) -> str:
    inner = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
    return " | ".join(" ".join(str(e).split())[:300] for e in inner)


def _concrete(path: str) -> str:
    """A path of the document with its parameters filled in."""
    return path.replace("{app}", "sales").replace("{entity}", "deal").replace("{", "1").replace("}", "")


def _served(document: dict[str, Any], url: str) -> set[str]:
    """The methods the document declares for ``url``, through every path template matching it
    (``/records/deal/bulk`` is also ``/records/{entity}/{record_id}``)."""
    methods: set[str] = set()
    for path, operations in document["paths"].items():
        if re.fullmatch(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path)), url):
            methods |= {m.upper() for m in operations} & set(_METHODS)
    return methods


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def test_405_names_every_method_the_path_serves_and_head_follows_get(fuzzed: Fuzzed) -> None:
    client = TestClient(fuzzed.app, headers={"Authorization": f"Bearer {fuzzed.tokens['admin']}"})
    document = client.get("/openapi.json").json()
    checked = 0
    for path in document["paths"]:
        url = _concrete(path)
        served = _served(document, url)
        expected = sorted(served | ({"HEAD"} if "GET" in served else set()))
        for method in sorted({*_METHODS, "OPTIONS"} - served):
            r = client.request(method, url)
            assert r.status_code == 405, (method, url, r.status_code, r.text)
            assert sorted(m.strip() for m in r.headers["allow"].split(",")) == expected, (method, url)
            assert r.json()["error"]["code"] == "method_not_allowed"
            checked += 1
        if "GET" in served:
            got, head = client.get(url), client.head(url)
            assert head.status_code == got.status_code, (url, head.status_code, got.status_code)
            assert head.content == b""
            if got.status_code == 200 and "content-length" in got.headers:
                assert head.headers["content-length"] == got.headers["content-length"], url
    assert checked > 40  # every path of the platform, not a few


def test_each_route_documents_the_error_answers_it_can_give(anon: TestClient) -> None:
    paths = anon.get("/openapi.json").json()["paths"]

    def codes(path: str, method: str) -> set[str]:
        return {c for c in paths[path][method]["responses"] if c >= "400"}

    assert codes("/api/health", "get") == {"422", "500", "503"}  # public: no 401
    assert {"401", "429", "413"} <= codes("/api/auth/token", "post")
    assert {"401", "403", "404", "409", "413"} <= codes(
        "/api/apps/{app}/records/{entity}/{record_id}", "patch"
    )
    error = paths["/api/users/{user_id}/unlock"]["post"]["responses"]["403"]["content"]["application/json"]
    assert error["schema"] == {"$ref": "#/components/schemas/Error"}
