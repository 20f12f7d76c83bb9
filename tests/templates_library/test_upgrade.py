"""Upgrading an app installed from a template to a newer template version keeps the admin's
changes: a three-way merge, with conflicts listed and refused until the admin picks a side."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from fastapi.testclient import TestClient

import templates_library
from engine import parse_package
from engine.cli import create_cli
from tests.engine.conftest import USER, sales_app, sign_in

cli = create_cli()
#: The CRM version this release ships (read from its manifest), and a newer one for the tests.
CRM_VERSION: str = json.loads(
    (Path(__file__).parents[2] / "templates_library/crm/template.json").read_text("utf-8")
)["version"]
_major, _minor, _patch = CRM_VERSION.split(".")
NEXT_VERSION = f"{_major}.{int(_minor) + 1}.0"


def _field(document: dict[str, Any], entity: str, name: str) -> dict[str, Any]:
    fields = next(e for e in document["entities"] if e["name"] == entity)["fields"]
    return next(f for f in fields if f["name"] == name)


def _entity(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in document["entities"] if e["name"] == name)


def _template_changes(document: dict[str, Any]) -> None:
    """The template's own changes to its next version: an entity field, another label, a
    validation (each appended where an author would put it)."""
    _entity(document, "opportunity")["fields"].append(
        {
            "name": "competitor",
            "type": "text",
            "label": {"zh": "竞争对手", "en": "Competitor"},
            "max_length": 100,
        }
    )
    _field(document, "lead", "company")["label"]["en"] = "Company name"
    _entity(document, "lead").setdefault("validations", []).append(
        {
            "name": "score_range",
            "condition": "is_blank(score) or score <= 100",
            "message": {"zh": "评分不能超过 100", "en": "The score is at most 100"},
            "field": "score",
        }
    )


def _admin_changes(document: dict[str, Any]) -> None:
    """The admin's changes: a label and an option, and a role of their own."""
    _field(document, "account", "industry")["label"]["en"] = "Sector"
    _field(document, "lead", "source")["options"].append(
        {"value": "douyin", "label": {"zh": "抖音", "en": "Douyin"}}
    )
    document["roles"].append(
        {"name": "auditor", "label": {"zh": "审计", "en": "Auditor"}, "permissions": {"lead": {"read": True}}}
    )


def test_upgrade_keeps_admin_changes_and_takes_the_template_changes(client: TestClient) -> None:
    r = client.post("/api/templates/crm/install")
    assert r.status_code == 201, r.text
    assert r.json()["template"] == "crm" and r.json()["template_version"] == CRM_VERSION
    assert client.get("/api/apps/crm/template").json()["template_version"] == CRM_VERSION

    # The admin adds a field through the entity door, then changes the rest as one package.
    lead = _entity(client.get("/api/apps/crm").json(), "lead")
    lead["fields"].append({"name": "wechat", "type": "text", "label": {"zh": "微信号", "en": "WeChat"}})
    assert client.put("/api/apps/crm/entities/lead", json=lead).status_code == 200
    changed = client.get("/api/apps/crm").json()
    _admin_changes(changed)
    assert client.put("/api/apps/crm", json=changed).status_code == 200
    ours = client.get("/api/apps/crm").json()
    versions_before = client.get("/api/apps/crm/versions").json()
    record = client.post("/api/apps/crm/records/lead", json={"company": "华星科技", "contact_name": "王芳",
                                                             "mobile": "13800138000", "wechat": "wf_2026",
                                                             "source": "douyin"})  # fmt: skip
    assert record.status_code == 201, record.text

    new_version = templates_library.load("crm")
    _template_changes(new_version)
    body = {"template": new_version, "template_version": NEXT_VERSION}

    plan = client.post("/api/apps/crm/upgrade?dry_run=true", json=body)
    assert plan.status_code == 200, plan.text
    answer = plan.json()
    assert answer["dry_run"] and answer["would_apply"] and answer["conflicts"] == []
    assert (answer["from_template_version"], answer["to_template_version"]) == (CRM_VERSION, NEXT_VERSION)
    taken = {(c["pointer"], c["change"]) for c in answer["taken"]}
    assert taken == {
        ("/entities/lead/fields/company/label/en", "changed"),
        ("/entities/opportunity/fields/competitor", "added"),
        ("/entities/lead/validations/score_range", "added"),
    }
    kept = {(c["pointer"], c["change"]) for c in answer["kept"]}
    assert kept == {
        ("/entities/lead/fields/wechat", "added"),
        ("/entities/account/fields/industry/label/en", "changed"),
        ("/entities/lead/fields/source/options/douyin", "added"),
        ("/roles/auditor", "added"),
    }
    migration = next(m for m in answer["migrations"] if m["entity"] == "opportunity")
    assert {"op": "add_column", "field": "competitor", "type": "text"} in migration["operations"]
    assert client.get("/api/apps/crm").json() == ours  # a dry run changes nothing
    assert client.get("/api/apps/crm/template").json()["template_version"] == CRM_VERSION

    done = client.post("/api/apps/crm/upgrade", json=body)
    assert done.status_code == 200, done.text
    assert not done.json()["dry_run"] and done.json()["version"] == versions_before[0]["version"] + 1

    # The expected app: the admin's package with the template's three changes made by hand.
    expected = copy.deepcopy(ours)
    _template_changes(expected)
    expected = parse_package(expected).export()
    assert client.get("/api/apps/crm").json() == expected
    assert client.get("/api/apps/crm/template").json()["template_version"] == NEXT_VERSION
    newest = client.get("/api/apps/crm/versions").json()[0]
    assert newest["note"] == f"upgrade crm {CRM_VERSION} -> {NEXT_VERSION}"

    kept_record = client.get(f"/api/apps/crm/records/lead/{record.json()['id']}").json()
    assert (kept_record["wechat"], kept_record["source"], kept_record["company"]) == (
        "wf_2026",
        "douyin",
        "华星科技",
    )
    opportunity = {"name": "二期项目", "account": None, "competitor": "竞品甲"}
    account = client.post("/api/apps/crm/records/account", json={"name": "华星科技"})
    assert account.status_code == 201, account.text
    opportunity["account"] = account.json()["id"]
    made = client.post("/api/apps/crm/records/opportunity", json=opportunity)
    assert made.status_code == 201, made.text
    assert made.json()["competitor"] == "竞品甲"

    # The base moved: upgrading to the same version again changes nothing.
    again = client.post("/api/apps/crm/upgrade", json=body)
    assert again.status_code == 200 and not again.json()["changed"] and again.json()["taken"] == []


