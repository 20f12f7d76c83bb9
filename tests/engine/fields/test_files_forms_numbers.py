"""File uploads for file fields, the forms API with server-side conditions, and auto-numbers
under concurrent creates."""

from __future__ import annotations

import re
import threading

from fastapi.testclient import TestClient

from engine import Platform
from engine.context import Context, Principal
from tests.engine.fields.conftest import LAB, create, problems
from tests.engine.fields.test_values import PNG, upload

ITEMS = f"{LAB}/item"


def test_upload_download_and_descriptors_must_exist(lab: TestClient) -> None:
    r = upload(lab, "files", "report.pdf", b"%PDF-1.4 hello", "application/pdf")
    assert r.status_code == 201, r.text
    descriptor = r.json()
    assert descriptor["size"] == 14 and descriptor["content_type"] == "application/pdf"
    got = lab.get(f"/api/apps/lab/files/{descriptor['id']}")
    assert got.status_code == 200 and got.content == b"%PDF-1.4 hello"
    assert "report.pdf" in got.headers["content-disposition"]
    item = create(lab, "item", {"files": [descriptor]})
    assert item["files"] == [descriptor]
    forged = {**descriptor, "id": "0" * 32}
    r = lab.post(ITEMS, json={"files": [descriptor, forged]})
    assert r.status_code == 422 and problems(r)["/files/1"]["code"] == "file_not_found"
    r = lab.post(ITEMS, json={"files": [{**descriptor, "size": 1}]})
    assert r.status_code == 422 and "/files/0" in problems(r)
    disguised = {**descriptor, "name": "report.png", "content_type": "image/png"}
    r = lab.post(ITEMS, json={"photos": [disguised]})
    assert r.status_code == 422 and problems(r)["/photos/0"]["code"] == "file_not_found"
    assert lab.get("/api/apps/lab/files/nope").status_code == 404
    signed_out = lab.get(f"/api/apps/lab/files/{descriptor['id']}", headers={"Authorization": ""})
    assert signed_out.status_code == 401


def test_upload_limits_come_from_the_field(lab: TestClient) -> None:
    r = upload(lab, "photos", "virus.exe", b"MZ...", "application/x-msdownload")
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["code"] == "file_type_not_allowed"
    r = upload(lab, "sign", "big.png", PNG * 20_000, "image/png")
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["code"] == "file_too_large"
    r = upload(lab, "title")
    assert r.status_code == 422


def test_forms_are_listed_described_and_their_state_computed(lab: TestClient) -> None:
    assert [f["name"] for f in lab.get("/api/apps/lab/forms/item").json()] == ["default", "quick"]
    form = lab.get("/api/apps/lab/forms/item/quick", headers={"Accept-Language": "zh-CN"}).json()
    assert form["locale"] == "zh" and set(form["fields"]) == {"title", "grade", "price"}
    assert form["depends_on"] == ["grade"]
    assert "made_at" in lab.get("/api/apps/lab/forms/item/default").json()["fields"]
    assert lab.get("/api/apps/lab/forms/item/nope").status_code == 404
    url = "/api/apps/lab/forms/item/quick/state"
    hidden = lab.post(url, json={"record": {"grade": "b"}}).json()["fields"]["price"]
    assert hidden == {"visible": False, "required": False, "readonly": False}
    shown = lab.post(url, json={"record": {"grade": "a"}}).json()["fields"]["price"]
    assert shown["visible"] and shown["required"]
    assert lab.post(url, json={"record": "x"}).status_code == 422


def test_form_conditions_are_enforced_on_save(lab: TestClient) -> None:
    r = lab.post(ITEMS, params={"form": "quick"}, json={"title": "t", "grade": "a"})
    assert r.status_code == 422 and problems(r)["/price"]["code"] == "required"
    saved = create(lab, "item", {"title": "t", "grade": "b", "price": "5"}, form="quick")
    assert saved["price"] is None  # hidden by its condition: not accepted
    r = lab.post(ITEMS, params={"form": "quick"}, json={"title": "t", "grade": "a", "price": "1", "count": 3})
    assert r.status_code == 201, r.text
    assert r.json()["count"] is None  # not on the form: dropped, not stored


def test_concurrent_creates_get_gap_free_unique_numbers(platform: Platform, lab: TestClient) -> None:
    ctx = Context(user=Principal(id=1, username="admin", is_admin=True))
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                platform.records.create(ctx, "lab", "item", {"title": "c"})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    codes = [i["code"] for i in lab.get(ITEMS, params={"limit": 100}).json()["items"]]
    numbers = sorted(int(re.sub(r".*-", "", c)) for c in codes)
    assert numbers == list(range(1, 41))
