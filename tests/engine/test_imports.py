"""Spreadsheet imports and exports, as an admin moving a company's data in and out would use them."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from engine import Platform
from engine.records import import_jobs
from engine.records.importer import Importer

from .conftest import USER, sales_app, sign_in

RECORDS = "/api/apps/sales/records"


def package() -> dict[str, Any]:
    """The sample app with a phone on accounts, a duplicate rule on it, and a masked viewer."""
    app = sales_app()
    account = app["entities"][0]
    account["fields"].append({"name": "phone", "type": "phone", "label": {"zh": "电话", "en": "Phone"}})
    account["duplicate_rules"] = [{"name": "same_phone", "fields": ["phone"], "policy": "warn"}]
    app["roles"] = [
        {
            "name": "viewer",
            "label": {"zh": "查看者", "en": "Viewer"},
            "permissions": {
                "account": {
                    "read": True,
                    "export": True,
                    "fields": {"phone": {"access": "masked", "mask": "phone"}},
                }
            },
        }
    ]
    return app


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    assert client.post("/api/apps", json=package()).status_code == 201
    return client


def upload(client: TestClient, content: bytes, name: str = "accounts.csv", **form: Any) -> Any:
    data = {"entity": "account", **{k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()}}
    return client.post("/api/apps/sales/imports", files={"file": (name, content)}, data=data)


def accounts(client: TestClient) -> dict[str, dict[str, Any]]:
    items = client.get(f"{RECORDS}/account", params={"limit": 1000}).json()["items"]
    return {r["name"]: r for r in items}


GB_FILE = (
    "名称,等级,区域,电话\n华为,A 级,华南,138 1234 5678\n比亚迪,B,华南,13900001111\n小米,C,华北,13700002222\n"
)


def test_a_gb18030_file_is_checked_then_imported_and_its_bad_rows_kept(admin: TestClient) -> None:
    content = GB_FILE.encode("gb18030")
    r = upload(admin, content, dry_run=True)
    assert r.status_code == 200, r.text
    assert r.json()["tally"] == {"created": 2, "updated": 0, "skipped": 0, "failed": 1}
    [error] = r.json()["errors"]
    assert error["row"] == 4 and [p["field"] for p in error["problems"]] == ["grade"]
    assert accounts(admin) == {}  # a dry run writes nothing

    r = upload(admin, content)
    assert r.status_code == 202, r.text
    job = admin.get(f"/api/imports/{r.json()['id']}").json()
    assert job["status"] == "done" and job["processed_rows"] == 3
    assert job["tally"] == {"created": 2, "updated": 0, "skipped": 0, "failed": 1}
    stored = accounts(admin)
    assert sorted(stored) == ["华为", "比亚迪"]
    assert stored["华为"]["grade"] == "A" and stored["华为"]["phone"] == "+8613812345678"

    errors = admin.get(f"/api/imports/{job['id']}/errors")
    assert errors.status_code == 200 and errors.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
    assert rows[0] == ["名称", "等级", "区域", "电话", "Errors"]
    assert rows[1][:4] == ["小米", "C", "华北", "13700002222"] and rows[1][4].startswith("等级: ")

    fixed = "名称,等级,区域,电话\n小米,B,华北,13700002222\n".encode()
    assert upload(admin, b"\xef\xbb\xbf" + fixed).status_code == 202
    assert sorted(accounts(admin)) == ["华为", "小米", "比亚迪"]


@pytest.mark.parametrize(
    ("policy", "tally", "phones"),
    [
        (
            "skip",
            {"created": 1, "updated": 0, "skipped": 2},
            {"华为": "+8613812345678", "新公司": "+8613611112222"},
        ),
        (
            "update",
            {"created": 1, "updated": 1, "skipped": 1},
            {"华为技术": "+8613812345678", "新公司二部": "+8613611112222"},
        ),
        ("create", {"created": 3, "updated": 0, "skipped": 0}, None),
    ],
)
def test_duplicates_are_skipped_updated_or_created(
    admin: TestClient, policy: str, tally: dict[str, int], phones: dict[str, str] | None
) -> None:
    assert admin.post(f"{RECORDS}/account", json={"name": "华为", "phone": "13812345678"}).status_code == 201
    lines = ["名称,区域,电话", "华为技术,华南,+86 138-1234-5678", "新公司,华东,13611112222"]
    file = "\n".join([*lines, "新公司二部,华北,136 1111 2222"])
    r = upload(admin, file.encode(), on_duplicate=policy)
    assert r.status_code == 202, r.text
    job = admin.get(f"/api/imports/{r.json()['id']}").json()
    assert job["tally"] == {**tally, "failed": 0}
    stored = accounts(admin)
    if policy == "create":
        assert sorted(stored) == ["华为", "华为技术", "新公司", "新公司二部"]
        return
    assert {name: r["phone"] for name, r in stored.items()} == phones
    if policy == "update":
        assert stored["华为技术"]["region"] == "华南"  # the file's values went into the matched record
        assert stored["新公司二部"]["region"] == "华北"  # a later row of the same record wins


def test_a_workbook_resolves_lookups_by_title_and_reads_typed_cells(admin: TestClient) -> None:
    assert admin.post(f"{RECORDS}/account", json={"name": "大疆创新"}).status_code == 201
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Title", "Amount", "Close date", "Account", "Won"])
    sheet.append(["无人机采购", "¥1,234.50", dt.date(2026, 12, 31), "大疆创新", "是"])
    sheet.append(["园区安防", 99000, dt.datetime(2027, 1, 15), "不存在的公司", "否"])
    out = io.BytesIO()
    book.save(out)
    r = admin.post(
        "/api/apps/sales/imports",
        files={"file": ("deals.xlsx", out.getvalue())},
        data={"entity": "deal", "dry_run": "true"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["tally"]["created"] == 1
    [error] = r.json()["errors"]
    assert error["row"] == 3 and error["problems"][0]["field"] == "account"
    assert "不存在的公司" in error["problems"][0]["message"]

    r = admin.post(
        "/api/apps/sales/imports", files={"file": ("deals.xlsx", out.getvalue())}, data={"entity": "deal"}
    )
    [deal] = admin.get(f"{RECORDS}/deal").json()["items"]
    account_id = accounts(admin)["大疆创新"]["id"]
    assert (deal["title"], Decimal(deal["amount"]), deal["close_date"], deal["account"], deal["won"]) == (
        "无人机采购",
        Decimal("1234.50"),
        "2026-12-31",
        account_id,
        True,
    )


def test_a_stopped_import_resumes_without_writing_a_row_twice(
    admin: TestClient, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"客户{i:03d}" for i in range(25)]
    file = "名称,电话\n" + "".join(f"{n},1380000{i:04d}\n" for i, n in enumerate(names))
    ctx = import_jobs.Context()
    import_id = import_jobs.create_import(
        platform.records, ctx, "sales", "account", file.encode(), "a.csv", batch_size=10
    )

    original = Importer._write
    calls = {"n": 0}

    def crash_on_third_batch(self: Importer, unit: Any, er: Any, numbers: list[int]) -> Any:
        calls["n"] += 1
        result = original(self, unit, er, numbers)
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the process dies inside the batch's transaction
        return result

    monkeypatch.setattr(Importer, "_write", crash_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        import_jobs.run_import(platform.records, ctx, import_id)
    monkeypatch.setattr(Importer, "_write", original)
    halfway = admin.get(f"/api/imports/{import_id}").json()
    assert halfway["processed_rows"] == 20 and halfway["tally"]["created"] == 20
    assert len(accounts(admin)) == 20

    done = import_jobs.run_import(platform.records, ctx, import_id)
    assert done["status"] == "done" and done["tally"]["created"] == 25
    assert sorted(accounts(admin)) == names


def test_bad_files_and_mappings_are_refused_with_what_to_do(admin: TestClient) -> None:
    r = upload(admin, b"name\n\x80\xff\xfe\n")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"
    assert "GB18030" in r.json()["error"]["message"]
    r = upload(admin, "区域,电话\n华南,13800000000\n".encode())
    assert r.status_code == 422
    assert [p["pointer"] for p in r.json()["error"]["problems"]] == ["/mapping"]
    assert "name" in r.json()["error"]["problems"][0]["message"]
    r = upload(admin, GB_FILE.encode(), mapping='{"名称": "name", "电话": "fax"}')
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["pointer"] == "/mapping/电话"
    r = upload(admin, GB_FILE.encode(), mapping="[1]")
    assert r.status_code == 422
    assert upload(admin, b"").status_code == 422
    assert admin.get("/api/imports/999").status_code == 404


def test_import_needs_the_import_permission(admin: TestClient, anon: TestClient) -> None:
    user_id = next(u["id"] for u in admin.get("/api/users").json() if u["username"] == USER[0])
    assert admin.put(f"/api/apps/sales/users/{user_id}/roles", json={"roles": ["viewer"]}).status_code == 200
    headers = sign_in(anon, *USER)
    r = anon.post(
        "/api/apps/sales/imports",
        files={"file": ("a.csv", GB_FILE.encode())},
        data={"entity": "account"},
        headers=headers,
    )
    assert r.status_code == 403


def test_exports_show_labels_and_keep_masked_values_masked(admin: TestClient, anon: TestClient) -> None:
    for name, grade, phone in (("华为", "A", "13812345678"), ("比亚迪", "B", "13900001111")):
        body = {"name": name, "grade": grade, "phone": phone}
        assert admin.post(f"{RECORDS}/account", json=body).status_code == 201
    r = admin.get(f"{RECORDS}/account/export", params={"sort": "grade"}, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["id", "名称", "等级", "区域"]
    assert [(row[1], row[2]) for row in rows[1:]] == [("华为", "A 级"), ("比亚迪", "B 级")]
    assert rows[1][4] == "+8613812345678"

    user_id = next(u["id"] for u in admin.get("/api/users").json() if u["username"] == USER[0])
    assert admin.put(f"/api/apps/sales/users/{user_id}/roles", json={"roles": ["viewer"]}).status_code == 200
    headers = sign_in(anon, *USER)
    r = anon.get(
        f"{RECORDS}/account/export", params={"format": "xlsx", "filter": "grade == 'A'"}, headers=headers
    )
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:2] == ("id", "Name") and len(values) == 2
    shown = values[1][values[0].index("Phone")]
    assert isinstance(shown, str) and shown != "+8613812345678" and "*" in shown
    r = anon.get(f"{RECORDS}/account/export", params={"format": "pdf"}, headers=headers)
    assert r.status_code == 422


def test_export_follows_the_search_and_the_chosen_columns(admin: TestClient) -> None:
    for name, grade, phone in (("华为技术", "A", "13812345678"), ("比亚迪", "B", "13900001111")):
        body = {"name": name, "grade": grade, "phone": phone}
        assert admin.post(f"{RECORDS}/account", json=body).status_code == 201
    zh = {"Accept-Language": "zh-CN"}
    r = admin.get(f"{RECORDS}/account/export", params={"q": "hw", "columns": "grade,name"}, headers=zh)
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows == [["id", "等级", "名称"], [rows[1][0], "A 级", "华为技术"]]  # pinyin initials of 华为

    r = admin.get(f"{RECORDS}/account/export", params={"columns": "name,fax"}, headers=zh)
    assert r.status_code == 422
    message = r.json()["error"]["message"]
    assert "fax" in message and "name" in message and "grade" in message  # what can be exported instead
    assert admin.get(f"{RECORDS}/account/export", params={"q": "x" * 1001}).status_code == 422