def _conflicting(client: TestClient) -> dict[str, Any]:
    """maintenance installed; the admin and the new version both relabel equipment.name."""
    assert client.post("/api/templates/maintenance/install").status_code == 201
    ours = client.get("/api/apps/maintenance").json()
    _field(ours, "equipment", "name")["label"]["en"] = "Machine"
    assert client.put("/api/apps/maintenance", json=ours).status_code == 200
    theirs = templates_library.load("maintenance")
    _field(theirs, "equipment", "name")["label"]["en"] = "Asset name"
    _field(theirs, "equipment", "model")["label"]["zh"] = "规格型号"
    return theirs


POINTER = "/entities/equipment/fields/name/label/en"


def test_conflict_is_listed_refused_and_applied_once_resolved(client: TestClient) -> None:
    theirs = _conflicting(client)
    record = client.post("/api/apps/maintenance/records/equipment", json={"name": "冲压机"})
    assert record.status_code == 201, record.text
    version = client.get("/api/apps/maintenance/versions").json()[0]["version"]
    body: dict[str, Any] = {"template": theirs, "template_version": "2.0.0"}

    plan = client.post("/api/apps/maintenance/upgrade?dry_run=true", json=body).json()
    assert plan["would_apply"] is False
    assert plan["conflicts"] == [
        {
            "pointer": POINTER,
            "base": "Name",
            "ours": "Machine",
            "theirs": "Asset name",
            "kind": "both_changed",
        }
    ]
    assert [c["pointer"] for c in plan["taken"]] == ["/entities/equipment/fields/model/label/zh"]

    refused = client.post("/api/apps/maintenance/upgrade", json=body)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert [p["pointer"] for p in error["problems"]] == [POINTER]
    assert "Machine" in error["problems"][0]["message"] and "Asset name" in error["problems"][0]["message"]
    assert error["details"]["conflicts"][0]["theirs"] == "Asset name"
    assert client.get("/api/apps/maintenance/versions").json()[0]["version"] == version
    assert client.get("/api/apps/maintenance/template").json()["template_version"] == "1.0.0"

    body["resolutions"] = {POINTER: "theirs"}
    done = client.post("/api/apps/maintenance/upgrade", json=body)
    assert done.status_code == 200, done.text
    assert done.json()["resolved"][0] | {"resolution": "theirs"} == done.json()["resolved"][0]
    package = client.get("/api/apps/maintenance").json()
    assert _field(package, "equipment", "name")["label"] == {"zh": "设备名称", "en": "Asset name"}
    assert _field(package, "equipment", "model")["label"]["zh"] == "规格型号"
    assert (
        client.get(f"/api/apps/maintenance/records/equipment/{record.json()['id']}").json()["name"]
        == "冲压机"
    )
    assert client.get("/api/apps/maintenance/template").json()["template_version"] == "2.0.0"


