"""The vendored browser libraries are exactly what vendor.sh wrote, each with its licence."""

from __future__ import annotations

import hashlib
from pathlib import Path

VENDOR = Path(__file__).parents[2] / "builder_ui" / "static" / "vendor"


def test_vendored_files_match_their_checksums_and_carry_a_licence() -> None:
    sums = {}
    for line in (VENDOR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.removeprefix("./")] = digest
    files = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file() and p.name != "SHA256SUMS"}
    assert files == set(sums)
    for name, digest in sums.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    for script in VENDOR.rglob("*.js"):
        assert list(script.parent.glob("LICENSE.*")), f"{script} has no licence beside it"


def test_plugin_pages_are_public_only_where_marked(ui_platform: object) -> None:
    """A page redirects an anonymous visitor to sign in; a plugin route not marked public still
    answers 401, and a change through the cookie session needs the CSRF header."""
    from fastapi.testclient import TestClient

    from engine import Platform
    from engine.http import create_app

    assert isinstance(ui_platform, Platform)
    with TestClient(create_app(platform=ui_platform)) as client:
        r = client.get("/ui/biz/deal", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/login?next=")
        assert client.get("/ui/login").status_code == 200
        assert client.get("/ui/templates").status_code == 401
        r = client.post("/api/auth/session", json={"username": "admin", "password": "admin-password-1"})
        assert r.status_code == 200, r.text
        assert client.put("/ui/preferences", json={"locale": "en"}).status_code == 403
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        r = client.put("/ui/preferences", json={"locale": "fr"}, headers=csrf)
        assert r.status_code == 422 and r.json()["error"]["message"] == "the language must be zh or en"
        r = client.put("/ui/preferences", json={"locale": "en"}, headers=csrf)
        assert r.status_code == 200, r.text
        assert client.get("/ui/biz/deal").headers["content-language"] == "en"
        assert client.get("/ui/static/..%2Fpages.py").status_code == 404
