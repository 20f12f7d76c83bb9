"""Public forms over HTTP, on SQLite and PostgreSQL: anonymous submissions create records as the
designated user, never read anything back, and are throttled and challenged."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

import builder_ui.plugin
import flow_engine.plugin
from builder_ui.public_challenge import Challenge
from builder_ui.public_forms import LIMIT
from engine import Platform, Settings
from engine.http import create_app
from engine.identity.users import create_user
from tests.engine.conftest import (  # noqa: F401 - the kernel's database fixtures, shared
    postgres_system_ddl,
    settings,
    sqlite_system_template,
    system_database_url,
)

ADMIN = ("admin", "admin-password-1")
CLERK = ("webintake", "webintake-password-1")


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


STRAIGHT = [{"id": "start", "type": "start", "next": "end"}, {"id": "end", "type": "end"}]
APP: dict[str, Any] = {
    "name": "web",
    "label": _label("官网", "Website"),
    "entities": [
        {
            "name": "company",
            "label": _label("公司", "Company"),
            "title_field": "name",
            "fields": [{"name": "name", "type": "text", "label": _label("名称", "Name")}],
        },
        {
            "name": "inquiry",
            "label": _label("咨询", "Inquiry"),
            "title_field": "name",
            "fields": [
                {"name": "name", "type": "text", "label": _label("姓名", "Name"), "required": True},
                {"name": "email", "type": "email", "label": _label("邮箱", "Email")},
                {
                    "name": "topic",
                    "type": "select",
                    "label": _label("主题", "Topic"),
                    "options": [
                        {"value": "price", "label": _label("价格", "Price")},
                        {"value": "other", "label": _label("其他", "Other")},
                    ],
                },
                {"name": "detail", "type": "long_text", "label": _label("说明", "Detail")},
                {"name": "company", "type": "lookup", "entity": "company",
                 "label": _label("公司", "Company")},
                {"name": "score", "type": "integer", "label": _label("评分", "Score")},
            ],
            "forms": [
                {
                    "name": "web",
                    "label": _label("在线咨询", "Contact us"),
                    "layout": [
                        {"field": "name"},
                        {"field": "email"},
                        {"field": "topic"},
                        {"field": "detail", "visible_if": "topic == 'other'",
                         "required_if": "topic == 'other'"},
                        {"field": "company"},
                    ],
                }
            ],
        },
    ],
    "roles": [
        {
            "name": "intake",
            "label": _label("线上录入", "Intake"),
            "permissions": {"inquiry": {"create": True, "read": {"scope": "own"}}, "company": {"read": True}},
        }
    ],
    "menus": [
        {
            "name": "front",
            "label": _label("前台", "Front desk"),
            "icon": "inbox",
            "order": 2,
            "items": [{"entity": "inquiry", "icon": "file"}],
        },
        {"name": "data", "label": _label("资料", "Data"), "order": 1, "items": [{"entity": "company"}]},
    ],
    # valid flows: the flow engine's schema checks them once any test in the process loaded it
    "flows": [
        {"name": "review", "label": _label("咨询复核", "Review"), "entity": "inquiry",
         "trigger": {"type": "manual"}, "nodes": STRAIGHT},
        {"name": "auto", "entity": "inquiry", "trigger": {"type": "record", "on": ["created"]},
         "nodes": STRAIGHT},
    ],
}  # fmt: skip


class Site:
    """The platform with the app, an administrator and the designated user; clients for each."""

    def __init__(self, platform: Platform, client: TestClient, anon: TestClient, clerk_id: int) -> None:
        self.platform, self.admin, self.anon, self.clerk_id = platform, client, anon, clerk_id

    def publish(self, form: str = "web") -> dict[str, Any]:
        body = {"app": "web", "entity": "inquiry", "form": form, "user": CLERK[0]}
        r = self.admin.post("/ui/api/public-forms", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def challenge(self, token: str, age: timedelta = timedelta(seconds=5)) -> str:
        secret = self.platform.settings.resolved_secret_key()
        return Challenge(secret).issue(token, datetime.now(UTC) - age)

    def submit(
        self, token: str, values: dict[str, Any], headers: dict[str, str] | None = None, **extra: Any
    ) -> Any:
        body = {"values": values, "challenge": self.challenge(token), "website": "", **extra}
        return self.anon.post(f"/ui/public/{token}", json=body, headers=headers or {})

    def inquiries(self) -> list[dict[str, Any]]:
        r = self.admin.get("/api/apps/web/records/inquiry")
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


@contextmanager
def running_site(config: Settings, plugins: list[object], package: dict[str, Any]) -> Iterator[Site]:
    """``package`` installed on a platform with ``plugins``, the administrator signed in, the
    designated user holding the intake role, and one company on file."""
    platform = Platform(config, plugins=plugins, load_entry_points=False)
    platform.init_database()
    with platform.db.begin() as conn:
        create_user(conn, *ADMIN, is_admin=True, hash_cost=config.password_hash_cost)
        clerk = create_user(conn, *CLERK, hash_cost=config.password_hash_cost)
    app = create_app(platform=platform)
    try:
        with TestClient(app) as client, TestClient(app) as anon:
            token = client.post("/api/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})
            client.headers["Authorization"] = "Bearer " + token.json()["access_token"]
            r = client.post("/api/apps", json=package)
            assert r.status_code == 201, r.text
            r = client.put(f"/api/apps/web/users/{clerk}/roles", json={"roles": ["intake"]})
            assert r.status_code == 200, r.text
            r = client.post("/api/apps/web/records/company", json={"name": "保密科技"})
            assert r.status_code == 201, r.text
            yield Site(platform, client, anon, clerk)
    finally:
        platform.close()


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:  # noqa: F811 - the shared fixture, used
    with running_site(settings, [builder_ui.plugin], APP) as made:
        yield made


def _boot(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="tg-boot">(.*?)</script>', html, re.S)
    assert found, html
    return dict(json.loads(found.group(1)))


def test_anonymous_submission_creates_a_record_owned_by_the_designated_user(site: Site) -> None:
    form = site.publish()
    values = {"name": "张三", "email": "zhang@example.cn", "topic": "other", "detail": "想了解报价"}
    r = site.submit(form["token"], values, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 201, r.text
    assert r.json() == {"message": "提交成功，感谢您的反馈！"}
    [stored] = site.inquiries()
    assert {k: stored[k] for k in values} == values
    assert stored["owner"] == site.clerk_id
    assert stored["created_by"] == site.clerk_id


def test_the_page_renders_only_fields_a_stranger_may_fill_and_reads_no_record(site: Site) -> None:
    form = site.publish()
    r = site.anon.get(form["url"], headers={"Accept-Language": "en"})
    assert r.status_code == 200, r.text
    page = _boot(r.text)["page"]
    assert page["description"]["label"] == "Contact us"
    # the lookup would list the companies' names: it is not on the public form
    assert list(page["description"]["fields"]) == ["name", "email", "topic", "detail"]
    assert "保密科技" not in r.text
    assert page["challenge"] and page["honeypot"] == "website"
    # nothing else is readable without signing in
    assert site.anon.get("/api/apps/web/records/inquiry").status_code == 401
    assert site.anon.get("/ui/api/public-forms").status_code == 401


def test_the_public_state_route_follows_the_forms_conditions(site: Site) -> None:
    form = site.publish()
    state = site.anon.post(form["url"] + "/state", json={"record": {"topic": "other"}})
    assert state.status_code == 200, state.text
    assert state.json()["fields"]["detail"] == {"visible": True, "required": True, "readonly": False}
    hidden = site.anon.post(form["url"] + "/state", json={"record": {"topic": "price"}}).json()
    assert hidden["fields"]["detail"]["visible"] is False
    assert "company" not in hidden["fields"]


def test_a_problem_comes_back_at_its_field_and_nothing_is_stored(site: Site) -> None:
    form = site.publish()
    r = site.submit(form["token"], {"topic": "other"})
    assert r.status_code == 422, r.text
    fields = {p.get("field") for p in r.json()["error"]["problems"]}
    assert fields == {"name", "detail"}
    stray = site.submit(form["token"], {"name": "李四", "score": 99, "company": 1})
    assert stray.status_code == 422, stray.text
    assert {p["pointer"] for p in stray.json()["error"]["problems"]} == {"/values/score", "/values/company"}
    assert site.inquiries() == []


@pytest.mark.parametrize(
    "change",
    [
        {"challenge": None},
        {"challenge": "1700000000.0000"},
        {"website": "http://spam.example"},
    ],
    ids=["missing", "forged", "honeypot"],
)
def test_a_failed_challenge_answers_400_and_stores_nothing(site: Site, change: dict[str, Any]) -> None:
    form = site.publish()
    r = site.submit(form["token"], {"name": "机器人"}, **change)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "challenge_failed"
    assert site.inquiries() == []


def test_a_token_too_fresh_or_for_another_form_is_refused(site: Site) -> None:
    one, other = site.publish(), site.publish("default")
    fresh = site.challenge(one["token"], age=timedelta(0))
    r = site.anon.post(one["url"], json={"values": {"name": "快手"}, "challenge": fresh})
    assert r.status_code == 400, r.text
    borrowed = site.challenge(other["token"])
    r = site.anon.post(one["url"], json={"values": {"name": "借用"}, "challenge": borrowed})
    assert r.status_code == 400, r.text
    assert site.inquiries() == []


def test_too_many_submissions_from_one_address_answer_429_in_both_languages(site: Site) -> None:
    form = site.publish()
    for i in range(LIMIT.per_window):
        assert site.submit(form["token"], {"name": f"访客{i}"}).status_code == 201
    zh = site.submit(form["token"], {"name": "再来"}, headers={"Accept-Language": "zh-CN"})
    en = site.submit(form["token"], {"name": "again"}, headers={"Accept-Language": "en"})
    assert zh.status_code == en.status_code == 429, zh.text
    minutes = int(LIMIT.window.total_seconds() // 60)
    assert zh.json()["error"]["message"] == f"提交过于频繁，请 {minutes} 分钟后再试"
    assert (
        en.json()["error"]["message"]
        == f"too many submissions from your address; try again in {minutes} minutes"
    )
    assert len(site.inquiries()) == LIMIT.per_window


def test_unknown_or_unpublished_links_answer_404(site: Site) -> None:
    assert site.anon.get("/ui/public/no-such-token").status_code == 404
    assert site.submit("no-such-token", {"name": "x"}).status_code == 404
    form = site.publish()
    r = site.admin.patch(f"/ui/api/public-forms/{form['id']}", json={"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False, r.text
    assert site.anon.get(form["url"]).status_code == 404
    assert site.submit(form["token"], {"name": "关闭后"}).status_code == 404
    site.admin.patch(f"/ui/api/public-forms/{form['id']}", json={"enabled": True})
    assert site.submit(form["token"], {"name": "重新开放"}).status_code == 201
    assert [r["name"] for r in site.inquiries()] == ["重新开放"]


def test_only_administrators_publish_and_bad_requests_are_422(site: Site) -> None:
    r = site.anon.post("/api/auth/token", json={"username": CLERK[0], "password": CLERK[1]})
    clerk = {"Authorization": "Bearer " + r.json()["access_token"]}
    body = {"app": "web", "entity": "inquiry", "user": CLERK[0]}
    assert site.anon.post("/ui/api/public-forms", json=body, headers=clerk).status_code == 403
    assert site.admin.post("/ui/api/public-forms", json={**body, "entity": "nope"}).status_code == 422
    assert site.admin.post("/ui/api/public-forms", json={**body, "form": "nope"}).status_code == 422
    assert site.admin.post("/ui/api/public-forms", json={**body, "user": "nobody"}).status_code == 422
    made = site.admin.post("/ui/api/public-forms", json=body)
    assert made.status_code == 201 and made.json()["form"] == "default", made.text
    assert [f["id"] for f in site.admin.get("/ui/api/public-forms").json()] == [made.json()["id"]]


# -- menus and flow labels, read from the package ----------------------------------------------
def test_menus_travel_with_the_package_and_follow_read_access(site: Site) -> None:
    exported = site.admin.get("/api/apps/web").json()
    assert exported["menus"] == APP["menus"]
    groups = site.admin.get("/ui/api/apps/web/menus").json()
    assert [g["name"] for g in groups] == ["data", "front"]  # by order
    assert groups[1]["items"] == [{"entity": "inquiry", "icon": "file", "label": _label("咨询", "Inquiry")}]


def test_a_menu_naming_an_unknown_entity_is_refused_at_its_pointer(site: Site) -> None:
    broken = {
        **APP,
        "name": "web2",
        "menus": [{"name": "x", "label": _label("甲", "X"), "items": [{"entity": "nope"}]}],
    }
    r = site.admin.post("/api/apps", json=broken)
    assert r.status_code == 422, r.text
    assert "/menus/0/items/0/entity" in {p["pointer"] for p in r.json()["error"]["problems"]}


def test_without_menus_one_group_lists_the_entities(site: Site) -> None:
    plain = {k: v for k, v in APP.items() if k != "menus"} | {"name": "web3"}
    assert site.admin.post("/api/apps", json=plain).status_code == 201
    [group] = site.admin.get("/ui/api/apps/web3/menus").json()
    assert [i["entity"] for i in group["items"]] == ["company", "inquiry"]
    assert group["label"] == APP["label"]


def test_flow_labels_and_manual_starts_are_readable_by_app_users(site: Site) -> None:
    flows = site.admin.get("/ui/api/apps/web/flows").json()
    assert flows == [
        {"name": "review", "label": _label("咨询复核", "Review"), "entity": "inquiry", "manual": True},
        {"name": "auto", "label": _label("auto", "auto"), "entity": "inquiry", "manual": False},
    ]


def test_a_submission_runs_the_entitys_flows_like_any_create(settings: Settings) -> None:  # noqa: F811
    tag = {
        "name": "tag_web",
        "entity": "inquiry",
        "trigger": {"type": "record", "on": ["created"]},
        "nodes": [
            {"id": "start", "type": "start", "next": "tag"},
            {
                "id": "tag",
                "type": "action",
                "actions": [{"type": "set_fields", "values": {"score": 5}}],
                "next": "end",
            },
            {"id": "end", "type": "end"},
        ],
    }
    package = {**APP, "flows": [tag]}
    with running_site(settings, [flow_engine.plugin, builder_ui.plugin], package) as flows_site:
        r = flows_site.admin.post("/api/apps/web/flows/tag_web/publish")
        assert r.status_code == 201, r.text
        form = flows_site.publish()
        assert flows_site.submit(form["token"], {"name": "王五"}).status_code == 201
        [stored] = flows_site.inquiries()
        assert (stored["name"], stored["score"], stored["owner"]) == ("王五", 5, flows_site.clerk_id)