def test_cli_upgrade_takes_ours_for_a_conflict(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["app", "install", "maintenance"]).exit_code == 0
    exported = tmp_path / "ours.json"
    assert runner.invoke(cli, ["app", "export", "maintenance", "-o", str(exported)]).exit_code == 0
    ours = json.loads(exported.read_text("utf-8"))
    _field(ours, "equipment", "name")["label"]["en"] = "Machine"
    exported.write_text(json.dumps(ours, ensure_ascii=False), encoding="utf-8")
    assert runner.invoke(cli, ["app", "apply", str(exported)]).exit_code == 0
    theirs = templates_library.load("maintenance")
    _field(theirs, "equipment", "name")["label"]["en"] = "Asset name"
    _field(theirs, "equipment", "model")["label"]["zh"] = "规格型号"
    new_file = tmp_path / "new.json"
    new_file.write_text(json.dumps(theirs, ensure_ascii=False), encoding="utf-8")
    upgrade = [
        "app",
        "upgrade",
        "maintenance",
        "--template-file",
        str(new_file),
        "--template-version",
        "2.0.0",
    ]

    plan = runner.invoke(cli, [*upgrade, "--dry-run"])
    assert plan.exit_code == 0, plan.output
    assert f"CONFLICT at {POINTER}" in plan.output and "would be refused" in plan.output
    refused = runner.invoke(cli, upgrade)
    assert refused.exit_code != 0 and POINTER in refused.output
    done = runner.invoke(cli, [*upgrade, "--take", "ours", POINTER])
    assert done.exit_code == 0, done.output
    assert "now follows template version 2.0.0" in done.output
    assert runner.invoke(cli, ["app", "export", "maintenance", "-o", str(exported)]).exit_code == 0
    result = json.loads(exported.read_text("utf-8"))
    assert _field(result, "equipment", "name")["label"]["en"] == "Machine"
    assert _field(result, "equipment", "model")["label"]["zh"] == "规格型号"


def test_bad_input_is_a_clear_4xx(client: TestClient) -> None:
    assert client.post("/api/templates/erp/install").status_code == 404
    assert client.post("/api/apps/nope/upgrade").status_code == 404
    assert client.post("/api/apps", json=sales_app()).status_code == 201
    not_from_template = client.post("/api/apps/sales/upgrade")
    assert not_from_template.status_code == 409, not_from_template.text
    assert "PUT /api/apps/sales" in not_from_template.json()["error"]["message"]

    theirs = _conflicting(client)
    assert client.post("/api/templates/maintenance/install").status_code == 409  # installed already
    url = "/api/apps/maintenance/upgrade"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"template": theirs, "resolutions": {POINTER: "mine"}}, "/resolutions/" + POINTER),
        ({"template": theirs, "resolutions": {"/entities/nope": "ours"}}, "/resolutions/~1entities~1nope"),
        ({"template": theirs, "resolutions": {"entities": "ours"}}, "/resolutions/entities"),
        ({"template": {**theirs, "entities": {}}}, "/entities"),
        ({"template": theirs, "surprise": 1}, "surprise"),
    ]
    for body, where in cases:
        r = client.post(url, json=body)
        assert r.status_code == 422, (body.get("resolutions"), r.text)
        pointers = [p["pointer"] for p in r.json()["error"]["problems"]]
        assert any(where in p for p in pointers), (where, pointers)
    assert client.post(url, content=b"[1,2]", headers={"content-type": "application/json"}).status_code == 422

    rep = TestClient(client.app)
    rep.headers.update(sign_in(rep, *USER))
    assert rep.post(url, json={"template": theirs}).status_code == 403
    assert rep.post("/api/templates/crm/install").status_code == 403
    assert client.get("/api/apps/maintenance/template").json()["template_version"] == "1.0.0"


def test_uninstall_forgets_the_template_origin(client: TestClient) -> None:
    assert client.post("/api/templates/maintenance/install").status_code == 201
    assert client.delete("/api/apps/maintenance").status_code == 200
    assert client.get("/api/apps/maintenance/template").status_code == 404
    assert client.post("/api/templates/maintenance/install").status_code == 201
    listed = {t["name"]: t["version"] for t in client.get("/api/templates").json()}
    assert listed == {"crm": CRM_VERSION, "maintenance": "1.0.0"}
