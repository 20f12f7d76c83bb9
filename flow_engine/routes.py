"""The flow engine's HTTP API: inbox and task actions, starting and withdrawing, instance and
record views, and (administrators) flow definitions, versions and migration."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, File, Path, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from engine import AdminDep, ContextDep, PlatformDep
from flow_engine.service import FlowService

router = APIRouter(tags=["flows"])
IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
TaskVerb = Literal["approve", "reject", "return", "transfer", "add-signer", "comment", "complete", "read"]


class TaskAction(BaseModel):
    comment: str | None = Field(default=None, max_length=10_000)
    #: return: ``starter`` or a node id; transfer / add-signer: a username or user id
    to: str | int | None = None
    position: Literal["before", "after"] = "after"
    #: files uploaded for this task first (``POST /api/tasks/{id}/files``): their ids or descriptors
    attachments: list[str | dict[str, Any]] = Field(default_factory=list, max_length=50)
    #: complete: the fields of a fill-in task
    values: dict[str, Any] | None = None


class Reassign(BaseModel):
    to: str | int


def _service(platform: Any) -> FlowService:
    return FlowService(platform)


@router.get("/api/tasks")
def list_tasks(
    ctx: ContextDep,
    platform: PlatformDep,
    app: str | None = None,
    flow: str | None = None,
    overdue: bool = False,
    kind: Literal["approval", "fill", "cc"] | None = None,
) -> list[dict[str, Any]]:
    return _service(platform).tasks(ctx, app=app, flow=flow, overdue=overdue, kind=kind)


@router.post("/api/tasks/{task_id}/reassign")
def reassign_task(task_id: IdPath, body: Reassign, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    return _service(platform).reassign(ctx, task_id, body.to)


@router.post("/api/tasks/{task_id}/files", status_code=201)
def attach_file(
    task_id: IdPath,
    ctx: ContextDep,
    platform: PlatformDep,
    file: Annotated[UploadFile, File(description="The file (multipart/form-data)")],
) -> dict[str, Any]:
    """Upload a file to attach to this task's next action (``attachments: [id]``); only its
    assignee, while it is open. Up to 20 MB, of any type (served as a download)."""
    return _service(platform).attach(ctx, task_id, file)


@router.post("/api/tasks/{task_id}/{action}")
def act_on_task(
    task_id: IdPath,
    action: TaskVerb,
    ctx: ContextDep,
    platform: PlatformDep,
    body: Annotated[TaskAction | None, Body()] = None,
) -> dict[str, Any]:
    return _service(platform).act(ctx, task_id, action, (body or TaskAction()).model_dump())


@router.post("/api/apps/{app}/records/{entity}/{record_id}/flows/{flow}", status_code=201)
def start_flow(
    app: str, entity: str, record_id: IdPath, flow: str, ctx: ContextDep, platform: PlatformDep
) -> dict[str, Any]:
    return _service(platform).start(ctx, app, entity, record_id, flow)


@router.get("/api/apps/{app}/records/{entity}/{record_id}/flow-instances")
def record_instances(
    app: str, entity: str, record_id: IdPath, ctx: ContextDep, platform: PlatformDep
) -> list[dict[str, Any]]:
    return _service(platform).record_instances(ctx, app, entity, record_id)


@router.get("/api/flow-instances/{instance_id}")
def get_instance(instance_id: IdPath, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    return _service(platform).instance(ctx, instance_id)


@router.get("/api/flow-instances/{instance_id}/files/{file_id}", response_class=FileResponse)
def attached_file(instance_id: IdPath, file_id: str, ctx: ContextDep, platform: PlatformDep) -> FileResponse:
    """A file attached in the instance's step log, to whoever may see the instance."""
    return _service(platform).attachment(ctx, instance_id, file_id)


@router.post("/api/flow-instances/{instance_id}/withdraw")
def withdraw(instance_id: IdPath, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    return _service(platform).withdraw(ctx, instance_id)


@router.get("/api/apps/{app}/flows/{flow}")
def get_flow(app: str, flow: str, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    return _service(platform).get_flow(app, flow)


@router.put("/api/apps/{app}/flows/{flow}")
def put_flow(
    app: str, flow: str, ctx: AdminDep, platform: PlatformDep, body: Annotated[Any, Body()]
) -> dict[str, Any]:
    return _service(platform).put_flow(ctx, app, flow, body)


@router.post("/api/apps/{app}/flows/{flow}/validate")
def validate_flow(
    app: str, flow: str, ctx: AdminDep, platform: PlatformDep, body: Annotated[Any, Body()]
) -> dict[str, Any]:
    return _service(platform).validate(app, flow, body)


@router.post("/api/apps/{app}/flows/{flow}/publish", status_code=201)
def publish_flow(app: str, flow: str, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    return _service(platform).publish(ctx, app, flow)


@router.get("/api/apps/{app}/flows/{flow}/versions")
def flow_versions(app: str, flow: str, ctx: AdminDep, platform: PlatformDep) -> list[dict[str, Any]]:
    return _service(platform).versions(app, flow)


@router.post("/api/apps/{app}/flows/{flow}/migrate")
def migrate_instances(
    app: str,
    flow: str,
    ctx: AdminDep,
    platform: PlatformDep,
    to: int | None = None,
    dry_run: Annotated[bool, Query()] = True,
) -> dict[str, Any]:
    return _service(platform).migrate(ctx, app, flow, to, dry_run)
