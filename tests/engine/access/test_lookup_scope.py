"""A lookup reaches only records the writer may read: a record outside their scope is
"not found" (so ids cannot be probed), and linkage, formulas, rules and the form state never
read values the writer cannot see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import SYSTEM, Platform
from engine.apps.metadata_store import import_app
from engine.http import create_app
from engine.identity.roles import set_roles
from engine.identity.users import create_user, issue_token

ACCOUNTS = "/api/apps/lk/records/account"
CONTACTS = "/api/apps/lk/records/contact"
STATE = "/api/apps/lk/forms/contact/default/state"
MISSING = 999_999


def _label(text: str) -> dict[str, str]:
    return {"zh": text, "en": text}


def _field(name: str, type_: str, **settings: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "label": _label(name), **settings}


PACKAGE: dict[str, Any] = {
    "name": "lk",
    "label": _label("Lookups"),
    "entities": [
        {
            "name": "account",
            "label": _label("Account"),
            "fields": [_field("name", "text"), _field("grade", "text"), _field("secret", "text")],
        },
        {
            "name": "contact",
            "label": _label("Contact"),
            "fields": [
                _field("note", "text"),
                _field(
                    "account",
                    "lookup",
                    entity="account",
                    copy_fields={"account_name": "name", "copied": "secret"},
                ),
                _field("account_name", "text"),
                _field("copied", "text"),
                _field("peek", "formula", expression="account.secret", result_type="text"),
                _field("vip_note", "text", visible_if="account.grade == 'A'"),
            ],
            "validations": [
                {"field": "account", "condition": "account.grade != 'A'", "message": _label("no A accounts")}
            ],
        },
    ],
    "roles": [
        {
            "name": "rep",
            "label": _label("Rep"),
            "permissions": {
                "account": {
                    "read": {"scope": "own"},
                    "update": {"scope": "own"},
                    "fields": {"secret": {"access": "hidden"}},
                },
                "contact": {"create": True, "read": {"scope": "own"}, "update": {"scope": "own"}},
            },
        }
    ],
}


class Lk:
    """A seller and a colleague (``other``, owning other accounts), both reps, and an administrator."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.http = TestClient(create_app(platform=platform))
        self.users: dict[str, int] = {}
        self.tokens: dict[str, str] = {}
        with platform.db.begin() as conn:
            package = import_app(conn, PACKAGE, SYSTEM)
            for name in ("seller", "other", "boss"):
                self.users[name] = create_user(conn, name, "lookup-password-1", is_admin=name == "boss")
                if name != "boss":
                    set_roles(conn, SYSTEM, package, self.users[name], ["rep"])
                token = issue_token(conn, self.users[name], name="t", kind="api", ttl=timedelta(hours=1))
                self.tokens[name] = token.token
        self.accounts = {
            "mine": self.account("mine", "B", "MINE-SECRET", "seller"),
            "theirs_a": self.account("theirs_a", "A", "TOP-SECRET-A", "other"),
            "theirs_b": self.account("theirs_b", "B", "TOP-SECRET-B", "other"),
        }

    def account(self, name: str, grade: str, secret: str, owner: str) -> int:
        values = {"name": name, "grade": grade, "secret": secret, "owner": self.users[owner]}
        return int(self.platform.records.create(SYSTEM, "lk", "account", values)["id"])

    def client(self, who: str) -> TestClient:
        self.http.headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.http

    def contacts(self) -> int:
        return int(self.client("boss").get(CONTACTS).json()["total"])


@pytest.fixture
def lk(platform: Platform) -> Lk:
    return Lk(platform)


def _problems(r: Any) -> list[tuple[str, str | None, str]]:
    return [(p["code"], p.get("field"), p["pointer"]) for p in r.json()["error"]["problems"]]


@pytest.mark.parametrize("target", ["theirs_a", "theirs_b", "missing"])
def test_a_lookup_to_an_unreadable_record_is_refused_like_a_missing_one(lk: Lk, target: str) -> None:
    """Same status, same problems whatever the record holds, and the same as for no record:
    neither the id nor the values behind it can be probed; nothing of it is copied."""
    account = MISSING if target == "missing" else lk.accounts[target]
    if target != "missing":
        assert lk.client("seller").get(f"{ACCOUNTS}/{account}").status_code == 404
    r = lk.client("seller").post(CONTACTS, json={"note": "n", "account": account})
    assert r.status_code == 422, r.text
    assert _problems(r) == [("reference_not_found", "account", "/account")]
    assert "SECRET" not in r.text and target not in r.text
    assert lk.contacts() == 0


