"""Password hashing: strong by default, cheap only when asked, and every hash verifies whatever the
cost setting is now."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import ValidationError

from engine import Platform, Settings
from engine.http import create_app
from engine.identity.passwords import hash_password, unusable_hash, verify_password
from engine.schema import system_tables as st

from .conftest import USER, sign_in


def scrypt_n(stored: str) -> int:
    scheme, n, *_rest = stored.split("$")
    assert scheme == "scrypt"
    return int(n)


def test_production_default_stays_strong(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANGRAM_PASSWORD_HASH_COST", raising=False)
    assert Settings().password_hash_cost >= 14
    assert scrypt_n(hash_password("a-password-1")) >= 2**14
    assert scrypt_n(unusable_hash()) >= 2**14


def test_cost_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANGRAM_PASSWORD_HASH_COST", "4")
    assert Settings().password_hash_cost == 4
    for bad in ("0", "21", "cheap"):
        monkeypatch.setenv("TANGRAM_PASSWORD_HASH_COST", bad)
        with pytest.raises(ValidationError, match="password_hash_cost"):
            Settings()


@pytest.mark.parametrize("cost", [1, 14])
def test_a_hash_carries_its_cost_and_verifies_at_any_setting(cost: int) -> None:
    stored = hash_password("a-password-1", cost=cost)
    assert scrypt_n(stored) == 2**cost
    assert verify_password("a-password-1", stored)
    assert not verify_password("a-password-2", stored)


def test_no_password_matches_the_unusable_hash() -> None:
    stored = unusable_hash(cost=1)
    assert scrypt_n(stored) == 2 and not verify_password("", stored)


def test_a_tampered_hash_asking_for_too_much_memory_is_refused() -> None:
    stored = hash_password("a-password-1", cost=1).replace("scrypt$2$", f"scrypt${2**30}$", 1)
    assert not verify_password("a-password-1", stored)


@pytest.fixture
def costlier(platform: Platform) -> Iterator[TestClient]:
    """A second server on the same database whose cost setting differs from the one that
    hashed the users' passwords."""
    settings = Settings(**{**platform.settings.model_dump(), "password_hash_cost": 4})
    with TestClient(create_app(platform=Platform(settings, load_entry_points=False))) as client:
        yield client


def stored_hash(platform: Platform, username: str) -> str:
    with platform.db.connect() as conn:
        return conn.execute(
            sa.select(st.users.c.password_hash).where(st.users.c.username == username)
        ).scalar_one()


def test_sign_in_works_after_the_cost_setting_changes(
    anon: TestClient, costlier: TestClient, platform: Platform
) -> None:
    before = stored_hash(platform, USER[0])
    assert scrypt_n(before) == 2**platform.settings.password_hash_cost
    costlier.headers.update(sign_in(costlier, *USER))
    r = costlier.post(
        "/api/auth/password", json={"current_password": USER[1], "new_password": "new-password-9"}
    )
    assert r.status_code == 200, r.text
    assert scrypt_n(stored_hash(platform, USER[0])) == 2**4
    sign_in(anon, USER[0], "new-password-9")
