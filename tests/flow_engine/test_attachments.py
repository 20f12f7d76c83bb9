"""Files attached to approval actions: the assignee uploads for their open task, attaches by id
when acting, and whoever may see the instance downloads them from its step log. A file that is
not the actor's upload for that task is refused, and nothing else serves these files."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import flow_engine.service
from tests.flow_engine.conftest import World, signed_in
from tests.flow_engine.test_approvals import approval_flow, start, task_of

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(http: TestClient, user: str, task: int, body: bytes = PDF, name: str = "报价单.pdf") -> Any:
    files = {"file": (name, body, "application/pdf")}
    return http.post(f"/api/tasks/{task}/files", headers=signed_in(http, user), files=files)


def steps(http: TestClient, user: str, instance: int) -> list[dict[str, Any]]:
    view = http.get(f"/api/flow-instances/{instance}", headers=signed_in(http, user))
    assert view.status_code == 200, view.text
    return list(view.json()["steps"])


def test_an_approver_attaches_a_file_and_the_submitter_downloads_it(world: World, http: TestClient) -> None:
    _contract, instance = start(world, approval_flow())
    task = task_of(world, "gm")
    stored = upload(http, "gm", task)
    assert stored.status_code == 201, stored.text
    descriptor = stored.json()
    assert (descriptor["name"], descriptor["size"], descriptor["content_type"]) == (
        "报价单.pdf",
        len(PDF),
        "application/pdf",
    )
    body = {"comment": "已盖章，见附件", "attachments": [descriptor["id"]]}
    acted = http.post(f"/api/tasks/{task}/approve", headers=signed_in(http, "gm"), json=body)
    assert acted.status_code == 200, acted.text
    [approved] = [s for s in steps(http, "owner", instance) if s["action"] == "approve"]
    assert approved["comment"] == "已盖章，见附件"
    assert approved["details"]["attachments"] == [descriptor]
    got = http.get(
        f"/api/flow-instances/{instance}/files/{descriptor['id']}", headers=signed_in(http, "owner")
    )
    assert got.status_code == 200, got.text
    assert got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["x-content-type-options"] == "nosniff"


def test_attachments_go_with_a_comment_a_transfer_and_a_return(world: World, http: TestClient) -> None:
    _contract, instance = start(world, approval_flow())
    task = task_of(world, "gm")
    ids = [upload(http, "gm", task, name=f"附件{i}.pdf").json()["id"] for i in range(3)]
    gm = signed_in(http, "gm")
    commented = {"comment": "补充材料", "attachments": [ids[0]]}
    assert http.post(f"/api/tasks/{task}/comment", headers=gm, json=commented).status_code == 200
    handed = {"to": "cfo", "attachments": [ids[1], ids[2]]}
    assert http.post(f"/api/tasks/{task}/transfer", headers=gm, json=handed).status_code == 200
    logged = {
        s["action"]: s["details"] for s in steps(http, "owner", instance) if s["actor"] == world.users["gm"]
    }
    assert [a["id"] for a in logged["comment"]["attachments"]] == [ids[0]]
    assert logged["transfer"]["to"] == world.users["cfo"]
    assert [a["id"] for a in logged["transfer"]["attachments"]] == ids[1:]


def test_only_the_open_tasks_assignee_uploads(world: World, http: TestClient) -> None:
    _contract, _instance = start(world, approval_flow())
    task = task_of(world, "gm")
    assert upload(http, "cfo", task).status_code == 403
    assert upload(http, "gm", 999_999).status_code == 404
    world.act("gm", task, "approve")
    closed = upload(http, "gm", task)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "conflict", closed.text


def test_a_file_that_is_not_the_actors_upload_for_this_task_is_refused(
    world: World, http: TestClient
) -> None:
    flow = approval_flow(mode="all", approvers=[{"user": "gm"}, {"user": "cfo"}])
    _contract, instance = start(world, flow)
    gm_task, cfo_task = task_of(world, "gm"), task_of(world, "cfo")
    cfos = upload(http, "cfo", cfo_task).json()["id"]
    for attachments in (
        [cfos],
        ["0" * 32],
        [{"id": cfos, "name": "x", "size": 1, "content_type": "text/plain"}],
    ):
        refused = http.post(
            f"/api/tasks/{gm_task}/approve", headers=signed_in(http, "gm"), json={"attachments": attachments}
        )
        assert refused.status_code == 422, refused.text
        [problem] = refused.json()["error"]["problems"]
        assert problem["pointer"] == "/attachments/0"
        assert f"/api/tasks/{gm_task}/files" in problem["message"]
    # nothing happened: the task is still open and the log has no approval
    assert [t["id"] for t in world.tasks("gm")] == [gm_task]
    assert not [s for s in steps(http, "admin", instance) if s["action"] == "approve"]


def test_only_files_in_the_instances_log_are_served_and_only_there(world: World, http: TestClient) -> None:
    _c, first = start(world, approval_flow("first"))
    _c2, second = start(world, approval_flow("second"))
    [task_one, task_two] = sorted(t["id"] for t in world.tasks("gm"))
    attached = upload(http, "gm", task_one).json()["id"]
    kept_back = upload(http, "gm", task_two).json()["id"]
    world.act("gm", task_one, "approve", attachments=[attached])
    owner = signed_in(http, "owner")
    assert http.get(f"/api/flow-instances/{first}/files/{attached}", headers=owner).status_code == 200
    # another instance's file, or one uploaded and never attached: not found, for its uploader too
    assert http.get(f"/api/flow-instances/{second}/files/{attached}", headers=owner).status_code == 404
    gm = signed_in(http, "gm")
    assert http.get(f"/api/flow-instances/{second}/files/{kept_back}", headers=gm).status_code == 404
    # the record files route serves only files held by record fields
    assert http.get(f"/api/apps/crm/files/{attached}", headers=owner).status_code == 404


def test_a_file_over_the_limit_is_refused_and_not_kept(
    world: World, http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flow_engine.service, "ATTACHMENT_MAX_BYTES", 1024)
    _contract, _instance = start(world, approval_flow())
    task = task_of(world, "gm")
    folder = world.platform.files.root / "crm"
    before = sorted(folder.iterdir()) if folder.exists() else []
    refused = upload(http, "gm", task, body=PDF + b"0" * 2048)
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["error"]["problems"]
    assert problem["code"] == "file_too_large" and problem["pointer"] == "/file"
    assert (sorted(folder.iterdir()) if folder.exists() else []) == before
