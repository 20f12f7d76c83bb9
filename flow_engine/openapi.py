"""The flow routes in an app's own OpenAPI document (``tangram_app_openapi``): its entities'
start and instance routes, its flows' definition routes, and the inbox."""

from __future__ import annotations

from typing import Any

from engine import UPLOAD_BODY, AppRuntime

ERROR = {"4XX": {"$ref": "#/components/responses/Error"}}
JSON = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
LIST = {
    "description": "OK",
    "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}},
}
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
ACTION_BODY = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "comment": {"type": "string"},
                    "to": {"type": ["string", "integer"]},
                    "position": {"enum": ["before", "after"]},
                    "attachments": {
                        "type": "array",
                        "items": {"type": ["string", "object"]},
                        "description": "ids of files uploaded with POST /api/tasks/{id}/files",
                    },
                    "values": {"type": "object"},
                },
            }
        }
    }
}


def _op(
    op_id: str, summary: str, ok: dict[str, Any] = JSON, status: str = "200", **more: Any
) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "summary": summary,
        "tags": ["flows"],
        "responses": {status: ok, **ERROR},
        **more,
    }


def flow_paths(runtime: AppRuntime) -> dict[str, Any]:
    app = runtime.package.name
    flows = runtime.package.section("flows")
    paths: dict[str, Any] = {
        "/api/tasks": {"get": _op("list_tasks", "My open tasks / 我的待办", LIST)},
        "/api/tasks/{id}/{action}": {
            "parameters": [
                ID,
                {
                    "name": "action",
                    "in": "path",
                    "required": True,
                    "schema": {
                        "enum": [
                            "approve",
                            "reject",
                            "return",
                            "transfer",
                            "add-signer",
                            "comment",
                            "complete",
                            "read",
                        ]
                    },
                },
            ],
            "post": _op("act_on_task", "Act on a task / 处理待办", requestBody=ACTION_BODY),
        },
        "/api/tasks/{id}/files": {
            "parameters": [ID],
            "post": _op(
                "attach_task_file",
                "Upload a file to attach / 上传审批附件",
                status="201",
                requestBody=UPLOAD_BODY,
            ),
        },
        "/api/flow-instances/{id}/files/{file_id}": {
            "parameters": [
                ID,
                {"name": "file_id", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "get": _op(
                "flow_instance_file",
                "An attached file / 审批附件",
                {"description": "The file", "content": {"application/octet-stream": {}}},
            ),
        },
        "/api/flow-instances/{id}": {
            "parameters": [ID],
            "get": _op("get_flow_instance", "Flow instance / 流程实例"),
        },
        "/api/flow-instances/{id}/withdraw": {
            "parameters": [ID],
            "post": _op("withdraw_flow_instance", "Withdraw / 撤回"),
        },
    }
    for er in runtime.entities.values():
        entity = er.entity.name
        base = f"/api/apps/{app}/records/{entity}/{{id}}"
        paths[f"{base}/flow-instances"] = {
            "parameters": [ID],
            "get": _op(f"flow_instances_{entity}", f"Flows of a {entity}", LIST),
        }
        for flow in flows:
            if flow["entity"] == entity and flow["trigger"]["type"] == "manual":
                paths[f"{base}/flows/{flow['name']}"] = {
                    "parameters": [ID],
                    "post": _op(f"start_{flow['name']}", f"Start {flow['name']} / 发起流程"),
                }
    for flow in flows:
        base = f"/api/apps/{app}/flows/{flow['name']}"
        name = flow["name"]
        paths[base] = {
            "get": _op(f"get_flow_{name}", "Flow definition"),
            "put": _op(f"put_flow_{name}", "Save"),
        }
        paths[f"{base}/validate"] = {"post": _op(f"validate_flow_{name}", "Validate")}
        paths[f"{base}/publish"] = {"post": _op(f"publish_flow_{name}", "Publish")}
        paths[f"{base}/versions"] = {"get": _op(f"flow_versions_{name}", "Published versions", LIST)}
        paths[f"{base}/migrate"] = {"post": _op(f"migrate_flow_{name}", "Move running instances")}
    return paths
