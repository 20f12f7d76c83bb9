"""Flow definitions: refused at save with the node named and a zh/en message, part of the app
package schema, published as immutable versions that running instances keep, migrated with a
dry run, and checked offline by ``tangram flow validate``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from engine import InvalidPackage
from engine.cli import create_cli
from tests.flow_engine.conftest import World, crm_app, signed_in

L = {"zh": "流程", "en": "Flow"}


def good() -> dict[str, Any]:
    return {
        "name": "check",
        "label": L,
        "entity": "contract",
        "trigger": {"type": "record", "on": ["updated"], "when": "changed(status) and old(status) == '草稿'"},
        "nodes": [
            {"id": "start", "type": "start", "next": "fork"},
            {"id": "fork", "type": "split", "next": ["a", "b"]},
            {"id": "a", "type": "approval", "approvers": [{"user": "gm"}], "next": "meet"},
            {
                "id": "b",
                "type": "approval",
                "approvers": [{"role": "finance_head"}],
                "if_nobody": "admin",
                "next": "meet",
            },
            {"id": "meet", "type": "join", "split": "fork", "mode": "all", "next": "big"},
            {
                "id": "big",
                "type": "condition",
                "branches": [{"when": "amount > 500000", "next": "mark"}],
                "default": "end",
            },
            {
                "id": "mark",
                "type": "action",
                "actions": [{"type": "set_fields", "values": {"status": "已审批"}}],
                "next": "end",
            },
            {"id": "end", "type": "end"},
        ],
    }


def broken(change: Any) -> dict[str, Any]:
    flow = good()
    change(flow)
    return flow


def _node(flow: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in flow["nodes"] if n["id"] == node_id)


CASES = [
    ("flow_dangling_edge", "/flows/0/nodes/2/next", lambda f: _node(f, "a").update(next="nowhere")),
    ("flow_unreachable", "/flows/0/nodes/8", lambda f: f["nodes"].append({"id": "lost", "type": "end"})),
    ("flow_no_default", "/flows/0/nodes/5", lambda f: _node(f, "big").pop("default")),
    ("flow_join_without_split", "/flows/0/nodes/4/split", lambda f: _node(f, "meet").update(split="big")),
    (
        "flow_dsl",
        "/flows/0/nodes/5/branches/0/when",
        lambda f: _node(f, "big")["branches"][0].update(when="amont > 5"),
    ),
    ("flow_dsl", "/flows/0/trigger/when", lambda f: f["trigger"].update(when="status ==")),
    (
        "flow_unknown_action",
        "/flows/0/nodes/6/actions/0/type",
        lambda f: _node(f, "mark")["actions"][0].update(type="launch"),
    ),
    (
        "flow_unknown_field",
        "/flows/0/nodes/6/actions/0/values/colour",
        lambda f: _node(f, "mark")["actions"][0].update(values={"colour": 1}),
    ),
    (
        "flow_dsl",
        "/flows/0/nodes/6/actions/0/values/title/expr",
        lambda f: _node(f, "mark")["actions"][0].update(values={"title": {"expr": "title +"}}),
    ),
    (
        "flow_dsl",
        "/flows/0/nodes/6/actions/0/rules/0/when",
        lambda f: _node(f, "mark").update(
            actions=[{"type": "assign_owner", "rules": [{"when": "amont > 5", "to": [{"user": "gm"}]}]}]
        ),
    ),
    (
        "flow_dsl",
        "/flows/0/nodes/6/actions/0/limit/open",
        lambda f: _node(f, "mark").update(
            actions=[
                {"type": "assign_owner", "to": [{"user": "gm"}], "limit": {"max": 3, "open": "status =="}}
            ]
        ),
    ),
    ("flow_nobody_policy", "/flows/0/nodes/3/approvers", lambda f: _node(f, "b").pop("if_nobody")),
    (
        "flow_unknown_field",
        "/flows/0/nodes/3/approvers/0/field",
        lambda f: _node(f, "b").update(approvers=[{"field": "boss"}]),
    ),
]


@pytest.mark.parametrize(("code", "pointer", "change"), CASES)
def test_a_broken_flow_is_refused_with_the_node_named(
    world: World, http: TestClient, code: str, pointer: str, change: Any
) -> None:
    admin = signed_in(http, "admin")
    flow = broken(change)
    r = http.put("/api/apps/crm/flows/check", headers=admin, json=flow)
    assert r.status_code == 422, r.text
    problems = r.json()["error"]["problems"]
    assert [(p["code"], p["pointer"]) for p in problems] == [(code, pointer)]
    zh = http.put("/api/apps/crm/flows/check", headers={**admin, "Accept-Language": "zh-CN"}, json=flow)
    assert zh.json()["error"]["problems"][0]["message"] != problems[0]["message"]
    assert http.get("/api/apps/crm/flows/check", headers=admin).status_code == 404  # nothing saved
    r = http.post("/api/apps/crm/flows/check/validate", headers=admin, json=flow)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["pointer"] == pointer, r.text


def test_the_flows_section_is_part_of_the_app_package_schema(world: World, http: TestClient) -> None:
    schema = http.get("/api/schema/app").json()
    item = schema["properties"]["flows"]["items"]
    assert set(item["required"]) == {"name", "entity", "trigger", "nodes"}
    assert "FlowNode" in schema["$defs"] and "calendars" in schema["properties"]


def test_a_flow_travels_with_the_app_package(world: World) -> None:
    with world.platform.db.begin() as conn:
        from engine.apps.metadata_store import import_app

        import_app(conn, {**crm_app(flows=[good()]), "name": "crm2"}, world.ctx("admin"))
    assert world.service.get_flow("crm2", "check")["nodes"][1]["type"] == "split"
    with pytest.raises(InvalidPackage), world.platform.db.begin() as conn:
        import_app(conn, {**crm_app(flows=[broken(CASES[0][2])]), "name": "crm3"}, world.ctx("admin"))


def _manual(version_note: str, second: str = "review") -> dict[str, Any]:
    return {
        "name": "versioned",
        "label": {"zh": version_note, "en": version_note},
        "entity": "contract",
        "trigger": {"type": "manual"},
        "nodes": [
            {"id": "start", "type": "start", "next": second},
            {"id": second, "type": "approval", "approvers": [{"user": "gm"}], "next": "end"},
            {"id": "end", "type": "end", "result": "approved"},
        ],
    }


def test_published_versions_are_immutable_and_instances_keep_theirs(world: World, http: TestClient) -> None:
    admin = signed_in(http, "admin")
    assert http.put("/api/apps/crm/flows/versioned", headers=admin, json=_manual("v1")).status_code == 200
    assert http.post("/api/apps/crm/flows/versioned/publish", headers=admin).json()["version"] == 1
    contract = world.create("contract", {"title": "合同", "amount": 1})
    first = world.service.start(world.ctx("owner"), "crm", "contract", contract["id"], "versioned")

    # v2 renames the node the first instance waits at; v3 keeps it
    http.put("/api/apps/crm/flows/versioned", headers=admin, json=_manual("v2", "check"))
    assert http.post("/api/apps/crm/flows/versioned/publish", headers=admin).json()["version"] == 2
    other = world.create("contract", {"title": "合同2", "amount": 1})
    second = world.service.start(world.ctx("owner"), "crm", "contract", other["id"], "versioned")
    assert (first["version"], second["version"]) == (1, 2)
    versions = http.get("/api/apps/crm/flows/versioned/versions", headers=admin).json()
    assert [(v["version"], v["definition"]["label"]["en"]) for v in versions] == [(1, "v1"), (2, "v2")]

    dry = http.post("/api/apps/crm/flows/versioned/migrate", headers=admin).json()
    assert dry["movable"] == [] and dry["refused"] == [
        {"instance": first["id"], "version": 1, "missing_nodes": ["review"]}
    ]
    http.put("/api/apps/crm/flows/versioned", headers=admin, json=_manual("v3"))
    http.post("/api/apps/crm/flows/versioned/publish", headers=admin)
    dry = http.post("/api/apps/crm/flows/versioned/migrate?to=3", headers=admin).json()
    assert (dry["movable"], dry["refused"][0]["instance"]) == ([first["id"]], second["id"])
    moved = http.post("/api/apps/crm/flows/versioned/migrate?to=3&dry_run=false", headers=admin).json()
    assert moved["movable"] == [first["id"]]
    assert world.service.instance(world.ctx("admin"), first["id"])["version"] == 3
    world.act("gm", world.tasks("gm")[0]["id"], "approve")
    assert world.service.instance(world.ctx("admin"), first["id"])["status"] == "approved"


def test_only_administrators_edit_flows(world: World, http: TestClient) -> None:
    owner = signed_in(http, "owner")
    assert http.put("/api/apps/crm/flows/check", headers=owner, json=good()).status_code == 403
    assert http.post("/api/apps/crm/flows/check/publish", headers=owner).status_code == 403


def test_cli_validates_a_flow_file(tmp_path: Path) -> None:
    app = tmp_path / "app.json"
    app.write_text(json.dumps(crm_app()), "utf-8")
    ok, bad = tmp_path / "ok.json", tmp_path / "bad.json"
    ok.write_text(json.dumps(good()), "utf-8")
    bad.write_text(json.dumps(broken(CASES[2][2])), "utf-8")
    runner = CliRunner()
    passed = runner.invoke(create_cli(), ["flow", "validate", str(ok), "--app", str(app)])
    assert passed.exit_code == 0 and "ok: 1 flow" in passed.output, passed.output
    failed = runner.invoke(create_cli(), ["flow", "validate", str(bad), "--app", str(app)])
    assert failed.exit_code == 1 and "/flows/0/nodes/5" in failed.output, failed.output
    package = tmp_path / "package.json"
    package.write_text(json.dumps(crm_app(flows=[copy.deepcopy(good())])), "utf-8")
    assert runner.invoke(create_cli(), ["flow", "validate", str(package)]).exit_code == 0


def test_cli_validates_flows_using_the_actions_of_every_installed_plugin() -> None:
    """The CRM template's journeys send marketing e-mails and tag records: actions of the
    marketing plugin, which ``flow validate`` knew nothing of."""
    template = Path(__file__).parents[2] / "templates_library" / "crm" / "package.json"
    flows = json.loads(template.read_text("utf-8"))["flows"]
    kinds = {a["type"] for f in flows for n in f["nodes"] for a in n.get("actions", [])}
    assert {"marketing_email", "add_tags"} <= kinds  # what this test is about
    result = CliRunner().invoke(create_cli(), ["flow", "validate", str(template)])
    assert result.exit_code == 0 and f"ok: {len(flows)} flow(s)" in result.output, result.output


def test_the_app_openapi_document_covers_the_flow_routes(world: World, http: TestClient) -> None:
    world.put_flows(_manual("v1"))
    doc = http.get("/api/apps/crm/openapi.json", headers=signed_in(http, "owner")).json()
    for path in (
        "/api/tasks",
        "/api/tasks/{id}/{action}",
        "/api/tasks/{id}/files",
        "/api/flow-instances/{id}/files/{file_id}",
        "/api/flow-instances/{id}/withdraw",
        "/api/apps/crm/records/contract/{id}/flows/versioned",
        "/api/apps/crm/records/lead/{id}/flow-instances",
        "/api/apps/crm/flows/versioned/publish",
    ):
        assert path in doc["paths"], path
    assert "/api/apps/crm/records/lead/{id}/flows/versioned" not in doc["paths"]
