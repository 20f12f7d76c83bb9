"""Duplicate rules (block, warn, allow) on normalised values, and merging two duplicates."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient

from engine import Platform
from engine.cli import create_cli
from engine.schema.compiler import table_name
from tests.engine.fields.conftest import LAB, create

CONTACTS = f"{LAB}/contact"


def test_block_refuses_a_match_on_normalised_values_naming_the_record(lab: TestClient) -> None:
    first = create(lab, "contact", {"phone": "138 1234 5678"})
    r = lab.post(CONTACTS, json={"phone": "+86 138-1234-5678"}, params={"confirm_duplicates": True})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "duplicate_record" and error["details"]["existing_id"] == first["id"]
    assert str(first["id"]) in error["message"]
    assert lab.get(CONTACTS).json()["total"] == 1


def test_warn_needs_confirmation(lab: TestClient) -> None:
    first = create(lab, "contact", {"email": "Li@Example.com"})
    r = lab.post(CONTACTS, json={"email": "li@example.COM"}, headers={"Accept-Language": "zh"})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "duplicate_warning"
    assert "confirm_duplicates" in r.json()["error"]["message"]
    saved = create(lab, "contact", {"email": "li@example.COM"}, confirm_duplicates=True)
    assert saved["_duplicates"] == [{"rule": "by_email", "policy": "warn", "id": first["id"]}]


def test_allow_saves_and_reports_the_match(lab: TestClient) -> None:
    first = create(lab, "contact", {"name": "Acme"})
    second = create(lab, "contact", {"name": "  Acme "})
    assert second["_duplicates"] == [{"rule": "by_name", "policy": "allow", "id": first["id"]}]
    assert "_duplicates" not in lab.get(f"{CONTACTS}/{second['id']}").json()
    assert not any(k.startswith("_dupkey") for k in lab.get(f"{CONTACTS}/{second['id']}").json())


def test_updates_are_checked_when_they_change_a_key_and_trashed_records_do_not_count(lab: TestClient) -> None:
    first = create(lab, "contact", {"phone": "13812345678"})
    other = create(lab, "contact", {"phone": "13900000000"})
    r = lab.patch(f"{CONTACTS}/{other['id']}", json={"phone": "13812345678"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_record"
    assert lab.patch(f"{CONTACTS}/{other['id']}", json={"name": "x"}).status_code == 200
    assert lab.delete(f"{CONTACTS}/{first['id']}").status_code == 200
    assert lab.patch(f"{CONTACTS}/{other['id']}", json={"phone": "13812345678"}).status_code == 200


def test_bulk_create_finds_duplicates_inside_the_batch(lab: TestClient) -> None:
    r = lab.post(f"{CONTACTS}/bulk", json={"items": [{"phone": "13812345678"}, {"phone": "138-1234-5678"}]})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["details"]["item"] == 1


def test_a_rule_added_later_keys_existing_records(lab: TestClient) -> None:
    create(lab, "team", {"name": "Blue"})
    team = next(e for e in lab.get("/api/apps/lab").json()["entities"] if e["name"] == "team")
    team["duplicate_rules"] = [{"name": "same_name", "fields": ["name"], "policy": "block"}]
    r = lab.put("/api/apps/lab/entities/team", json=team)
    assert r.status_code == 200, r.text
    assert lab.post(f"{LAB}/team", json={"name": " Blue "}).status_code == 409


def test_merge_repoints_references_trashes_the_other_and_keeps_both_histories(lab: TestClient) -> None:
    team = create(lab, "team", {"name": "t"})["id"]
    keep = create(lab, "contact", {"name": "Acme", "phone": "13812345678"})
    gone = create(lab, "contact", {"name": "Acme", "email": "a@example.com", "team": team})
    note = create(lab, "note", {"text": "n", "contact": gone["id"], "contacts": [gone["id"], keep["id"]]})
    other_note = create(lab, "note", {"text": "m", "contacts": [gone["id"]]})
    r = lab.post(f"{CONTACTS}/{keep['id']}/merge", json={"from": gone["id"], "values": {"name": "Acme Ltd"}})
    assert r.status_code == 200, r.text
    merged = r.json()
    assert merged["name"] == "Acme Ltd" and merged["email"] == "a@example.com" and merged["team"] == team
    assert merged["phone"] == "+8613812345678" and merged["merged_from"] == gone["id"]
    assert lab.get(f"{CONTACTS}/{gone['id']}").status_code == 404
    got = lab.get(f"{LAB}/note/{note['id']}").json()
    assert got["contact"] == keep["id"] and got["contacts"] == [keep["id"]]
    assert lab.get(f"{LAB}/note/{other_note['id']}").json()["contacts"] == [keep["id"]]
    ops = [e["op"] for e in lab.get(f"{CONTACTS}/{keep['id']}/history").json()]
    assert ops[-1] == "merge"
    trashed = lab.get(f"{CONTACTS}/{gone['id']}/history").json()
    assert "merge" in [e["op"] for e in trashed]
    assert [e["op"] for e in lab.get(f"{LAB}/note/{note['id']}/history").json()][-1] == "merge"


def test_merge_refuses_bad_input_and_changes_nothing(lab: TestClient) -> None:
    a = create(lab, "contact", {"name": "a"})
    b = create(lab, "contact", {"name": "b"})
    assert lab.post(f"{CONTACTS}/{a['id']}/merge", json={"from": a["id"]}).status_code == 422
    assert lab.post(f"{CONTACTS}/{a['id']}/merge", json={"from": 999}).status_code == 404
    r = lab.post(f"{CONTACTS}/{a['id']}/merge", json={"from": b["id"], "values": {"phone": "1"}})
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["pointer"] == "/values/phone"
    assert lab.get(CONTACTS).json()["total"] == 2


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("腾讯科技（深圳）有限公司", "腾讯科技(深圳) 有限公司"),
        ("ＡＣＭＥ　Ｃｏ．，Ｌｔｄ．", "Acme Co., Ltd."),
        ("迈克尔•乔丹", "迈克尔·乔丹"),
        ("上海、北京办事处", "上海,北京办事处"),
        ("\u200b华为技术", "华为技术"),
    ],
)
def test_names_typed_differently_in_chinese_are_found(lab: TestClient, first: str, again: str) -> None:
    one = create(lab, "contact", {"name": first})
    two = create(lab, "contact", {"name": again})
    assert two["_duplicates"] == [{"rule": "by_name", "policy": "allow", "id": one["id"]}]
    assert two["name"] == again.strip()  # matching folds; what was typed is kept


def test_tangram_migrate_recomputes_keys_of_an_older_normalisation(
    lab: TestClient, platform: Platform, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = create(lab, "contact", {"name": "腾讯（深圳）"})
    # What the previous normalisation stored: case-folded, spaces collapsed, no version in the key.
    old = json.dumps(["腾讯（深圳）"], ensure_ascii=False, separators=(",", ":"))
    stale = f"by_name:{hashlib.sha256(old.encode()).hexdigest()[:32]}"
    table = sa.table(table_name("lab", "contact"), sa.column("id"), sa.column("_dupkey_by_name"))
    with platform.db.begin() as conn:
        conn.execute(table.update().where(table.c.id == one["id"]).values(_dupkey_by_name=stale))
    two = create(lab, "contact", {"name": "腾讯(深圳)"})
    assert "_duplicates" not in two  # the stale key hides the first

    monkeypatch.setenv("TANGRAM_DATABASE_URL", database_url)
    monkeypatch.setenv("TANGRAM_DATA_DIR", str(tmp_path / "cli"))
    result = CliRunner().invoke(create_cli(), ["migrate"])
    assert result.exit_code == 0, result.output
    assert "recomputed the duplicate keys of lab.contact" in result.output
    three = create(lab, "contact", {"name": "腾讯 (深圳)"})
    assert {m["id"] for m in three["_duplicates"]} == {one["id"], two["id"]}
    again = CliRunner().invoke(create_cli(), ["migrate"])
    assert again.exit_code == 0 and "recomputed" not in again.output