@pytest.mark.parametrize("target", ["theirs_a", "theirs_b"])
def test_changing_a_lookup_to_an_unreadable_record_is_refused(lk: Lk, target: str) -> None:
    created = lk.client("seller").post(CONTACTS, json={"note": "n", "account": lk.accounts["mine"]})
    assert created.status_code == 201, created.text
    url = f"{CONTACTS}/{created.json()['id']}"
    before = lk.client("boss").get(url).json()
    r = lk.client("seller").patch(url, json={"account": lk.accounts[target]})
    assert r.status_code == 422, r.text
    assert _problems(r) == [("reference_not_found", "account", "/account")]
    assert "SECRET" not in r.text
    assert lk.client("boss").get(url).json() == before


def test_linkage_and_formulas_do_not_copy_fields_hidden_from_the_writer(lk: Lk) -> None:
    """The seller may read their account but not its ``secret``: the visible name is copied,
    the secret is neither copied nor computed into the contact (which the seller reads in full)."""
    assert "secret" not in lk.client("seller").get(f"{ACCOUNTS}/{lk.accounts['mine']}").json()
    r = lk.client("seller").post(CONTACTS, json={"note": "n", "account": lk.accounts["mine"]})
    assert r.status_code == 201, r.text
    assert r.json()["account_name"] == "mine"
    assert "MINE-SECRET" not in r.text
    stored = lk.client("seller").get(f"{CONTACTS}/{r.json()['id']}")
    assert stored.json()["copied"] is None
    assert "peek" not in stored.json()  # a formula reading a field hidden from her is hidden too
    assert "MINE-SECRET" not in stored.text


@pytest.mark.parametrize("grade", ["A", "B"])
def test_rules_and_formulas_do_not_read_an_unreadable_record_behind_an_unchanged_lookup(
    lk: Lk, grade: str
) -> None:
    """The seller's contact points at a colleague's account (set by someone who could). When
    the seller edits ``note``, the rule ``account.grade != 'A'`` must not become an oracle for
    that account's grade, nor the formula ``peek`` fetch its current secret."""
    account = lk.accounts["theirs_b"]
    values = {"note": "n", "account": account, "owner": lk.users["seller"]}
    contact = lk.platform.records.create(SYSTEM, "lk", "contact", values)["id"]
    lk.platform.records.update(SYSTEM, "lk", "account", account, {"grade": grade, "secret": "NEW-SECRET"})
    assert lk.client("seller").get(f"{ACCOUNTS}/{account}").status_code == 404
    r = lk.client("seller").patch(f"{CONTACTS}/{contact}", json={"note": "edited"})
    assert r.status_code == 200, r.text
    assert "NEW-SECRET" not in r.text


def _state(lk: Lk, account: int) -> Any:
    r = lk.client("seller").post(STATE, json={"record": {"account": account}})
    body = r.json()
    if "error" in body:
        for key in ("request_id", "message", "details"):  # they may name the id asked about
            body["error"].pop(key, None)
        for p in body["error"].get("problems", []):
            p.pop("message", None)
    return r.status_code, body


def test_form_state_does_not_reveal_values_of_an_unreadable_record(lk: Lk) -> None:
    """``vip_note`` shows when the account's grade is A; for accounts outside the seller's
    scope the answer must not depend on what the account holds: it is the answer for no
    account at all."""
    readable_a = lk.account("mine_a", "A", "x", "seller")
    shown = lk.client("seller").post(STATE, json={"record": {"account": readable_a}})
    assert shown.status_code == 200, shown.text
    assert shown.json()["fields"]["vip_note"]["visible"] is True  # the condition does read the account
    missing = _state(lk, MISSING)
    assert missing[0] == 200 and missing[1]["fields"]["vip_note"]["visible"] is False
    assert _state(lk, lk.accounts["theirs_a"]) == _state(lk, lk.accounts["theirs_b"]) == missing
