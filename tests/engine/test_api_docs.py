"""The interactive docs work on an intranet without internet, and can make signed-in calls."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_docs_page_loads_its_assets_from_the_server_itself(anon: TestClient) -> None:
    r = anon.get("/docs")
    assert r.status_code == 200, r.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert "cdn" not in r.text.lower()
    for source in sources:
        asset = anon.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100


def test_openapi_declares_a_bearer_scheme_on_signed_in_routes(anon: TestClient) -> None:
    document = anon.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["paths"]["/api/apps"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/api/health"]["get"]
    assert "security" not in document["paths"]["/api/auth/token"]["post"]


def test_a_call_made_the_way_the_docs_page_makes_it_is_authenticated(anon: TestClient) -> None:
    """Swagger UI sends the token it was given as ``Authorization: Bearer``; that is a signed-in call."""
    from .conftest import ADMIN

    token = anon.post("/api/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]}).json()[
        "access_token"
    ]
    assert anon.get("/api/apps").status_code == 401
    assert anon.get("/api/apps", headers={"Authorization": f"Bearer {token}"}).status_code == 200
